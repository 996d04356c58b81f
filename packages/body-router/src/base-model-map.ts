import { formatIssues } from "@llm-callouts/ext-proc";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/**
 * LoRA adapter -> base model mapping, in the shape of GIE's base-model ConfigMaps
 * (`baseModel` plus its `adapters`). A base model maps to itself, so routes can match
 * the base model header for a base and all of its adapters.
 */

/** One base model and the adapters served on top of it. */
export interface BaseModelEntry {
  readonly baseModel: string;
  readonly adapters: readonly string[];
}

/** Model name (base or adapter) -> base model name. */
export type BaseModelIndex = ReadonlyMap<string, string>;

export const baseModelEntrySchema = z.strictObject({
  baseModel: z.string().min(1),
  adapters: z.array(z.string().min(1)).default([]),
});

const listSchema = z.array(baseModelEntrySchema);
const documentSchema = z.strictObject({ baseModels: listSchema }).transform((doc) => doc.baseModels);

/** Indexes entries; every model and adapter name must be unique across entries. */
export function buildBaseModelIndex(
  entries: readonly BaseModelEntry[],
): { readonly value: BaseModelIndex } | { readonly error: string } {
  const index = new Map<string, string>();
  for (const [k, entry] of entries.entries()) {
    for (const name of [entry.baseModel, ...entry.adapters]) {
      const existing = index.get(name);
      if (existing !== undefined && !(existing === entry.baseModel && name === entry.baseModel)) {
        return { error: `[${k}]: "${name}" is already mapped to base model "${existing}"` };
      }
      index.set(name, entry.baseModel);
    }
  }
  return { value: index };
}

/**
 * Parses a mapping file: YAML or JSON, either a list of `{baseModel, adapters}` or
 * `{baseModels: [...]}`.
 */
export function parseBaseModelFile(text: string): { readonly value: BaseModelIndex } | { readonly error: string } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    return { error: `not YAML/JSON: ${(cause as Error).message}` };
  }
  const parsed = Array.isArray(doc) || doc == null ? listSchema.safeParse(doc ?? []) : documentSchema.safeParse(doc);
  if (!parsed.success) {
    return {
      error: formatIssues("", parsed.error).join("; "),
    };
  }
  return buildBaseModelIndex(parsed.data);
}
