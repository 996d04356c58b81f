export {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  type Clock,
  createCircuitBreaker,
} from "./circuit-breaker.js";
export { createGoogleTokenSource, type GoogleTokenSource, type GoogleTokenSourceOptions } from "./google-auth.js";
export { googleErrorStatus, parseJson, readCapped, retryAfterMs, withDeadline } from "./http.js";
