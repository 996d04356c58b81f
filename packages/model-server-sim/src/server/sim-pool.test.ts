import { describe, expect, it } from "vitest";
import { simConfigSchema, simPoolConfigSchema } from "./config.js";
import { startSimPool } from "./sim-pool.js";

describe("simConfigSchema", () => {
  it("gives working defaults for an empty object", () => {
    expect(simConfigSchema.parse({})).toMatchObject({
      model: "meta-llama/Llama-3.1-8B-Instruct",
      preset: "llama-3-8b-h100-80gb",
      speedUp: 1,
      metricsMode: "engine",
      port: 0,
    });
  });

  it("rejects unknown keys and bad values with their paths", () => {
    const r = simPoolConfigSchema.safeParse({ replica: 2, speedUp: 0, engine: { blockSize: -1 } });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["speedUp", "engine.blockSize"]));
    expect(r.error!.issues.some((i) => i.code === "unrecognized_keys")).toBe(true);
  });
});

describe("startSimPool()", () => {
  it("starts N healthy replicas on distinct ports and closes them", async () => {
    const pool = await startSimPool({ replicas: 3, speedUp: 100 });
    try {
      expect(pool.urls).toHaveLength(3);
      expect(new Set(pool.urls).size).toBe(3);
      for (const url of pool.urls) expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      await pool.close();
    }
    await expect(fetch(`${pool.urls[0]}/health`)).rejects.toThrow();
  });
});
