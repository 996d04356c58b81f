import { fromJson, type JsonObject, toJson } from "@bufbuild/protobuf";
import { stackGatewayConfig } from "@llm-callouts/cli/stack";
import { gatewayOwnedHeaders } from "@llm-callouts/gateway";
import { HeaderMutationSchema } from "@llm-callouts/proto/gen/envoy/config/common/mutation_rules/v3/mutation_rules_pb";
import { AddressSchema } from "@llm-callouts/proto/gen/envoy/config/core/v3/address_pb";
import { HeaderValueOptionSchema } from "@llm-callouts/proto/gen/envoy/config/core/v3/base_pb";
import { ExtAuthzSchema } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb";
import {
  type ExternalProcessor,
  ExternalProcessorSchema,
  ExtProcPerRouteSchema,
} from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/ext_proc_pb";
import { ProcessingModeSchema } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import { responseBodyOverrides } from "@llm-callouts/semantic-cache";
import { describe, expect, it } from "vitest";
import { arr, callouts, envoyVerdict, models, obj, overrideSettings, readYaml, str } from "./deploy-files.js";

// Every ext_proc / ext_authz block and per-route override is converted with protobuf-es
// `fromJson` into the generated Envoy config types (current data-plane-api). Protobuf JSON accepts
// the snake_case field names Envoy YAML uses and rejects unknown fields and enum values, so a typo
// in any of these blocks fails here. The rest of the bootstrap (listener, HCM, clusters) has no
// generated types in this repository and gets structural checks.

const typeUrl = {
  extProc: "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
  extProcPerRoute: "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute",
  extAuthz: "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
  headerMutation: "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
  router: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
  hcm: "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  httpProtocolOptions: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
};

const envoyFiles = ["deploy/envoy/envoy.yaml", "deploy/envoy/envoy-ext-authz.yaml"] as const;

interface Bootstrap {
  readonly hcm: Record<string, unknown>;
  readonly listener: Record<string, unknown>;
  readonly filters: Record<string, unknown>[];
  readonly routes: Record<string, unknown>[];
  readonly clusters: Map<string, Record<string, unknown>>;
}

function load(file: string): Bootstrap {
  const root = obj(readYaml(file), file);
  const resources = obj(root.static_resources, "static_resources");
  const listeners = arr(resources.listeners, "listeners");
  expect(listeners).toHaveLength(1);
  const listener = obj(listeners[0], "listener");
  const chain = obj(arr(listener.filter_chains, "filter_chains")[0], "filter_chains[0]");
  const network = obj(arr(chain.filters, "filters")[0], "filters[0]");
  expect(network.name).toBe("envoy.filters.network.http_connection_manager");
  const hcm = obj(network.typed_config, "hcm");
  expect(hcm["@type"]).toBe(typeUrl.hcm);
  const vhosts = arr(obj(hcm.route_config, "route_config").virtual_hosts, "virtual_hosts");
  const routes = vhosts.flatMap((v, i) => arr(obj(v, `vhost ${i}`).routes, "routes").map((r) => obj(r, "route")));
  const clusters = new Map(
    arr(resources.clusters, "clusters").map((c) => {
      const cluster = obj(c, "cluster");
      return [str(cluster.name, "cluster.name"), cluster] as const;
    }),
  );
  return {
    hcm,
    listener,
    filters: arr(hcm.http_filters, "http_filters").map((f, i) => obj(f, `http_filters[${i}]`)),
    routes,
    clusters,
  };
}

/** `typed_config` minus `@type`, after checking `@type`. */
function typedBody(typed: unknown, expectedType: string, where: string): JsonObject {
  const { "@type": type, ...rest } = obj(typed, where);
  expect(type, `${where} @type`).toBe(expectedType);
  return rest as JsonObject;
}

