import type { Direction } from "../processor.js";
import { ProtocolError } from "./errors.js";

/** Stages of one direction, in the order Envoy sends them. */
export type Stage = "headers" | "body" | "trailers";
const rank: Record<Stage | "none", number> = { none: 0, headers: 1, body: 2, trailers: 3 };

export interface OrderState {
  readonly request: Stage | "none";
  readonly response: Stage | "none";
}

export const initialOrder: OrderState = { request: "none", response: "none" };

/**
 * Pure check of Envoy's message order: within a direction headers < body* < trailers
 * (any stage may be skipped by its mode; body repeats), and nothing of the request
 * direction after the response started. Throws ProtocolError otherwise.
 */
export function advanceOrder(state: OrderState, direction: Direction, stage: Stage): OrderState {
  const current = state[direction];
  if (direction === "request" && state.response !== "none") {
    throw new ProtocolError(`request ${stage} received after the response started`);
  }
  const repeatable = stage === "body" && current === "body";
  if (!repeatable && rank[stage] <= rank[current]) {
    throw new ProtocolError(`${direction} ${stage} received after ${direction} ${current}`);
  }
  return { ...state, [direction]: stage };
}
