/**
 * The fault and attack suite's machinery: callouts run as their own processes (`callouts
 * serve`), so a row can read their RSS and file descriptors from /proc and a crash shows as
 * an exit; a witness client on its own connection measures whether others are still served
 * while a row attacks; and every attack request is tallied as answered (the documented
 * reply), errored (another reply), lost (no gRPC status: reset or closed) or hung (nothing
 * before the deadline).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type SimulatorHandle, startSimulator } from "@llm-callouts/model-server-sim";
import { bufferedRequest } from "../bench/raw-client.js";
import { percentile } from "../bench/stats.js";

export const cliPath = join(dirname(fileURLToPath(import.meta.url)), "../../packages/cli/dist/main.js");

/** A short form runs in `pnpm test`; the full form is `pnpm bench faults`. */
export type Form = "short" | "full";

/**
 * The p99 a witness request may take while a row attacks the same process: Envoy's default
 * ext_proc `message_timeout` (200 ms), past which Envoy fails the request. The attacker, the
 * witness and the service share this machine's two cores, so the figure includes contention
 * a deployed callout (its own cores, the attacker elsewhere) would not see.
 */
export const witnessP99BudgetMs = 200;

/** The `server:` section every callout runs with here: a short handshake timeout, so row 1 sees it act. */
export const suiteServerConfig = "server:\n  logLevel: warn\n  http2:\n    handshakeTimeoutMs: 500\n";

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServiceProcess {
  readonly name: string;
  readonly port: number;
  readonly adminPort: number;
  readonly tlsPort: number | undefined;
  readonly child: ChildProcess;
  /** Every line the process wrote to stdout and stderr, in order. */
  readonly output: string[];
  /** Resident set size in MiB, from /proc. */
  rssMb(): number;
  /** Open file descriptors, from /proc. */
  fds(): number;
  /** True while the process runs. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  /** YAML text of the config file (`server:` and `service:`). */
  readonly config?: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Also open a TLS port (its certificate flags go in `args`). */
  readonly tls?: boolean;
  /** Flags for node itself (e.g. --cpu-prof), before the script. */
  readonly nodeArgs?: readonly string[];
  /** The node binary (default: this process's; `imagesNode()` for the images' runtime). */
  readonly node?: string;
}

/**
 * The Node the images ship (24), which scripts/node24.sh fetches into .cache/node24 (`pnpm
 * test` runs it first); undefined when it is absent. Node 20 ignores the SDK's raised HTTP/2
 * reset limits (packages/ext-proc/README.md), so a long run of Envoy-pattern traffic measures
 * nghttp2's defaults there, not the callouts.
 */
export function imagesNode(): string | undefined {
  const path = join(dirname(fileURLToPath(import.meta.url)), "../../.cache/node24/package/bin/node");
  return existsSync(path) ? path : undefined;
}

/**
 * `callouts serve <service>` on free loopback ports; resolves once /healthz answers. A port
 * found free can be taken by another test process before the callout binds it: on EADDRINUSE
 * it tries again on new ports, up to three times.
 */
export async function spawnService(service: string, options: SpawnOptions = {}): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnServiceOnce(service, options);
    } catch (error) {
      if (attempt >= 3 || !/EADDRINUSE/.test((error as Error).message)) throw error;
    }
  }
}

