import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Gateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { serverConfigSchema } from "@llm-callouts/ext-proc";
import { responseBodyOverrides } from "@llm-callouts/semantic-cache";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseCalloutConfig } from "./callout-config.js";
import {
  arr,
  envoyVerdict,
  gcpOverrideSettings,
  models,
  obj,
  readYaml,
  readYamlDocs,
  repoPath,
  str,
  type YamlDoc,
  yamlFilesUnder,
} from "./deploy-files.js";

// Built-in kinds are validated with kubernetes-models (the official Kubernetes and Gateway API
// OpenAPI schemas compiled to validators: types, required fields, enums, formats). Those schemas
// allow unknown fields, so the fields where a typo would silently change behaviour (containers,
// probes, security contexts) also get an allow-list check. No package ships schemas for the
// InferencePool / InferenceObjective CRDs or GKE's networking.gke.io CRDs: they get structural
// checks of the documented fields below.

const folder = "deploy/kubernetes";
const kustomizations = yamlFilesUnder(folder).filter((f) => f.endsWith("kustomization.yaml"));
const manifestFiles = yamlFilesUnder(folder).filter((f) => !f.endsWith("kustomization.yaml"));
const docs: YamlDoc[] = manifestFiles.flatMap((f) => readYamlDocs(f));
type Manifest = Record<string, unknown> & { kind: string; apiVersion: string; metadata: { name: string } };
const manifests = docs.map((d) => d.value as Manifest);

const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

const validators: Record<string, (m: Manifest) => { validate(): void }> = {
  "v1/Namespace": (m) => new Namespace(m as never),
  "v1/ConfigMap": (m) => new ConfigMap(m as never),
  "v1/Service": (m) => new Service(m as never),
  "v1/ServiceAccount": (m) => new ServiceAccount(m as never),
  "apps/v1/Deployment": (m) => new Deployment(m as never),
  "policy/v1/PodDisruptionBudget": (m) => new PodDisruptionBudget(m as never),
  "rbac.authorization.k8s.io/v1/Role": (m) => new Role(m as never),
  "rbac.authorization.k8s.io/v1/RoleBinding": (m) => new RoleBinding(m as never),
  "gateway.networking.k8s.io/v1/Gateway": (m) => new Gateway(m as never),
  "gateway.networking.k8s.io/v1/HTTPRoute": (m) => new HTTPRoute(m as never),
};
const crdKinds = new Set([
  "inference.networking.k8s.io/v1/InferencePool",
  "llm-d.ai/v1alpha2/InferenceObjective",
  "networking.gke.io/v1/GCPRoutingExtension",
  "networking.gke.io/v1/GCPTrafficExtension",
  "networking.gke.io/v1/HealthCheckPolicy",
]);

/** Fails with the unknown keys of an object, given the documented ones. */
function expectKnownKeys(value: unknown, known: readonly string[], where: string): void {
  const unknown = Object.keys(obj(value, where)).filter((k) => !known.includes(k));
  expect(unknown, `${where}: unknown fields`).toEqual([]);
}

const knownKeys = {
  container: [
    "name",
    "image",
    "command",
    "args",
    "workingDir",
    "ports",
    "envFrom",
    "env",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "volumeMounts",
    "volumeDevices",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
    "securityContext",
    "stdin",
    "stdinOnce",
    "tty",
  ],
  probe: [
    "exec",
    "httpGet",
    "tcpSocket",
    "grpc",
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
    "terminationGracePeriodSeconds",
  ],
  grpcAction: ["port", "service"],
  securityContext: [
    "capabilities",
    "privileged",
    "seLinuxOptions",
    "windowsOptions",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "readOnlyRootFilesystem",
    "allowPrivilegeEscalation",
    "procMount",
    "seccompProfile",
    "appArmorProfile",
  ],
  podSecurityContext: [
    "seLinuxOptions",
    "windowsOptions",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "fsGroup",
    "sysctls",
    "fsGroupChangePolicy",
    "seccompProfile",
    "appArmorProfile",
    "seLinuxChangePolicy",
  ],
} as const;

