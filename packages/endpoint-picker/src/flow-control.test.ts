import { describe, expect, it } from "vitest";
import { createFlowControl } from "./flow-control.js";

function setup(overrides: Partial<Parameters<typeof createFlowControl>[0]> = {}) {
  const state = { saturated: true, now: 0 };
  const fc = createFlowControl({
    maxRequests: 10,
    maxBytes: 1000,
    ttlMs: 10_000,
    pollIntervalMs: 1,
    saturated: () => state.saturated,
    clock: () => state.now,
    ...overrides,
  });
  return { fc, state };
}

const never = new AbortController().signal;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("createFlowControl()", () => {
  it("admits at once when the pool is not saturated and nothing is queued", async () => {
    const { fc, state } = setup();
    state.saturated = false;
    await expect(fc.admit({ priority: 0, fairnessId: "a", bytes: 1 }, never)).resolves.toEqual({ ok: true });
  });

  it("dispatches by strict priority, then round-robin across fairness ids", async () => {
    const { fc, state } = setup();
    const order: string[] = [];
    const enqueue = (name: string, priority: number, fairnessId: string) =>
      fc.admit({ priority, fairnessId, bytes: 1 }, never).then(() => {
        order.push(name);
        state.saturated = true; // one dispatch per tick
      });
    const all = [
      enqueue("low", -1, "a"),
      enqueue("a1", 0, "a"),
      enqueue("a2", 0, "a"),
      enqueue("b1", 0, "b"),
      enqueue("high", 5, "z"),
    ];
    expect(fc.queuedRequests).toBe(5);
    for (let i = 0; i < 5; i++) {
      state.saturated = false;
      await sleep(5);
    }
    await Promise.all(all);
    expect(order).toEqual(["high", "a1", "b1", "a2", "low"]);
    fc.stop();
  });

  it("rejects with 429 over capacity", async () => {
    const { fc } = setup({ maxRequests: 1 });
    void fc.admit({ priority: 0, fairnessId: "a", bytes: 1 }, never);
    await expect(fc.admit({ priority: 0, fairnessId: "a", bytes: 1 }, never)).resolves.toEqual({
      error: {
        code: "ResourceExhausted",
        status: 429,
        message: "inference error: ResourceExhausted - flow control queue at capacity",
      },
    });
    fc.stop();
  });

  it("rejects with 429 over the byte limit", async () => {
    const { fc } = setup({ maxBytes: 10 });
    await expect(fc.admit({ priority: 0, fairnessId: "a", bytes: 11 }, never)).resolves.toHaveProperty(
      "error.status",
      429,
    );
  });

  it("answers 503 when the TTL expires", async () => {
    const { fc, state } = setup({ ttlMs: 100 });
    const p = fc.admit({ priority: 0, fairnessId: "a", bytes: 1 }, never);
    state.now = 100;
    await expect(p).resolves.toEqual({
      error: {
        code: "ServiceUnavailable",
        status: 503,
        message: "inference error: ServiceUnavailable - request timed out in flow control queue",
      },
    });
    expect(fc.queuedRequests).toBe(0);
  });

  it("answers 503 and frees the slot when the client goes away", async () => {
    const { fc } = setup();
    const abort = new AbortController();
    const p = fc.admit({ priority: 0, fairnessId: "a", bytes: 7 }, abort.signal);
    abort.abort();
    await expect(p).resolves.toHaveProperty("error.status", 503);
    expect(fc.queuedBytes).toBe(0);
    fc.stop();
  });
});
