import * as grpc from "@grpc/grpc-js";
import { ExtProcFilter } from "./filter.js";
import { concatBytes } from "./http.js";
import { LocalReply, normalizeRequest, normalizeResponse, type ProcessedResponse, StreamReset } from "./messages.js";
import type {
  DownstreamResponse,
  EnvoyClient,
  ExchangeResult,
  FilterConfig,
  HttpExchange,
  UpstreamRequest,
} from "./types.js";

/** Channel options shared by the test client and the local gateway. */
export const extProcChannelOptions: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
  "grpc.http2.write_buffer_size": 1024 * 1024,
};

/** A grpc-js channel to an ext_proc server (TLS accepts self-signed certificates, as GIE and GCP do). */
export function createExtProcChannel(target: string, options: { tls?: boolean } = {}): grpc.Client {
  const credentials = options.tls
    ? grpc.credentials.createSsl(null, null, null, { checkServerIdentity: () => undefined, rejectUnauthorized: false })
    : grpc.credentials.createInsecure();
  return new grpc.Client(target, credentials, extProcChannelOptions);
}

/**
 * Creates a client that drives ext_proc streams exactly as Envoy's ext_proc filter
 * does (see README "Envoy-faithful client"), using @grpc/grpc-js so every server is
 * exercised by an independent gRPC implementation.
 */
export function createEnvoyClient(target: string, options: { tls?: boolean } = {}): EnvoyClient {
  const channel = createExtProcChannel(target, options);
  return {
    exchange: (config, exchange) => runExchange(channel, config, exchange),
    close: () => channel.close(),
  };
}

async function runExchange(channel: grpc.Client, config: FilterConfig, ex: HttpExchange): Promise<ExchangeResult> {
  const filter = new ExtProcFilter(channel, config, ex.trace === true);
  let upstream: UpstreamRequest | undefined;
  let downstream: DownstreamResponse;
  const limitMs = config.exchangeTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const overall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ExchangeTimeout()), limitMs);
  });
  try {
    downstream = await Promise.race([
      (async () => {
        const request = await filter.processRequest(normalizeRequest(ex.request));
        upstream = request;
        const spec = typeof ex.upstream === "function" ? await ex.upstream(request) : ex.upstream;
        const response = await filter.processResponse(normalizeResponse(spec));
        return collectResponse(response, filter, ex.abortAfterResponseChunks);
      })(),
      overall,
    ]);
  } catch (thrown) {
    if (thrown instanceof LocalReply) {
      downstream = {
        status: thrown.status,
        headers: thrown.headers,
        body: thrown.body,
        chunks: [thrown.body],
        trailers: undefined,
        reset: false,
      };
    } else if (thrown instanceof ExchangeTimeout) {
      filter.error ??= { kind: "timeout", message: `no completion within ${limitMs} ms`, failedOpen: false };
      downstream = { status: 504, headers: [], body: new Uint8Array(), chunks: [], trailers: undefined, reset: true };
    } else {
      throw thrown;
    }
  } finally {
    clearTimeout(timer);
    filter.finish();
  }
  return {
    upstream,
    downstream,
    immediateResponse: filter.immediateResponse,
    dynamicMetadata: filter.dynamicMetadata,
    routeCacheCleared: filter.routeCacheCleared,
    clearRouteCacheIgnored: filter.clearRouteCacheIgnored,
    modeOverridesIgnored: filter.modeOverridesIgnored,
    messageTimeoutOverrides: filter.messageTimeoutOverrides,
    error: filter.error,
    rejectedHeaderMutations: filter.rejectedHeaderMutations,
    trace: filter.trace,
  };
}

/** What the downstream client receives, stopping early when it aborts after N chunks. */
async function collectResponse(
  response: ProcessedResponse,
  filter: ExtProcFilter,
  abortAfterChunks: number | undefined,
): Promise<DownstreamResponse> {
  const chunks: Uint8Array[] = [];
  let reset = false;
  try {
    for await (const chunk of response.body) {
      chunks.push(chunk);
      if (abortAfterChunks !== undefined && chunks.length >= abortAfterChunks) {
        filter.abort();
        reset = true;
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof StreamReset)) throw error;
    reset = true;
  }
  const trailers = reset ? undefined : await response.trailers();
  return {
    status: Number(response.headers.find(([n]) => n === ":status")?.[1] ?? 200),
    headers: response.headers.filter(([n]) => !n.startsWith(":")),
    body: concatBytes(chunks),
    chunks,
    trailers,
    reset,
  };
}

class ExchangeTimeout extends Error {
  override readonly name = "ExchangeTimeout";
}
