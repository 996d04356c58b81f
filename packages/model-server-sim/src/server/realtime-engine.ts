/**
 * Drives an engine model in wall-clock time: each step's modelled duration is
 * slept (divided by `speedUp`), then its tokens go to the request handlers.
 * Latency histograms record virtual (modelled GPU) time: a virtual clock that
 * advances by exactly each step's duration while the engine is busy and follows
 * wall time x `speedUp` while it is idle, so timer overshoot (setTimeout's 1 ms
 * floor at high `speedUp`) never leaks into the reported latencies.
 */
import type { Engine, EngineRequest, TokenEvent } from "../engine/engine.js";
import { createHistogram, e2eBucketsS, type Histogram, itlBucketsS, ttftBucketsS } from "./histogram.js";

export interface RealtimeEngineOptions {
  readonly engine: Engine;
  /** Virtual ms per wall ms. */
  readonly speedUp: number;
  /** Wall clock in ms (default `performance.now`). */
  readonly nowMs?: () => number;
}

/** Why a request ended, as vLLM's `finished_reason` label. */
export type FinishReason = "length" | "stop" | "abort";

export interface RealtimeEngine {
  /** Queue a request; `onToken` receives every output token; returns an abort function. */
  submit(request: EngineRequest, finishReason: "length" | "stop", onToken: (t: TokenEvent) => void): () => void;
  /** Virtual time since start, ms. */
  virtualNowMs(): number;
  readonly ttft: Histogram;
  readonly itl: Histogram;
  readonly e2e: Histogram;
  successByReason(): Record<FinishReason, number>;
  /** Stop stepping; pending requests never complete. */
  close(): void;
}

interface Pending {
  readonly arrivalMs: number;
  lastMs: number;
  readonly finishReason: "length" | "stop";
  readonly onToken: (t: TokenEvent) => void;
}

/** Starts idle; steps only while requests are queued. */
export function createRealtimeEngine(o: RealtimeEngineOptions): RealtimeEngine {
  const clock = o.nowMs ?? (() => performance.now());
  // Virtual time = anchorVirtualMs + (wall - anchorWallMs) * speedUp, capped at the end of the step in flight.
  let anchorWallMs = clock();
  let anchorVirtualMs = 0;
  let stepEndVirtualMs: number | undefined;
  const vnow = () => {
    const v = anchorVirtualMs + (clock() - anchorWallMs) * o.speedUp;
    return stepEndVirtualMs === undefined ? v : Math.min(v, stepEndVirtualMs);
  };
  const pending = new Map<string, Pending>();
  const ttft = createHistogram(ttftBucketsS);
  const itl = createHistogram(itlBucketsS);
  const e2e = createHistogram(e2eBucketsS);
  const success: Record<FinishReason, number> = { length: 0, stop: 0, abort: 0 };
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const dispatch = (events: readonly TokenEvent[], now: number) => {
    for (const t of events) {
      const p = pending.get(t.requestId);
      if (!p) continue;
      if (t.index === 0) ttft.observe((now - p.arrivalMs) / 1000);
      else itl.observe((now - p.lastMs) / 1000);
      p.lastMs = now;
      if (t.finished) {
        e2e.observe((now - p.arrivalMs) / 1000);
        success[p.finishReason]++;
        pending.delete(t.requestId);
      }
      p.onToken(t);
    }
  };

  const pump = () => {
    if (timer || closed) return;
    const start = vnow();
    const d = o.engine.beginStep(start);
    if (d === undefined) return;
    stepEndVirtualMs = start + d;
    timer = setTimeout(() => {
      timer = undefined;
      const end = stepEndVirtualMs ?? vnow();
      stepEndVirtualMs = undefined;
      anchorWallMs = clock();
      anchorVirtualMs = end;
      dispatch(o.engine.endStep(), end);
      pump();
    }, d / o.speedUp);
  };

  return {
    submit(request, finishReason, onToken) {
      const now = vnow();
      pending.set(request.id, { arrivalMs: now, lastMs: now, finishReason, onToken });
      o.engine.add(request);
      pump();
      return () => {
        if (!pending.delete(request.id)) return;
        o.engine.abort(request.id);
        success.abort++;
      };
    },
    virtualNowMs: vnow,
    ttft,
    itl,
    e2e,
    successByReason: () => ({ ...success }),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
