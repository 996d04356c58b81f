#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type ConfigOverrides, type LogFormat, type LogLevel, runService } from "@llm-callouts/ext-proc";
import { HelpRequested, parseCommandArgs, UsageError } from "./args.js";
import { runSim, runStart, simUsage, startUsage } from "./commands.js";
import { knownServices, loadServiceModule } from "./services.js";

const serveUsage = `usage: callouts serve <service> [options]   (${knownServices.join(", ")})

  --port N            plaintext h2c gRPC port (default 8080)
  --admin-port N      admin HTTP port: /healthz /readyz /metrics (default 8081)
  --config FILE       YAML with 'server:' and 'service:' sections
  --host ADDR         bind address (default 0.0.0.0)
  --tls-cert F --tls-key F   TLS gRPC listener (port --tls-port, default 8443)
  --tls-self-signed   TLS with a generated self-signed pair (development)
  --tls-client-ca F   require client certificates signed by this CA (mTLS)
  --log-level L       fatal|error|warn|info|debug|trace|silent
  --log-format F      json (pino) | gcp (Cloud Logging: severity, ISO time, message)
environment: CALLOUTS_CONFIG, CALLOUTS_PORT, CALLOUTS_ADMIN_PORT, CALLOUTS_HOST, CALLOUTS_TLS_CERT,
  CALLOUTS_TLS_KEY, CALLOUTS_TLS_PORT, CALLOUTS_LOG_LEVEL, CALLOUTS_LOG_FORMAT
  (flags win over environment, environment over file)
`;

const eppUsage = `usage: callouts epp [GIE / llm-d-router EPP flags]

  Starts the endpoint picker from the argument list GIE's and llm-d-router's charts render for
  their EPP container (--pool-name, --grpc-port 9002, --grpc-health-port 9003, --metrics-port
  9090, --config-file, -v, --zap-*, ...), with upstream's defaults (TLS on the gRPC port unless
  --secure-serving=false; /metrics behind Kubernetes token auth unless --metrics-endpoint-auth=false).
  The picker image runs this when its first argument is a flag. README: "GIE / llm-d EPP flags".
`;

const usage = `usage: callouts <command> [options]   (callouts <command> --help for its options)

commands:
  serve <service>   run one callout (${knownServices.join(", ")})
  epp [flags]       the endpoint picker with GIE's / llm-d-router's EPP flags (their Helm charts' args)
  start             the whole pipeline locally: four callouts, two simulated vLLM pools, the gateway
  sim               a pool of simulated vLLM replicas
  list              list the callouts
  help, --help      this text
  version, --version

${startUsage}
${simUsage}
${serveUsage}
${eppUsage}`;

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "serve":
        return await serve(rest);
      case "epp":
        return await epp(rest);
      case "start":
        return await runStart(rest);
      case "sim":
        return await runSim(rest);
      case "list":
        parseCommandArgs("list", rest, () => parseArgs({ args: rest, strict: true, options: {} }));
        process.stdout.write(`${knownServices.join("\n")}\n`);
        return 0;
      case "version":
      case "--version":
      case "-v":
        process.stdout.write(`callouts ${version()}\n`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(usage);
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`, "");
    }
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(helpFor(error.command));
      return 0;
    }
    if (!(error instanceof UsageError)) throw error;
    const where = error.command ? `callouts ${error.command}` : "callouts";
    process.stderr.write(`${where}: ${error.message} (see ${where} --help)\n`);
    return 2;
  }
}

function helpFor(command: string): string {
  switch (command) {
    case "serve":
      return serveUsage;
    case "epp":
      return eppUsage;
    case "start":
      return startUsage;
    case "sim":
      return simUsage;
    default:
      return "usage: callouts list\n";
  }
}

/** The CLI package's version (package.json beside src/ and dist/). */
function version(): string {
  const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

async function serve(args: string[]): Promise<number | undefined> {
  const parsed = parseCommandArgs("serve", args, () =>
    parseArgs({ args, strict: true, allowPositionals: true, options: serveOptions }),
  );
  const name = parsed.positionals[0];
  if (!name || !knownServices.includes(name) || parsed.positionals.length > 1) {
    const what = !name
      ? "missing service"
      : knownServices.includes(name)
        ? `unexpected argument ${JSON.stringify(parsed.positionals[1])}`
        : `unknown service ${JSON.stringify(name)}`;
    throw new UsageError(`${what}; known services: ${knownServices.join(", ")}`, "serve");
  }
  const module = await loadServiceModule(name);
  if (!module) throw new UsageError(`service ${name} is not built into this release`, "serve");
  const v = parsed.values;
  const number = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new UsageError(`--${flag} must be a port number, got ${JSON.stringify(value)}`, "serve");
    }
    return n;
  };
  const flags: ConfigOverrides = {
    configFile: v.config,
    host: v.host,
    port: number("port", v.port),
    adminPort: number("admin-port", v["admin-port"]),
    tlsCert: v["tls-cert"],
    tlsKey: v["tls-key"],
    tlsPort: number("tls-port", v["tls-port"]),
    tlsSelfSigned: v["tls-self-signed"],
    tlsClientCa: v["tls-client-ca"],
    logLevel: v["log-level"] as LogLevel | undefined,
    logFormat: v["log-format"] as LogFormat | undefined,
  };
  await runService(module, flags);
  return undefined; // keeps running until a signal
}

/** The endpoint picker under GIE's / llm-d's EPP command line. */
async function epp(args: string[]): Promise<number | undefined> {
  if (args.includes("--help") || args.includes("-h")) throw new HelpRequested("epp");
  const module = await loadServiceModule("endpoint-picker");
  const flags = module?.upstreamFlags;
  if (!module || !flags) throw new UsageError("the endpoint picker is not built into this release", "epp");
  let parsed: ReturnType<typeof flags.parse>;
  try {
    parsed = flags.parse(args, process.env);
  } catch (error) {
    throw new UsageError((error as Error).message, "epp");
  }
  await runService(module, parsed.overrides, process.env, parsed.notes);
  return undefined; // keeps running until a signal
}

const serveOptions = {
  port: { type: "string" },
  "admin-port": { type: "string" },
  config: { type: "string" },
  host: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-port": { type: "string" },
  "tls-self-signed": { type: "boolean" },
  "tls-client-ca": { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
} as const;

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (error: unknown) => {
    // One line; the stack only with CALLOUTS_DEBUG set (a bug report, not a usage problem).
    const detail = process.env.CALLOUTS_DEBUG ? ((error as Error).stack ?? String(error)) : (error as Error).message;
    process.stderr.write(`callouts: ${detail ?? String(error)}\n`);
    process.exit(1);
  },
);
