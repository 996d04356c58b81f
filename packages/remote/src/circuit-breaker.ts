/** Milliseconds since the epoch (injectable for tests). */
export type Clock = () => number;

/** Options of {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  readonly failureThreshold?: number;
  /** How long an open circuit rejects calls before one trial call. Default 5 000 ms. */
  readonly cooldownMs?: number;
  readonly now?: Clock;
}

export type CircuitState = "closed" | "open" | "half-open";

/** Stops calling a dead dependency: closed -> open after N failures -> one trial after the cooldown. */
export interface CircuitBreaker {
  /** True when a call may go out now (in half-open state only one trial at a time). */
  allow(): boolean;
  success(): void;
  failure(): void;
  state(): CircuitState;
}

export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const threshold = options.failureThreshold ?? 5;
  const cooldownMs = options.cooldownMs ?? 5_000;
  const now = options.now ?? Date.now;
  let failures = 0;
  let openedAt: number | undefined;
  let trialInFlight = false;

  const state = (): CircuitState => {
    if (openedAt === undefined) return "closed";
    return now() - openedAt >= cooldownMs ? "half-open" : "open";
  };
  return {
    allow() {
      const current = state();
      if (current === "closed") return true;
      if (current === "open" || trialInFlight) return false;
      trialInFlight = true;
      return true;
    },
    success() {
      failures = 0;
      openedAt = undefined;
      trialInFlight = false;
    },
    failure() {
      failures++;
      trialInFlight = false;
      if (openedAt !== undefined || failures >= threshold) openedAt = now();
    },
    state,
  };
}