const extProcHealth = "envoy.service.ext_proc.v3.ExternalProcessor";

interface PodSpec {
  readonly spec: Record<string, unknown>;
  readonly labels: Record<string, string>;
  readonly container: Record<string, unknown>;
}

function podOf(deployment: Manifest): PodSpec {
  const template = obj(obj(deployment.spec, "spec").template, "template");
  const spec = obj(template.spec, "pod spec");
  const containers = arr(spec.containers, "containers");
  expect(containers, deployment.metadata.name).toHaveLength(1);
  return {
    spec,
    labels: obj(obj(template.metadata, "metadata").labels, "labels") as Record<string, string>,
    container: obj(containers[0], "container"),
  };
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The callout Deployments: those running `callouts serve <service>`. */
const callouts = ofKind("Deployment").filter((d) => arr(podOf(d).container.args ?? [], "args")[0] === "serve");

function calloutConfig(deployment: Manifest) {
  const args = arr(podOf(deployment).container.args, "args").map(String);
  const service = args[1] ?? "";
  const configPath = args[args.indexOf("--config") + 1] ?? "";
  const mount = arr(podOf(deployment).container.volumeMounts, "volumeMounts")
    .map((v) => obj(v, "mount"))
    .find((v) => v.mountPath === dirname(configPath));
  const volume = arr(podOf(deployment).spec.volumes, "volumes")
    .map((v) => obj(v, "volume"))
    .find((v) => v.name === mount?.name);
  const configMap = named("ConfigMap", str(obj(volume?.configMap, "configMap volume").name, "configMap name"));
  const text = str(obj(configMap.data, "data")[configPath.split("/").at(-1) ?? ""], "config.yaml");
  const parsed = parseCalloutConfig(service, parseYaml(text));
  return { service, parsed };
}

describe("Kubernetes manifests", () => {
  it("finds the manifests of every service", () => {
    expect(callouts.map((d) => d.metadata.name).sort()).toEqual([
      "body-router",
      "guardrail",
      "picker-llama",
      "picker-qwen",
      "semantic-cache",
    ]);
  });

  it.each(
    docs.map((d) => [`${d.file.slice(folder.length + 1)}#${d.index} ${(d.value as Manifest).kind}`, d.value] as const),
  )("validates %s against its schema", (_label, value) => {
    const m = value as Manifest;
    const group = `${m.apiVersion}/${m.kind}`;
    if (crdKinds.has(group)) return; // structural checks below
    const validator = validators[group];
    expect(validator, `no schema for ${group}`).toBeDefined();
    expect(() => validator?.(m).validate()).not.toThrow();
  });

  it("rejects a manifest the schema forbids (the validators are live)", () => {
    const broken = structuredClone(named("Deployment", "body-router")) as Manifest;
    obj(broken.spec, "spec").replicas = "two";
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas must be integer/);
  });

  it.each(ofKind("Deployment").map((d) => ({ name: d.metadata.name, d })))(
    "$name: documented container fields only, non-root, read-only root, resource requests",
    ({ d }) => {
      const { spec, container } = podOf(d);
      expectKnownKeys(container, knownKeys.container, `${d.metadata.name} container`);
      for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"] as const) {
        if (container[probe] === undefined) continue;
        expectKnownKeys(container[probe], knownKeys.probe, `${d.metadata.name} ${probe}`);
        const grpc = obj(container[probe], probe).grpc;
        if (grpc !== undefined) expectKnownKeys(grpc, knownKeys.grpcAction, `${d.metadata.name} ${probe}.grpc`);
      }
      expectKnownKeys(spec.securityContext, knownKeys.podSecurityContext, `${d.metadata.name} pod securityContext`);
      expectKnownKeys(container.securityContext, knownKeys.securityContext, `${d.metadata.name} securityContext`);
      const pod = obj(spec.securityContext, "pod securityContext");
      expect(pod.runAsNonRoot).toBe(true);
      expect(Number(pod.runAsUser)).toBeGreaterThan(0);
      expect(obj(pod.seccompProfile, "seccompProfile").type).toBe("RuntimeDefault");
      const sc = obj(container.securityContext, "securityContext");
      expect(sc).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      const requests = obj(obj(container.resources, "resources").requests, "requests");
      expect(Object.keys(requests).sort()).toEqual(["cpu", "memory"]);
      expect(obj(obj(container.resources, "resources").limits, "limits").memory).toBeDefined();
    },
  );
});

