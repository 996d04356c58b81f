import type { HeaderMutation } from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import type { Header } from "./http.js";

const decoder = new TextDecoder();
// HeaderUtility::headerNameIsValid: pseudo-headers by HTTP/2 rules (lower case), other names by
// HTTP/1 token rules, which allow upper case (LowerCaseString lower-cases them afterwards).
const validPseudoName = /^:[a-z0-9!#$%&'*+.^_`|~-]+$/;
const validName = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
// HeaderUtility::headerValueIsValid: no CR, LF or NUL.
const invalidValue = /[\r\n\0]/;

/** Raised for a mutation Envoy rejects with an error status (a local reply with `status_on_error`). */
export class MutationError extends Error {
  override readonly name = "MutationError";
  constructor(
    message: string,
    /** The headers as far as the mutation got (Envoy mutates in place until the error). */
    readonly partial: Header[],
    /** Changes rejected before and including this one (rejected_header_mutations). */
    readonly rejected: number,
  ) {
    super(message);
  }
}

/** The parts of Envoy's configuration that decide what a header mutation may do. */
export interface MutationRules {
  /** `mutation_rules.disallow_is_error`: a disallowed change fails the request instead of being ignored. */
  readonly disallowIsError?: boolean;
  /** HCM `common_http_protocol_options.max_headers_count` (Envoy's default 100). */
  readonly maxHeadersCount?: number;
  /** HCM `max_request_headers_kb` (Envoy's default 60). */
  readonly maxHeadersKb?: number;
  /** ProcessorState::shouldRemoveContentLength(): set_headers of content-length are skipped. */
  readonly removeContentLength?: boolean;
  /** CONTINUE_AND_REPLACE: `:method` may change. */
  readonly replacingMessage?: boolean;
}

/** Checker::extraRoutingHeaders() plus `host`: never changed without `allow_all_routing`. */
const routingHeaders = new Set(["host", ":authority", ":scheme", ":method"]);

/** Envoy's default mutation rules without `mutation_rules` (Checker::isAllowed). */
export function isAllowedByDefault(op: "set" | "append" | "remove", name: string): boolean {
  if (op === "remove" && (name.startsWith(":") || name === "host")) return false;
  if (routingHeaders.has(name)) return false;
  if (name.startsWith(":") && op === "append") return false;
  return !name.startsWith("x-envoy-");
}

/** Checker::isValidValue for the headers Envoy checks specially. */
function isValidValue(name: string, value: string): boolean {
  if (!name.startsWith(":") && invalidValue.test(value)) return false;
  if (name === ":scheme") return value === "http" || value === "https";
  if (name === ":status") return /^\d+$/.test(value) && Number(value) >= 200;
  return true;
}

function byteSize(headers: readonly Header[]): number {
  let n = 0;
  for (const [k, v] of headers) n += k.length + v.length;
  return n;
}

/**
 * Applies a HeaderMutation as Envoy's ext_proc filter does (MutationUtils::applyHeaderMutations
 * with Checker::check, envoy main of December 2025):
 * - more remove or set entries than `max_headers_count` is an error;
 * - an invalid name in remove_headers, or an invalid name or value in set_headers, is an error;
 * - only `raw_value` is read (a header with only `value` is set to the empty string; both set is
 *   not an error), names are lower-cased, `keep_empty_value` is not consulted;
 * - only the deprecated `append` BoolValue is read; `append_action` is ignored;
 * - a disallowed change (host, :authority, :scheme, :method, x-envoy-*, removing a `:`-header or
 *   host, appending to a `:`-header, an invalid :status or :scheme) is ignored and counted, or an
 *   error with `disallow_is_error`;
 * - a result over `max_request_headers_kb` or `max_headers_count` is an error.
 * Returns the new list and the number of rejected changes; throws MutationError on an error.
 */
export function applyHeaderMutation(
  headers: readonly Header[],
  mutation: HeaderMutation | undefined,
  rules: MutationRules = {},
): { headers: Header[]; rejected: number } {
  let list = [...headers];
  let rejected = 0;
  if (!mutation) return { headers: list, rejected };
  const maxCount = rules.maxHeadersCount ?? 100;
  const maxBytes = (rules.maxHeadersKb ?? 60) * 1024;
  const fail = (message: string): never => {
    rejected++;
    throw new MutationError(message, list, rejected);
  };
  if (mutation.removeHeaders.length > maxCount || mutation.setHeaders.length > maxCount) {
    fail("header_mutation_operation_count_exceeds_limit");
  }
  const disallowed = (name: string) => {
    if (rules.disallowIsError) fail(`header_mutation_disallowed: ${name}`);
    rejected++;
  };
  for (const raw of mutation.removeHeaders) {
    if (!(raw.startsWith(":") ? validPseudoName : validName).test(raw)) {
      fail("header_mutation_remove_contains_invalid_character");
    }
    const name = raw.toLowerCase();
    if (!isAllowedByDefault("remove", name)) {
      disallowed(name);
      continue;
    }
    list = list.filter(([n]) => n !== name);
  }
  for (const option of mutation.setHeaders) {
    const header = option.header;
    if (!header) continue;
    if (rules.removeContentLength && header.key.toLowerCase() === "content-length") continue;
    const value = decoder.decode(header.rawValue);
    const nameOk = (header.key.startsWith(":") ? validPseudoName : validName).test(header.key);
    if (!nameOk || invalidValue.test(value)) fail("header_mutation_set_contains_invalid_character");
    const name = header.key.toLowerCase();
    const append = option.append === true;
    const op = append && list.some(([n]) => n === name) ? "append" : "set";
    const allowed =
      (rules.replacingMessage === true && name === ":method") ||
      (isAllowedByDefault(op, name) && isValidValue(name, value));
    if (!allowed) {
      disallowed(name);
      continue;
    }
    if (append) list.push([name, value]);
    else {
      const at = list.findIndex(([n]) => n === name);
      if (at === -1) list.push([name, value]);
      else list = [...list.slice(0, at), [name, value], ...list.slice(at + 1).filter(([n]) => n !== name)];
    }
  }
  if (byteSize(list) > maxBytes || list.length > maxCount) fail("header_mutation_result_exceeds_limit");
  return { headers: list, rejected };
}
