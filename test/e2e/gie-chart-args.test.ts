/**
 * The picker started exactly as GIE's and llm-d-router's Helm charts start their EPP container:
 * the argument list their templates render (GIE v1.3 `inferencepool` epp-deployment.yaml with
 * default values; llm-d-router's routerlib _deployment.yaml with `router.modelServers.type:
 * sglang` and Prometheus auth off), the fixed ports 9002 / 9003 / 9090, NAMESPACE and POD_NAME
 * from the downward API, and a Kubernetes API (a fake API server behind a kubeconfig) holding
 * the InferencePool, its pods, an InferenceObjective and an InferenceModelRewrite. It checks a
 * pick over TLS on 9002, grpc.health.v1 on 9003 under the names the charts probe, and the GIE
 * metrics on 9090, behind token auth when the chart asks for it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEnvoyClient, type EnvoyClient, type FilterConfig } from "@llm-callouts/envoy-emulator";
import { checkHealth } from "@llm-callouts/ext-proc/testing";
import { afterEach, describe, expect, it } from "vitest";
import { readyPod, startFakeKubeApi } from "../../packages/endpoint-picker/src/discovery/fake-kube-api.testdata.js";
import { vllmMetricsPage } from "../../packages/endpoint-picker/src/metrics/vllm-page.testdata.js";
import { eppConfigShapes } from "../../packages/endpoint-picker/src/upstream/epp-configs.testdata.js";

const cli = join(import.meta.dirname, "../../packages/cli/dist/main.js");
const namespace = "ml";
const pool = "vllm-llama3-8b-instruct";
const model = "meta-llama/Llama-3.1-8B-Instruct";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Model-server pods: one HTTP server per loopback address (127.0.0.2, .3, .4), all on one port, as pods share a target port. */
async function startPods(loads: { waiting: number; running: number; kv: number }[]) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const servers: Server[] = [];
    try {
      let port = 0;
      for (let i = 0; i < loads.length; i++) {
        const load = loads[i] as (typeof loads)[number];
        const server = createServer((req, res) => {
          if (req.url?.startsWith("/v1/models"))
            return res.end(JSON.stringify({ object: "list", data: [{ id: model }] }));
          res.end(vllmMetricsPage(load));
        });
        server.listen(port, `127.0.0.${i + 2}`);
        await once(server, "listening");
        port = (server.address() as { port: number }).port;
        servers.push(server);
      }
      cleanups.push(() => {
        for (const s of servers) {
          s.closeAllConnections();
          s.close();
        }
      });
      return { port, ips: loads.map((_, i) => `127.0.0.${i + 2}`) };
    } catch {
      for (const s of servers) s.close(); // that port was taken on another address: try another
    }
  }
  throw new Error("no common free port for the pods");
}

