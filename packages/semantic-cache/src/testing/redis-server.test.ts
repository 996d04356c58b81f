import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { startTestRedis } from "./redis-server.js";

const redis = await startTestRedis({ forcePrivate: true });

describe.skipIf(!redis)("startTestRedis()", () => {
  afterAll(() => redis?.stop());

  it("starts a private Redis 8 that answers VADD and VSIM", async () => {
    const client = new Redis(redis?.url ?? "", { lazyConnect: true });
    await client.connect();
    const version = (await client.info("server")).match(/redis_version:(\d+)/)?.[1];
    expect(Number(version)).toBeGreaterThanOrEqual(8);
    await client.call("VADD", "t:vs", "VALUES", "2", "1", "0", "a");
    await client.call("VADD", "t:vs", "VALUES", "2", "0", "1", "b");
    expect(await client.call("VSIM", "t:vs", "VALUES", "2", "1", "0.1", "COUNT", "1")).toEqual(["a"]);
    client.disconnect();
  });

  it("restarts a killed server on the same port", async () => {
    await redis?.kill();
    await redis?.restart();
    const client = new Redis(redis?.url ?? "", { lazyConnect: true });
    await client.connect();
    expect(await client.ping()).toBe("PONG");
    client.disconnect();
  });
});
