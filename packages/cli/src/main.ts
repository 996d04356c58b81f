#!/usr/bin/env node
import { parseArgs } from "node:util";
import { type ConfigOverrides, type LogLevel, runService } from "@llm-callouts/ext-proc";
import { runSim, runStart } from "./commands.js";
import { knownServices, loadServiceModule } from "./services.js";

const usage = `usage: callouts <command> [options]

commands:
  serve <service>   run one callout (${knownServices.join(", ")})
  start             the whole pipeline locally: four callouts, two simulated vLLM pools, the gateway
  sim               a pool of simulated vLLM replicas
  list              list the callouts
  help              this text

start options:  --port N (gateway, default 8000)  --host ADDR  --sim-speed-up X
                REDIS_URL switches the semantic cache from memory to Redis
sim options:    --replicas N (default 2)  --base-port P (default 8100)  --model NAME
                --lora NAME (repeatable)  --speed-up X  --metrics-mode engine|fixed  --host ADDR

serve options:
  --port N            plaintext h2c gRPC port (default 8080)
  --admin-port N      admin HTTP port: /healthz /readyz /metrics (default 8081)
  --config FILE       YAML with 'server:' and 'service:' sections
  --host ADDR         bind address (default 0.0.0.0)
  --tls-cert F --tls-key F   TLS gRPC listener (port --tls-port, default 8443)
  --tls-self-signed   TLS with a generated self-signed pair (development)
  --tls-client-ca F   require client certificates signed by this CA (mTLS)
  --log-level L       fatal|error|warn|info|debug|trace|silent
environment: CALLOUTS_CONFIG, CALLOUTS_PORT, CALLOUTS_ADMIN_PORT, CALLOUTS_HOST, CALLOUTS_TLS_CERT,
  CALLOUTS_TLS_KEY, CALLOUTS_TLS_PORT, CALLOUTS_LOG_LEVEL (flags win over environment, environment over file)
`;

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serve(rest);
    case "start":
      return runStart(rest);
    case "sim":
      return runSim(rest);
    case "list":
      process.stdout.write(`${knownServices.join("\n")}\n`);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`callouts: unknown command ${JSON.stringify(command)}\n\n${usage}`);
      return 2;
  }
}

async function serve(args: string[]): Promise<number | undefined> {
  let parsed: ReturnType<typeof parseServeArgs>;
  try {
    parsed = parseServeArgs(args);
  } catch (error) {
    process.stderr.write(`callouts serve: ${(error as Error).message}\n`);
    return 2;
  }
  const name = parsed.positionals[0];
  if (!name || !knownServices.includes(name)) {
    process.stderr.write(
      `callouts serve: ${name ? `unknown service ${JSON.stringify(name)}` : "missing service"}; known services: ${knownServices.join(", ")}\n`,
    );
    return 2;
  }
  const module = await loadServiceModule(name);
  if (!module) {
    process.stderr.write(`callouts serve: service ${name} is not built into this release\n`);
    return 2;
  }
  const v = parsed.values;
  const number = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${flag} must be a port number, got ${value}`);
    return n;
  };
  let flags: ConfigOverrides;
  try {
    flags = {
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
    };
  } catch (error) {
    process.stderr.write(`callouts serve: ${(error as Error).message}\n`);
    return 2;
  }
  await runService(module, flags);
  return undefined; // keeps running until a signal
}

function parseServeArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
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
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`callouts: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
