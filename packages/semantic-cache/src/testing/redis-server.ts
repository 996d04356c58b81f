import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** A Redis 8 the tests can use. */
export interface TestRedis {
  /** `redis://127.0.0.1:PORT` (or the REDIS_URL given). */
  readonly url: string;
  /** True when this process started the server (it can then be killed and restarted). */
  readonly private: boolean;
  /** SIGKILLs a private server (no-op for an external one). */
  kill(): Promise<void>;
  /** Starts a killed private server again on the same port. */
  restart(): Promise<void>;
  /** Stops a private server and removes its folder. */
  stop(): Promise<void>;
}

/** Options of {@link startTestRedis}. */
export interface StartTestRedisOptions {
  /** Ignore REDIS_URL and start a private server (needed to kill it). Default false. */
  readonly forcePrivate?: boolean;
  /** Path of scripts/redis8.sh; found by walking up from this file by default. */
  readonly script?: string;
}

/**
 * Gives tests a Redis 8: REDIS_URL when set, otherwise a private server installed
 * and started by scripts/redis8.sh on a free port. Returns undefined when no Redis
 * can be had, except under CI=true, where that throws so the tests fail, not skip.
 */
export async function startTestRedis(options: StartTestRedisOptions = {}): Promise<TestRedis | undefined> {
  const external = process.env.REDIS_URL;
  if (external && !options.forcePrivate) {
    return { url: external, private: false, kill: async () => {}, restart: async () => {}, stop: async () => {} };
  }
  try {
    return await startPrivateRedis(options.script ?? findScript());
  } catch (error) {
    if (process.env.CI === "true") throw new Error("no Redis 8 for the tests (CI=true)", { cause: error });
    return undefined;
  }
}

/** The loader, library path and root folder scripts/redis8.sh installed Redis 8 under. */
interface Redis8Install {
  readonly loader: string;
  readonly libraryPath: string;
  readonly root: string;
}

async function installRedis8(script: string): Promise<Redis8Install> {
  const { stdout } = await execFileAsync("bash", [script, "env"], { timeout: 300_000 });
  const env = Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const loader = env.LOADER;
  const libraryPath = env.LIBRARY_PATH;
  const root = env.ROOT;
  if (!loader || !libraryPath || !root) throw new Error(`unexpected redis8.sh env output: ${stdout}`);
  return { loader, libraryPath, root };
}

