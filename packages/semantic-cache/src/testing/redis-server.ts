import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
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

async function startPrivateRedis(script: string): Promise<TestRedis> {
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
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "redis8-"));
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    // --argv0 redis-server: the binary is redis-check-rdb and picks its mode from argv[0].
    child = spawn(
      loader,
      [
        "--library-path",
        libraryPath,
        "--argv0",
        "redis-server",
        join(root, "usr/bin/redis-check-rdb"),
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
      ],
      { stdio: "ignore" },
    );
    const exited = new Promise<never>((_, reject) =>
      child?.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPing(port, 10_000), exited]);
  };
  const killChild = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const gone = new Promise<void>((done) => current.once("exit", () => done()));
    current.kill(signal);
    await gone;
  };
  const onExit = (): void => {
    child?.kill("SIGKILL");
  };
  process.once("exit", onExit);

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    private: true,
    kill: () => killChild("SIGKILL"),
    restart: async () => {
      await killChild("SIGKILL");
      await launch();
    },
    stop: async () => {
      await killChild("SIGTERM");
      process.off("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
