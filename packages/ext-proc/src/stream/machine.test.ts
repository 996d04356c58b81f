import { create } from "@bufbuild/protobuf";
import { ProcessingMode_BodySendMode } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import {
  type ProcessingRequest,
  ProcessingRequestSchema,
  type ProcessingResponse,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import { describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import type { BodyMode, Direction, Phase, Processor, StreamOutcome } from "../processor.js";
import { createStreamContext } from "./context.js";
import { StreamMachine } from "./machine.js";
import { noopObserver } from "./observer.js";

/**
 * The stream machine over every body mode x every phase x what the processor does there:
 * continue, respond, throw with fail-closed, throw with fail-open. Each exchange is a request
 * and a response with two body chunks and trailers, as Envoy sends them in that mode.
 */
const modes: readonly BodyMode[] = ["NONE", "STREAMED", "BUFFERED", "BUFFERED_PARTIAL", "FULL_DUPLEX_STREAMED"];
const phases: readonly Phase[] = [
  "requestHeaders",
  "requestBody",
  "requestTrailers",
  "responseHeaders",
  "responseBody",
  "responseTrailers",
];
type Behaviour = "continue" | "respond" | "throw-closed" | "throw-open";
const behaviours: readonly Behaviour[] = ["continue", "respond", "throw-closed", "throw-open"];

const enc = (s: string) => new TextEncoder().encode(s);
const headerMap = (pairs: [string, string][]) => ({
  headers: pairs.map(([key, value]) => ({ key, rawValue: enc(value) })),
});

/** The messages Envoy sends for one exchange in `mode` (BUFFERED modes: one body message). */
function exchange(mode: BodyMode): ProcessingRequest[] {
  const out: ProcessingRequest[] = [];
  for (const dir of ["request", "response"] as const) {
    const first = out.length === 0;
    out.push(
      create(ProcessingRequestSchema, {
        request: {
          case: `${dir}Headers`,
          value: { headers: headerMap(dir === "request" ? [[":path", "/v1/chat/completions"]] : [[":status", "200"]]) },
        },
        protocolConfig: first
          ? {
              requestBodyMode: ProcessingMode_BodySendMode[mode],
              responseBodyMode: ProcessingMode_BodySendMode[mode],
            }
          : undefined,
      }),
    );
    const chunks = mode === "NONE" ? [] : mode.startsWith("BUFFERED") ? ["ab"] : ["a", "b"];
    for (const chunk of chunks) {
      out.push(create(ProcessingRequestSchema, { request: { case: `${dir}Body`, value: { body: enc(chunk) } } }));
    }
    out.push(
      create(ProcessingRequestSchema, {
        request: { case: `${dir}Trailers`, value: { trailers: headerMap([["x-t", "1"]]) } },
      }),
    );
  }
  return out;
}

interface Run {
  /** Replies per message, in message order. */
  readonly replies: ProcessingResponse[][];
  readonly calls: Phase[];
  readonly outcome: StreamOutcome | undefined;
  readonly streamPhase: string;
}

async function run(mode: BodyMode, at: Phase | undefined, behaviour: Behaviour): Promise<Run> {
  const calls: Phase[] = [];
  let outcome: StreamOutcome | undefined;
  const act = (phase: Phase) => {
    calls.push(phase);
    if (phase !== at || behaviour === "continue") return undefined;
    if (behaviour === "respond") return { respond: { status: 403, body: `denied at ${phase}` } };
    throw new Error(`boom at ${phase}`);
  };
  const hooks = (dir: Direction) => ({
    [`on${dir === "request" ? "Request" : "Response"}Headers`]: () => act(`${dir}Headers`),
    [`on${dir === "request" ? "Request" : "Response"}Body`]: () => act(`${dir}Body`),
    [`on${dir === "request" ? "Request" : "Response"}Trailers`]: () => act(`${dir}Trailers`),
  });
  const processor = {
    ...hooks("request"),
    ...hooks("response"),
    onStreamEnd: (o: StreamOutcome) => {
      outcome = o;
    },
  } as Processor;
  const machine = new StreamMachine({
    processor,
    context: createStreamContext("t", createLogger({ level: "silent" })),
    assumedModes: { requestBody: "NONE", responseBody: "NONE", sendBodyWithoutWaitingForHeaderResponse: false },
    failure: { mode: behaviour === "throw-open" ? "open" : "closed", status: 503 },
    maxBufferedBodyBytes: 1 << 20,
    streamedHoldBytes: 1 << 20,
    replyChunkBytes: 64 * 1024,
    processorTimeoutMs: 0,
    observer: noopObserver,
  });
  const replies: ProcessingResponse[][] = [];
  for (const message of exchange(mode)) replies.push(await machine.handle(message));
  const streamPhase = machine.streamPhase;
  machine.end(false);
  return { replies, calls, outcome, streamPhase };
}

const kinds = (replies: ProcessingResponse[][]) => replies.flat().map((r) => r.response.case);

describe("StreamMachine: mode x phase x processor behaviour", () => {
  const cases = modes.flatMap((mode) =>
    phases
      .filter((phase) => mode !== "NONE" || !phase.endsWith("Body"))
      .flatMap((phase) => behaviours.map((behaviour) => ({ mode, phase, behaviour }))),
  );

  it.each(cases)("$mode / $phase / $behaviour", async ({ mode, phase, behaviour }) => {
    const baseline = await run(mode, undefined, "continue");
    const result = await run(mode, phase, behaviour);
    const position = result.calls.indexOf(phase);
    expect(position, `the ${phase} hook is called`).toBeGreaterThanOrEqual(0);

    if (behaviour === "continue" || behaviour === "throw-open") {
      // Failing open reads as "no decision": the wire is exactly that of a silent processor.
      expect(kinds(result.replies)).toEqual(kinds(baseline.replies));
      expect(result.calls).toEqual(baseline.calls);
      expect(result.streamPhase).toBe("completed");
      expect(result.outcome).toEqual({ aborted: false, respondedImmediately: false, completed: true });
      return;
    }

    // respond / fail-closed: the message whose hook decided ends with one immediate response...
    const flat = result.replies.flat();
    const last = flat.at(-1);
    expect(flat.filter((r) => r.response.case === "immediateResponse")).toHaveLength(1);
    expect(last?.response.case).toBe("immediateResponse");
    const status = last?.response.case === "immediateResponse" ? last.response.value.status?.code : undefined;
    expect(status).toBe(behaviour === "respond" ? 403 : 503);
    // ...no hook runs after it, every later message is ignored, and the stream says so.
    expect(result.calls.at(-1)).toBe(phase);
    const answered = result.replies.findIndex((r) => r.some((x) => x.response.case === "immediateResponse"));
    expect(result.replies.slice(answered + 1).every((r) => r.length === 0)).toBe(true);
    expect(result.streamPhase).toBe("responded");
    expect(result.outcome).toEqual({ aborted: false, respondedImmediately: true, completed: true });
  });

  it("answers every message one for one, in order, outside FULL_DUPLEX_STREAMED", async () => {
    for (const mode of modes.filter((m) => m !== "FULL_DUPLEX_STREAMED")) {
      const { replies } = await run(mode, undefined, "continue");
      expect(kinds(replies), mode).toEqual(exchange(mode).map((m) => m.request.case));
    }
  });

  it("holds the headers reply of a whole FULL_DUPLEX_STREAMED body until the body is complete", async () => {
    const { replies } = await run("FULL_DUPLEX_STREAMED", undefined, "continue");
    // requestHeaders, body a, body b, trailers: the held headers reply and the body go out with the trailers.
    expect(replies.slice(0, 3).map((r) => r.length)).toEqual([0, 0, 0]);
    expect(replies[3]?.map((r) => r.response.case)).toEqual(["requestHeaders", "requestBody", "requestTrailers"]);
  });

  it("reports an aborted stream as not completed", async () => {
    const machine = new StreamMachine({
      processor: {},
      context: createStreamContext("t", createLogger({ level: "silent" })),
      assumedModes: { requestBody: "NONE", responseBody: "NONE", sendBodyWithoutWaitingForHeaderResponse: false },
      failure: { mode: "closed", status: 500 },
      maxBufferedBodyBytes: 1,
      streamedHoldBytes: 1,
      replyChunkBytes: 1,
      processorTimeoutMs: 0,
      observer: noopObserver,
    });
    expect(machine.streamPhase).toBe("new");
    await machine.handle(exchange("NONE")[0] as ProcessingRequest);
    expect(machine.streamPhase).toBe("open");
    machine.end(true);
    expect(machine.streamPhase).toBe("ended");
    expect(await machine.handle(exchange("NONE")[1] as ProcessingRequest)).toEqual([]);
  });
});
