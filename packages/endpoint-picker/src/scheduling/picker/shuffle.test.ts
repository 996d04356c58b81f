import { describe, expect, it } from "vitest";
import { shuffled } from "./shuffle.js";

const zero = () => 0;

describe("shuffled()", () => {
  it("is a Fisher-Yates shuffle driven by the RNG", () => {
    // random() = 0 always swaps with index 0: [1,2,3] -> i=2 swap(2,0) [3,2,1] -> i=1 swap(1,0) [2,3,1]
    expect(shuffled([1, 2, 3], zero)).toEqual([2, 3, 1]);
  });
});
