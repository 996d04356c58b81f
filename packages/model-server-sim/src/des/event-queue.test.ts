import { describe, expect, it } from "vitest";
import { createEventQueue } from "./event-queue.js";

describe("createEventQueue()", () => {
  it("pops events by time, ties in insertion order", () => {
    const q = createEventQueue<string>();
    for (const [t, e] of [
      [5, "e"],
      [1, "a"],
      [3, "c1"],
      [3, "c2"],
      [0, "z"],
      [3, "c3"],
    ] as const)
      q.push(t, e);
    const out: string[] = [];
    for (let x = q.pop(); x; x = q.pop()) out.push(x.event);
    expect(out).toEqual(["z", "a", "c1", "c2", "c3", "e"]);
    expect(q.size).toBe(0);
  });
});
