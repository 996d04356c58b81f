import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The built CLI as a user runs it (`pnpm test` builds before vitest runs).
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../dist/main.js");
const version = (JSON.parse(readFileSync(join(here, "../package.json"), "utf8")) as { version: string }).version;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 15_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe("callouts CLI", () => {
  it("prints its version", () => {
    for (const flag of ["--version", "-v", "version"]) {
      expect(run(flag)).toMatchObject({ code: 0, stdout: `callouts ${version}\n` });
    }
  });

  it.each([
    [["--help"], "usage: callouts <command>"],
    [["sim", "--help"], "usage: callouts sim"],
    [["start", "--help"], "usage: callouts start"],
    [["serve", "--help"], "usage: callouts serve"],
    [["serve", "guardrail", "--help"], "usage: callouts serve"],
    [["list", "-h"], "usage: callouts list"],
  ])("answers %j with its usage on stdout, exit 0", (args, head) => {
    const r = run(...args);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(head)).toBe(true);
    expect(r.stderr).toBe("");
  });

  it.each([
    [["bogus"], /^callouts: unknown command "bogus"/],
    [["serve"], /^callouts serve: missing service/],
    [["serve", "nope"], /^callouts serve: unknown service "nope"/],
    [["serve", "echo", "--bogus"], /^callouts serve: Unknown option '--bogus'/],
    [["serve", "echo", "--port", "99999"], /^callouts serve: --port must be a port number/],
    [["sim", "--replicas", "0"], /^callouts sim: --replicas: Too small/],
    [["sim", "--replicas", "two"], /^callouts sim: --replicas must be a non-negative number/],
    [["sim", "--metrics-mode", "odd"], /^callouts sim: --metrics-mode must be engine or fixed/],
    [["start", "--port"], /^callouts start: Option '--port <value>' argument missing/],
  ])("rejects %j with one line naming the problem, exit 2", (args, line) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(line);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    noStack(r.stderr);
  });

  it("names the config path of a bad scheduler config in one line, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "callouts-cli-"));
    const file = join(dir, "picker.yaml");
    writeFileSync(
      file,
      'service:\n  scheduler:\n    configText: "apiVersion: llm-d.ai/v1alpha1\\nkind: EndpointPickerConfig\\nplugins:\\n- type: nope\\n"\n',
    );
    const r = run("serve", "endpoint-picker", "--config", file, "--port", "0", "--admin-port", "0");
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('endpoint-picker: service.scheduler: plugins[0].type: unknown plugin type "nope"');
  });

  it("names the field of a bad config file in one line per field, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "callouts-cli-"));
    const file = join(dir, "echo.yaml");
    writeFileSync(file, "server:\n  port: -1\n");
    const r = run("serve", "echo", "--config", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/server\.port/);
    noStack(r.stderr);
  });

  it("logs Cloud Logging lines with --log-format gcp: severity, RFC 3339 time, message", async () => {
    const child = spawn(process.execPath, [
      cli,
      "serve",
      "echo",
      "--log-format",
      "gcp",
      "--port",
      "0",
      "--admin-port",
      "0",
    ]);
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (b: Buffer) => {
          out += b.toString();
          const nl = out.indexOf("\n");
          if (nl >= 0) resolve(out.slice(0, nl));
        });
        child.once("exit", () => reject(new Error(`exited before logging: ${out}`)));
      });
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry.severity).toBe("INFO");
      expect(typeof entry.message).toBe("string");
      expect(new Date(String(entry.time)).toISOString()).toBe(entry.time);
      expect(entry).not.toHaveProperty("level");
      expect(entry.service).toBe("echo");
    } finally {
      child.kill("SIGKILL");
    }
    const bad = run("serve", "echo", "--log-format", "xml");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/server\.logFormat/);
  });
});
