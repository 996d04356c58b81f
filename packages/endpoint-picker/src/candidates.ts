import type { Endpoint } from "./scheduling/types.js";

/**
 * Parses the subset hint (`envoy.lb.subset_hint` / `x-gateway-destination-endpoint-subset`):
 * a list of strings, or a comma-separated string (header-to-metadata filters produce flat
 * strings, as GIE's LWEPP accepts). Non-string list items are ignored (as GIE).
 * Returns undefined when the value is absent.
 */
export function parseSubsetHint(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [];
  return items
    .filter((v): v is string => typeof v === "string")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** Splits `ip:port`, `[v6]:port`, `ip` or `[v6]` into host and optional port. */
export function splitHostPort(entry: string): { host: string; port: number | undefined } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { host: v6[1] as string, port: v6[2] === undefined ? undefined : Number(v6[2]) };
  const colons = entry.split(":").length - 1;
  if (colons === 1) {
    const [host, port] = entry.split(":") as [string, string];
    return { host, port: /^\d+$/.test(port) ? Number(port) : undefined };
  }
  return { host: entry, port: undefined }; // bare IPv4, hostname or unbracketed IPv6
}

/** Formats `host:port`, bracketing IPv6 (net.JoinHostPort). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Endpoints named by the subset, matched by IP with the port ignored, as GIE's subset filter
 * does (`strings.Split(endpoint, ":")[0]` against the pod address): an entry `10.0.0.1:8000`
 * admits every rank of that pod. Where we differ: a bracketed IPv6 entry (`[fd00::1]:8000`) is
 * parsed properly, where GIE's split on the first colon matches nothing.
 */
export function filterBySubset(endpoints: readonly Endpoint[], subset: readonly string[]): Endpoint[] {
  const hosts = new Set(subset.map((entry) => splitHostPort(entry).host));
  return endpoints.filter((e) => hosts.has(e.address));
}

/** True when the endpoint's metrics are older than `stalenessMs`. */
export function isStale(endpoint: Endpoint, nowMs: number, stalenessMs: number): boolean {
  return nowMs - endpoint.metrics.updatedAtMs > stalenessMs;
}

/** Endpoints with fresh metrics; all of them when every endpoint is stale (fail-open). */
export function freshOrAll(endpoints: readonly Endpoint[], nowMs: number, stalenessMs: number): readonly Endpoint[] {
  const fresh = endpoints.filter((e) => !isStale(e, nowMs, stalenessMs));
  return fresh.length > 0 ? fresh : endpoints;
}
