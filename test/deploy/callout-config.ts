import { serviceModule as bodyRouter } from "@llm-callouts/body-router";
import { serviceModule as endpointPicker } from "@llm-callouts/endpoint-picker";
// The SDK does not export its `server:` schema; the test reads it from source (see the report).
import { serverConfigSchema } from "@llm-callouts/ext-proc";
import { serviceModule as guardrail } from "@llm-callouts/guardrail";
import { serviceModule as semanticCache } from "@llm-callouts/semantic-cache";

interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}
type SafeParse = (value: unknown) => { success: true; data: unknown } | { success: false; error: { issues: Issue[] } };

const modules: Record<string, { readonly configSchema: { safeParse: SafeParse } }> = {
  "body-router": bodyRouter,
  guardrail,
  "semantic-cache": semanticCache,
  "endpoint-picker": endpointPicker,
};

/** What the CLI's loader would see: `server` parsed, `service` parsed by the service's schema. */
export interface ParsedCalloutConfig {
  readonly server: ReturnType<typeof serverConfigSchema.parse>;
  readonly service: unknown;
}

/**
 * Validates a callout config file's content exactly as `callouts serve <service> --config` does:
 * only `server` and `service` at the top, the SDK's server schema, the service's own strict schema.
 * Returns the issues (empty when valid) and the parsed value.
 */
export function parseCalloutConfig(service: string, raw: unknown): { value?: ParsedCalloutConfig; issues: string[] } {
  const module = modules[service];
  if (!module) return { issues: [`unknown service ${service}`] };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { issues: ["config must be a mapping"] };
  const record = raw as Record<string, unknown>;
  const issues = Object.keys(record)
    .filter((k) => k !== "server" && k !== "service")
    .map((k) => `unknown top-level key ${k}`);
  const server = serverConfigSchema.safeParse(record.server ?? {});
  if (!server.success)
    issues.push(...server.error.issues.map((i) => `server.${i.path.map(String).join(".")}: ${i.message}`));
  const parsed = module.configSchema.safeParse(record.service ?? {});
  if (!parsed.success)
    issues.push(...parsed.error.issues.map((i) => `service.${i.path.map(String).join(".")}: ${i.message}`));
  if (issues.length > 0 || !server.success || !parsed.success) return { issues };
  return { value: { server: server.data, service: parsed.data }, issues };
}
