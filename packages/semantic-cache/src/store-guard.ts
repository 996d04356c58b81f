import type { CircuitBreaker } from "@llm-callouts/remote";

/** Why a guarded store call produced no value. */
export type GuardFailure = "timeout" | "error" | "circuit-open";

export type Guarded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: GuardFailure };

/** Options of {@link createStoreGuard}. */
export interface StoreGuardOptions {
  /** A store call slower than this counts as failed; the request goes on without it. */
  readonly timeoutMs: number;
  /** The breaker of calls that name no shard (one server, memory). */
  readonly breaker: CircuitBreaker;
  /**
   * A new breaker for each shard a call names (Redis Cluster: the master serving the key's
   * slot), so one dead shard does not turn the cache off on the live ones; a failover puts the
   * slot on a new master, i.e. a new, closed breaker. Absent: every call shares `breaker`.
   */
  readonly shardBreaker?: () => CircuitBreaker;
  /** Called once per failed call (metrics, logs). */
  readonly onFailure?: (operation: string, reason: GuardFailure, error: unknown) => void;
}

/** Runs store calls so that no failure or slowness ever reaches the request: fail open. */
export interface StoreGuard {
  /** `shard` names the server the call goes to, when the store knows it. */
  run<T>(operation: string, call: () => Promise<T>, shard?: string): Promise<Guarded<T>>;
  /** How many breakers are open now (for the circuit gauge). */
  openCircuits(): number;
}

/** Most per-shard breakers kept: shards come and go with failovers; the oldest are forgotten. */
const maxShardBreakers = 256;

export function createStoreGuard(options: StoreGuardOptions): StoreGuard {
  const { timeoutMs } = options;
  const shards = new Map<string, CircuitBreaker>();
  const breakerOf = (shard: string | undefined): CircuitBreaker => {
    if (shard === undefined || !options.shardBreaker) return options.breaker;
    let breaker = shards.get(shard);
    if (!breaker) {
      breaker = options.shardBreaker();
      shards.set(shard, breaker);
      if (shards.size > maxShardBreakers) shards.delete(shards.keys().next().value as string);
    }
    return breaker;
  };
  return {
    openCircuits() {
      let open = options.breaker.state() === "open" ? 1 : 0;
      for (const breaker of shards.values()) if (breaker.state() === "open") open++;
      return open;
    },
    async run(operation, call, shard) {
      const breaker = breakerOf(shard);
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
