import { createCircuitBreaker } from "@llm-callouts/remote";
import { describe, expect, it } from "vitest";
import { createStoreGuard, type GuardFailure } from "./store-guard.js";

function setup() {
  const failures: [string, GuardFailure][] = [];
  const breaker = createCircuitBreaker({ failureThreshold: 2, cooldownMs: 60_000 });
  const guard = createStoreGuard({ timeoutMs: 20, breaker, onFailure: (op, reason) => failures.push([op, reason]) });
  return { guard, failures, breaker };
}

describe("createStoreGuard()", () => {
  it("returns the value of a call that succeeds", async () => {
    const { guard } = setup();
    expect(await guard.run("get", async () => 42)).toEqual({ ok: true, value: 42 });
  });

  it("turns a rejected call into a failure value", async () => {
    const { guard, failures } = setup();
    expect(await guard.run("get", () => Promise.reject(new Error("ECONNREFUSED")))).toEqual({
      ok: false,
      reason: "error",
    });
    expect(failures).toEqual([["get", "error"]]);
  });

  it("gives up on a call slower than the timeout", async () => {
    const { guard, failures } = setup();
    const never = new Promise<number>(() => {});
    expect(await guard.run("search", () => never)).toEqual({ ok: false, reason: "timeout" });
    expect(failures).toEqual([["search", "timeout"]]);
  });

  it("stops calling once the circuit is open", async () => {
    const { guard, failures } = setup();
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new Error("down"));
    };
    await guard.run("get", failing);
    await guard.run("get", failing);
    expect(await guard.run("get", failing)).toEqual({ ok: false, reason: "circuit-open" });
    expect(calls).toBe(2);
    expect(failures.map(([, reason]) => reason)).toEqual(["error", "error", "circuit-open"]);
  });

  it("keeps a breaker per shard: a dead shard opens its own, the others keep calling", async () => {
    const shardBreaker = () => createCircuitBreaker({ failureThreshold: 2, cooldownMs: 60_000 });
    const guard = createStoreGuard({ timeoutMs: 20, breaker: shardBreaker(), shardBreaker });
    const dead = () => Promise.reject(new Error("ECONNREFUSED"));
    await guard.run("get", dead, "10.0.0.1:6379");
    await guard.run("get", dead, "10.0.0.1:6379");
    expect(await guard.run("get", dead, "10.0.0.1:6379")).toEqual({ ok: false, reason: "circuit-open" });
    expect(await guard.run("get", async () => 1, "10.0.0.2:6379")).toEqual({ ok: true, value: 1 });
    expect(await guard.run("get", async () => 2)).toEqual({ ok: true, value: 2 });
    // After a failover the slot is on another master: a new, closed breaker.
    expect(await guard.run("get", async () => 3, "10.0.0.4:6379")).toEqual({ ok: true, value: 3 });
    expect(guard.openCircuits()).toBe(1);
  });
});