describe.each(callouts.map((d) => ({ name: d.metadata.name, d })))("callout $name", ({ name, d }) => {
  const { spec, labels, container } = podOf(d);
  const { service, parsed } = calloutConfig(d);

  it("ships a ConfigMap the service's own config schemas accept", () => {
    expect(parsed.issues).toEqual([]);
    expect(container.image).toBe(`llm-callouts/${service}:0.1.0`);
  });

  it("probes the Endpoint Picker Protocol's readiness and liveness gRPC health names", () => {
    const port = parsed.value?.server.port;
    // `liveness` stays SERVING while the process answers (a picker before discovery synced is
    // alive, not ready); `readiness` follows drain and the service's own readiness.
    const want = { readinessProbe: "readiness", livenessProbe: "liveness", startupProbe: "liveness" };
    for (const [probe, service] of Object.entries(want)) {
      expect(obj(obj(container[probe], probe).grpc, "grpc"), probe).toEqual({ port, service });
    }
  });

  it("logs in the format its overlay asks for: json in the base, gcp (Cloud Logging) on GKE", () => {
    const env = arr(container.env, "env").map((e) => obj(e, "env"));
    expect(env[0]).toEqual({ name: "CALLOUTS_LOG_FORMAT", value: "json" });
    expect((d.metadata as { labels?: Record<string, string> }).labels).toMatchObject({
      "app.kubernetes.io/component": "callout",
    });
    const gke = obj(readYaml("deploy/kubernetes/gke/kustomization.yaml"), "gke kustomization");
    const patch = obj(arr(gke.patches, "patches")[0], "patch");
    expect(patch.target).toEqual({ kind: "Deployment", labelSelector: "app.kubernetes.io/component=callout" });
    expect(parseYaml(str(patch.patch, "patch"))).toEqual([
      {
        op: "replace",
        path: "/spec/template/spec/containers/0/env/0",
        value: { name: "CALLOUTS_LOG_FORMAT", value: "gcp" },
      },
    ]);
    // The value the patch sets is one the server config accepts.
    expect(serverConfigSchema.parse({ logFormat: "gcp" }).logFormat).toBe("gcp");
  });

  it("outlasts the drain: grace period > preStop + drainTimeoutMs, liveness slower than a drain", () => {
    const drainMs = parsed.value?.server.drainTimeoutMs ?? 0;
    expect(drainMs).toBe(15_000);
    const preStop = arr(
      obj(obj(obj(container.lifecycle, "lifecycle").preStop, "preStop").exec, "exec").command,
      "command",
    );
    const preStopMs = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(String(preStop[2]))?.[1]);
    expect(preStopMs).toBe(5000);
    expect(Number(spec.terminationGracePeriodSeconds) * 1000).toBeGreaterThan(preStopMs + drainMs);
    const liveness = obj(container.livenessProbe, "liveness");
    expect(Number(liveness.periodSeconds) * Number(liveness.failureThreshold) * 1000).toBeGreaterThan(drainMs);
  });

  it("exposes the gRPC, TLS and admin ports of its config", () => {
    const server = parsed.value?.server;
    const ports = arr(container.ports, "ports").map((p) => obj(p, "port"));
    expect(ports.map((p) => p.containerPort)).toEqual([server?.port, server?.tls?.port, server?.adminPort]);
    expect(server?.tls?.selfSigned).toBe(true);
  });

  it("has a Service (same name, Envoy's cluster address) and a PodDisruptionBudget selecting its pods", () => {
    const svc = named("Service", name);
    const svcSpec = obj(svc.spec, "service spec");
    expect(selects(obj(svcSpec.selector, "selector") as Record<string, string>, labels)).toBe(true);
    const byName = Object.fromEntries(arr(svcSpec.ports, "ports").map((p) => [obj(p, "p").name, obj(p, "p")]));
    expect(byName.grpc).toMatchObject({ port: 8080, targetPort: "grpc" });
    expect(byName["grpc-tls"]).toMatchObject({ port: 443, targetPort: "grpc-tls" });
    const pdb = named("PodDisruptionBudget", name);
    const pdbSpec = obj(pdb.spec, "pdb spec");
    expect(
      selects(obj(obj(pdbSpec.selector, "selector").matchLabels, "matchLabels") as Record<string, string>, labels),
    ).toBe(true);
    expect(pdbSpec.minAvailable).toBe(1);
    expect(Number(obj(d.spec, "spec").replicas)).toBeGreaterThan(1);
  });
});

