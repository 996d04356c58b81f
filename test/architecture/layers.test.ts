import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The house rules of the README's "Layout": workspace imports only point down a layer, there are
 * no circles, the Envoy emulator never sees the SDK, and every `@llm-callouts/*` import in a
 * package's sources is one it declares.
 */
const root = join(import.meta.dirname, "..", "..");
const layer: Record<string, number> = {
  proto: 0,
  "llm-api": 0,
  random: 0,
  "tiny-models": 0,
  "envoy-emulator": 1,
  "model-server-sim": 1,
  learn: 1,
  remote: 0,
  "ext-proc": 2,
  "body-router": 3,
  guardrail: 3,
  "semantic-cache": 3,
  "endpoint-picker": 3,
  echo: 3,
  gateway: 4,
  cli: 5,
};

interface Pkg {
  readonly name: string;
  readonly dir: string;
  readonly runtime: string[];
  readonly dev: string[];
}

function workspacePackages(): Pkg[] {
  const dirs = [join(root, "proto"), ...readdirSync(join(root, "packages")).map((d) => join(root, "packages", d))];
  return dirs.map((dir) => {
    const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const ours = (deps: Record<string, string> = {}) =>
      Object.keys(deps)
        .filter((d) => d.startsWith("@llm-callouts/"))
        .map((d) => d.slice("@llm-callouts/".length));
    return {
      name: json.name.slice("@llm-callouts/".length),
      dir,
      runtime: ours(json.dependencies),
      dev: ours(json.devDependencies),
    };
  });
}

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) out.push(path);
    }
  };
  walk(join(dir, "src"));
  return out;
}

const packages = workspacePackages();

describe("workspace layers", () => {
  it("places every package in a layer", () => {
    expect(packages.map((p) => p.name).sort()).toEqual(Object.keys(layer).sort());
  });

  it.each(packages.map((p) => [p.name, p] as const))("%s depends only on lower layers", (_, pkg) => {
    for (const dep of pkg.runtime) expect(layer[dep], `${pkg.name} -> ${dep}`).toBeLessThan(layer[pkg.name] ?? 0);
  });

  it("keeps the Envoy emulator independent of the SDK, even in tests", () => {
    const emulator = packages.find((p) => p.name === "envoy-emulator");
    expect([...(emulator?.runtime ?? []), ...(emulator?.dev ?? [])]).not.toContain("ext-proc");
  });

  it("has no circles, test dependencies included", () => {
    const edges = new Map(packages.map((p) => [p.name, [...p.runtime, ...p.dev]]));
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, path: string[]): void => {
      if (done.has(name)) return;
      expect(visiting.has(name), `circle: ${[...path, name].join(" -> ")}`).toBe(false);
      visiting.add(name);
      for (const next of edges.get(name) ?? []) visit(next, [...path, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const p of packages) visit(p.name, []);
  });

  it.each(packages.filter((p) => p.name !== "proto").map((p) => [p.name, p] as const))(
    "%s imports only the workspace packages it declares",
    (_, pkg) => {
      const declared = new Set([...pkg.runtime, ...pkg.dev]);
      for (const file of sources(pkg.dir)) {
        const text = readFileSync(file, "utf8");
        for (const m of text.matchAll(/from "@llm-callouts\/([a-z-]+)/g)) {
          const dep = m[1] as string;
          if (dep === pkg.name) continue;
          expect(declared.has(dep), `${file} imports ${dep}`).toBe(true);
          if (!file.endsWith(".test.ts") && !file.includes("/testing/") && !file.includes(".testdata.")) {
            expect(pkg.runtime, `${file} imports ${dep} at run time`).toContain(dep);
          }
        }
      }
    },
  );
});
