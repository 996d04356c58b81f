import { describe, expect, it } from "vitest";
import { configSchema, defaults } from "./config.js";

describe("configSchema", () => {
  it("gives working, frozen defaults for an empty section", () => {
    const config = configSchema.parse({ redisUrl: "" });
    expect(config).toMatchObject({ ttlSeconds: defaults.ttlSeconds, storeTimeoutMs: 50, semantic: true });
    expect(config.headers).toEqual({
      status: "x-cache-status",
      similarity: "x-cache-similarity",
      bypass: "x-cache-bypass",
      purge: "x-cache-purge",
    });
    expect(Object.isFrozen(config.headers)).toBe(true);
  });

  it("reports every problem with its path", () => {
    const result = configSchema.safeParse({ ttlSeconds: -1, tenant: { header: "bad header" }, extra: 1 });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join(".") || i.code).sort();
    expect(paths).toEqual(["tenant.header", "ttlSeconds", "unrecognized_keys"]);
  });
});