describe("endpoint picker RBAC and InferencePools", () => {
  const pickers = callouts.filter((d) => calloutConfig(d).service === "endpoint-picker");
  const pools = ofKind("InferencePool");

  it("lets the pickers' ServiceAccount get, list and watch Pods, InferencePools and the llm-d objects, nothing more", () => {
    const role = named("Role", "endpoint-picker");
    const rules = arr(role.rules, "rules").map((r) => obj(r, "rule"));
    const grants = rules.flatMap((r) =>
      arr(r.apiGroups, "apiGroups").flatMap((g) =>
        arr(r.resources, "resources").map((res) => [`${g}/${res}`, r.verbs]),
      ),
    );
    expect(Object.fromEntries(grants)).toEqual({
      "/pods": ["get", "list", "watch"],
      "inference.networking.k8s.io/inferencepools": ["get", "list", "watch"],
      "llm-d.ai/inferenceobjectives": ["get", "list", "watch"],
      "llm-d.ai/inferencemodelrewrites": ["get", "list", "watch"],
      "inference.networking.x-k8s.io/inferenceobjectives": ["get", "list", "watch"],
      "inference.networking.x-k8s.io/inferencemodelrewrites": ["get", "list", "watch"],
    });
    const binding = named("RoleBinding", "endpoint-picker");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "endpoint-picker" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "endpoint-picker", namespace: "llm-callouts" }]);
    named("ServiceAccount", "endpoint-picker");
    for (const d of pickers) {
      expect(podOf(d).spec.serviceAccountName).toBe("endpoint-picker");
      expect(podOf(d).spec.automountServiceAccountToken).toBe(true);
    }
    for (const d of callouts.filter((c) => !pickers.includes(c)))
      expect(podOf(d).spec.automountServiceAccountToken).toBe(false);
  });

  it.each(pools.map((p) => ({ name: p.metadata.name, p })))(
    "InferencePool $name has the v1 fields, selects model-server pods and points at its picker",
    ({ name, p }) => {
      expect(p.apiVersion).toBe("inference.networking.k8s.io/v1");
      expectKnownKeys(p.spec, ["selector", "targetPorts", "appProtocol", "endpointPickerRef"], `${name} spec`);
      const spec = obj(p.spec, "spec");
      expectKnownKeys(spec.selector, ["matchLabels"], `${name} selector`);
      const selector = obj(obj(spec.selector, "selector").matchLabels, "matchLabels") as Record<string, string>;
      const targetPorts = arr(spec.targetPorts, "targetPorts").map((t) => {
        expectKnownKeys(t, ["number"], `${name} targetPorts`);
        return Number(obj(t, "targetPort").number);
      });
      expect(targetPorts.length).toBeGreaterThanOrEqual(1);
      expect(targetPorts.length).toBeLessThanOrEqual(8);
      expect(new Set(targetPorts).size, "target ports are unique").toBe(targetPorts.length);
      if (spec.appProtocol !== undefined) expect(["http", "kubernetes.io/h2c"]).toContain(spec.appProtocol);
      const ref = obj(spec.endpointPickerRef, "endpointPickerRef");
      expectKnownKeys(ref, ["group", "kind", "name", "port", "failureMode"], `${name} endpointPickerRef`);
      expect(["FailOpen", "FailClose"]).toContain(ref.failureMode);
      expect(ref.failureMode).toBe("FailClose");
      expect([ref.group ?? "", ref.kind ?? "Service"]).toEqual(["", "Service"]);
      // CEL rule of the v1 CRD: a Service reference needs its (Service) port.
      expectKnownKeys(ref.port, ["number"], `${name} endpointPickerRef.port`);
      // The selected pods serve on the target port.
      const servers = ofKind("Deployment").filter((d) => selects(selector, podOf(d).labels));
      expect(servers.length, `${name}: pods selected`).toBeGreaterThan(0);
      for (const s of servers) {
        const ports = arr(podOf(s).container.ports, "ports").map((x) => obj(x, "port").containerPort);
        expect(ports).toEqual(expect.arrayContaining(targetPorts));
      }
      // The picker Service exists, has the port, and its picker watches this pool.
      const pickerSvc = named("Service", str(ref.name, "picker name"));
      const svcPorts = arr(obj(pickerSvc.spec, "spec").ports, "ports").map((x) => obj(x, "port").port);
      expect(svcPorts).toContain(obj(ref.port, "port").number);
      const picker = named("Deployment", str(ref.name, "picker name"));
      expect(calloutConfig(picker).parsed.value?.service).toMatchObject({
        endpoints: { kubernetes: { namespace: "llm-callouts", poolName: name } },
        fallbackEndpoints: 0,
      });
    },
  );

  it("runs the simulated model servers with each pool's models on its target port", () => {
    const argsOf = (name: string) => arr(podOf(named("Deployment", name)).container.args, "args").map(String);
    expect(argsOf("model-server-llama")).toEqual(
      expect.arrayContaining([
        "sim",
        "--model",
        models.llama,
        "--lora",
        "sql-lora",
        "--lora",
        "chat-lora",
        "--base-port",
        "8000",
      ]),
    );
    expect(argsOf("model-server-qwen")).toEqual(
      expect.arrayContaining(["sim", "--model", models.qwen, "--base-port", "8000"]),
    );
  });

  it("defines InferenceObjectives on existing pools, mirrored in every picker's objectives", () => {
    const objectives = ofKind("InferenceObjective");
    expect(objectives.map((o) => o.metadata.name)).toEqual(["interactive", "batch"]);
    for (const o of objectives) {
      expect(o.apiVersion).toBe("llm-d.ai/v1alpha2");
      expectKnownKeys(o.spec, ["priority", "poolRef"], `${o.metadata.name} spec`);
      const spec = obj(o.spec, "spec");
      expect(Number.isInteger(spec.priority)).toBe(true);
      const poolRef = obj(spec.poolRef, "poolRef");
      expectKnownKeys(poolRef, ["group", "kind", "name"], "poolRef");
      expect(poolRef).toMatchObject({ group: "inference.networking.k8s.io", kind: "InferencePool" });
      named("InferencePool", str(poolRef.name, "pool"));
      for (const d of pickers) {
        const config = (calloutConfig(d).parsed.value?.service ?? {}) as {
          objectives: Record<string, { priority: number }>;
        };
        expect(config.objectives[o.metadata.name], `${d.metadata.name} objectives`).toEqual({
          priority: spec.priority,
        });
      }
    }
  });
});

