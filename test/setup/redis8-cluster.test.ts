import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectRedis, createRedisClient } from "@llm-callouts/semantic-cache";
import { describe, expect, it } from "vitest";

// `scripts/redis8.sh cluster PORT` is what a developer runs to try the cache on a Redis Cluster.
const script = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/redis8.sh");

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

/**
 * A port with the next five free as well, and their cluster bus ports (port + 10000): the
 * bus ports stay below Linux's ephemeral range (32768 and up), where other tests' outgoing
 * connections take ports at random and a node whose bus port is taken never joins.
 */
async function freeRange(): Promise<number> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const base = 12_000 + Math.floor(Math.random() * 8_000);
    const ports = [0, 1, 2, 3, 4, 5].flatMap((i) => [base + i, base + 10_000 + i]);
    const free = await Promise.all(ports.map(portFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error("no free port range");
}

describe("scripts/redis8.sh cluster", () => {
  it("starts 3 masters + 3 replicas, prints the seeds and stops all six on SIGTERM", async () => {
    const port = await freeRange();
    const dir = mkdtempSync(join(tmpdir(), "redis8-cluster-script-"));
    const child = spawn("bash", [script, "cluster", String(port), dir], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    const seeds = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no cluster within 60 s: ${stderr.slice(-2_000)}`)), 60_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        fail(new Error(`redis8.sh cluster exited with ${code} before the cluster was up: ${stderr.slice(-2_000)}`));
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /^redis8.sh: cluster up; REDIS_CLUSTER=true REDIS_URL=(\S+)$/m.exec(stderr);
        if (match?.[1]) {
          clearTimeout(timer);
          done(match[1]);
        }
      });
    });
    try {
      expect(seeds.split(",")).toHaveLength(6);
      const client = createRedisClient(seeds, { cluster: true });
      // Straight after the script's report: the cluster's state may still be settling.
      expect(await connectRedis(client, 10_000)).toBe(true);
      expect(await client.cluster("INFO")).toContain("cluster_state:ok");
      const nodes = String(await client.cluster("NODES"))
        .trim()
        .split("\n");
      expect(nodes.filter((line) => / (myself,)?master /.test(line))).toHaveLength(3);
      expect(nodes.filter((line) => / (myself,)?slave /.test(line))).toHaveLength(3);
      client.disconnect();
    } finally {
      const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
    // Every server went with the script: nothing answers on the six ports.
    const free = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => portFree(port + i)));
    expect(free).toEqual([true, true, true, true, true, true]);
  }, 90_000);
});
