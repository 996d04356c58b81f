import type { HeaderMap } from "@llm-callouts/ext-proc";
import type { ChatRequest } from "./chat-request.js";

/** What the cache may do for one request. */
export interface CachePolicy {
  /** Look up L1 (and L2 when `semantic`). */
  readonly lookup: boolean;
  /** Store the answer on a miss. */
  readonly store: boolean;
  /** Semantic layer allowed (short, text-only conversation). */
  readonly semantic: boolean;
  /** Why lookup or store is off, for logs and the bypass metric. */
  readonly reason: PolicyReason | undefined;
}

export type PolicyReason = "bypass-header" | "no-store" | "no-cache" | "temperature" | "multiple-choices";

/** Options of {@link decidePolicy}. */
export interface PolicyOptions {
  readonly bypassHeader: string;
  readonly maxTemperature: number;
  readonly maxSemanticTurns: number;
  readonly semantic: boolean;
}

/** The directive names of every `Cache-Control` header (RFC 9111 §5.2), lower-cased. */
export function cacheControlDirectives(headers: HeaderMap): Set<string> {
  return new Set(
    headers
      .getAll("cache-control")
      .flatMap((value) => value.split(","))
      .map((d) => d.trim().toLowerCase().split("=")[0]!.trim()),
  );
}

/**
 * Why an upstream response must not be stored, or undefined: `no-store`, or `private` (this is a
 * shared cache, RFC 9111 §3: tenant partitions do not make it a private one).
 */
export function responseForbidsStore(headers: HeaderMap): "no-store" | "private" | undefined {
  const directives = cacheControlDirectives(headers);
  if (directives.has("no-store")) return "no-store";
  if (directives.has("private")) return "private";
  return undefined;
}

/**
 * Request policy, pure. `Cache-Control: no-store` or the bypass header: neither
 * lookup nor store; `no-cache`: no lookup, store the fresh answer; `n > 1` and
 * temperatures above the maximum (a missing temperature counts as 1) are never
 * cached; conversations with more user turns than `maxSemanticTurns` use L1 only.
 */
export function decidePolicy(headers: HeaderMap, request: ChatRequest, options: PolicyOptions): CachePolicy {
  const off = (reason: PolicyReason, store = false): CachePolicy => ({
    lookup: false,
    store,
    semantic: false,
    reason,
  });
  const bypass = headers.get(options.bypassHeader)?.trim().toLowerCase();
  if (bypass !== undefined && bypass !== "" && bypass !== "0" && bypass !== "false") return off("bypass-header");
  const directives = cacheControlDirectives(headers);
  if (directives.has("no-store")) return off("no-store");
  if (request.choices > 1) return off("multiple-choices");
  if ((request.temperature ?? 1) > options.maxTemperature) return off("temperature");
  if (directives.has("no-cache")) return off("no-cache", true);
  const semantic =
    options.semantic && request.lastUserText !== undefined && request.userTurns <= options.maxSemanticTurns;
  return { lookup: true, store: true, semantic, reason: undefined };
}
