import type { Logger } from "pino";
import type { Phase } from "../processor.js";
import type { StreamObserver } from "./observer.js";

/** The outcome of a guarded processor call: its value, or a failure already logged and counted. */
export type CallResult<T> = { ok: true; value: T | undefined } | { ok: false };

export interface CallGuard {
  readonly timeoutMs: number;
  readonly observer: StreamObserver;
  readonly log: () => Logger;
  readonly streamId: string;
  readonly failureMode: "open" | "closed";
}

/**
 * Calls a processor hook with a time budget; a throw or a timeout becomes `{ ok: false }`
 * (counted and logged with the stream id) so the machine applies the failure policy.
 */
export async function callProcessor<T>(
  phase: Phase,
  run: () => T | Promise<T> | undefined,
  guard: CallGuard,
): Promise<CallResult<T>> {
  const started = performance.now();
  try {
    const pending = run();
    const value =
      guard.timeoutMs > 0 && isPromise(pending) ? await withTimeout(pending, guard.timeoutMs) : await pending;
    return { ok: true, value: value ?? undefined };
  } catch (error) {
    const timedOut = error instanceof ProcessorTimeout;
    guard.observer.error(phase, timedOut ? "timeout" : "processor");
    guard
      .log()
      .error(
        { err: error, phase, stream_id: guard.streamId, failure_mode: guard.failureMode },
        timedOut ? "processor timed out" : "processor failed",
      );
    return { ok: false };
  } finally {
    guard.observer.processorSeconds(phase, (performance.now() - started) / 1000);
  }
}

class ProcessorTimeout extends Error {
  override readonly name = "ProcessorTimeout";
}

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === "function";
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ProcessorTimeout(`processor exceeded ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
