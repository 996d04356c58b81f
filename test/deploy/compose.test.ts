import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseCalloutConfig } from "./callout-config.js";
import { arr, callouts, models, obj, readText, readYaml, str } from "./deploy-files.js";

// No Docker engine exists where these tests run: compose.yaml and the Dockerfile are checked for
// consistency (names, ports, addresses, configs) with the Envoy bootstrap they run, not executed.

const compose = obj(parseYaml(readText("deploy/compose.yaml"), { merge: true, uniqueKeys: true }), "compose");
const services = obj(compose.services, "services");
const service = (name: string) => obj(services[name], `service ${name}`);
const envoy = obj(readYaml("deploy/envoy/envoy.yaml"), "envoy");
const clusters = arr(obj(envoy.static_resources, "static_resources").clusters, "clusters").map((c) =>
  obj(c, "cluster"),
);

function socketOf(cluster: Record<string, unknown>) {
  const lb = obj(
    arr(obj(arr(obj(cluster.load_assignment, "la").endpoints, "e")[0], "e0").lb_endpoints, "lb")[0],
    "lb0",
  );
  return obj(obj(obj(lb.endpoint, "endpoint").address, "address").socket_address, "socket_address");
}

/** The config file a compose callout service mounts, parsed by the service's own schemas. */
function configOf(name: string) {
  const s = service(name);
  const env = obj(s.environment, "environment");
  const path = str(env.CALLOUTS_CONFIG, "CALLOUTS_CONFIG");
  const mount = arr(s.volumes, "volumes")
    .map(String)
    .find((v) => v.split(":")[1] === path);
  if (!mount) throw new Error(`${name}: nothing mounted at ${path}`);
  const file = `deploy/${mount.split(":")[0]?.replace(/^\.\//, "")}`;
  const kind = str(obj(obj(s.build, "build").args, "args").SERVICE, "SERVICE");
  return { kind, parsed: parseCalloutConfig(kind, readYaml(file)) };
}

const simAddress = (name: string) =>
  str(obj(obj(service(name).networks, "networks").callouts, "callouts").ipv4_address, "ip");
const simArg = (name: string, flag: string) => {
  const command = arr(service(name).command, "command").map(String);
  return command.flatMap((v, i) => (command[i - 1] === flag ? [v] : []));
};

