import { create } from "@bufbuild/protobuf";
import {
  type HeaderValueOption,
  HeaderValueOption_HeaderAppendAction,
  HeaderValueOptionSchema,
  HeaderValueSchema,
  type HeaderMap as PbHeaderMap,
} from "@llm-callouts/proto/gen/envoy/config/core/v3/base_pb";
import {
  HeaderMutationSchema,
  type HeaderMutation as PbHeaderMutation,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { createHeaderMap, type Header, type HeaderMap, headerMapOfLowerCase, toHeaderList } from "../headers.js";
import type { HeaderMutation } from "../processor.js";

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Reads Envoy's header map. Values come in `raw_value` since Envoy 1.28 (the `value`
 * path was removed in 1.32); older Envoys and some clients still fill `value`.
 */
export function readHeaderMap(map: PbHeaderMap | undefined): HeaderMap {
  if (!map) return createHeaderMap();
  const list: Header[] = [];
  for (const h of map.headers) {
    const key = h.key;
    // Envoy sends lower-case names; anything else is lower-cased once here.
    list.push([isLowerCase(key) ? key : key.toLowerCase(), h.rawValue.length > 0 ? utf8.decode(h.rawValue) : h.value]);
  }
  return headerMapOfLowerCase(list);
}

function isLowerCase(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return false;
  }
  return true;
}

/** Encodes a plain header list for a ProcessingRequest (test client side): raw_value only. */
export function writeHeaderMap(headers: Iterable<Header>): { headers: { key: string; rawValue: Uint8Array }[] } {
  return { headers: [...headers].map(([key, value]) => ({ key: key.toLowerCase(), rawValue: encoder.encode(value) })) };
}

/**
 * Headers a processor may never change: Envoy ignores (or errors on) them without
 * `mutation_rules.allow_all_routing` / `allow_envoy`, and GCP forbids them in traffic
 * extensions (Envoy's default mutation rules, Checker::isAllowed in mutation_rules.cc; GCP
 * traffic extensions reject changes to host, :authority, :scheme, :method and x-envoy-*).
 */
export function isProtectedHeader(name: string): boolean {
  return (
    name === "host" || name === ":authority" || name === ":method" || name === ":scheme" || name.startsWith("x-envoy-")
  );
}

/** Result of building a mutation: what goes on the wire and what was refused. */
export interface BuiltHeaderMutation {
  readonly mutation: PbHeaderMutation | undefined;
  readonly refused: readonly string[];
}

/**
 * Builds a wire HeaderMutation: lower-case keys, values only in `raw_value`, and
 * `append` set explicitly together with `append_action`, because Envoy's ext_proc
 * reads only the deprecated `append` while GCP reads `append_action` (envoy #38946).
 */
export function buildHeaderMutation(
  change: HeaderMutation | undefined,
  extraSet: readonly Header[] = [],
): BuiltHeaderMutation {
  const refused: string[] = [];
  const setHeaders: HeaderValueOption[] = [];
  const removeHeaders: string[] = [];
  const add = (pairs: readonly Header[], append: boolean) => {
    for (const [rawName, value] of pairs) {
      const name = rawName.toLowerCase();
      if (isProtectedHeader(name)) {
        refused.push(name);
        continue;
      }
      setHeaders.push(headerOption(name, value, append));
    }
  };
  const extraNames = new Set(extraSet.map(([n]) => n.toLowerCase()));
  if (change?.set)
    add(
      toHeaderList(change.set).filter(([n]) => !extraNames.has(n.toLowerCase())),
      false,
    );
  add(extraSet, false);
  if (change?.append) add(toHeaderList(change.append), true);
  for (const rawName of change?.remove ?? []) {
    const name = rawName.toLowerCase();
    if (isProtectedHeader(name) || name.startsWith(":")) refused.push(name);
    else if (!extraNames.has(name)) removeHeaders.push(name);
  }
  if (setHeaders.length === 0 && removeHeaders.length === 0) return { mutation: undefined, refused };
  return { mutation: create(HeaderMutationSchema, { setHeaders, removeHeaders }), refused };
}

function headerOption(name: string, value: string, append: boolean): HeaderValueOption {
  return create(HeaderValueOptionSchema, {
    header: create(HeaderValueSchema, { key: name, rawValue: encoder.encode(value) }),
    append,
    appendAction: append
      ? HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD
      : HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
    keepEmptyValue: value === "",
  });
}