/** One redis-server process on a fixed port and folder that can be killed and started again. */
interface ServerProcess {
  launch(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
  readonly running: boolean;
}

function serverProcess(install: Redis8Install, port: number, dir: string, extra: readonly string[]): ServerProcess {
  let child: ChildProcess | undefined;
  const onExit = (): void => {
    child?.kill("SIGKILL");
  };
  return {
    get running() {
      return child !== undefined;
    },
    async launch() {
      // --argv0 redis-server: the binary is redis-check-rdb and picks its mode from argv[0].
      const started = spawn(
        install.loader,
        [
          "--library-path",
          install.libraryPath,
          "--argv0",
          "redis-server",
          join(install.root, "usr/bin/redis-check-rdb"),
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          "no",
          "--loglevel",
          "warning",
          ...extra,
        ],
        { stdio: "ignore" },
      );
      child = started;
      process.once("exit", onExit);
      const exited = new Promise<never>((_, reject) =>
        started.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`))),
      );
      exited.catch(() => {});
      await Promise.race([waitForPing(port, 10_000), exited]);
    },
    async kill(signal) {
      const current = child;
      child = undefined;
      process.off("exit", onExit);
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const gone = new Promise<void>((done) => current.once("exit", () => done()));
      current.kill(signal);
      await gone;
    },
  };
}

async function startPrivateRedis(script: string): Promise<TestRedis> {
  const install = await installRedis8(script);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "redis8-"));
  const server = serverProcess(install, port, dir, []);
  await server.launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    private: true,
    kill: () => server.kill("SIGKILL"),
    restart: async () => {
      await server.kill("SIGKILL");
      await server.launch();
    },
    stop: async () => {
      await server.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of private Redis 8 servers on loopback. */
export interface TestRedisCluster {
  /** Seeds for `redisUrl` with `redisCluster: true`: every node, comma-separated. */
  readonly url: string;
  /** The ports, masters first as created (replicas follow in the same order). */
  readonly ports: readonly number[];
  /** Port of the node currently serving `key`'s slot as master. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the server on `port` (its replica takes over after the node timeout). */
  kill(port: number): Promise<void>;
  /** Starts a killed server again; it rejoins from its nodes.conf (as a replica if it lost its slots). */
  restart(port: number): Promise<void>;
  /** Resolves once every slot is served by a live master again (`cluster_state:ok` on every live node). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startTestRedisCluster}. */
export interface StartTestRedisClusterOptions {
  /** Masters; each gets one replica. Default 3 (the smallest cluster redis-cli accepts). */
  readonly masters?: number;
  /** cluster-node-timeout: how long a silent master stays in charge. Default 1 000 ms. */
  readonly nodeTimeoutMs?: number;
  /**
   * cluster-require-full-coverage: with true (Redis's default) the whole cluster answers
   * CLUSTERDOWN while any slot has no live master. Default true.
   */
  readonly requireFullCoverage?: boolean;
  readonly script?: string;
}

/**
 * A real Redis Cluster: `masters` masters and as many replicas, started from the
 * same Redis 8 binaries as {@link startTestRedis} and joined with
 * `redis-cli --cluster create --cluster-replicas 1`. Returns undefined when no Redis
 * can be had, except under CI=true, where that throws.
 */
export async function startTestRedisCluster(
  options: StartTestRedisClusterOptions = {},
): Promise<TestRedisCluster | undefined> {
  try {
    return await startPrivateCluster(options);
  } catch (error) {
    if (process.env.CI === "true") throw new Error("no Redis 8 cluster for the tests (CI=true)", { cause: error });
    return undefined;
  }
}

async function startPrivateCluster(options: StartTestRedisClusterOptions): Promise<TestRedisCluster> {
  const install = await installRedis8(options.script ?? findScript());
  const masters = options.masters ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const base = mkdtempSync(join(tmpdir(), "redis8-cluster-"));
  const servers = new Map<number, ServerProcess>();
  const ports: number[] = [];
  try {
    for (let i = 0; i < 2 * masters; i++) {
      const port = await freePort();
      const dir = join(base, String(port));
      mkdirSync(dir);
      const server = serverProcess(install, port, dir, [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        String(nodeTimeoutMs),
        // A replica promotes itself however long it was cut off from its master.
        "--cluster-replica-validity-factor",
        "0",
        "--cluster-require-full-coverage",
        options.requireFullCoverage === false ? "no" : "yes",
      ]);
      servers.set(port, server);
      ports.push(port);
      await server.launch();
    }
    const cli = (args: readonly string[]) =>
      execFileAsync(
        install.loader,
        ["--library-path", install.libraryPath, join(install.root, "usr/bin/redis-cli"), ...args],
        { timeout: 60_000 },
      );
    await cli([
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    ]);
    const clusterInfo = async (port: number): Promise<string> =>
      (await cli(["-p", String(port), "CLUSTER", "INFO"]).catch(() => ({ stdout: "" }))).stdout;
    const waitHealthy = async (timeoutMs = 30_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const live = ports.filter((port) => servers.get(port)?.running);
        const infos = await Promise.all(live.map(clusterInfo));
        if (infos.every((info) => info.includes("cluster_state:ok"))) {
          // Every live node also agrees that each slot has a live master.
          const { stdout } = await cli(["--cluster", "check", `127.0.0.1:${live[0]}`]).catch(() => ({ stdout: "" }));
          if (stdout.includes("All 16384 slots covered") && !stdout.includes("[ERR]")) return;
        }
        if (Date.now() > deadline) throw new Error(`redis cluster not healthy within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitHealthy();
    const stopAll = async (): Promise<void> => {
      await Promise.all([...servers.values()].map((server) => server.kill("SIGTERM")));
      rmSync(base, { recursive: true, force: true });
    };
    return {
      url: ports.map((port) => `redis://127.0.0.1:${port}`).join(","),
      ports,
      async masterOf(key) {
        for (const port of ports) {
          if (!servers.get(port)?.running) continue;
          const slot = Number((await cli(["-p", String(port), "CLUSTER", "KEYSLOT", key])).stdout.trim());
          // CLUSTER NODES: id address flags master ping-sent pong-recv epoch link-state slot...
          const nodes = (await cli(["-p", String(port), "CLUSTER", "NODES"])).stdout.trim().split("\n");
          for (const line of nodes) {
            const [, address = "", flags = "", , , , , state = "", ...ranges] = line.split(" ");
            if (!flags.includes("master") || flags.includes("fail") || state !== "connected") continue;
            const owns = ranges.some((range) => {
              const [from, to = from] = range.split("-").map(Number);
              return from !== undefined && to !== undefined && slot >= from && slot <= to;
            });
            if (owns) return Number(address.split("@")[0]?.split(":")[1]);
          }
        }
        throw new Error(`no live master serves the slot of ${key}`);
      },
      kill: async (port) => servers.get(port)?.kill("SIGKILL"),
      restart: async (port) => servers.get(port)?.launch(),
      waitHealthy,
      stop: stopAll,
    };
  } catch (error) {
    await Promise.all([...servers.values()].map((server) => server.kill("SIGKILL")));
    rmSync(base, { recursive: true, force: true });
    throw error;
  }
}

function findScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "scripts", "redis8.sh");
    if (existsSync(candidate)) return candidate;
    const parent = resolve(dir, "..");
    if (parent === dir) throw new Error("scripts/redis8.sh not found above this package");
    dir = parent;
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis on port ${port} did not answer PING within ${timeoutMs} ms`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => finish(data.toString().startsWith("+PONG")));
  });
}
