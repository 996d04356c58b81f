import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createDatastore } from "../datastore.js";
import { createInflightTracker } from "../inflight-tracker.js";
import { createModelsPoller, parseModelList } from "./models-poller.js";

describe("parseModelList()", () => {
  it("reads the ids of an OpenAI model list, adapters included", () => {
    const text = JSON.stringify({
      object: "list",
      data: [
        {
          id: "meta-llama/Llama-3.1-8B-Instruct",
          object: "model",
          root: "meta-llama/Llama-3.1-8B-Instruct",
          parent: null,
        },
        { id: "sql-lora", object: "model", root: "/adapters/sql", parent: "meta-llama/Llama-3.1-8B-Instruct" },
      ],
    });
    expect(parseModelList(text)).toEqual({ value: new Set(["meta-llama/Llama-3.1-8B-Instruct", "sql-lora"]) });
  });

  it.each([
    ["not json", "not JSON"],
    ['{"data": 3}', "no data array"],
  ])("rejects %s", (text, error) => {
    expect(parseModelList(text)).toEqual({ error });
  });
});

describe("createModelsPoller()", () => {
  it("records each endpoint's loaded models in the datastore", async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === "/v1/models" ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: [{ id: "base" }, { id: "sql-lora" }] }));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    const datastore = createDatastore(createInflightTracker());
    datastore.setEndpoints([{ address: "127.0.0.1", port, engine: "vllm" }]);
    const poller = createModelsPoller({ datastore, intervalMs: 1000, timeoutMs: 1000 });
    try {
      await poller.pollOnce();
      expect(datastore.endpoints()[0]!.loadedModels).toEqual(new Set(["base", "sql-lora"]));
    } finally {
      poller.stop();
      server.close();
    }
  });
});