function extProcFilters(b: Bootstrap): Map<string, ExternalProcessor> {
  const out = new Map<string, ExternalProcessor>();
  for (const f of b.filters) {
    const name = str(f.name, "filter name");
    if (!name.startsWith("envoy.filters.http.ext_proc/")) continue;
    out.set(
      name.slice("envoy.filters.http.ext_proc/".length),
      fromJson(ExternalProcessorSchema, typedBody(f.typed_config, typeUrl.extProc, name)),
    );
  }
  return out;
}

/** Processing mode as enum names, defaults included. */
function modeNames(p: ExternalProcessor): Record<string, string> {
  return toJson(ProcessingModeSchema, p.processingMode ?? fromJson(ProcessingModeSchema, {}), {
    alwaysEmitImplicit: true,
  }) as Record<string, string>;
}

function clusterOf(p: ExternalProcessor): string | undefined {
  const target = p.grpcService?.targetSpecifier;
  return target?.case === "envoyGrpc" ? target.value.clusterName : undefined;
}

function durationMs(d: { seconds: bigint; nanos: number } | undefined): number | undefined {
  return d === undefined ? undefined : Number(d.seconds) * 1000 + d.nanos / 1e6;
}

describe.each(envoyFiles)("%s", (file) => {
  const b = load(file);

  it("parses every ext_proc filter block into ExternalProcessor", () => {
    const parsed = extProcFilters(b);
    expect(parsed.size).toBeGreaterThanOrEqual(2);
    for (const [name, p] of parsed) {
      expect(clusterOf(p), name).toBeDefined();
      expect(b.clusters.has(clusterOf(p) ?? ""), `${name} cluster`).toBe(true);
      expect(p.statPrefix, name).not.toBe("");
    }
  });

  it("parses every per-route ext_proc override into ExtProcPerRoute", () => {
    let count = 0;
    for (const route of b.routes) {
      for (const [filter, config] of Object.entries(
        obj(route.typed_per_filter_config ?? {}, "typed_per_filter_config"),
      )) {
        expect(filter.startsWith("envoy.filters.http.ext_proc/"), filter).toBe(true);
        const perRoute = fromJson(
          ExtProcPerRouteSchema,
          typedBody(config, typeUrl.extProcPerRoute, `${route.name} ${filter}`),
        );
        expect(perRoute.override.case).toBe("overrides");
        count++;
      }
    }
    expect(count).toBe(2);
  });

  it("parses the gateway-header strip filter's mutations and runs it first", () => {
    const first = b.filters[0] ?? {};
    expect(first.name).toBe("envoy.filters.http.header_mutation/strip-gateway-headers");
    const body = typedBody(first.typed_config, typeUrl.headerMutation, "strip filter");
    const mutations = arr(obj(body.mutations, "mutations").request_mutations, "request_mutations");
    const removed = mutations.map((m) => {
      const parsed = fromJson(HeaderMutationSchema, obj(m, "mutation") as JsonObject);
      expect(parsed.action.case).toBe("remove");
      return parsed.action.value;
    });
    expect([...removed].sort()).toEqual([...gatewayOwnedHeaders].sort());
  });

  it("does not strip gateway headers at route level (that would remove the picker's header too)", () => {
    for (const route of b.routes) expect(route.request_headers_to_remove, String(route.name)).toBeUndefined();
  });

  it("parses the listener and every endpoint address into core.v3.Address", () => {
    const listener = fromJson(AddressSchema, obj(b.listener.address, "listener address") as JsonObject);
    expect(listener.address.case).toBe("socketAddress");
    for (const [name, cluster] of b.clusters) {
      if (cluster.load_assignment === undefined) continue;
      for (const group of arr(obj(cluster.load_assignment, "la").endpoints, "endpoints")) {
        for (const lb of arr(obj(group, "group").lb_endpoints, "lb_endpoints")) {
          const address = obj(obj(obj(lb, "lb").endpoint, "endpoint").address, "address");
          expect(fromJson(AddressSchema, address as JsonObject).address.case, name).toBe("socketAddress");
        }
      }
    }
  });

  it("parses route-level response headers into core.v3.HeaderValueOption", () => {
    const options = b.routes.flatMap((r) => arr(r.response_headers_to_add ?? [], "response_headers_to_add"));
    expect(options.length).toBeGreaterThan(0);
    for (const o of options) {
      const parsed = fromJson(HeaderValueOptionSchema, obj(o, "header option") as JsonObject);
      expect(parsed.header?.key).toBe("content-type");
    }
  });

  it("ends the chain with the router", () => {
    const last = b.filters.at(-1) ?? {};
    expect(last.name).toBe("envoy.filters.http.router");
    typedBody(last.typed_config, typeUrl.router, "router");
  });

  it("disables the endpoint picker in the HCM and enables it per pool route with that pool's picker", () => {
    const epp = b.filters.find((f) => f.name === "envoy.filters.http.ext_proc/endpoint-picker");
    expect(epp?.disabled).toBe(true);
    const byCluster = new Map<string, string>();
    for (const route of b.routes) {
      const action = obj(route.route ?? {}, "route action");
      const perRoute = obj(route.typed_per_filter_config ?? {}, "typed_per_filter_config")[
        "envoy.filters.http.ext_proc/endpoint-picker"
      ];
      if (action.cluster === undefined) {
        expect(perRoute, String(route.name)).toBeUndefined();
        continue;
      }
      const parsed = fromJson(ExtProcPerRouteSchema, typedBody(perRoute, typeUrl.extProcPerRoute, String(route.name)));
      if (parsed.override.case !== "overrides") throw new Error("expected overrides");
      const target = parsed.override.value.grpcService?.targetSpecifier;
      expect(target?.case).toBe("envoyGrpc");
      byCluster.set(str(action.cluster, "cluster"), target?.case === "envoyGrpc" ? target.value.clusterName : "");
      expect(parsed.override.value.failureModeAllow).toBe(false);
    }
    expect(Object.fromEntries(byCluster)).toEqual({ "pool-llama": "picker-llama", "pool-qwen": "picker-qwen" });
  });

  it("routes each base model to its pool on the body router's header, with streaming timeouts", () => {
    const table = b.routes
      .filter((r) => r.route !== undefined)
      .map((r) => {
        const match = obj(r.match, "match");
        const header = obj(arr(match.headers, "headers")[0], "header");
        const action = obj(r.route, "route");
        expect(action.timeout).toBe("0s");
        expect(action.auto_host_rewrite).toBe(false);
        return [str(header.name, "header"), obj(header.string_match, "string_match").exact, action.cluster];
      });
    expect(table).toEqual([
      ["x-gateway-base-model-name", models.llama, "pool-llama"],
      ["x-gateway-base-model-name", models.qwen, "pool-qwen"],
    ]);
    const fallback = b.routes.at(-1) ?? {};
    const direct = obj(fallback.direct_response, "direct_response");
    expect(direct.status).toBe(404);
    const body = JSON.parse(str(obj(direct.body, "body").inline_string, "inline_string"));
    expect(body).toEqual({
      error: {
        message: "The model does not exist or no pool serves it.",
        type: "invalid_request_error",
        code: "model_not_found",
      },
    });
  });

  it("gives every callout cluster HTTP/2, a gRPC health check, raised circuit breakers and large buffers", () => {
    const listenerLimit = Number(b.listener.per_connection_buffer_limit_bytes);
    expect(listenerLimit).toBe(16 * 1024 * 1024);
    for (const [name, cluster] of b.clusters) {
      if (cluster.type === "ORIGINAL_DST") continue;
      expect(callouts, name).toContain(name);
      const options = obj(cluster.typed_extension_protocol_options, `${name} protocol options`);
      const http = typedBody(
        options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"],
        typeUrl.httpProtocolOptions,
        name,
      );
      expect(obj(obj(http.explicit_http_config, "explicit").http2_protocol_options, "h2"), name).toBeDefined();
      const check = obj(arr(cluster.health_checks, "health_checks")[0], "health check");
      const expectedHealth =
        name === "guardrail" && file.includes("ext-authz")
          ? "envoy.service.auth.v3.Authorization"
          : "envoy.service.ext_proc.v3.ExternalProcessor";
      expect(obj(check.grpc_health_check, "grpc_health_check").service_name, name).toBe(expectedHealth);
      const threshold = obj(arr(obj(cluster.circuit_breakers, "cb").thresholds, "thresholds")[0], "threshold");
      expect(Number(threshold.max_requests), name).toBeGreaterThanOrEqual(40_000);
      expect(Number(cluster.per_connection_buffer_limit_bytes), name).toBeGreaterThanOrEqual(listenerLimit);
      const endpoint = obj(
        obj(
          obj(
            arr(obj(arr(obj(cluster.load_assignment, "la").endpoints, "endpoints")[0], "e").lb_endpoints, "lb")[0],
            "lbe",
          ).endpoint,
          "endpoint",
        ).address,
        "address",
      );
      expect(obj(endpoint.socket_address, "socket_address")).toEqual({ address: name, port_value: 8080 });
    }
  });

  it("sizes circuit breakers for one stream per filter per in-flight request", () => {
    const streamsPerRequest = new Map<string, number>();
    for (const p of extProcFilters(b).values()) {
      const cluster = clusterOf(p) ?? "";
      streamsPerRequest.set(cluster, (streamsPerRequest.get(cluster) ?? 0) + 1);
    }
    for (const [cluster, streams] of streamsPerRequest) {
      if (cluster.startsWith("picker-")) continue; // one picker filter, its target chosen per route
      const threshold = obj(arr(obj(b.clusters.get(cluster)?.circuit_breakers, "cb").thresholds, "t")[0], "t0");
      expect(Number(threshold.max_requests), cluster).toBe(40_000 * streams);
    }
  });

  it("routes pools through ORIGINAL_DST clusters keyed on x-gateway-destination-endpoint", () => {
    for (const pool of ["pool-llama", "pool-qwen"]) {
      const cluster = b.clusters.get(pool) ?? {};
      expect(cluster.type).toBe("ORIGINAL_DST");
      expect(cluster.lb_policy).toBe("CLUSTER_PROVIDED");
      expect(cluster.load_assignment).toBeUndefined();
      expect(cluster.original_dst_lb_config).toEqual({
        use_http_header: true,
        http_header_name: "x-gateway-destination-endpoint",
      });
    }
  });
});

