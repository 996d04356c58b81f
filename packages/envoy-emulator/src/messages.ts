import { randomUUID } from "node:crypto";
import { type Direction, type Header, toBytes, toHeaderList } from "./http.js";
import type { BodySource, HttpMessage } from "./types.js";

const encoder = new TextEncoder();

/** A local reply: an immediate response from the server, or an Envoy error reply. */
export class LocalReply {
  constructor(
    readonly status: number,
    readonly headers: Header[],
    readonly body: Uint8Array,
    readonly details: string,
    /** true for the server's immediate_response, false for Envoy's own error replies. */
    readonly immediate: boolean,
  ) {}

  /** One of Envoy's own error replies (`text/plain`, the details as body). */
  static error(status: number, details: string): LocalReply {
    return new LocalReply(status, [["content-type", "text/plain"]], encoder.encode(details), details, false);
  }
}

/** Thrown by a response body after its headers went downstream: Envoy resets the stream. */
export class StreamReset extends Error {
  override readonly name = "StreamReset";
}

/** An HTTP message as the filter receives it. */
export interface FilterMessage {
  readonly headers: Header[];
  readonly body: BodySource | undefined;
  readonly trailers: Header[] | undefined;
}

export interface ProcessedRequest {
  readonly headers: Header[];
  readonly body: Uint8Array;
  readonly trailers: Header[] | undefined;
}

/** A response as the filter passes it on: headers now, body as it is processed. */
export interface ProcessedResponse {
  readonly headers: Header[];
  readonly body: AsyncIterable<Uint8Array>;
  /** Resolves once the body ended. */
  trailers(): Promise<Header[] | undefined>;
}

/** Where a direction's output goes as Envoy forwards it. */
export interface Sink {
  /** Headers leave the filter (downstream or to the next filter). */
  headers(headers: Header[]): void;
  chunk(chunk: Uint8Array): void;
}

/** What a streaming body mode starts from: the headers still pending a reply, or not. */
export interface BodyStart {
  readonly dir: Direction;
  readonly message: FilterMessage;
  readonly headers: Header[];
  /** The headers message went out without waiting for its reply (send_body_without_waiting, duplex). */
  readonly headerReplyPending: boolean;
  readonly sink: Sink;
}

/** Adds what Envoy always sends on requests: pseudo-headers and x-request-id. */
export function normalizeRequest(message: HttpMessage): FilterMessage {
  const headers = lowerCased(message.headers);
  const has = (name: string) => headers.some(([n]) => n === name);
  const defaults: Header[] = [];
  if (!has(":method")) defaults.push([":method", message.body === undefined ? "GET" : "POST"]);
  if (!has(":path")) defaults.push([":path", "/"]);
  if (!has(":scheme")) defaults.push([":scheme", "http"]);
  if (!has(":authority")) defaults.push([":authority", "gateway.local"]);
  if (!has("x-request-id")) headers.push(["x-request-id", randomUUID()]);
  if (Array.isArray(message.body) && !has("content-length") && !has("transfer-encoding")) {
    const length = (message.body as (string | Uint8Array)[]).reduce((n, c) => n + toBytes(c).length, 0);
    headers.push(["content-length", String(length)]);
  }
  return {
    headers: [...defaults, ...headers],
    body: message.body,
    trailers: message.trailers ? toHeaderList(message.trailers) : undefined,
  };
}

/** A response with `:status` first (200 when absent). */
export function normalizeResponse(message: HttpMessage | undefined): FilterMessage {
  const spec: HttpMessage = message ?? { headers: { ":status": "200" }, body: [] };
  const headers = lowerCased(spec.headers);
  if (!headers.some(([n]) => n === ":status")) headers.unshift([":status", "200"]);
  return { headers, body: spec.body, trailers: spec.trailers ? toHeaderList(spec.trailers) : undefined };
}

function lowerCased(input: HttpMessage["headers"]): Header[] {
  return toHeaderList(input).map(([n, v]) => [n.toLowerCase(), v] as Header);
}

export async function* chunksOf(source: BodySource | undefined): AsyncIterable<Uint8Array> {
  if (source) for await (const chunk of source as AsyncIterable<string | Uint8Array>) yield toBytes(chunk);
}

export async function collect(source: BodySource | undefined): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunksOf(source)) out.push(chunk);
  return out;
}

export async function drain(source: BodySource | undefined): Promise<void> {
  for await (const _ of chunksOf(source)) void _;
}
