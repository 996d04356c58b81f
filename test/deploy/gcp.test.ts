import { responseBodyOverrides } from "@llm-callouts/semantic-cache";
import { describe, expect, it } from "vitest";
import { parseCalloutConfig } from "./callout-config.js";
import { arr, envoyVerdict, gcpOverrideSettings, obj, readYaml, str } from "./deploy-files.js";

// Structural checks of the `gcloud ... import` files against the field names of the Service
// Extensions REST API (networkservices v1 ExtensionChain / AuthzExtension, networksecurity
// AuthzPolicy): no schema package exists for them, so unknown keys, enum values, timeouts and
// metadata limits are checked here as documented.

const events = [
  "REQUEST_HEADERS",
  "REQUEST_BODY",
  "REQUEST_TRAILERS",
  "RESPONSE_HEADERS",
  "RESPONSE_BODY",
  "RESPONSE_TRAILERS",
];
const bodyModes = ["BODY_SEND_MODE_STREAMED", "BODY_SEND_MODE_FULL_DUPLEX_STREAMED"];
const extensionKeys = [
  "name",
  "authority",
  "service",
  "supportedEvents",
  "timeout",
  "failOpen",
  "forwardHeaders",
  "forwardAttributes",
  "metadata",
  "requestBodySendMode",
  "responseBodySendMode",
  "observabilityMode",
];
const lbExtensionKeys = [
  "name",
  "description",
  "labels",
  "forwardingRules",
  "extensionChains",
  "loadBalancingScheme",
  "metadata",
];
const rfc1034 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const backendService =
  /^https:\/\/www\.googleapis\.com\/compute\/v1\/projects\/[^/]+\/(regions\/[^/]+|global)\/backendServices\/[a-z][-a-z0-9]*$/;
const forwardingRule =
  /^https:\/\/www\.googleapis\.com\/compute\/v1\/projects\/[^/]+\/(regions\/[^/]+|global)\/forwardingRules\/[a-z][-a-z0-9]*$/;

function expectKnownKeys(value: unknown, known: readonly string[], where: string): void {
  expect(
    Object.keys(obj(value, where)).filter((k) => !known.includes(k)),
    `${where}: unknown fields`,
  ).toEqual([]);
}