describe("deploy/compose.yaml", () => {
  it("runs Envoy, the callouts, Redis and the simulators", () => {
    expect(Object.keys(services).sort()).toEqual(
      ["envoy", ...callouts, "redis", "sim-llama-1", "sim-llama-2", "sim-qwen-1", "sim-qwen-2"].sort(),
    );
    expect(service("redis").image).toBe("redis:8");
  });

  it("mounts deploy/envoy/envoy.yaml into Envoy >= 1.37 and publishes its listener port", () => {
    const e = service("envoy");
    expect(str(e.image, "image")).toMatch(/^envoyproxy\/envoy:v1\.(3[7-9]|[4-9]\d)/);
    expect(e.volumes).toEqual(["./envoy/envoy.yaml:/etc/envoy/envoy.yaml:ro"]);
    expect(e.command).toEqual(["envoy", "-c", "/etc/envoy/envoy.yaml"]);
    const listener = obj(arr(obj(envoy.static_resources, "sr").listeners, "listeners")[0], "listener");
    const port = obj(obj(listener.address, "address").socket_address, "socket").port_value;
    expect(e.ports).toEqual([`${port}:${port}`]);
    expect(Object.keys(obj(e.depends_on, "depends_on")).sort()).toEqual([...callouts].sort());
  });

  it.each(clusters.filter((c) => c.type !== "ORIGINAL_DST").map((c) => ({ name: str(c.name, "name"), c })))(
    "serves Envoy's $name cluster: same service name, the port its config listens on",
    ({ name, c }) => {
      const socket = socketOf(c);
      expect(socket.address).toBe(name);
      const { parsed } = configOf(name);
      expect(parsed.issues).toEqual([]);
      expect(parsed.value?.server.port).toBe(socket.port_value);
    },
  );

  it.each([...callouts])("runs %s from the repository Dockerfile as non-root with a read-only root", (name) => {
    const s = service(name);
    expect(obj(s.build, "build")).toMatchObject({ context: "..", dockerfile: "Dockerfile" });
    expect(s.read_only).toBe(true);
    expect(str(s.user, "user")).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const { kind, parsed } = configOf(name);
    expect(["body-router", "guardrail", "semantic-cache", "endpoint-picker"]).toContain(kind);
    const test = arr(obj(s.healthcheck, "healthcheck").test, "test").map(String).join(" ");
    expect(test).toContain(`http://127.0.0.1:${parsed.value?.server.adminPort}/healthz`);
    // SIGTERM drains for drainTimeoutMs before exiting: the stop grace must exceed it.
    const graceS = Number(/^(\d+)s$/.exec(str(s.stop_grace_period, "stop_grace_period"))?.[1]);
    expect(graceS * 1000).toBeGreaterThan(parsed.value?.server.drainTimeoutMs ?? Number.POSITIVE_INFINITY);
  });

  it("points the semantic cache at the Redis service", () => {
    expect(obj(service("semantic-cache").environment, "env").REDIS_URL).toBe("redis://redis:6379");
  });

  it.each([
    { picker: "picker-llama", sims: ["sim-llama-1", "sim-llama-2"], model: models.llama },
    { picker: "picker-qwen", sims: ["sim-qwen-1", "sim-qwen-2"], model: models.qwen },
  ])(
    "gives $picker the fixed IPs of its pool's simulators (ORIGINAL_DST needs addresses)",
    ({ picker, sims, model }) => {
      const { parsed } = configOf(picker);
      expect(parsed.issues).toEqual([]);
      const config = parsed.value?.service as {
        endpoints: { static: { address: string; port: number }[] };
        fallbackEndpoints: number;
      };
      expect(config.fallbackEndpoints).toBe(0);
      expect(config.endpoints.static.map((e) => `${e.address}:${e.port}`)).toEqual(
        sims.map((s) => `${simAddress(s)}:${simArg(s, "--base-port")[0]}`),
      );
      const subnet = str(
        obj(arr(obj(obj(obj(compose.networks, "networks").callouts, "c").ipam, "ipam").config, "config")[0], "c0")
          .subnet,
        "subnet",
      );
      for (const s of sims) {
        expect(simAddress(s).startsWith(subnet.replace(/0\/24$/, ""))).toBe(true);
        expect(simArg(s, "--model")).toEqual([model]);
        expect(simArg(s, "--host")).toEqual(["0.0.0.0"]);
      }
    },
  );

  it("loads the LoRA adapters the body router maps to the llama base model", () => {
    const { parsed } = configOf("body-router");
    const baseModels = ((parsed.value?.service ?? {}) as { baseModels: { baseModel: string; adapters: string[] }[] })
      .baseModels;
    const llama = baseModels.find((b) => b.baseModel === models.llama);
    const loaded = new Set([...simArg("sim-llama-1", "--lora"), ...simArg("sim-llama-2", "--lora")]);
    expect([...loaded].sort()).toEqual([...(llama?.adapters ?? [])].sort());
  });
});

describe("Dockerfile", () => {
  const text = readText("Dockerfile");
  const lines = text.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  const stages = lines.map((l, i) => [l, i] as const).filter(([l]) => /^FROM\s/.test(l));

  it("builds in one stage and runs in another", () => {
    expect(stages.length).toBe(2);
    expect(stages[0]?.[0]).toMatch(/ AS build$/);
    expect(text).toMatch(/COPY --from=build /);
  });

  it("selects the service with ARG SERVICE and runs the CLI as a non-root user", () => {
    const runtime = lines.slice(stages[1]?.[1] ?? 0);
    expect(runtime).toContain("ARG SERVICE=body-router");
    const user = runtime.find((l) => l.startsWith("USER "));
    expect(user).toMatch(/^USER [1-9]\d*:[1-9]\d*$/);
    expect(runtime.find((l) => l.startsWith("ENTRYPOINT "))).toBe('ENTRYPOINT ["/app/entrypoint.sh"]');
    expect(runtime).toContain("EXPOSE 8080 8081 8443");
  });

  it("installs from the lockfile and ships only the service's production folder on a supported Node LTS", () => {
    expect(text).toContain("pnpm install --frozen-lockfile");
    expect(text).toContain('bash scripts/deploy-service.sh "$SERVICE" /app');
    const runtime = lines.slice(stages[1]?.[1] ?? 0);
    expect(runtime.filter((l) => l.startsWith("COPY "))).toEqual(["COPY --from=build /app /app"]);
    expect(text).toMatch(/^ARG NODE_IMAGE=node:(2[2-9]|[3-9]\d)-/m);
  });

  it("keeps node_modules, build output and git out of the build context", () => {
    const ignored = readText(".dockerignore")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"));
    expect(ignored).toEqual(expect.arrayContaining([".git", "**/node_modules", "**/dist"]));
  });
});
