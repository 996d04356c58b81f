import { connect, type Socket } from "node:net";

/** Fetches a URL's body as text, honouring the abort signal. */
export type FetchText = (url: string, signal: AbortSignal) => Promise<string>;

/** A FetchText that keeps one connection per endpoint. */
export interface HttpGetter {
  readonly get: FetchText;
  /** Closes idle connections. */
  close(): void;
}

/** Body size cap: a metrics page larger than this is treated as garbage. */
export const maxBodyBytes = 4 * 1024 * 1024;

const crlf2 = Buffer.from("\r\n\r\n");

type Failure = Error & { kind?: "http" | "parse" };
const fail = (message: string, kind: "http" | "parse" = "http"): Failure => Object.assign(new Error(message), { kind });

/** What a response looks like once its headers are parsed. */
interface Head {
  readonly status: number;
  readonly bodyStart: number;
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
  readonly close: boolean;
}

/** Parses an HTTP/1.1 status line and the headers the getter needs. */
export function parseHead(buf: Buffer, end: number): Head | Failure {
  const text = buf.subarray(0, end).toString("latin1");
  const lines = text.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (!status) return fail(`bad status line "${(lines[0] ?? "").slice(0, 40)}"`);
  let contentLength: number | undefined;
  let chunked = false;
  let close = lines[0]?.startsWith("HTTP/1.0") ?? false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === "content-length") contentLength = Number(value);
    else if (name === "transfer-encoding") chunked = value.includes("chunked");
    else if (name === "connection") close = value === "close";
  }
  return { status: Number(status[1]), bodyStart: end + 4, contentLength, chunked, close };
}

/** Decodes a complete chunked body; undefined while incomplete. */
export function decodeChunked(buf: Buffer, from: number): { body: Buffer } | Failure | undefined {
  const parts: Buffer[] = [];
  let i = from;
  for (;;) {
    const lineEnd = buf.indexOf("\r\n", i);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buf.subarray(i, lineEnd).toString("latin1").split(";")[0] ?? "", 16);
    if (!Number.isFinite(size) || size < 0) return fail("bad chunk size");
    if (size === 0) return buf.indexOf("\r\n", lineEnd + 2) < 0 ? undefined : { body: Buffer.concat(parts) };
    if (buf.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    i = lineEnd + 2 + size + 2;
  }
}

/**
 * A minimal HTTP/1.1 GET client for metrics pages: one keep-alive socket per endpoint
 * (the scraper never overlaps scrapes of one endpoint), Content-Length, chunked and
 * read-to-close bodies, a size cap, and one retry when a reused idle socket turns out
 * closed. It does a fraction of Node's http client's per-request work, which is most
 * of the scraper's CPU at 20 scrapes/s per endpoint.
 */
export function createHttpGetter(): HttpGetter {
  const idle = new Map<string, Socket>();

  function once(url: URL, signal: AbortSignal, reuse: boolean): Promise<string> {
    const key = url.host;
    let socket = reuse ? idle.get(key) : undefined;
    idle.delete(key);
    const reused = socket !== undefined && !socket.destroyed;
    if (!reused) socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 80) });
    const s = socket as Socket;
    return new Promise<string>((resolve, reject) => {
      let buf: Buffer = Buffer.alloc(0);
      let head: Head | undefined;
      let settled = false;
      const finish = (err: Failure | undefined, body?: Buffer) => {
        if (settled) return;
        settled = true;
        s.off("data", onData).off("error", onError).off("close", onClose);
        signal.removeEventListener("abort", onAbort);
        if (err) {
          s.destroy();
          if (reused && buf.length === 0 && !signal.aborted) {
            once(url, signal, false).then(resolve, reject); // stale keep-alive socket: retry fresh
            return;
          }
          reject(err);
          return;
        }
        if (head?.close || s.destroyed) s.destroy();
        else idle.set(key, s);
        resolve((body ?? Buffer.alloc(0)).toString("utf8"));
      };
      const onAbort = () => finish(fail("aborted"));
      const onError = (e: Error) => finish(fail(e.message));
      const onClose = () => {
        if (head && head.contentLength === undefined && !head.chunked) {
          if (head.status !== 200) return finish(fail(`HTTP ${head.status}`));
          return finish(undefined, buf.subarray(head.bodyStart));
        }
        finish(fail("socket hang up"));
      };
      const onData = (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        if (buf.length > maxBodyBytes) return finish(fail("metrics page too large", "parse"));
        if (!head) {
          const end = buf.indexOf(crlf2);
          if (end < 0) return;
          const parsed = parseHead(buf, end);
          if (parsed instanceof Error) return finish(parsed);
          head = parsed;
        }
        let body: Buffer | undefined;
        if (head.chunked) {
          const decoded = decodeChunked(buf, head.bodyStart);
          if (decoded instanceof Error) return finish(decoded);
          body = decoded?.body;
        } else if (head.contentLength !== undefined) {
          if (buf.length - head.bodyStart >= head.contentLength) {
            body = buf.subarray(head.bodyStart, head.bodyStart + head.contentLength);
          }
        }
        if (body === undefined) return;
        if (head.status !== 200) return finish(fail(`HTTP ${head.status}`));
        finish(undefined, body);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      s.on("data", onData).on("error", onError).on("close", onClose);
      s.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/plain\r\n\r\n`);
    });
  }

  return {
    get: (url, signal) => once(new URL(url), signal, true),
    close() {
      for (const s of idle.values()) s.destroy();
      idle.clear();
    },
  };
}
