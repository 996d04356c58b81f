import {
  ProcessingMode_BodySendMode,
  ProcessingMode_HeaderSendMode,
} from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";

/**
 * The emulator's own vocabulary for HTTP messages and Envoy's processing modes. It depends on
 * nothing but the generated protos, so it stays an encoding of Envoy's rules independent of the
 * SDK it tests (the shapes match the SDK's structurally: a header is a `[name, value]` pair).
 */

/** One HTTP header; names are lower-case once the filter has them. */
export type Header = readonly [name: string, value: string];

/** Headers as a test writes them: a record (one value per name) or a list. */
export type HeaderInput = Readonly<Record<string, string>> | readonly Header[];

export type Direction = "request" | "response";

/** `ProcessingMode.BodySendMode`, by name (GRPC is not modelled). */
export type BodyMode = "NONE" | "STREAMED" | "BUFFERED" | "BUFFERED_PARTIAL" | "FULL_DUPLEX_STREAMED";

/** `ProcessingMode.HeaderSendMode`, by name (also used for trailers). */
export type HeaderSendMode = "DEFAULT" | "SEND" | "SKIP";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function toHeaderList(input: HeaderInput): Header[] {
  return Array.isArray(input) ? [...(input as readonly Header[])] : Object.entries(input as Record<string, string>);
}

const encoder = new TextEncoder();

/** `HeaderMap` as Envoy writes it: lower-case keys, values in `raw_value` only. */
export function writeHeaderMap(headers: Iterable<Header>): { headers: { key: string; rawValue: Uint8Array }[] } {
  return { headers: [...headers].map(([key, value]) => ({ key: key.toLowerCase(), rawValue: encoder.encode(value) })) };
}

export function bodyModeValue(mode: BodyMode): ProcessingMode_BodySendMode {
  return ProcessingMode_BodySendMode[mode];
}

/** Wire enum -> name; GRPC and unknown values read as NONE (Envoy's unsupported-mode fallback). */
export function bodyModeName(mode: ProcessingMode_BodySendMode): BodyMode {
  const name = ProcessingMode_BodySendMode[mode];
  return name === undefined || name === "GRPC" ? "NONE" : (name as BodyMode);
}

export function headerModeName(mode: ProcessingMode_HeaderSendMode): HeaderSendMode {
  return (ProcessingMode_HeaderSendMode[mode] as HeaderSendMode | undefined) ?? "DEFAULT";
}

export function toBytes(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === "string" ? encoder.encode(chunk) : chunk;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
