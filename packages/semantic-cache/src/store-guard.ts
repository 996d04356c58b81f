import type { CircuitBreaker } from "./circuit-breaker.js";

/** Why a guarded store call produced no value. */
export type GuardFailure = "timeout" | "error" | "circuit-open";

export type Guarded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: GuardFailure };

/** Options of {@link createStoreGuard}. */
export interface StoreGuardOptions {
  /** A store call slower than this counts as failed; the request goes on without it. */
  readonly timeoutMs: number;
  readonly breaker: CircuitBreaker;
  /** Called once per failed call (metrics, logs). */
  readonly onFailure?: (operation: string, reason: GuardFailure, error: unknown) => void;
}

/** Runs store calls so that no failure or slowness ever reaches the request: fail open. */
export interface StoreGuard {
  run<T>(operation: string, call: () => Promise<T>): Promise<Guarded<T>>;
}

export function createStoreGuard(options: StoreGuardOptions): StoreGuard {
  const { breaker, timeoutMs } = options;
  return {
    async run(operation, call) {
      if (!breaker.allow()) {
        options.onFailure?.(operation, "circuit-open", undefined);
        return { ok: false, reason: "circuit-open" };
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((done) => {
        timer = setTimeout(() => done("timeout"), timeoutMs);
      });
      try {
        const pending = call();
        pending.catch(() => {}); // a late rejection after the timeout is not unhandled
        const value = await Promise.race([pending, timeout]);
        if (value === "timeout") {
          breaker.failure();
          options.onFailure?.(operation, "timeout", undefined);
          return { ok: false, reason: "timeout" };
        }
        breaker.success();
        return { ok: true, value: value as Awaited<typeof pending> };
      } catch (error) {
        breaker.failure();
        options.onFailure?.(operation, "error", error);
        return { ok: false, reason: "error" };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