describe("GKE resources", () => {
  const events = [
    "RequestHeaders",
    "RequestBody",
    "RequestTrailers",
    "ResponseHeaders",
    "ResponseBody",
    "ResponseTrailers",
  ];
  const extensionKeys = [
    "name",
    "authority",
    "backendRef",
    "googleAPIServiceName",
    "timeout",
    "failOpen",
    "supportedEvents",
    "forwardHeaders",
    "metadata",
    "requestBodySendMode",
    "responseBodySendMode",
  ];
  const durationMs = (d: string) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(d);
    if (!m) throw new Error(`bad duration ${d}`);
    return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  };

  const extensions = [...ofKind("GCPRoutingExtension"), ...ofKind("GCPTrafficExtension")];

  it.each(extensions.map((e) => ({ label: `${e.kind} ${e.metadata.name}`, e })))(
    "$label has the documented fields and valid events, modes, timeouts and backends",
    ({ e }) => {
      expect(e.apiVersion).toBe("networking.gke.io/v1");
      expectKnownKeys(e.spec, ["targetRefs", "extensionChains"], "spec");
      const spec = obj(e.spec, "spec");
      for (const ref of arr(spec.targetRefs, "targetRefs")) {
        expect(ref).toMatchObject({ group: "gateway.networking.k8s.io", kind: "Gateway" });
        named("Gateway", str(obj(ref, "ref").name, "gateway"));
      }
      for (const c of arr(spec.extensionChains, "extensionChains")) {
        const chain = obj(c, "chain");
        expectKnownKeys(chain, ["name", "matchCondition", "extensions"], "chain");
        const cel = arr(obj(chain.matchCondition, "matchCondition").celExpressions, "celExpressions");
        for (const x of cel) expectKnownKeys(x, ["celMatcher", "backendRefs"], "celExpression");
        const list = arr(chain.extensions, "extensions").map((x) => obj(x, "extension"));
        expect(list.length).toBeLessThanOrEqual(e.kind === "GCPRoutingExtension" ? 1 : 3);
        for (const x of list) {
          expectKnownKeys(x, extensionKeys, `extension ${x.name}`);
          expect(str(x.name, "name")).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
          const ms = durationMs(str(x.timeout, "timeout"));
          expect(ms).toBeGreaterThanOrEqual(10);
          expect(ms).toBeLessThanOrEqual(10_000);
          const supported = arr(x.supportedEvents, "supportedEvents").map(String);
          for (const ev of supported) expect(events).toContain(ev);
          if (e.kind === "GCPRoutingExtension") {
            for (const ev of supported) expect(ev.startsWith("Request"), ev).toBe(true);
            expect(x.responseBodySendMode).toBeUndefined();
          }
          for (const [mode, dir] of [
            ["requestBodySendMode", "Request"],
            ["responseBodySendMode", "Response"],
          ] as const) {
            if (x[mode] === undefined) continue;
            expect(["Streamed", "FullDuplexStreamed"]).toContain(x[mode]);
            expect(supported).toContain(`${dir}Body`);
            if (x[mode] === "FullDuplexStreamed") expect(supported).toContain(`${dir}Trailers`);
          }
          const backend = obj(x.backendRef, "backendRef");
          expect(backend).toMatchObject({ group: "", kind: "Service" });
          const svc = named("Service", str(backend.name, "service"));
          const tlsPort = arr(obj(svc.spec, "spec").ports, "ports")
            .map((p) => obj(p, "port"))
            .find((p) => p.port === backend.port);
          expect(tlsPort?.appProtocol, "extensions speak HTTP/2 over TLS").toBe("HTTP2");
        }
      }
    },
  );

  it("puts the body router in a full-duplex routing extension and guardrail -> cache -> guardrail in the traffic chain", () => {
    const route = obj(
      arr(
        obj(arr(obj(ofKind("GCPRoutingExtension")[0]?.spec, "spec").extensionChains, "c")[0], "c").extensions,
        "e",
      )[0],
      "x",
    );
    expect(route).toMatchObject({
      backendRef: { name: "body-router" },
      supportedEvents: ["RequestHeaders", "RequestBody", "RequestTrailers"],
      requestBodySendMode: "FullDuplexStreamed",
      timeout: "1s",
      failOpen: false,
    });
    const traffic = arr(
      obj(arr(obj(ofKind("GCPTrafficExtension")[0]?.spec, "spec").extensionChains, "c")[0], "c").extensions,
      "e",
    ).map((x) => obj(x, "x"));
    expect(traffic.map((x) => [x.name, obj(x.backendRef, "b").name, x.failOpen])).toEqual([
      ["guardrail-input", "guardrail", false],
      ["semantic-cache", "semantic-cache", true],
      ["guardrail-output", "guardrail", false],
    ]);
    // Full-duplex requests: Envoy ignores the cache's overrides, and the SDK does not send them.
    const cache = traffic.find((x) => x.name === "semantic-cache");
    if (!cache) throw new Error("semantic-cache extension");
    for (const responseBody of Object.values(responseBodyOverrides)) {
      expect(envoyVerdict(gcpOverrideSettings(cache), { responseBody })).toMatchObject({
        reason: "full_duplex_filter",
      });
    }
  });

  it("health-checks every extension backend over gRPC on the ext_proc service name", () => {
    const policies = ofKind("HealthCheckPolicy");
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(callouts.map((d) => d.metadata.name).sort());
    for (const p of policies) {
      const spec = obj(p.spec, "spec");
      expectKnownKeys(spec, ["default", "targetRef"], "spec");
      const config = obj(obj(spec.default, "default").config, "config");
      expect(config.type).toBe("GRPC");
      expect(config.grpcHealthCheck).toEqual({
        grpcServiceName: extProcHealth,
        portSpecification: "USE_FIXED_PORT",
        port: 8080,
      });
      expect(spec.targetRef).toEqual({ group: "", kind: "Service", name: p.metadata.name });
    }
  });

  it("routes HTTPRoute rules on the base-model header to the InferencePools", () => {
    const rules = ofKind("HTTPRoute").flatMap((r) =>
      arr(obj(r.spec, "spec").rules, "rules").map((x) => obj(x, "rule")),
    );
    const table = rules.map((rule) => {
      const header = obj(arr(obj(arr(rule.matches, "matches")[0], "m").headers, "headers")[0], "h");
      const backend = obj(arr(rule.backendRefs, "backendRefs")[0], "b");
      named("InferencePool", str(backend.name, "pool"));
      return [header.name, header.value, backend.kind, backend.name];
    });
    expect(table).toEqual([
      ["x-gateway-base-model-name", models.llama, "InferencePool", "llama"],
      ["x-gateway-base-model-name", models.qwen, "InferencePool", "qwen"],
    ]);
  });
});

