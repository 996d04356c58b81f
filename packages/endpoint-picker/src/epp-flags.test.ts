import { describe, expect, it } from "vitest";
import { EppFlagError, parseEppFlags, parseEqualitySelector, parseGoFlags } from "./epp-flags.js";

const sections = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const { overrides, notes } = parseEppFlags(argv, env);
  return { server: overrides.sections?.server ?? {}, service: overrides.sections?.service ?? {}, notes };
};

describe("parseGoFlags() (pflag semantics)", () => {
  it("takes --name value, --name=value, bare booleans, -v shorthands and single-dash names", () => {
    const f = parseGoFlags([
      "--pool-name",
      "p",
      "--grpc-port=1",
      "--secure-serving=false",
      "--tracing",
      "-v4",
      "-pool-namespace",
      "ns",
    ]);
    expect(Object.fromEntries(f)).toEqual({
      "pool-name": "p",
      "grpc-port": 1,
      "secure-serving": false,
      tracing: true,
      v: 4,
      "pool-namespace": "ns",
    });
    expect(parseGoFlags(["-v", "3"]).get("v")).toBe(3);
    expect(parseGoFlags(["--v=5"]).get("v")).toBe(5);
  });

  it("appends repeated list flags and takes the last of others", () => {
    const f = parseGoFlags(["--endpoint-target-ports=8000,8001", "--endpoint-target-ports", "8002", "--v=1", "--v=3"]);
    expect(f.get("endpoint-target-ports")).toEqual([8000, 8001, 8002]);
    expect(f.get("v")).toBe(3);
  });

  it("refuses unknown flags, stray arguments, missing and malformed values by name", () => {
    expect(() => parseGoFlags(["--pool-nmae", "x"])).toThrow("unknown flag: --pool-nmae");
    expect(() => parseGoFlags(["serve"])).toThrow('unexpected argument "serve"');
    expect(() => parseGoFlags(["--grpc-port"])).toThrow("flag needs an argument: --grpc-port");
    expect(() => parseGoFlags(["--grpc-port=x"])).toThrow('invalid argument "x" for --grpc-port');
    expect(() => parseGoFlags(["--tracing=maybe"])).toThrow("not a boolean");
    expect(() => parseGoFlags(["--drain-timeout=30"])).toThrow("not a Go duration");
    // A boolean takes no separate value: "false" is then a stray argument, as in pflag.
    expect(() => parseGoFlags(["--secure-serving", "false"])).toThrow('unexpected argument "false"');
    expect(() => parseGoFlags(["--", "x"])).toThrow(EppFlagError);
  });
});