/** "1s", "0.5s", "250ms" -> milliseconds. */
function durationMs(value: unknown): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(str(value, "timeout"));
  if (!m) throw new Error(`not a duration: ${String(value)}`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

/** Extension metadata: a flat map of strings, < 16 keys, keys < 64 chars, values < 1024 chars, < 1 KiB in total. */
function expectMetadataWithinLimits(metadata: unknown, where: string): void {
  if (metadata === undefined) return;
  const entries = Object.entries(obj(metadata, where));
  expect(entries.length, where).toBeLessThan(16);
  let total = 0;
  for (const [k, v] of entries) {
    expect(typeof v, `${where}.${k} must be a string`).toBe("string");
    expect(k.length).toBeLessThan(64);
    expect(String(v).length).toBeLessThan(1024);
    total += k.length + String(v).length;
  }
  expect(total, `${where} total size`).toBeLessThan(1024);
}

function checkExtension(x: Record<string, unknown>, kind: "route" | "traffic"): void {
  const where = `extension ${String(x.name)}`;
  expectKnownKeys(x, extensionKeys, where);
  expect(str(x.name, "name")).toMatch(rfc1034);
  expect(str(x.authority, "authority").length).toBeGreaterThan(0);
  expect(str(x.service, "service")).toMatch(backendService);
  const ms = durationMs(x.timeout);
  expect(ms, `${where} timeout`).toBeGreaterThanOrEqual(10);
  expect(ms, `${where} timeout`).toBeLessThanOrEqual(10_000);
  expect(typeof x.failOpen, `${where} failOpen`).toBe("boolean");
  const supported = arr(x.supportedEvents, "supportedEvents").map(String);
  for (const e of supported) expect(events, where).toContain(e);
  expect(new Set(supported).size).toBe(supported.length);
  if (kind === "route") {
    for (const e of supported)
      expect(e.startsWith("REQUEST_"), `${where}: route extensions see requests only`).toBe(true);
    expect(x.responseBodySendMode).toBeUndefined();
    // Route extensions read bodies only in full duplex.
    if (supported.includes("REQUEST_BODY")) expect(x.requestBodySendMode).toBe("BODY_SEND_MODE_FULL_DUPLEX_STREAMED");
  }
  for (const [field, dir] of [
    ["requestBodySendMode", "REQUEST"],
    ["responseBodySendMode", "RESPONSE"],
  ] as const) {
    if (x[field] === undefined) continue;
    expect(bodyModes, `${where} ${field}`).toContain(x[field]);
    expect(supported, `${where}: ${field} needs ${dir}_BODY`).toContain(`${dir}_BODY`);
    if (x[field] === "BODY_SEND_MODE_FULL_DUPLEX_STREAMED") {
      expect(supported, `${where}: full duplex needs ${dir}_TRAILERS`).toContain(`${dir}_TRAILERS`);
    }
  }
  expectMetadataWithinLimits(x.metadata, `${where} metadata`);
}

function chainsOf(file: string, kind: "route" | "traffic") {
  const root = obj(readYaml(file), file);
  expectKnownKeys(root, lbExtensionKeys, file);
  expect(str(root.name, "name")).toMatch(rfc1034);
  expect(["INTERNAL_MANAGED", "EXTERNAL_MANAGED"]).toContain(root.loadBalancingScheme);
  for (const fr of arr(root.forwardingRules, "forwardingRules")) expect(String(fr)).toMatch(forwardingRule);
  const chains = arr(root.extensionChains, "extensionChains").map((c) => obj(c, "chain"));
  expect(chains.length).toBeGreaterThanOrEqual(1);
  expect(chains.length).toBeLessThanOrEqual(5);
  for (const chain of chains) {
    expectKnownKeys(chain, ["name", "matchCondition", "extensions"], "chain");
    expect(str(chain.name, "chain name")).toMatch(rfc1034);
    expectKnownKeys(chain.matchCondition, ["celExpression"], "matchCondition");
    expect(str(obj(chain.matchCondition, "matchCondition").celExpression, "celExpression").length).toBeGreaterThan(0);
    const extensions = arr(chain.extensions, "extensions").map((x) => obj(x, "extension"));
    expect(extensions.length).toBeGreaterThanOrEqual(1);
    expect(extensions.length).toBeLessThanOrEqual(kind === "route" ? 1 : 3);
    for (const x of extensions) checkExtension(x, kind);
  }
  return chains;
}

describe("deploy/gcp/route-extension.yaml", () => {
  it("uses only documented fields, a valid timeout and metadata within limits", () => {
    chainsOf("deploy/gcp/route-extension.yaml", "route");
  });

  it("runs the body router full-duplex on request headers, body and trailers, failing closed", () => {
    const [chain] = chainsOf("deploy/gcp/route-extension.yaml", "route");
    const router = obj(arr(chain?.extensions, "extensions")[0], "extension");
    expect(router).toMatchObject({
      name: "body-router",
      supportedEvents: ["REQUEST_HEADERS", "REQUEST_BODY", "REQUEST_TRAILERS"],
      requestBodySendMode: "BODY_SEND_MODE_FULL_DUPLEX_STREAMED",
      timeout: "1s",
      failOpen: false,
    });
    expect(String(router.service).endsWith("/backendServices/body-router")).toBe(true);
  });
});

describe("deploy/gcp/traffic-extension.yaml", () => {
  it("uses only documented fields, valid timeouts and metadata within limits", () => {
    chainsOf("deploy/gcp/traffic-extension.yaml", "traffic");
  });

  it("chains input guardrail -> cache -> output guardrail, with per-service fail-open", () => {
    const [chain] = chainsOf("deploy/gcp/traffic-extension.yaml", "traffic");
    const table = arr(chain?.extensions, "extensions").map((e) => {
      const x = obj(e, "extension");
      return [
        x.name,
        String(x.service).split("/").at(-1),
        x.failOpen,
        x.requestBodySendMode ?? "-",
        x.responseBodySendMode ?? "-",
      ];
    });
    expect(table).toEqual([
      ["guardrail-input", "guardrail", false, "BODY_SEND_MODE_FULL_DUPLEX_STREAMED", "-"],
      ["semantic-cache", "semantic-cache", true, "BODY_SEND_MODE_FULL_DUPLEX_STREAMED", "BODY_SEND_MODE_STREAMED"],
      ["guardrail-output", "guardrail", false, "-", "BODY_SEND_MODE_STREAMED"],
    ]);
  });

  it("runs the cache where Envoy ignores its overrides (full-duplex requests), as the SDK assumes", () => {
    const [chain] = chainsOf("deploy/gcp/traffic-extension.yaml", "traffic");
    const cache = arr(chain?.extensions, "extensions")
      .map((e) => obj(e, "extension"))
      .find((x) => x.name === "semantic-cache");
    if (!cache) throw new Error("semantic-cache extension");
    // The SDK neither sends nor applies an override under a FULL_DUPLEX_STREAMED filter: the cache
    // then stores from the configured STREAMED response (conformance: envoy-rules.test.ts).
    for (const responseBody of Object.values(responseBodyOverrides)) {
      expect(envoyVerdict(gcpOverrideSettings(cache), { responseBody })).toEqual({
        applied: false,
        reason: "full_duplex_filter",
      });
    }
  });
});

describe("deploy/gcp/authz-extension.yaml", () => {
  const authz = obj(readYaml("deploy/gcp/authz-extension.yaml"), "authz");

  it("uses only documented AuthzExtension fields with the ext_authz wire format, failing closed", () => {
    expectKnownKeys(
      authz,
      [
        "name",
        "description",
        "labels",
        "loadBalancingScheme",
        "authority",
        "service",
        "timeout",
        "failOpen",
        "metadata",
        "forwardHeaders",
        "forwardAttributes",
        "wireFormat",
      ],
      "authz extension",
    );
    expect(str(authz.name, "name")).toMatch(rfc1034);
    expect(authz.wireFormat).toBe("EXT_AUTHZ_GRPC");
    expect(authz.failOpen).toBe(false);
    expect(["INTERNAL_MANAGED", "EXTERNAL_MANAGED"]).toContain(authz.loadBalancingScheme);
    // EXT_AUTHZ_GRPC is regional only.
    expect(str(authz.service, "service")).toMatch(/\/regions\/[^/]+\/backendServices\/guardrail$/);
    const ms = durationMs(authz.timeout);
    expect(ms).toBeGreaterThanOrEqual(10);
    expect(ms).toBeLessThanOrEqual(10_000);
    expectMetadataWithinLimits(authz.metadata, "authz metadata");
    for (const h of arr(authz.forwardHeaders, "forwardHeaders")) expect(String(h)).toMatch(/^[a-z0-9-]+$/);
  });

  it("is attached by a CUSTOM authz policy naming it", () => {
    const policy = obj(readYaml("deploy/gcp/authz-policy.yaml"), "policy");
    expectKnownKeys(
      policy,
      ["name", "description", "labels", "target", "action", "customProvider", "httpRules"],
      "policy",
    );
    expect(policy.action).toBe("CUSTOM");
    const target = obj(policy.target, "target");
    expect(target.loadBalancingScheme).toBe(authz.loadBalancingScheme);
    for (const r of arr(target.resources, "resources")) expect(String(r)).toMatch(forwardingRule);
    const resources = arr(
      obj(obj(policy.customProvider, "customProvider").authzExtension, "authzExtension").resources,
      "resources",
    );
    expect(resources).toEqual([`projects/PROJECT_ID/locations/REGION/authzExtensions/${String(authz.name)}`]);
  });
});

describe("deploy/gcp/callout-config.yaml", () => {
  it("serves TLS (self-signed) on 443, h2c on 8080 and the HTTP health check on 80", () => {
    const raw = obj(readYaml("deploy/gcp/callout-config.yaml"), "config");
    const parsed = parseCalloutConfig("body-router", raw);
    expect(parsed.issues).toEqual([]);
    expect(parsed.value?.server).toMatchObject({
      port: 8080,
      adminPort: 80,
      tls: { port: 443, selfSigned: true },
      replyChunkBytes: 62_000,
    });
    expect(parsed.value?.server.replyChunkBytes).toBeLessThanOrEqual(128 * 1024);
  });
});
