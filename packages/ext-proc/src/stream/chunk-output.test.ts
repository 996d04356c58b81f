import { describe, expect, it } from "vitest";
import { chunkOutput } from "./chunk-output.js";

const text = (b: Uint8Array) => Buffer.from(b).toString();
const bytes = (s: string) => new TextEncoder().encode(s);

describe("chunkOutput()", () => {
  it.each([
    {
      name: "no decision emits everything",
      data: "abcdef",
      decision: undefined,
      eos: false,
      emit: "abcdef",
      carry: "",
    },
    {
      name: "a carry holds back the tail",
      data: "abcdef",
      decision: { carry: "ef" },
      eos: false,
      emit: "abcd",
      carry: "ef",
    },
    {
      name: "emit and carry are both explicit",
      data: "abcdef",
      decision: { emit: "X", carry: "Y" },
      eos: false,
      emit: "X",
      carry: "Y",
    },
    {
      name: "end of stream flushes the carry",
      data: "abcdef",
      decision: { carry: "ef" },
      eos: true,
      emit: "abcdef",
      carry: "",
    },
    {
      name: "end of stream flushes after an explicit emit",
      data: "abc",
      decision: { emit: "A", carry: "Z" },
      eos: true,
      emit: "AZ",
      carry: "",
    },
    { name: "an empty emit drops the chunk", data: "abc", decision: { emit: "" }, eos: false, emit: "", carry: "" },
  ])("$name", ({ data, decision, eos, emit, carry }) => {
    const out = chunkOutput(bytes(data), decision, eos);
    expect(text(out.emit)).toBe(emit);
    expect(text(out.carry)).toBe(carry);
  });
});
