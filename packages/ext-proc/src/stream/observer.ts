import type { Phase } from "../processor.js";

/** Kinds of decision counted per phase. */
export type DecisionKind = "continue" | "mutate" | "respond" | "hold";
/** Kinds of error counted per phase. */
export type ErrorKind =
  | "processor"
  | "timeout"
  | "protocol"
  | "body_too_large"
  | "carry_dropped"
  | "mutation_dropped"
  | "streamed_hold_limit";

/** Metrics hooks of the stream machine; the server binds them to prom-client. */
export interface StreamObserver {
  message(phase: Phase): void;
  decision(phase: Phase, kind: DecisionKind): void;
  error(phase: Phase, kind: ErrorKind): void;
  processorSeconds(phase: Phase, seconds: number): void;
  refusedHeaders(names: readonly string[]): void;
  duplicateEndOfStream(): void;
}

export const noopObserver: StreamObserver = {
  message() {},
  decision() {},
  error() {},
  processorSeconds() {},
  refusedHeaders() {},
  duplicateEndOfStream() {},
};
