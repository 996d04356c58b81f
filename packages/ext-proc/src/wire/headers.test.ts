import { describe, expect, it } from "vitest";
import { buildHeaderMutation, isProtectedHeader } from "./headers.js";

const decode = (b: Uint8Array) => Buffer.from(b).toString();

describe("buildHeaderMutation()", () => {
  it("writes raw_value only, lower-cases keys and sets append with append_action", () => {
    const { mutation } = buildHeaderMutation({ set: { "X-Model": "m1" }, append: [["x-tag", "a"]], remove: ["X-Old"] });
    const [set, appended] = mutation!.setHeaders;
    expect(set!.header!.key).toBe("x-model");
    expect(set!.header!.value).toBe("");
    expect(decode(set!.header!.rawValue)).toBe("m1");
    expect(set!.append).toBe(false);
    expect(set!.appendAction).toBe(2); // OVERWRITE_IF_EXISTS_OR_ADD
    expect(appended!.append).toBe(true);
    expect(appended!.appendAction).toBe(0); // APPEND_IF_EXISTS_OR_ADD
    expect(mutation!.removeHeaders).toEqual(["x-old"]);
  });

  it("refuses protected headers and pseudo-header removal", () => {
    const built = buildHeaderMutation({
      set: { host: "h", ":authority": "a", "x-envoy-x": "1" },
      remove: [":path", ":method"],
    });
    expect(built.mutation).toBeUndefined();
    expect(built.refused).toEqual(["host", ":authority", "x-envoy-x", ":path", ":method"]);
  });

  it("lets SDK-owned headers (content-length) win over the processor's", () => {
    const { mutation } = buildHeaderMutation({ set: { "content-length": "1" } }, [["content-length", "42"]]);
    expect(mutation!.setHeaders.map((h) => decode(h.header!.rawValue))).toEqual(["42"]);
  });

  it("marks intended empty values with keep_empty_value", () => {
    const { mutation } = buildHeaderMutation({ set: { "x-empty": "" } });
    expect(mutation!.setHeaders[0]!.keepEmptyValue).toBe(true);
  });
});

describe("isProtectedHeader()", () => {
  it.each([
    ["host", true],
    [":authority", true],
    [":method", true],
    [":scheme", true],
    ["x-envoy-upstream", true],
    [":path", false],
    ["x-gateway-model-name", false],
  ])("%s -> %s", (name, expected) => {
    expect(isProtectedHeader(name)).toBe(expected);
  });
});