/** The fake cluster: pool, pods, objective, rewrite, and a kubeconfig pointing at it. */
async function startCluster(ips: string[], port: number, podLabels: Record<string, string>) {
  const api = await startFakeKubeApi();
  cleanups.push(() => api.close());
  api.put(`/apis/inference.networking.k8s.io/v1/namespaces/${namespace}/inferencepools`, {
    metadata: { name: pool, namespace },
    spec: { selector: { matchLabels: { app: pool } }, targetPorts: [{ number: port }] },
  });
  ips.forEach((ip, i) => {
    api.put(`/api/v1/namespaces/${namespace}/pods`, readyPod(`vllm-${i}`, ip, { app: pool, ...podLabels }));
  });
  const poolRef = { group: "inference.networking.k8s.io", kind: "InferencePool", name: pool };
  api.put(`/apis/llm-d.ai/v1alpha2/namespaces/${namespace}/inferenceobjectives`, {
    metadata: { name: "critical" },
    spec: { priority: 5, poolRef },
  });
  api.put(`/apis/llm-d.ai/v1alpha2/namespaces/${namespace}/inferencemodelrewrites`, {
    metadata: { name: "food-review-alias", creationTimestamp: "2026-11-01T00:00:00Z" },
    spec: {
      poolRef,
      rules: [{ matches: [{ model: { type: "Exact", value: "food-review" } }], targets: [{ modelRewrite: model }] }],
    },
  });
  api.tokens.set("epp-token", { username: "system:serviceaccount:ml:epp" });
  api.tokens.set("prometheus-token", { username: "system:serviceaccount:monitoring:prometheus" });
  api.tokens.set("someone-token", { username: "system:serviceaccount:ml:someone" });
  api.allowedMetricsUsers.add("system:serviceaccount:monitoring:prometheus");
  const dir = mkdtempSync(join(tmpdir(), "epp-chart-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "${api.url}" } }]
users: [{ name: epp, user: { token: epp-token } }]
contexts: [{ name: fake, context: { cluster: fake, user: epp } }]
current-context: fake
`,
  );
  return { api, dir, kubeconfig };
}

/** The arguments both charts render first: the pool, JSON logs, the config file. */
const poolArgs = (configFile: string) => [
  "--pool-name",
  pool,
  "--pool-namespace",
  namespace,
  "--pool-group",
  "inference.networking.k8s.io",
  "--zap-encoder",
  "json",
  "--config-file",
  configFile,
];

/** Starts `callouts epp <args>` as the chart's container would (the image runs `epp` for flag arguments). */
async function startEpp(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [cli, "epp", ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const exited = once(child, "exit");
  cleanups.push(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
  });
  // Ready once the pool is synced and has endpoints (the readiness probe the chart configures).
  await expect
    .poll(
      async () => {
        if (child.exitCode !== null) throw new Error(`epp exited ${child.exitCode}: ${output}`);
        return checkHealth("http://127.0.0.1:9003", "inference-extension");
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBe("SERVING");
  return { child, output: () => output };
}

const filter: FilterConfig = {
  processingMode: { requestBodyMode: "FULL_DUPLEX_STREAMED", requestTrailerMode: "SEND" },
  messageTimeoutMs: 5_000,
};
const chat = (modelName: string, headers: Record<string, string> = {}) => ({
  request: {
    headers: { ":method": "POST", ":path": "/v1/chat/completions", ":authority": "gw", ...headers },
    body: [JSON.stringify({ model: modelName, messages: [{ role: "user", content: "Summarise this review." }] })],
  },
});
const destination = (r: Awaited<ReturnType<EnvoyClient["exchange"]>>) =>
  r.upstream?.headers.find(([n]) => n === "x-gateway-destination-endpoint")?.[1];
const upstreamModel = (r: Awaited<ReturnType<EnvoyClient["exchange"]>>) =>
  (JSON.parse(Buffer.from(r.upstream?.body ?? new Uint8Array()).toString("utf8")) as { model: string }).model;

async function metricsText(authorization?: string) {
  const res = await fetch("http://127.0.0.1:9090/metrics", authorization ? { headers: { authorization } } : {});
  return { status: res.status, text: await res.text() };
}

describe("the picker under GIE's and llm-d-router's chart arguments", () => {
  it("GIE v1.3 inferencepool chart (default values): TLS pick, health, token-guarded GIE metrics, CRDs", async () => {
    // The least loaded pod is the third.
    const pods = await startPods([
      { waiting: 30, running: 40, kv: 0.95 },
      { waiting: 12, running: 20, kv: 0.6 },
      { waiting: 0, running: 2, kv: 0.05 },
    ]);
    const cluster = await startCluster(pods.ips, pods.port, {});
    const configFile = join(cluster.dir, "default-plugins.yaml");
    writeFileSync(configFile, eppConfigShapes["gie-chart-default"] as string);
    // epp-deployment.yaml, replicas 1, modelServerType vllm, tracing off, monitoring auth on.
    const args = [...poolArgs(configFile), "--v", "1", "--tracing=false"];
    await startEpp(args, { KUBECONFIG: cluster.kubeconfig, NAMESPACE: namespace, POD_NAME: "epp-0" });

    for (const name of ["inference-extension", "liveness", "readiness", "envoy.service.ext_proc.v3.ExternalProcessor"])
      expect(await checkHealth("http://127.0.0.1:9003", name)).toBe("SERVING");

    // ext_proc over TLS on 9002 (secure-serving defaults to true: a self-signed certificate).
    const envoy = createEnvoyClient("127.0.0.1:9002", { tls: true });
    cleanups.push(() => envoy.close());
    await expect
      .poll(async () => destination(await envoy.exchange(filter, chat(model))), { timeout: 5000 })
      .toBe(`${pods.ips[2]}:${pods.port}`);
    // Plaintext on 9002 is refused: the chart's Envoy / GKE speak TLS to the EPP.
    const plain = createEnvoyClient("127.0.0.1:9002");
    cleanups.push(() => plain.close());
    const refused = await plain.exchange({ ...filter, failureModeAllow: false }, chat(model));
    expect(refused.upstream).toBeUndefined();
    expect(refused.downstream.status).toBe(500);

    // InferenceObjective priority and InferenceModelRewrite from the cluster.
    const rewritten = await envoy.exchange(
      filter,
      chat("food-review", { "x-gateway-inference-objective": "critical" }),
    );
    expect(upstreamModel(rewritten)).toBe(model);

    // GIE's metrics on 9090, behind TokenReview + SubjectAccessReview.
    expect((await metricsText()).status).toBe(401);
    expect((await metricsText("Bearer someone-token")).status).toBe(403);
    const { status, text } = await metricsText("Bearer prometheus-token");
    expect(status).toBe(200);
    expect(text).toContain(
      `inference_objective_request_total{model_name="food-review",target_model_name="${model}",priority="5"} 1`,
    );
    expect(text).toContain(
      `inference_extension_model_rewrite_decisions_total{model_rewrite_name="food-review-alias",model_name="food-review",target_model="${model}"} 1`,
    );
    expect(text).toContain(`inference_pool_ready_pods{name="${pool}"} 3`);
    expect(text).toMatch(/inference_extension_scheduler_e2e_duration_seconds_count \d+/);
    // The picker's reviews carried its own service-account token.
    expect(cluster.api.requests.filter((r) => r.method === "POST").every((r) => r.token === "epp-token")).toBe(true);
  });

  it("llm-d-router routerlib chart (sglang default engine, Prometheus auth off)", async () => {
    const pods = await startPods([
      { waiting: 0, running: 1, kv: 0.02 },
      { waiting: 25, running: 30, kv: 0.9 },
    ]);
    // The pods say they run vLLM; the chart's defaultEngine (sglang) only applies to unlabelled pods.
    const cluster = await startCluster(pods.ips, pods.port, { "llm-d.ai/engine-type": "vllm" });
    const configFile = join(cluster.dir, "default-plugins.yaml");
    writeFileSync(configFile, eppConfigShapes["llmd-chart-default-sglang"] as string);
    const args = [
      ...poolArgs(configFile),
      "--grpc-health-port",
      "9003",
      "--v=2",
      "--tracing=false",
      "--metrics-endpoint-auth=false",
    ];
    await startEpp(args, { KUBECONFIG: cluster.kubeconfig, NAMESPACE: namespace, POD_NAME: "epp-0" });
    const envoy = createEnvoyClient("127.0.0.1:9002", { tls: true });
    cleanups.push(() => envoy.close());
    await expect
      .poll(async () => destination(await envoy.exchange(filter, chat(model))), { timeout: 5000 })
      .toBe(`${pods.ips[0]}:${pods.port}`);
    const { status, text } = await metricsText();
    expect(status).toBe(200);
    expect(text).toContain(`inference_pool_ready_pods{name="${pool}"} 2`);
    // Fresh metrics from both pods: the vLLM spec was used, not the sglang default.
    expect(text).toMatch(/inference_pool_average_queue_size\{name="vllm-llama3-8b-instruct"\} 12\.5/);
  });

  // The real upstream deploy configs, when a directory of them is given (they are not vendored).
  const upstreamDir = process.env.UPSTREAM_EPP_CONFIGS;
  const deployConfigs = [
    "helm-default.yaml",
    "gie-default.yaml",
    "llmd-epp-config.yaml",
    "llmd-epp-estimate-prefix-cache-config.yaml",
    "llmd-sim-epp-config.yaml",
  ];
  it.skipIf(!upstreamDir).each(deployConfigs)(
    "starts from GIE's chart arguments with upstream's %s and picks",
    async (file) => {
      const pods = await startPods([
        { waiting: 30, running: 40, kv: 0.95 },
        { waiting: 0, running: 1, kv: 0.02 },
      ]);
      const cluster = await startCluster(pods.ips, pods.port, {});
      const args = [...poolArgs(join(upstreamDir as string, file)), "--v", "1", "--tracing=false"];
      await startEpp(args, { KUBECONFIG: cluster.kubeconfig, NAMESPACE: namespace, POD_NAME: "epp-0" });
      const envoy = createEnvoyClient("127.0.0.1:9002", { tls: true });
      cleanups.push(() => envoy.close());
      // Every one of these configs scores load: the idle pod wins once its metrics are in.
      await expect
        .poll(async () => destination(await envoy.exchange(filter, chat(model))), { timeout: 5000 })
        .toBe(`${pods.ips[1]}:${pods.port}`);
    },
  );

  it("stops with a clear one-line error on a flag it does not know, or a missing pool", async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, "epp", ...args], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr?.on("data", (c: Buffer) => {
          stderr += c.toString();
        });
        child.on("exit", (code) => resolve({ code, stderr }));
      });
    expect(await run(["--pool-name", "p", "--no-such-flag"])).toEqual({
      code: 2,
      stderr: "callouts epp: unknown flag: --no-such-flag (see callouts epp --help)\n",
    });
    expect(await run(["--v=2"])).toEqual({
      code: 2,
      stderr: "callouts epp: either pool-name or endpoint-selector must be set (see callouts epp --help)\n",
    });
  });
});
