import { describe, expect, it } from "vitest";
import { filterBySubset, freshOrAll, joinHostPort, parseSubsetHint, splitHostPort } from "./candidates.js";
import { endpoint } from "./endpoints.testdata.js";

describe("parseSubsetHint()", () => {
  it.each([
    { name: "absent", v: undefined, want: undefined },
    { name: "list", v: ["10.0.0.1:8000", "10.0.0.2:8000"], want: ["10.0.0.1:8000", "10.0.0.2:8000"] },
    { name: "comma string", v: "10.0.0.1:8000, 10.0.0.2:8000", want: ["10.0.0.1:8000", "10.0.0.2:8000"] },
    { name: "empty list", v: [], want: [] },
    { name: "empty string", v: "", want: [] },
    { name: "non-string items ignored", v: ["10.0.0.1:8000", 7, null], want: ["10.0.0.1:8000"] },
  ])("$name", ({ v, want }) => {
    expect(parseSubsetHint(v)).toEqual(want);
  });
});

describe("splitHostPort() / joinHostPort()", () => {
  it.each([
    ["10.0.0.1:8000", "10.0.0.1", 8000],
    ["10.0.0.1", "10.0.0.1", undefined],
    ["[fd00::1]:8000", "fd00::1", 8000],
    ["[fd00::1]", "fd00::1", undefined],
    ["fd00::1", "fd00::1", undefined],
  ])("splits %s", (entry, host, port) => {
    expect(splitHostPort(entry)).toEqual({ host, port });
  });

  it("brackets IPv6", () => {
    expect(joinHostPort("fd00::1", 80)).toBe("[fd00::1]:80");
    expect(joinHostPort("10.0.0.1", 80)).toBe("10.0.0.1:80");
  });
});

describe("filterBySubset()", () => {
  const a = endpoint("10.0.0.1:8000");
  const a2 = endpoint("10.0.0.1:8001");
  const b = endpoint("10.0.0.2:8000");
  it("matches ip:port by IP, the port ignored (GIE's subset filter)", () => {
    expect(filterBySubset([a, a2, b], ["10.0.0.1:8001"])).toEqual([a, a2]);
  });
  it("matches bracketed IPv6 entries by address", () => {
    const v6 = { ...endpoint("10.9.9.9:8000"), id: "[fd00::1]:8000", address: "fd00::1" };
    expect(filterBySubset([a, v6], ["[fd00::1]:9999"])).toEqual([v6]);
  });
  it("matches a bare IP against every port", () => {
    expect(filterBySubset([a, a2, b], ["10.0.0.1"])).toEqual([a, a2]);
  });
  it("returns nothing for unknown entries", () => {
    expect(filterBySubset([a, b], ["10.9.9.9:8000"])).toEqual([]);
  });
});

describe("freshOrAll()", () => {
  const fresh = endpoint("10.0.0.1:8000", { updatedAtMs: 900 });
  const stale = endpoint("10.0.0.2:8000", { updatedAtMs: 100 });
  it("drops endpoints with stale metrics", () => {
    expect(freshOrAll([fresh, stale], 1000, 500)).toEqual([fresh]);
  });
  it("keeps all when all are stale", () => {
    expect(freshOrAll([stale], 1000, 500)).toEqual([stale]);
  });
});
