import { describe, expect, it } from "vitest";
import { endpoint } from "../../../endpoints.testdata.js";
import type { ScoredEndpoint } from "../../types.js";
import { pickRandom } from "./random.js";

const a = endpoint("10.0.0.1:8000");
const b = endpoint("10.0.0.2:8000");
const c = endpoint("10.0.0.3:8000");
const scored = (...scores: number[]): ScoredEndpoint[] =>
  [a, b, c].slice(0, scores.length).map((endpoint, i) => ({ endpoint, score: scores[i] as number }));
const ids = (list: { id: string }[]) => list.map((e) => e.id);
const zero = () => 0;

describe("pickRandom()", () => {
  it("ignores scores", () => {
    expect(ids(pickRandom(scored(0, 0, 9), 1, zero))).toEqual(["10.0.0.2:8000"]);
  });
});
