import { type InferenceError, inferenceError } from "./picker-error.js";

export interface FlowControlOptions {
  readonly maxRequests: number;
  readonly maxBytes: number;
  readonly ttlMs: number;
  readonly pollIntervalMs: number;
  /** Dispatch gate: true while the pool is saturated. */
  readonly saturated: () => boolean;
  readonly clock: () => number;
}

/** One queued request's identity. */
export interface FlowKey {
  readonly priority: number;
  readonly fairnessId: string;
  readonly bytes: number;
}

interface Waiter extends FlowKey {
  readonly enqueuedMs: number;
  readonly resolve: (r: { ok: true } | { error: InferenceError }) => void;
}

export interface FlowControl {
  /** Resolves when the request may be scheduled, or with the 429/503 to answer. */
  admit(key: FlowKey, signal: AbortSignal): Promise<{ ok: true } | { error: InferenceError }>;
  readonly queuedRequests: number;
  readonly queuedBytes: number;
  stop(): void;
}

/**
 * Holds requests while the pool is saturated: strict priority between bands,
 * round-robin across fairness ids within a band, FCFS within a flow. Capacity
 * overflow -> 429, TTL expiry or client cancel -> 503 (GIE flow control).
 */
export function createFlowControl(o: FlowControlOptions): FlowControl {
  // priority -> fairness id -> FIFO
  const bands = new Map<number, Map<string, Waiter[]>>();
  let queued = 0;
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const cursor = new Map<number, number>();

  function remove(w: Waiter): boolean {
    const flows = bands.get(w.priority);
    const list = flows?.get(w.fairnessId);
    const i = list?.indexOf(w) ?? -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) flows?.delete(w.fairnessId);
    if (flows?.size === 0) bands.delete(w.priority);
    queued--;
    bytes -= w.bytes;
    return true;
  }

  function nextWaiter(): Waiter | undefined {
    const priorities = [...bands.keys()].sort((a, b) => b - a);
    const top = priorities[0];
    if (top === undefined) return undefined;
    const flows = [...(bands.get(top) as Map<string, Waiter[]>).values()];
    const c = (cursor.get(top) ?? 0) % flows.length;
    cursor.set(top, c + 1);
    return flows[c]?.[0];
  }

  function tick(): void {
    const now = o.clock();
    for (const flows of bands.values())
      for (const list of flows.values())
        for (const w of [...list])
          if (now - w.enqueuedMs >= o.ttlMs && remove(w))
            w.resolve({ error: inferenceError("ServiceUnavailable", "request timed out in flow control queue") });
    while (queued > 0 && !o.saturated()) {
      const w = nextWaiter();
      if (!w) break;
      remove(w);
      w.resolve({ ok: true });
    }
    if (queued === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    admit(key, signal) {
      if (queued === 0 && !o.saturated()) return Promise.resolve({ ok: true });
      if (queued + 1 > o.maxRequests || bytes + key.bytes > o.maxBytes) {
        return Promise.resolve({ error: inferenceError("ResourceExhausted", "flow control queue at capacity") });
      }
      return new Promise((resolve) => {
        const w: Waiter = { ...key, enqueuedMs: o.clock(), resolve };
        let flows = bands.get(key.priority);
        if (!flows) {
          flows = new Map();
          bands.set(key.priority, flows);
        }
        const list = flows.get(key.fairnessId) ?? [];
        list.push(w);
        flows.set(key.fairnessId, list);
        queued++;
        bytes += key.bytes;
        signal.addEventListener(
          "abort",
          () => {
            if (remove(w)) resolve({ error: inferenceError("ServiceUnavailable", "client disconnected while queued") });
          },
          { once: true },
        );
        if (!timer) {
          timer = setInterval(tick, o.pollIntervalMs);
          timer.unref();
        }
      });
    },
    get queuedRequests() {
      return queued;
    },
    get queuedBytes() {
      return bytes;
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