describe.each(kustomizations)("%s", (file) => {
  const k = obj(readYaml(file), file);
  const dir = dirname(file);

  it("lists resources that exist, covering every manifest of its folder", () => {
    const resources = arr(k.resources, "resources").map(String);
    for (const r of resources) expect(existsSync(repoPath(join(dir, r))), r).toBe(true);
    const local = manifestFiles.filter((f) => dirname(f) === dir).map((f) => f.slice(dir.length + 1));
    expect(resources.filter((r) => r.endsWith(".yaml")).sort()).toEqual(local.sort());
    expect(k.namespace).toBe("llm-callouts");
    for (const g of arr(k.configMapGenerator ?? [], "configMapGenerator")) {
      for (const f of arr(obj(g, "generator").files, "files")) {
        expect(existsSync(repoPath(join(dir, String(f).split("=").at(-1) ?? ""))), String(f)).toBe(true);
      }
    }
  });

  it("pins every llm-callouts image it deploys", () => {
    if (k.images === undefined) return;
    const pinned = arr(k.images, "images").map((i) => obj(i, "image").name);
    const used = new Set(
      ofKind("Deployment")
        .map((d) => String(podOf(d).container.image).split(":")[0])
        .filter((i) => i?.startsWith("llm-callouts/")),
    );
    expect([...used].sort()).toEqual([...pinned].sort());
  });
});
