import { createHash } from "node:crypto";
import type { HeaderMap } from "@llm-callouts/ext-proc";
import type { ChatRequest } from "./chat-request.js";

/** Where tenants come from (see config `tenant`). */
export interface TenantOptions {
  /** Trusted header naming the tenant; empty = use `hashHeaders`. */
  readonly header: string;
  /** Credentials whose hash identifies the tenant (raw values are never stored). */
  readonly hashHeaders: readonly string[];
}

/** Hex SHA-256 of the parts joined by a separator that cannot occur in hex or JSON keys. */
export function hashOf(...parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\u0000");
  return hash.digest("hex");
}

/**
 * The tenant of a request: the configured header's value, else a hash of the first
 * credential header present, else `anonymous`. Always returned hashed, so neither
 * keys nor tenant names reach the store. `undefined` when the header that decides is
 * repeated: a proxy that appends its trusted tenant after a client's copy would otherwise
 * let the client's win, so such a request gets no cache at all.
 */
export function tenantOf(headers: HeaderMap, options: TenantOptions): string | undefined {
  if (options.header) {
    const values = headers.getAll(options.header);
    if (values.length > 1) return undefined;
    if (values[0]) return hashOf("tenant", values[0]).slice(0, 32);
  }
  for (const name of options.hashHeaders) {
    const values = headers.getAll(name);
    if (values.length > 1) return undefined;
    if (values[0]) return hashOf("credential", values[0].trim()).slice(0, 32);
  }
  return "anonymous";
}

/** Everything a request must share with an entry to ever see it. */
export interface PartitionParts {
  readonly tenant: string;
  readonly generation: number;
  readonly embedderId: string;
}

/**
 * Hard partition: tenant, model, system prompt and prior turns, parameter class,
 * embedder id and generation. A request can only hit entries of its own partition
 * (a separate Redis key per partition, never a soft prefix inside the embedded text).
 */
export function partitionOf(request: ChatRequest, parts: PartitionParts): string {
  const context = request.messages.slice(0, -1).map((m) => `${m.role}:${m.canonical}`);
  return hashOf(
    "partition-v1",
    parts.tenant,
    String(parts.generation),
    request.model,
    hashOf(...context),
    request.parameters,
    parts.embedderId,
  ).slice(0, 40);
}

/** L1 key: the partition plus the last message, i.e. the whole normalised request. */
export function exactKeyOf(request: ChatRequest, partition: string): string {
  const last = request.messages[request.messages.length - 1];
  return hashOf("exact-v1", partition, last ? `${last.role}:${last.canonical}` : "").slice(0, 40);
}