async function spawnServiceOnce(service: string, options: SpawnOptions): Promise<ServiceProcess> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const tlsPort = options.tls ? await freePort() : undefined;
  const args = [cliPath, "serve", service, "--host", "127.0.0.1", "--port", String(port)];
  args.push("--admin-port", String(adminPort));
  if (tlsPort !== undefined) args.push("--tls-port", String(tlsPort));
  if (options.config !== undefined) {
    const file = join(mkdtempSync(join(tmpdir(), "callouts-faults-")), `${service}.yaml`);
    writeFileSync(file, options.config);
    args.push("--config", file);
  }
  args.push(...(options.args ?? []));
  const child = spawn(options.node ?? process.execPath, [...(options.nodeArgs ?? []), ...args], {
    env: { ...process.env, OTEL_TRACES_EXPORTER: "none", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const proc = watchProcess(service, child, { port, adminPort, tlsPort });
  return untilReady(
    proc,
    `callouts serve ${service}`,
    async () => (await fetch(`http://127.0.0.1:${adminPort}/healthz`)).ok,
  );
}

/** A handle on a child process: its output lines, /proc RSS and fds, liveness and stop. */
function watchProcess(
  name: string,
  child: ChildProcess,
  ports: { port: number; adminPort: number; tlsPort: number | undefined },
): ServiceProcess {
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      output.push(...lines);
    });
    stream?.on("end", () => {
      if (pending) output.push(pending);
    });
  }
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const proc: ServiceProcess = {
    name,
    ...ports,
    child,
    output,
    rssMb: () => procStatusKb(child.pid, "VmRSS") / 1024,
    fds: () => readdirSync(`/proc/${child.pid}/fd`).length,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop(graceMs = 5000) {
      if (!proc.alive()) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return proc;
}

/** Polls `ready` every 100 ms for up to 15 s while `proc` runs; stops it and throws otherwise. */
async function untilReady(proc: ServiceProcess, what: string, ready: () => Promise<boolean>): Promise<ServiceProcess> {
  for (let i = 0; i < 150; i++) {
    if (!proc.alive()) throw new Error(`${what} exited: ${proc.output.slice(-5).join("\n")}`);
    try {
      if (await ready()) return proc;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await proc.stop();
  throw new Error(`${what} did not become ready: ${proc.output.slice(-5).join("\n")}`);
}

/** `callouts sim`: `replicas` simulated vLLM replicas of `model` in one process, on consecutive free ports. */
export async function spawnSimulators(
  model: string,
  replicas: number,
  speedUp: number,
  node = process.execPath,
  nodeArgs: readonly string[] = [],
): Promise<ServiceProcess> {
  const port = await freePort();
  const args = [cliPath, "sim", "--replicas", String(replicas), "--base-port", String(port)];
  args.push("--model", model, "--speed-up", String(speedUp));
  const child = spawn(node, [...nodeArgs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const proc = watchProcess("simulators", child, { port, adminPort: port, tlsPort: undefined });
  return untilReady(proc, "callouts sim", async () => {
    const answers = await Promise.all(
      Array.from({ length: replicas }, (_, i) => fetch(`http://127.0.0.1:${port + i}/v1/models`)),
    );
    return answers.every((a) => a.ok);
  });
}

/** Node flags that make a process collect all garbage on SIGUSR2 (`gc-on-signal.cjs`, test-only). */
export const gcOnSignal = [
  "--expose-gc",
  "--require",
  join(dirname(fileURLToPath(import.meta.url)), "gc-on-signal.cjs"),
];

/** The gateway (`gateway-process.ts`) in front of callouts on these ports, as `pnpm start` chains them. */
export async function spawnGateway(
  ports: { router: number; guardrail: number; cache: number; pickerLlama: number; pickerQwen: number },
  node = process.execPath,
  nodeArgs: readonly string[] = [],
): Promise<ServiceProcess> {
  const child = spawn(node, [...nodeArgs, "--import", "tsx", gatewayScript], {
    env: { ...process.env, GATEWAY_PORTS: JSON.stringify(ports) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let port = 0;
  const proc = watchProcess("gateway", child, { port: 0, adminPort: 0, tlsPort: undefined });
  await untilReady(proc, "the gateway", async () => {
    const line = proc.output.find((l) => l.startsWith("ready "));
    port = Number(line?.split(" ")[1] ?? 0);
    return port > 0;
  });
  return { ...proc, port };
}

const gatewayScript = join(dirname(fileURLToPath(import.meta.url)), "gateway-process.ts");

function procStatusKb(pid: number | undefined, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status);
  return match ? Number(match[1]) : Number.NaN;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What happened to the requests of one attack case. */
export interface Tally {
  sent: number;
  /** Got the documented answer. */
  answered: number;
  /** Got an answer, but not the documented one. */
  errored: number;
  /** No gRPC status or HTTP answer: the stream or connection was reset or closed. */
  lost: number;
  /** Nothing before the deadline. */
  hung: number;
}

export const emptyTally = (): Tally => ({ sent: 0, answered: 0, errored: 0, lost: 0, hung: 0 });

export type Outcome = "answered" | "errored" | "lost" | "hung";

export function count(tally: Tally, outcome: Outcome): void {
  tally.sent++;
  tally[outcome]++;
}

export function addTally(into: Tally, from: Tally): Tally {
  for (const key of ["sent", "answered", "errored", "lost", "hung"] as const) into[key] += from[key];
  return into;
}

/** One case of a row: what was tried, what the documented answer is, what came back. */
export interface CaseResult {
  readonly name: string;
  /** The documented answer, e.g. "INVALID_ARGUMENT" or "413 immediate response". */
  readonly expected: string;
  readonly tally: Tally;
  /** Free-form details (first unexpected answer, sizes, timings). */
  readonly detail?: string;
  /** When the case ran (performance.now()), set by `timed`. */
  readonly window?: { readonly from: number; readonly to: number };
  /** Witness p99 while this case ran, set by `underWitness`. */
  readonly witnessP99Ms?: number;
}

/** Runs one case and stamps its time window, so the witness can be read per case. */
export async function timed(run: () => Promise<CaseResult>): Promise<CaseResult> {
  const from = performance.now();
  const result = await run();
  return { ...result, window: { from, to: performance.now() } };
}

export interface WitnessResult {
  readonly tally: Tally;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Every answered request: when it started (performance.now()) and how long it took. */
  readonly samples: readonly { readonly at: number; readonly ms: number }[];
}

/** p99 of the witness requests that started within [from, to]. */
export function witnessP99Within(w: WitnessResult, from: number, to: number): number {
  const sorted = w.samples
    .filter((s) => s.at >= from && s.at <= to)
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  return percentile(sorted, 0.99);
}

/** A chat completion request of a few hundred bytes, BUFFERED: what every callout handles. */
export function witnessMessages(model = "meta-llama/Llama-3.1-8B-Instruct"): Buffer[] {
  const body = Buffer.from(
    JSON.stringify({ model, messages: [{ role: "user", content: "What is the capital of France?" }] }),
  );
  return bufferedRequest(
    {
      ":method": "POST",
      ":path": "/v1/chat/completions",
      ":authority": "gateway.local",
      ":scheme": "http",
      "content-type": "application/json",
      "content-length": String(body.length),
      "x-request-id": "witness",
    },
    body,
  );
}

/**
 * A well-behaved client in its own process (`witness-process.ts`), one request every
 * `intervalMs` until stopped: the "keeps serving others" half of every row. Its own process,
 * so the attacker's CPU in this one never shows as the witness's latency.
 */
export function startWitness(
  target: string,
  options: { intervalMs?: number; deadlineMs?: number; messages?: readonly Buffer[] } = {},
): { ready: Promise<void>; stop(): Promise<WitnessResult> } {
  const messages = options.messages ?? witnessMessages();
  const child = spawn(process.execPath, ["--import", "tsx", witnessScript], {
    env: {
      ...process.env,
      WITNESS_TARGET: target,
      WITNESS_INTERVAL_MS: String(options.intervalMs ?? 20),
      WITNESS_DEADLINE_MS: String(options.deadlineMs ?? 2000),
      WITNESS_MESSAGES: JSON.stringify(messages.map((m) => m.toString("base64"))),
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const tally = emptyTally();
  const samples: { at: number; ms: number }[] = [];
  let pending = "";
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  let isReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    isReady = resolve;
  });
  child.on("exit", () => {
    isReady();
    finished();
  });
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const [kind, at, ms] = line.split(" ");
      if (kind === "ok") {
        samples.push({ at: Number(at) - performance.timeOrigin, ms: Number(ms) });
        count(tally, "answered");
      } else if (kind === "hung") count(tally, "hung");
      else if (kind === "error") count(tally, "errored");
      else if (kind === "done") finished();
      else if (kind === "ready") isReady();
    }
  });
  return {
    ready,
    async stop() {
      child.stdin?.write("stop\n");
      await done;
      const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
      return { tally, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), samples };
    },
  };
}

const witnessScript = join(dirname(fileURLToPath(import.meta.url)), "witness-process.ts");

export { chatCompletionAnswer } from "@llm-callouts/envoy-emulator";

/** `promise`'s value, or "hung" when it has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | "hung"> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** One row of the published table. */
export interface RowResult {
  readonly row: string;
  readonly service: string;
  readonly cases: readonly CaseResult[];
  readonly witness?: WitnessResult;
  /** The witness p99 this row must keep (rows about load); undefined: reported, not judged. */
  readonly witnessBudgetMs?: number;
  readonly rssBeforeMb?: number;
  readonly rssAfterMb?: number;
  readonly fdsBefore?: number;
  readonly fdsAfter?: number;
  /** Still running at the end (no crash). */
  readonly survived: boolean;
  readonly durationMs: number;
}

/** The row held: every case answered as documented, every witness request answered (within its budget, if the row has one), no crash. */
export function rowHeld(result: RowResult): boolean {
  const casesHeld = result.cases.every(
    (c) => c.tally.errored === 0 && c.tally.lost === 0 && c.tally.hung === 0 && c.tally.sent > 0,
  );
  const w = result.witness;
  const witnessHeld =
    w === undefined ||
    (w.tally.errored === 0 &&
      w.tally.lost === 0 &&
      w.tally.hung === 0 &&
      (result.witnessBudgetMs === undefined || w.p99Ms <= result.witnessBudgetMs));
  return casesHeld && witnessHeld && result.survived;
}

/** Runs `attack` against `proc` with a witness alongside, sampling RSS and fds around it. */
export async function underWitness(
  row: string,
  proc: ServiceProcess,
  attack: () => Promise<CaseResult[]>,
  options: { witnessMessages?: Buffer[]; witnessBudgetMs?: number } = {},
): Promise<RowResult> {
  const started = performance.now();
  // The witness warms the service up (and itself) before reporting, so "before" is warm.
  const witness = startWitness(`127.0.0.1:${proc.port}`, { messages: options.witnessMessages });
  await witness.ready;
  const rssBeforeMb = proc.rssMb();
  const fdsBefore = proc.fds();
  let witnessResult: WitnessResult | undefined;
  let cases: CaseResult[];
  try {
    cases = await attack();
  } finally {
    witnessResult = await witness.stop();
  }
  const survived = proc.alive();
  await sleep(200);
  const w = witnessResult;
  return {
    row,
    service: proc.name,
    cases: cases.map((c) => (c.window ? { ...c, witnessP99Ms: witnessP99Within(w, c.window.from, c.window.to) } : c)),
    witness: witnessResult,
    witnessBudgetMs: options.witnessBudgetMs,
    rssBeforeMb,
    rssAfterMb: survived ? proc.rssMb() : Number.NaN,
    fdsBefore,
    fdsAfter: survived ? proc.fds() : Number.NaN,
    survived,
    durationMs: performance.now() - started,
  };
}

export interface ServiceUnderTest {
  readonly proc: ServiceProcess;
  close(): Promise<void>;
}

/**
 * Starts one callout as its own process on the suite's server config (or `server`), the
 * picker with one simulated replica to pick.
 */
export async function startUnderTest(
  service: string,
  options: { server?: string; service?: string; env?: NodeJS.ProcessEnv; node?: string } = {},
): Promise<ServiceUnderTest> {
  let sim: SimulatorHandle | undefined;
  let serviceConfig = options.service ?? "";
  if (service === "endpoint-picker") {
    sim = await startSimulator({ host: "127.0.0.1", port: 0, model: "meta-llama/Llama-3.1-8B-Instruct" });
    const url = new URL(sim.url);
    serviceConfig = `service:\n  endpoints:\n    static:\n      - address: ${url.hostname}\n        port: ${url.port}\n`;
  }
  const proc = await spawnService(service, {
    config: (options.server ?? suiteServerConfig) + serviceConfig,
    env: options.env,
    node: options.node,
  });
  return {
    proc,
    async close() {
      await proc.stop();
      await sim?.close();
    },
  };
}
