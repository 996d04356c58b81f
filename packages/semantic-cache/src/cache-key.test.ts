import { createHeaderMap } from "@llm-callouts/ext-proc";
import { describe, expect, it } from "vitest";
import { exactKeyOf, hashOf, partitionOf, tenantOf } from "./cache-key.js";
import { type ChatRequest, parseChatRequest } from "./chat-request.js";

const options = { header: "", hashHeaders: ["authorization", "x-api-key"] };

function request(body: Record<string, unknown>): ChatRequest {
  const parsed = parseChatRequest(Buffer.from(JSON.stringify({ model: "m", temperature: 0, ...body })));
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.value;
}
const user = (content: string) => ({ role: "user", content });

describe("tenantOf()", () => {
  it("hashes the credential and never returns it raw", () => {
    const tenant = tenantOf(createHeaderMap({ authorization: "Bearer sk-secret" }), options);
    expect(tenant).toBe(hashOf("credential", "Bearer sk-secret").slice(0, 32));
    expect(tenant).not.toContain("sk-secret");
  });

  it("prefers the configured tenant header", () => {
    const headers = createHeaderMap({ "x-tenant": "acme", authorization: "Bearer k" });
    expect(tenantOf(headers, { ...options, header: "x-tenant" })).toBe(hashOf("tenant", "acme").slice(0, 32));
  });

  it("falls back to anonymous", () => {
    expect(tenantOf(createHeaderMap({}), options)).toBe("anonymous");
  });

  it("has no tenant (so no cache) when the deciding header is repeated", () => {
    const twice = createHeaderMap([
      ["x-tenant", "attacker-sent"],
      ["x-tenant", "gateway-set"],
    ]);
    expect(tenantOf(twice, { ...options, header: "x-tenant" })).toBeUndefined();
    const keys = createHeaderMap([
      ["authorization", "Bearer a"],
      ["authorization", "Bearer b"],
    ]);
    expect(tenantOf(keys, options)).toBeUndefined();
  });
});

describe("partitionOf()", () => {
  const parts = { tenant: "t", generation: 0, embedderId: "e1" };
  const base = partitionOf(request({ messages: [user("q")] }), parts);

  it.each([
    ["tenant", request({ messages: [user("q")] }), { ...parts, tenant: "u" }],
    ["generation", request({ messages: [user("q")] }), { ...parts, generation: 1 }],
    ["embedder", request({ messages: [user("q")] }), { ...parts, embedderId: "e2" }],
    ["model", request({ model: "m2", messages: [user("q")] }), parts],
    ["system prompt", request({ messages: [{ role: "system", content: "s" }, user("q")] }), parts],
    ["parameters", request({ top_p: 0.1, messages: [user("q")] }), parts],
  ])("changes with the %s", (_name, req, p) => {
    expect(partitionOf(req, p)).not.toBe(base);
  });

  it("does not change with the last user turn, so paraphrases share a partition", () => {
    expect(partitionOf(request({ messages: [user("other question")] }), parts)).toBe(base);
  });

  it("does not change with stream, so stream and non-stream share entries", () => {
    expect(partitionOf(request({ stream: true, messages: [user("q")] }), parts)).toBe(base);
  });
});

describe("exactKeyOf()", () => {
  it("differs per last turn within a partition", () => {
    const a = request({ messages: [user("a")] });
    expect(exactKeyOf(a, "p")).not.toBe(exactKeyOf(request({ messages: [user("b")] }), "p"));
    expect(exactKeyOf(a, "p")).toBe(exactKeyOf(request({ messages: [user("  a ")] }), "p"));
  });
});
