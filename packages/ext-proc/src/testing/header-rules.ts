import type { HeaderMutation } from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import type { Header } from "../headers.js";

const decoder = new TextDecoder();
const validName = /^:?[a-z0-9!#$%&'*+.^_`|~-]+$/;
// Header values: visible ASCII, space, tab and obs-text; no CR, LF or NUL.
const invalidValue = /[\r\n\0]/;
const maxBytes = 16_384;

/** Raised for a mutation Envoy turns into a stream error. */
export class MutationError extends Error {
  override readonly name = "MutationError";
}

/** Envoy's default mutation rules without `mutation_rules`: these never change. */
export function isDisallowedByDefault(name: string): boolean {
  return (
    name === "host" || name === ":authority" || name === ":scheme" || name === ":method" || name.startsWith("x-envoy-")
  );
}

/**
 * Applies a HeaderMutation as Envoy's ext_proc filter does:
 * - only the deprecated `append` BoolValue is read (unset/false = overwrite, true = append);
 *   `append_action` is ignored (envoy #38946);
 * - both `value` and `raw_value` set is an InvalidArgument error; bad names/values error;
 * - host, :authority, :scheme, :method and x-envoy-* are refused and counted (or an error
 *   with `disallow_is_error`); removing `:`-headers or host is ignored.
 * Returns the new list and the number of refused changes.
 */
export function applyHeaderMutation(
  headers: readonly Header[],
  mutation: HeaderMutation | undefined,
  disallowIsError: boolean,
): { headers: Header[]; rejected: number } {
  let list = [...headers];
  let rejected = 0;
  if (!mutation) return { headers: list, rejected };
  const refuse = (name: string) => {
    if (disallowIsError) throw new MutationError(`mutation of ${name} is not allowed`);
    rejected++;
  };
  for (const name of mutation.removeHeaders) {
    const key = name.toLowerCase();
    if (key.startsWith(":") || key === "host") continue;
    if (isDisallowedByDefault(key)) {
      refuse(key);
      continue;
    }
    list = list.filter(([n]) => n !== key);
  }
  for (const option of mutation.setHeaders) {
    const header = option.header;
    if (!header) throw new MutationError("set_headers entry without a header");
    const key = header.key;
    if (header.value !== "" && header.rawValue.length > 0) {
      throw new MutationError(`header ${key}: both value and raw_value are set`);
    }
    if (!validName.test(key) || key.length > maxBytes)
      throw new MutationError(`invalid header name ${JSON.stringify(key)}`);
    const value = header.rawValue.length > 0 ? decoder.decode(header.rawValue) : header.value;
    if (invalidValue.test(value) || header.rawValue.length > maxBytes) {
      throw new MutationError(`invalid value for header ${key}`);
    }
    if (isDisallowedByDefault(key)) {
      refuse(key);
      continue;
    }
    if (value === "" && !option.keepEmptyValue) {
      // Envoy skips empty values unless keep_empty_value is set.
      continue;
    }
    if (option.append === true) list.push([key, value]);
    else list = [...list.filter(([n]) => n !== key), [key, value]];
  }
  return { headers: list, rejected };
}
