// Reproducible generation of proto/gen from:
//   - Envoy, xds, googleapis and protoc-gen-validate protos shipped by the npm
//     package @grpc/grpc-js-xds (pinned in package.json; mid-2024 API),
//   - the project-owned current definitions in proto/envoy/** (overlaid, so they
//     replace the older copies of the same path),
//   - grpc.health.v1 from the npm package grpc-health-check.
// `--check` regenerates into a temporary folder and fails on any difference
// with the committed proto/gen (CI runs it).
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const protoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(protoRoot, "package.json"));
const check = process.argv.includes("--check");

/** Entry points: everything they import is generated too. */
const entryFiles = [
  "envoy/service/ext_proc/v3/external_processor.proto",
  "envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto",
  "envoy/service/auth/v3/external_auth.proto",
  "envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto",
  "grpc/health/v1/health.proto",
];

function packageDir(name) {
  return dirname(require.resolve(`${name}/package.json`));
}

/** Copies a proto tree, normalising CRLF (grpc-js-xds ships CRLF files). */
function copyProtos(from, to) {
  for (const entry of readdirSync(from)) {
    const src = join(from, entry);
    const dst = join(to, entry);
    if (statSync(src).isDirectory()) {
      copyProtos(src, dst);
    } else if (entry.endsWith(".proto")) {
      mkdirSync(dirname(dst), { recursive: true });
      writeFileSync(dst, readFileSync(src, "utf8").replace(/\r\n/g, "\n"));
    }
  }
}

const staging = mkdtempSync(join(tmpdir(), "llm-callouts-proto-"));
try {
  const xdsDeps = join(packageDir("@grpc/grpc-js-xds"), "deps");
  for (const dep of ["envoy-api", "xds", "googleapis", "protoc-gen-validate"]) {
    copyProtos(join(xdsDeps, dep), staging);
  }
  copyProtos(join(packageDir("grpc-health-check"), "proto", "health"), join(staging, "grpc", "health"));
  copyProtos(join(protoRoot, "envoy"), join(staging, "envoy"));
  writeFileSync(join(staging, "buf.yaml"), "version: v2\n");

  const out = check ? mkdtempSync(join(tmpdir(), "llm-callouts-gen-")) : protoRoot;
  const template = readFileSync(join(protoRoot, "buf.gen.yaml"), "utf8").replace(
    "out: gen",
    `out: ${join(out, "gen")}`,
  );
  const bin = join(protoRoot, "node_modules", ".bin");
  execFileSync(
    join(bin, "buf"),
    ["generate", ".", "--template", template, ...entryFiles.flatMap((f) => ["--path", f])],
    { cwd: staging, stdio: "inherit", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
  );
  if (check) {
    const diff = compareTrees(join(protoRoot, "gen"), join(out, "gen"));
    rmSync(out, { recursive: true, force: true });
    if (diff.length > 0) {
      console.error(`proto/gen is stale; run \`pnpm generate\`. Differences:\n  ${diff.join("\n  ")}`);
      process.exit(1);
    }
    console.log("proto/gen is up to date");
  }
} finally {
  rmSync(staging, { recursive: true, force: true });
}

function listFiles(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const p = join(dir, entry);
    return statSync(p).isDirectory() ? listFiles(p, base) : [relative(base, p)];
  });
}

function compareTrees(a, b) {
  const filesA = new Set(listFiles(a));
  const filesB = new Set(listFiles(b));
  const diff = [];
  for (const f of filesA) if (!filesB.has(f)) diff.push(`only committed: ${f}`);
  for (const f of filesB) {
    if (!filesA.has(f)) diff.push(`only generated: ${f}`);
    else if (!readFileSync(join(a, f)).equals(readFileSync(join(b, f)))) diff.push(`differs: ${f}`);
  }
  return diff;
}
