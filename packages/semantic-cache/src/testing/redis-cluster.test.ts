import { Cluster } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { startTestRedisCluster } from "./redis-server.js";

const cluster = await startTestRedisCluster();

describe.skipIf(!cluster)("startTestRedisCluster()", () => {
  afterAll(() => cluster?.stop());

  it("starts 3 masters and 3 replicas that serve vector sets across shards", async () => {
    const client = new Cluster(
      cluster?.url.split(",").map((u) => ({ host: "127.0.0.1", port: Number(new URL(u).port) })) ?? [],
    );
    const nodes = (await client.cluster("NODES")) as string;
    const roles = nodes
      .trim()
      .split("\n")
      .map((line) => (line.includes("master") ? "master" : "slave"));
    expect(roles.filter((r) => r === "master")).toHaveLength(3);
    expect(roles.filter((r) => r === "slave")).toHaveLength(3);
    const owners = new Set<number>();
    for (const tag of ["a", "b", "c", "d", "e", "f"]) {
      await client.call("VADD", `t:v:{${tag}}`, "VALUES", "2", "1", "0", "x");
      expect(await client.call("VSIM", `t:v:{${tag}}`, "VALUES", "2", "1", "0.1", "COUNT", "1")).toEqual(["x"]);
      owners.add(await cluster!.masterOf(`t:v:{${tag}}`));
    }
    expect(owners.size).toBeGreaterThan(1);
    client.disconnect();
  });
});
