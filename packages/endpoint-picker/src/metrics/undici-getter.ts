import { Agent, type Dispatcher } from "undici";
import { type HttpGetter, maxBodyBytes } from "./http-getter.js";

export interface UndiciGetterOptions {
  /** https without certificate verification (GIE's --model-server-metrics-https-insecure-skip-verify). */
  readonly insecureSkipVerify?: boolean;
  /** CA certificates (PEM) for https, instead of Node's bundled roots. */
  readonly ca?: string | Buffer | undefined;
  /** A client certificate and key (PEM) for mTLS to the model server. */
  readonly cert?: string | Buffer | undefined;
  readonly key?: string | Buffer | undefined;
}

type Failure = Error & { kind?: "http" | "parse" };
const fail = (message: string, kind: "http" | "parse" = "http"): Failure => Object.assign(new Error(message), { kind });

/**
 * A FetchText over undici: keep-alive connection pools per origin, http and https, with the
 * same contract as the hand-written getter (text of a 200, `kind: "http"` for transport and
 * status failures, `kind: "parse"` past the 4 MiB body cap). undici is Node's own HTTP client
 * (it backs global fetch); `pnpm bench endpoint-picker-scrape` measures its CPU per scrape
 * against the hand-written HTTP/1.1 getter.
 */
export function createUndiciGetter(options: UndiciGetterOptions = {}): HttpGetter {
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    // One connection per endpoint is all a scraper needs: scrapes of an endpoint never overlap.
    connections: 1,
    pipelining: 1,
    connect: {
      rejectUnauthorized: !options.insecureSkipVerify,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.cert && options.key ? { cert: options.cert, key: options.key } : {}),
    },
  });
  return {
    get(url, signal) {
      const target = new URL(url);
      return new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let status = 0;
        let controller: Dispatcher.DispatchController | undefined;
        let settled = false;
        const settle = (error: Failure | undefined) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", onAbort);
          if (error) reject(error);
          else resolve(Buffer.concat(chunks).toString("utf8"));
        };
        const onAbort = () => {
          settle(fail("aborted"));
          controller?.abort(new Error("aborted"));
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        // dispatch with callbacks rather than request(): no stream per response (the scraper's
        // hot path runs 1,280 times a second at 64 endpoints).
        agent.dispatch(
          {
            origin: target.origin,
            path: `${target.pathname}${target.search}`,
            method: "GET",
            headers: { accept: "text/plain" },
          },
          {
            onRequestStart(c) {
              controller = c;
              if (settled) c.abort(new Error("aborted"));
            },
            onResponseStart(_c, statusCode) {
              status = statusCode;
            },
            onResponseData(c, chunk) {
              size += chunk.length;
              if (size > maxBodyBytes) {
                settle(fail("metrics page too large", "parse")); // first: abort reports an error too
                c.abort(new Error("too large"));
                return;
              }
              chunks.push(chunk);
            },
            onResponseEnd() {
              settle(status === 200 ? undefined : fail(`HTTP ${status}`));
            },
            onResponseError(_c, error) {
              settle(fail(error.message));
            },
          },
        );
      });
    },
    close() {
      void agent.close().catch(() => undefined);
    },
  };
}
