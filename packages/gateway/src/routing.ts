import type { Header } from "@llm-callouts/ext-proc";
import type { PoolSpec } from "./config.js";

/** The route table: the pool whose models include the model header's value. */
export function selectPool(
  headers: readonly Header[],
  modelHeader: string,
  pools: readonly PoolSpec[],
): PoolSpec | undefined {
  const model = headers.find(([n]) => n === modelHeader)?.[1];
  if (model === undefined) return pools.length === 1 ? pools[0] : undefined;
  return pools.find((p) => p.models.includes(model));
}

/**
 * Destinations in order: the picker's header (a comma list: primary then fallbacks), else
 * the `envoy.lb` metadata value, else the pool's endpoints starting at a rotating offset.
 */
export function destinations(
  headers: readonly Header[],
  endpointHeader: string,
  metadataValue: unknown,
  pool: PoolSpec | undefined,
  rotation: number,
): string[] {
  const fromHeader = headers.find(([n]) => n === endpointHeader)?.[1];
  const picked = fromHeader ?? (typeof metadataValue === "string" ? metadataValue : undefined);
  if (picked) return splitList(picked);
  const endpoints = pool?.endpoints ?? [];
  if (endpoints.length === 0) return [];
  const start = rotation % endpoints.length;
  return [...endpoints.slice(start), ...endpoints.slice(0, start)];
}

export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** `10.0.0.1:8000` or `[::1]:8000` -> host and port. */
export function parseHostPort(endpoint: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint);
  if (!match) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1]!, port } : undefined;
}
