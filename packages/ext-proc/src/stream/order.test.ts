import { describe, expect, it } from "vitest";
import { advanceOrder, initialOrder, type OrderState, type Stage } from "./order.js";

type Step = readonly ["request" | "response", Stage];

const run = (steps: readonly Step[]) =>
  steps.reduce<OrderState>((state, [direction, stage]) => advanceOrder(state, direction, stage), initialOrder);

describe("advanceOrder()", () => {
  it.each([
    {
      name: "a full exchange",
      steps: [
        ["request", "headers"],
        ["request", "body"],
        ["request", "body"],
        ["request", "trailers"],
        ["response", "headers"],
        ["response", "body"],
        ["response", "trailers"],
      ],
    },
    {
      name: "skipped request headers (mode SKIP)",
      steps: [
        ["request", "body"],
        ["response", "headers"],
      ],
    },
    {
      name: "response body without response headers",
      steps: [
        ["request", "headers"],
        ["response", "body"],
      ],
    },
  ] as { name: string; steps: Step[] }[])("accepts $name", ({ steps }) => {
    expect(() => run(steps)).not.toThrow();
  });

  it.each([
    {
      name: "headers twice",
      steps: [
        ["request", "headers"],
        ["request", "headers"],
      ],
      message: /request headers received after request headers/,
    },
    {
      name: "body after trailers",
      steps: [
        ["request", "trailers"],
        ["request", "body"],
      ],
      message: /request body received after request trailers/,
    },
    {
      name: "request after response",
      steps: [
        ["response", "headers"],
        ["request", "body"],
      ],
      message: /after the response started/,
    },
  ] as { name: string; steps: Step[]; message: RegExp }[])("rejects $name", ({ steps, message }) => {
    expect(() => run(steps)).toThrow(message);
  });
});