describe("envoy.yaml", () => {
  const b = load("deploy/envoy/envoy.yaml");
  const filters = extProcFilters(b);

  it("lists the filters in chain order", () => {
    expect(b.filters.map((f) => f.name)).toEqual([
      "envoy.filters.http.header_mutation/strip-gateway-headers",
      "envoy.filters.http.ext_proc/body-router",
      "envoy.filters.http.ext_proc/guardrail-input",
      "envoy.filters.http.ext_proc/semantic-cache",
      "envoy.filters.http.ext_proc/guardrail-output",
      "envoy.filters.http.ext_proc/endpoint-picker",
      "envoy.filters.http.router",
    ]);
  });

  const expected = [
    {
      name: "body-router",
      modes: ["SEND", "SKIP", "BUFFERED", "NONE", "SKIP", "SKIP"],
      timeoutMs: 1000,
      failureModeAllow: false,
      receiving: ["com.llm-callouts.body-router"],
      forwarding: [],
    },
    {
      name: "guardrail-input",
      modes: ["SEND", "SKIP", "BUFFERED", "NONE", "SKIP", "SKIP"],
      timeoutMs: 2000,
      failureModeAllow: false,
      receiving: ["com.llm-callouts.guardrail"],
      forwarding: [],
    },
    {
      name: "semantic-cache",
      modes: ["SEND", "SEND", "BUFFERED", "NONE", "SKIP", "SKIP"],
      timeoutMs: 1000,
      failureModeAllow: true,
      receiving: [],
      forwarding: ["com.llm-callouts.guardrail"],
    },
    {
      name: "guardrail-output",
      modes: ["SEND", "SEND", "NONE", "STREAMED", "SKIP", "SKIP"],
      timeoutMs: 2000,
      failureModeAllow: false,
      receiving: [],
      forwarding: [],
    },
    {
      name: "endpoint-picker",
      modes: ["SEND", "SEND", "FULL_DUPLEX_STREAMED", "FULL_DUPLEX_STREAMED", "SEND", "SEND"],
      timeoutMs: 1_000_000,
      failureModeAllow: false,
      receiving: ["envoy.lb"],
      forwarding: ["envoy.lb", "envoy.lb.subset_hint"],
    },
  ];

  it.each(expected)("configures $name: modes, message timeout, failure mode, metadata namespaces", (e) => {
    const p = filters.get(e.name);
    if (!p) throw new Error(`no filter ${e.name}`);
    const m = modeNames(p);
    expect([
      m.requestHeaderMode,
      m.responseHeaderMode,
      m.requestBodyMode,
      m.responseBodyMode,
      m.requestTrailerMode,
      m.responseTrailerMode,
    ]).toEqual(e.modes);
    expect(durationMs(p.messageTimeout)).toBe(e.timeoutMs);
    expect(p.failureModeAllow).toBe(e.failureModeAllow);
    expect(p.metadataOptions?.receivingNamespaces?.untyped ?? []).toEqual(e.receiving);
    expect(p.metadataOptions?.forwardingNamespaces?.untyped ?? []).toEqual(e.forwarding);
  });

  it("keeps every fail-closed filter's errors retryable (503) except the picker's protocol errors", () => {
    for (const [name, p] of filters) {
      if (p.failureModeAllow || name === "endpoint-picker") continue;
      expect(p.statusOnError?.code, name).toBe(503);
    }
  });

  it("clears the route cache after the body router", () => {
    const router = filters.get("body-router") ?? fromJson(ExternalProcessorSchema, {});
    expect((toJson(ExternalProcessorSchema, router) as Record<string, unknown>).routeCacheAction).toBe("CLEAR");
  });

  it("lets Envoy apply every override the cache asks for, as the SDK encodes it", () => {
    const cache = filters.get("semantic-cache");
    if (!cache) throw new Error("semantic-cache filter");
    const settings = overrideSettings(cache);
    expect(settings.allowModeOverride).toBe(true);
    expect(settings.allowedOverrideModes).toHaveLength(Object.keys(responseBodyOverrides).length);
    for (const responseBody of Object.values(responseBodyOverrides)) {
      const verdict = envoyVerdict(settings, { responseBody });
      expect(verdict, responseBody).toMatchObject({ applied: true, modes: { responseBodyMode: responseBody } });
    }
  });

  it("sends no override to a filter that would not apply it", () => {
    for (const [name, p] of filters) {
      if (name === "semantic-cache") continue;
      expect(p.allowModeOverride, name).toBe(false);
    }
  });

  it("matches the chain `pnpm start` runs (the local gateway's filters, modes and namespaces)", () => {
    const local = stackGatewayConfig("127.0.0.1", 0, {
      router: 1,
      guardrail: 2,
      cache: 3,
      pickerLlama: 4,
      pickerQwen: 5,
    });
    const envoyDefaults = {
      requestHeaderMode: "SEND",
      responseHeaderMode: "SEND",
      requestBodyMode: "NONE",
      responseBodyMode: "NONE",
      requestTrailerMode: "SKIP",
      responseTrailerMode: "SKIP",
    };
    const localFilters = local.filters ?? [];
    // The local gateway runs one picker filter per pool; Envoy runs one filter whose target is chosen per route.
    const names = localFilters.map((f) => (f.name.startsWith("picker-") ? "endpoint-picker" : f.name));
    expect([...new Set(names)]).toEqual([...filters.keys()]);
    for (const f of localFilters) {
      const name = f.name.startsWith("picker-") ? "endpoint-picker" : f.name;
      const p = filters.get(name);
      if (!p) throw new Error(name);
      expect(modeNames(p), name).toEqual({ ...envoyDefaults, ...f.processingMode });
      expect(p.failureModeAllow, name).toBe(f.failureModeAllow ?? false);
      expect(p.allowModeOverride, name).toBe(f.allowModeOverride ?? false);
      expect(p.metadataOptions?.receivingNamespaces?.untyped ?? [], name).toEqual(f.receivingNamespaces ?? []);
      expect(p.metadataOptions?.forwardingNamespaces?.untyped ?? [], name).toEqual(f.forwardingNamespaces ?? []);
    }
  });
});

