import type { JsonObject } from "@bufbuild/protobuf";
import type { Metadata } from "@llm-callouts/proto/gen/envoy/config/core/v3/base_pb";
import type { DynamicMetadata, ForwardedMetadata, JsonValue } from "../processor.js";

// protobuf-es v2 represents google.protobuf.Struct fields as plain JSON objects.

/** Dynamic metadata as the Struct whose top-level keys are namespaces. */
export function toStruct(metadata: DynamicMetadata): JsonObject {
  return metadata as JsonObject;
}

/** `metadata_context.filter_metadata` as plain data. */
export function readForwardedMetadata(metadata: Metadata | undefined): ForwardedMetadata {
  return (metadata?.filterMetadata ?? {}) as ForwardedMetadata;
}

/** `attributes` (map<string, Struct>) as plain data. */
export function readAttributes(attributes: Record<string, JsonObject> | undefined) {
  return (attributes ?? {}) as Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;
}

/** Merges namespace maps; later fields win within a namespace. */
export function mergeMetadata(...parts: (DynamicMetadata | undefined)[]): DynamicMetadata | undefined {
  let merged: Record<string, Record<string, JsonValue>> | undefined;
  for (const part of parts) {
    if (!part) continue;
    merged ??= {};
    for (const [ns, fields] of Object.entries(part)) merged[ns] = { ...merged[ns], ...fields };
  }
  return merged;
}
