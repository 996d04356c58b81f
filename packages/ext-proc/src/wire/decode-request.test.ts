import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ProcessingMode_BodySendMode } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import {
  type ProcessingRequest,
  ProcessingRequestSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeFast, decodeProcessingRequest } from "./decode-request.js";

const bytes = fc.uint8Array({ maxLength: 40 }).map((b) => new Uint8Array(b));
const headerValue = fc.record({
  key: fc.string({ unit: "binary", maxLength: 80 }),
  value: fc.string({ unit: "grapheme", maxLength: 10 }),
  rawValue: bytes,
});
const headerMap = fc.record({ headers: fc.array(headerValue, { maxLength: 6 }) });
const httpHeaders = fc.record(
  {
    headers: headerMap,
    endOfStream: fc.boolean(),
    // The deprecated attributes map: left to fromBinary.
    attributes: fc.constantFrom(
      {},
      { "envoy.filters.http.ext_proc": { fields: { a: { kind: { case: "numberValue" as const, value: 1 } } } } },
    ),
  },
  { requiredKeys: ["endOfStream"] },
);
const httpBody = fc.record({
  body: fc.uint8Array({ maxLength: 300 }),
  endOfStream: fc.boolean(),
  endOfStreamWithoutMessage: fc.boolean(),
  grpcMessageCompressed: fc.boolean(),
});
const trailers = fc.record({ trailers: headerMap }, { requiredKeys: [] });
const request = fc.oneof(
  fc.record({ case: fc.constantFrom("requestHeaders" as const, "responseHeaders" as const), value: httpHeaders }),
  fc.record({ case: fc.constantFrom("requestBody" as const, "responseBody" as const), value: httpBody }),
  fc.record({ case: fc.constantFrom("requestTrailers" as const, "responseTrailers" as const), value: trailers }),
  fc.constant({ case: undefined }),
);
const mode = fc.constantFrom(
  ...(Object.values(ProcessingMode_BodySendMode).filter((v) => typeof v === "number") as number[]),
  -1,
  99,
);
const message = fc
  .record(
    {
      request,
      observabilityMode: fc.boolean(),
      protocolConfig: fc.record({
        requestBodyMode: mode,
        responseBodyMode: mode,
        sendBodyWithoutWaitingForHeaderResponse: fc.boolean(),
      }),
      metadataContext: fc.constant({
        filterMetadata: { ns: { fields: { k: { kind: { case: "stringValue" as const, value: "v" } } } } },
      }),
    },
    { requiredKeys: ["request"] },
  )
  .map((init) => create(ProcessingRequestSchema, init as never));

/** Comparable form: Buffers and Uint8Arrays compare by content. */
const plain = (m: ProcessingRequest) =>
  JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? [...v] : v)));

describe("decodeProcessingRequest()", () => {
  it("returns what fromBinary returns for every message", () => {
    fc.assert(
      fc.property(message, (m) => {
        const wire = toBinary(ProcessingRequestSchema, m);
        const fast = decodeProcessingRequest(wire);
        expect(fast).toEqual(fromBinary(ProcessingRequestSchema, wire));
        // Without metadata or the deprecated attributes, the reflection-free path decodes it.
        const attributes = m.request.case?.endsWith("Headers")
          ? (m.request.value as { attributes: object }).attributes
          : {};
        if (!m.metadataContext && Object.keys(attributes).length === 0) expect(decodeFast(wire)).toBeDefined();
        expect(plain(fast)).toEqual(plain(fromBinary(ProcessingRequestSchema, wire)));
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees with fromBinary on mutated bytes: the same message or the same error", () => {
    const mutated = fc.tuple(
      message,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "delete")), {
        minLength: 1,
        maxLength: 4,
      }),
    );
    fc.assert(
      fc.property(mutated, ([m, edits]) => {
        const wire = [...toBinary(ProcessingRequestSchema, m)];
        for (const [at, value, kind] of edits) {
          const i = wire.length === 0 ? 0 : at % (wire.length + (kind === "insert" ? 1 : 0));
          if (kind === "set" && wire.length > 0) wire[i] = value;
          else if (kind === "insert") wire.splice(i, 0, value);
          else if (wire.length > 0) wire.splice(i, 1);
        }
        const input = new Uint8Array(wire);
        let expected: unknown;
        try {
          expected = plain(fromBinary(ProcessingRequestSchema, input));
        } catch (error) {
          expected = { error: (error as Error).message };
        }
        let actual: unknown;
        try {
          actual = plain(decodeProcessingRequest(input));
        } catch (error) {
          actual = { error: (error as Error).message };
        }
        expect(actual).toEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it("takes the fast path for what Envoy sends and keeps bodies as views", () => {
    const body = new Uint8Array(64 * 1024).fill(0x61);
    const wire = toBinary(
      ProcessingRequestSchema,
      create(ProcessingRequestSchema, { request: { case: "requestBody", value: { body, endOfStream: true } } }),
    );
    const decoded = decodeFast(wire) as ProcessingRequest;
    expect(decoded.request.case).toBe("requestBody");
    const value = decoded.request.value as { body: Uint8Array };
    expect(value.body.buffer).toBe(wire.buffer);
    expect(value.body.length).toBe(body.length);
  });

  it("takes the fast path for headers with protocol_config", () => {
    const wire = toBinary(
      ProcessingRequestSchema,
      create(ProcessingRequestSchema, {
        request: {
          case: "requestHeaders",
          value: { headers: { headers: [{ key: ":path", rawValue: new TextEncoder().encode("/v1/chat") }] } },
        },
        protocolConfig: { requestBodyMode: ProcessingMode_BodySendMode.FULL_DUPLEX_STREAMED },
      }),
    );
    expect(decodeFast(wire)).toEqual(fromBinary(ProcessingRequestSchema, wire));
  });

  it("reads an empty message as the zero request", () => {
    expect(decodeProcessingRequest(new Uint8Array(0))).toEqual(create(ProcessingRequestSchema));
  });
});
