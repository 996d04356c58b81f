import { describe, expect, it } from "vitest";
import { parseEndpointList } from "./endpoint-list.js";

describe("parseEndpointList()", () => {
  it("reads a YAML list with defaults", () => {
    expect(parseEndpointList("- address: 10.0.0.1\n  port: 8000\n")).toEqual({
      value: [{ address: "10.0.0.1", port: 8000, engine: "vllm", labels: {} }],
    });
  });
  it("reads { endpoints: [...] } JSON with engine and metricsPort", () => {
    expect(
      parseEndpointList('{"endpoints":[{"address":"10.0.0.2","port":30000,"engine":"sglang","metricsPort":30001}]}'),
    ).toEqual({ value: [{ address: "10.0.0.2", port: 30000, engine: "sglang", labels: {}, metricsPort: 30001 }] });
  });
  it("names the bad field", () => {
    expect(parseEndpointList("- address: 10.0.0.1\n  port: 0\n")).toHaveProperty("error");
    expect(parseEndpointList("- address: 10.0.0.1\n  port: 1\n  engine: tgi\n")).toHaveProperty("error");
  });
  it("reports invalid YAML", () => {
    expect(parseEndpointList("[")).toHaveProperty("error");
  });
});
