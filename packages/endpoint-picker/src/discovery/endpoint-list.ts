import { formatIssues } from "@llm-callouts/ext-proc";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { EndpointSpec } from "../datastore.js";

export const engineTypeSchema = z.enum(["vllm", "sglang", "trtllm-serve", "triton-trtllm"]);

/** One endpoint in config or in a watched file. */
export const endpointSpecSchema = z.strictObject({
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  engine: engineTypeSchema.default("vllm"),
  labels: z.record(z.string(), z.string()).default({}),
  metricsPort: z.number().int().min(1).max(65535).optional(),
});

const fileSchema = z.union([z.array(endpointSpecSchema), z.strictObject({ endpoints: z.array(endpointSpecSchema) })]);

/** Parses an endpoints file (YAML or JSON): a list, or `{ endpoints: [...] }`. */
export function parseEndpointList(text: string): { value: EndpointSpec[] } | { error: string } {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    return { error: `invalid YAML: ${(err as Error).message}` };
  }
  const parsed = fileSchema.safeParse(raw ?? []);
  if (!parsed.success) {
    return {
      error: formatIssues("", parsed.error).join("; "),
    };
  }
  return { value: Array.isArray(parsed.data) ? parsed.data : parsed.data.endpoints };
}