describe("envoy-ext-authz.yaml", () => {
  const b = load("deploy/envoy/envoy-ext-authz.yaml");

  it("parses the guardrail's ext_authz block into ExtAuthz: request body included, fail-closed", () => {
    const blocks = b.filters.filter((f) => str(f.name, "name").startsWith("envoy.filters.http.ext_authz"));
    expect(blocks).toHaveLength(1);
    const authz = fromJson(ExtAuthzSchema, typedBody(blocks[0]?.typed_config, typeUrl.extAuthz, "ext_authz"));
    expect(authz.failureModeAllow).toBe(false);
    expect(authz.withRequestBody?.maxRequestBytes).toBe(1_048_576);
    expect(authz.withRequestBody?.allowPartialMessage).toBe(false);
    expect(authz.withRequestBody?.packAsBytes).toBe(true);
    expect(authz.encodeRawHeaders).toBe(true);
    expect(authz.statusOnError?.code).toBe(503);
    const target = authz.services.case === "grpcService" ? authz.services.value.targetSpecifier : undefined;
    expect(target?.case === "envoyGrpc" ? target.value.clusterName : undefined).toBe("guardrail");
  });

  it("runs strip -> body router -> guardrail (ext_authz) -> picker -> router", () => {
    expect(b.filters.map((f) => f.name)).toEqual([
      "envoy.filters.http.header_mutation/strip-gateway-headers",
      "envoy.filters.http.ext_proc/body-router",
      "envoy.filters.http.ext_authz/guardrail",
      "envoy.filters.http.ext_proc/endpoint-picker",
      "envoy.filters.http.router",
    ]);
  });
});

describe("Envoy config validation", () => {
  const b = load("deploy/envoy/envoy.yaml");
  const bodyRouter = typedBody(b.filters[1]?.typed_config, typeUrl.extProc, "body-router");

  // Proves the fromJson checks above catch the mistakes they are there for.
  const typos: { name: string; edit: (c: Record<string, unknown>) => void }[] = [
    { name: "a misspelt field", edit: (c) => Object.assign(c, { procesing_mode: c.processing_mode }) },
    {
      name: "an unknown body mode",
      edit: (c) => Object.assign(c, { processing_mode: { request_body_mode: "BUFERED" } }),
    },
    { name: "a malformed duration", edit: (c) => Object.assign(c, { message_timeout: "1 s" }) },
    {
      name: "a misplaced namespace list",
      edit: (c) => Object.assign(c, { metadata_options: { receiving_namespaces: ["x"] } }),
    },
  ];

  it.each(typos)("rejects $name", ({ edit }) => {
    const copy = structuredClone(bodyRouter) as Record<string, unknown>;
    edit(copy);
    expect(() => fromJson(ExternalProcessorSchema, copy as JsonObject)).toThrow();
  });
});
