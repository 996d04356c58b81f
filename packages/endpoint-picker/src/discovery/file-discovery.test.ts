import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { EndpointSpec } from "../datastore.js";
import { createFileDiscovery, type Discovery } from "./file-discovery.js";

const running: Discovery[] = [];
afterEach(() => {
  for (const d of running.splice(0)) d.stop();
});

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("createFileDiscovery()", () => {
  it("loads the file, applies changes (also atomic renames) and keeps the last good list on errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "epp-"));
    const path = join(dir, "endpoints.yaml");
    await writeFile(path, "- { address: 10.0.0.1, port: 8000 }\n");
    const lists: EndpointSpec[][] = [];
    const errors: string[] = [];
    const d = createFileDiscovery({
      path,
      pollIntervalMs: 10,
      onEndpoints: (l) => lists.push(l),
      onError: (e) => errors.push(e),
    });
    running.push(d);
    await d.start();
    expect(lists.map((l) => l.map((e) => e.address))).toEqual([["10.0.0.1"]]);

    await writeFile(`${path}.tmp`, "- { address: 10.0.0.1, port: 8000 }\n- { address: 10.0.0.2, port: 8000 }\n");
    await rename(`${path}.tmp`, path);
    await until(() => lists.length === 2);
    expect(lists[1]?.map((e) => e.address)).toEqual(["10.0.0.1", "10.0.0.2"]);

    // Written whole (rename), so a poll never reads a half-written, empty file as "no endpoints".
    await writeFile(`${path}.tmp`, "- { address: 10.0.0.1, port: nope }\n");
    await rename(`${path}.tmp`, path);
    await until(() => errors.length === 1);
    expect(errors[0]).toMatch(/^parse .*endpoints\.yaml: /);
    expect(lists).toHaveLength(2);

    await rm(path);
    await until(() => errors.length === 2);
    expect(errors[1]).toMatch(/^read /);
    await rm(dir, { recursive: true });
  });
});