describe("parseEppFlags()", () => {
  it("gives upstream's defaults: TLS on 9002, health 9003, metrics 9090 behind token auth", () => {
    const { server, service } = sections(["--pool-name", "llama", "--pool-namespace", "ml"]);
    expect(server).toMatchObject({
      host: "0.0.0.0",
      port: null,
      tls: { port: 9002, selfSigned: true },
      healthPort: 9003,
      adminPort: 9090,
      drainTimeoutMs: 30_000,
      tracing: true,
      logLevel: "info",
    });
    expect(service).toMatchObject({
      endpoints: { kubernetes: { namespace: "ml", poolName: "llama", group: "inference.networking.k8s.io" } },
      metricsAuth: "kubernetes",
      metrics: { scrapeIntervalMs: 50 },
    });
  });

  it("takes the namespace from NAMESPACE, then 'default'", () => {
    expect(sections(["--pool-name=p"], { NAMESPACE: "from-env" }).service).toMatchObject({
      endpoints: { kubernetes: { namespace: "from-env" } },
    });
    expect(sections(["--pool-name=p"]).service).toMatchObject({ endpoints: { kubernetes: { namespace: "default" } } });
  });

  it("maps serving, TLS, logging and metrics flags", () => {
    const { server, service } = sections([
      "--pool-name=p",
      "--grpc-port=9102",
      "--cert-path=/certs",
      "--enable-cert-reload",
      "--tls-min-version=VersionTLS13",
      "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256",
      "--metrics-endpoint-auth=false",
      "--zap-log-level=debug",
      "--drain-timeout=5s",
      "--refresh-metrics-interval=100ms",
      "--metrics-staleness-threshold=1s",
      "--model-server-metrics-port=9400",
      "--model-server-metrics-path=/stats",
      "--config-file=/config/default-plugins.yaml",
      "--disable-endpoint-subset-filter",
      "--emit-endpoint-scores",
      "--grpc-max-recv-msg-size=10MiB",
      "--tracing=false",
    ]);
    expect(server).toMatchObject({
      port: null,
      tls: {
        port: 9102,
        certFile: "/certs/tls.crt",
        keyFile: "/certs/tls.key",
        reloadCerts: true,
        minVersion: "TLSv1.3",
        ciphers: "ECDHE-RSA-AES128-GCM-SHA256",
      },
      logLevel: "debug",
      drainTimeoutMs: 5000,
      maxReceiveMessageBytes: 10 * 1024 * 1024,
      tracing: false,
    });
    expect(service).toMatchObject({
      metricsAuth: "none",
      metrics: { scrapeIntervalMs: 100, stalenessMs: 1000, port: 9400, path: "/stats" },
      scheduler: { configFile: "/config/default-plugins.yaml" },
      subsetFilter: false,
      emitEndpointScores: true,
    });
  });

  it("serves plaintext with --secure-serving=false, and maps -v to log levels", () => {
    const { server, notes } = sections(["--pool-name=p", "--secure-serving=false", "--cert-path=/x", "-v=5"]);
    expect(server).toMatchObject({ port: 9002, logLevel: "trace" });
    expect(server.tls).toBeUndefined();
    expect(notes).toContain("cert-path: no effect with --secure-serving=false");
    expect(sections(["--pool-name=p", "--v", "1"]).server.logLevel).toBe("info");
  });

  it("builds a selector source from --endpoint-selector and --endpoint-target-ports", () => {
    const { service } = sections([
      "--endpoint-selector",
      "app=vllm,tier==gpu",
      "--endpoint-target-ports=8000,8000,8001",
    ]);
    expect(service).toMatchObject({
      endpoints: { kubernetes: { selector: { app: "vllm", tier: "gpu" }, targetPorts: [8000, 8001] } },
    });
    expect(() => parseEqualitySelector("app in (a,b)")).toThrow("only equality terms");
  });

  it("sets the default engine's metric names from GIE v1.x's --*-metric flags (Triton chart values)", () => {
    const { service, notes } = sections([
      "--pool-name=p",
      "--total-queued-requests-metric",
      "nv_trt_llm_request_metrics{request_type=waiting}",
      "--kv-cache-usage-percentage-metric",
      "nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=fraction}",
      "--lora-info-metric",
      "",
    ]);
    expect(service).toMatchObject({
      metrics: {
        specs: {
          waiting: "nv_trt_llm_request_metrics{request_type=waiting}",
          kvCacheUsage: "nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=fraction}",
          lora: "",
        },
      },
    });
    expect(notes.some((n) => n.includes("deprecated upstream"))).toBe(true);
  });

  it("refuses what upstream refuses, and what this picker cannot do, by flag", () => {
    const fails = (argv: string[]) => () => parseEppFlags(argv, {});
    expect(fails([])).toThrow("either pool-name or endpoint-selector must be set");
    expect(fails(["--pool-name=p", "--endpoint-selector=a=b"])).toThrow("either pool-name or endpoint-selector");
    expect(fails(["--endpoint-selector=a=b"])).toThrow('"endpoint-target-ports" should have length from 1 to 8');
    expect(fails(["--pool-name=p", "--config-file=a", "--config-text=b"])).toThrow("cannot be set at the same time");
    expect(fails(["--pool-name=p", "--pool-group=example.com"])).toThrow("--pool-group");
    expect(fails(["--pool-name=p", "--tls-min-version=TLS9"])).toThrow("invalid tls-min-version");
    expect(fails(["--pool-name=p", "--tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA"])).toThrow(
      "unsupported cipher suite",
    );
    expect(fails(["--pool-name=p", "--metrics-client-ca-file=/ca"])).toThrow('requires "metrics-cert-dir"');
    expect(fails(["--pool-name=p", "--metrics-cert-dir=/d"])).toThrow("TLS on the metrics port is not supported");
    expect(fails(["--pool-name=p", "--zap-encoder=xml"])).toThrow("--zap-encoder");
    expect(fails(["--pool-name=p", "--zap-log-level=loud"])).toThrow("--zap-log-level");
    expect(fails(["--pool-name=p", "--grpc-max-send-msg-size=1k"])).toThrow("below 4KiB");
    expect(fails(["--pool-name=p", "--total-queued-requests-metric="])).toThrow("cannot be empty");
  });

  it("clamps a scrape interval under 50 ms and notes what it accepts without effect", () => {
    const { service, notes } = sections([
      "--pool-name=p",
      "--refresh-metrics-interval=10ms",
      "--ha-enable-leader-election",
      "--enable-pprof=true",
      "--health-checking",
    ]);
    expect(service).toMatchObject({ metrics: { scrapeIntervalMs: 50 } });
    expect(notes.join("\n")).toMatch(/clamped to 50ms[\s\S]*active-active[\s\S]*always served[\s\S]*pprof/);
  });
});
