import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { toJson } from "@bufbuild/protobuf";
import {
  decideModeOverride,
  modeSpecFromWire,
  type OverrideSettings,
  type OverrideVerdict,
  type ProcessingModeSpec,
} from "@llm-callouts/envoy-emulator";
import type { ModeOverride } from "@llm-callouts/ext-proc";
import { buildModeOverride } from "@llm-callouts/ext-proc/testing";
import type { ExternalProcessor } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/ext_proc_pb";
import {
  type ProcessingMode,
  ProcessingModeSchema,
} from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import { parseAllDocuments, parse as parseYaml } from "yaml";

/** Repository root (this file is test/deploy/deploy-files.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A path relative to the repository root. */
export function repoPath(path: string): string {
  return join(repoRoot, path);
}

export function readText(path: string): string {
  return readFileSync(repoPath(path), "utf8");
}

/** One YAML document; throws on syntax errors and on warnings (duplicate keys etc.). */
export function readYaml<T = unknown>(path: string): T {
  return parseYaml(readText(path), { strict: true, uniqueKeys: true }) as T;
}

/** A YAML document with where it came from. */
export interface YamlDoc {
  readonly file: string;
  readonly index: number;
  readonly value: Record<string, unknown>;
}

/** Every document of a multi-document YAML file; a parse error or warning throws. */
export function readYamlDocs(path: string): YamlDoc[] {
  const docs = parseAllDocuments(readText(path), { strict: true, uniqueKeys: true });
  if (!Array.isArray(docs)) throw new Error(`${path}: empty document stream`);
  return docs.map((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${path}#${index}: ${problems.map((p) => p.message).join("; ")}`);
    return { file: path, index, value: doc.toJS() as Record<string, unknown> };
  });
}

/** `*.yaml` files under a repository folder, recursively, repository-relative and sorted. */
export function yamlFilesUnder(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith(".yaml")) out.push(relative(repoRoot, full));
    }
  };
  walk(repoPath(folder));
  return out.sort();
}

/** Narrowing helpers for untyped YAML (a wrong shape fails the test with the path). */
export function obj(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${where}: expected a mapping, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

export function arr(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

export function str(value: unknown, where: string): string {
  if (typeof value !== "string") throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

/** The chain's model names and pools, shared by every deployment target. */
export const models = {
  llama: "meta-llama/Llama-3.1-8B-Instruct",
  qwen: "Qwen/Qwen2.5-7B-Instruct",
} as const;

/** Callout services by deployment name (compose service, Kubernetes Service, Envoy cluster). */
export const callouts = ["body-router", "guardrail", "semantic-cache", "picker-llama", "picker-qwen"] as const;

/** The settings of an Envoy ext_proc filter block that decide its handling of `mode_override`. */
export function overrideSettings(filter: ExternalProcessor): OverrideSettings {
  // Protobuf JSON names the enums as the emulator does and leaves DEFAULT / NONE fields out.
  const mode = (m: ProcessingMode) => toJson(ProcessingModeSchema, m) as ProcessingModeSpec;
  return {
    processingMode: filter.processingMode ? mode(filter.processingMode) : undefined,
    allowModeOverride: filter.allowModeOverride,
    sendBodyWithoutWaitingForHeaderResponse: filter.sendBodyWithoutWaitingForHeaderResponse,
    allowedOverrideModes: filter.allowedOverrideModes.map(mode),
  };
}

/**
 * What Envoy does with a processor's override as the SDK puts it on the wire to this filter: the
 * SDK keeps the body modes it does not change at the ones protocol_config told it.
 */
export function envoyVerdict(settings: OverrideSettings, override: ModeOverride): OverrideVerdict {
  const configured = settings.processingMode;
  const wire = buildModeOverride(override, {
    requestBody: configured?.requestBodyMode ?? "NONE",
    responseBody: configured?.responseBodyMode ?? "NONE",
  });
  return decideModeOverride(settings, modeSpecFromWire(wire));
}

const gcpBodyModes: Record<string, ProcessingModeSpec["requestBodyMode"]> = {
  BODY_SEND_MODE_STREAMED: "STREAMED",
  BODY_SEND_MODE_FULL_DUPLEX_STREAMED: "FULL_DUPLEX_STREAMED",
  Streamed: "STREAMED",
  FullDuplexStreamed: "FULL_DUPLEX_STREAMED",
};

/**
 * A GCP / GKE extension's body modes as the filter settings its Envoy-based data plane runs
 * with. Overrides are taken as allowed (the most permissive reading: no GCP field restricts them),
 * so a verdict that still ignores them is Envoy's own rule.
 */
export function gcpOverrideSettings(extension: Record<string, unknown>): OverrideSettings {
  const body = (value: unknown) => (value === undefined ? "NONE" : gcpBodyModes[String(value)]);
  return {
    processingMode: {
      requestBodyMode: body(extension.requestBodySendMode),
      responseBodyMode: body(extension.responseBodySendMode),
    },
    allowModeOverride: true,
  };
}
