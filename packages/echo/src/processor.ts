import type {
  ChunkDecision,
  ChunkEvent,
  Direction,
  HeadersDecision,
  ImmediateResponse,
  Phase,
  Processor,
  ProcessorFactory,
} from "@llm-callouts/ext-proc";
import type { EchoConfig } from "./config.js";

/** Builds the echo processor: pass-through plus the configured test behaviours. */
export function createEchoProcessor(config: EchoConfig): ProcessorFactory {
  const headersFor = (phase: Phase) =>
    config.addHeaders.filter((h) => h.phase === phase).map((h) => [h.name, h.value] as const);
  const respondIn = (phase: Phase): ImmediateResponse | undefined =>
    config.respond?.phase === phase
      ? {
          status: config.respond.status,
          body: config.respond.body,
          headers: config.respond.headers,
          details: "echo_respond",
        }
      : undefined;
  const step = async (phase: Phase) => {
    if (config.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.delayMs));
    if (config.failIn === phase) throw new Error(`echo: configured failure in ${phase}`);
  };
  const mutation = (phase: Phase) => {
    const set = headersFor(phase);
    return set.length > 0 ? { set } : undefined;
  };
  const chunkDecision = (direction: Direction, event: ChunkEvent): ChunkDecision => {
    const replacement = config.replaceBody[direction];
    if (replacement !== undefined) return { emit: event.index === 0 ? replacement : "" };
    const text = config.uppercaseChunks ? Buffer.from(event.data).toString("latin1").toUpperCase() : undefined;
    const data = text === undefined ? event.data : Buffer.from(text, "latin1");
    const carry = event.endOfStream ? 0 : Math.min(config.carryBytes, data.length);
    return { emit: data.subarray(0, data.length - carry), carry: data.subarray(data.length - carry) };
  };

  return (): Processor => {
    const processor: Processor = {
      async onRequestHeaders(): Promise<HeadersDecision> {
        await step("requestHeaders");
        return {
          respond: respondIn("requestHeaders"),
          headers: mutation("requestHeaders"),
          clearRouteCache: config.clearRouteCache,
          dynamicMetadata: config.metadataNamespace
            ? { [config.metadataNamespace]: { echoed: true, phase: "requestHeaders" } }
            : undefined,
          body: config.bodyHandling.request,
        };
      },
      async onRequestTrailers() {
        await step("requestTrailers");
        return { respond: respondIn("requestTrailers"), trailers: mutation("requestTrailers") };
      },
      async onResponseHeaders(): Promise<HeadersDecision> {
        await step("responseHeaders");
        return {
          respond: respondIn("responseHeaders"),
          headers: mutation("responseHeaders"),
          body: config.bodyHandling.response,
          modeOverride: config.responseBodyOverride ? { responseBody: config.responseBodyOverride } : undefined,
        };
      },
      async onResponseTrailers() {
        await step("responseTrailers");
        return { respond: respondIn("responseTrailers"), trailers: mutation("responseTrailers") };
      },
    };
    if (config.bodyHandling.request === "whole") {
      processor.onRequestBody = async () => {
        await step("requestBody");
        return {
          respond: respondIn("requestBody"),
          headers: mutation("requestBody"),
          replaceBody: config.replaceBody.request,
        };
      };
    } else {
      processor.onRequestBodyChunk = async (event) => {
        await step("requestBody");
        return {
          ...chunkDecision("request", event),
          respond: event.index === 0 ? respondIn("requestBody") : undefined,
        };
      };
    }
    if (config.bodyHandling.response === "whole") {
      processor.onResponseBody = async () => {
        await step("responseBody");
        return {
          respond: respondIn("responseBody"),
          headers: mutation("responseBody"),
          replaceBody: config.replaceBody.response,
        };
      };
    } else {
      processor.onResponseBodyChunk = async (event) => {
        await step("responseBody");
        return {
          ...chunkDecision("response", event),
          respond: event.index === 0 ? respondIn("responseBody") : undefined,
        };
      };
    }
    return processor;
  };
}
