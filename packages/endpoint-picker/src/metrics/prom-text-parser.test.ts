import { describe, expect, it } from "vitest";
import { parsePromText, parseValue } from "./prom-text-parser.js";
import { vllmMetricsPage } from "./vllm-page.testdata.js";

describe("parseValue()", () => {
  it.each([
    ["1", 1],
    ["1.5", 1.5],
    ["-2e3", -2000],
    ["1.7300000001e+09", 1730000000.1],
    [".5", 0.5],
    ["+Inf", Number.POSITIVE_INFINITY],
    ["-Inf", Number.NEGATIVE_INFINITY],
  ])("parses %s", (raw, want) => {
    expect(parseValue(raw)).toBe(want);
  });
  it("parses NaN", () => {
    expect(parseValue("NaN")).toBeNaN();
  });
  it.each(["", "abc", "1,5", "0x10"])("rejects %j", (raw) => {
    expect(parseValue(raw)).toBeUndefined();
  });
});

describe("parsePromText()", () => {
  it("keeps only the wanted families", () => {
    const r = parsePromText('a 1\nb{x="y"} 2\nc 3\n', new Set(["b"]));
    expect(r).toEqual({ value: new Map([["b", [{ labels: { x: "y" }, value: 2 }]]]) });
  });

  it("handles escapes, commas and spaces in label values, timestamps and CRLF-free pages", () => {
    const r = parsePromText(
      'm{a="x\\"y",b="1,2",c="p q",d="back\\\\slash",e="n\\nl"} 4 1700000000000\n',
      new Set(["m"]),
    );
    expect(r).toEqual({
      value: new Map([["m", [{ labels: { a: 'x"y', b: "1,2", c: "p q", d: "back\\slash", e: "n\nl" }, value: 4 }]]]),
    });
  });

  it("does not confuse a family with a longer name sharing its prefix", () => {
    const r = parsePromText("vllm:x_total 1\nvllm:x 2\n", new Set(["vllm:x"]));
    expect("value" in r && r.value.get("vllm:x")).toEqual([{ labels: {}, value: 2 }]);
  });

  it("reads the gauges of a realistic vLLM page", () => {
    const page = vllmMetricsPage({ waiting: 3, running: 7, kv: 0.42 });
    expect(page.length).toBeGreaterThan(30_000);
    const r = parsePromText(page, new Set(["vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"]));
    expect("value" in r && r.value.get("vllm:num_requests_waiting")?.[0]?.value).toBe(3);
    expect("value" in r && r.value.get("vllm:kv_cache_usage_perc")?.[0]?.value).toBe(0.42);
  });

  it.each([
    ["unterminated label value", 'm{a="x} 1\n'],
    ["missing value", 'm{a="x"}\n'],
    ["bad value", "m 1..2\n"],
    ["unquoted label", "m{a=x} 1\n"],
  ])("reports a malformed wanted line: %s", (_name, text) => {
    expect(parsePromText(text, new Set(["m"]))).toHaveProperty("error");
  });

  it("ignores garbage in families it does not want", () => {
    expect(parsePromText("<html>oops</html>\nm 1\n", new Set(["m"]))).toEqual({
      value: new Map([["m", [{ labels: {}, value: 1 }]]]),
    });
  });
});
