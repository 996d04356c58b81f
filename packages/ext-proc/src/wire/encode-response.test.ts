import { create, toBinary } from "@bufbuild/protobuf";
import {
  type ProcessingResponse,
  ProcessingResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes } from "../bytes.js";
import { encodeResponseFrame } from "./encode-response.js";
import { buildHeaderMutation } from "./headers.js";
import { commonReply, immediateReply, replaceBodyMutation, streamedBodyReplies, trailersReply } from "./replies.js";

const expectedFrame = (reply: ProcessingResponse) => {
  const message = toBinary(ProcessingResponseSchema, reply);
  const prefix = new Uint8Array(5);
  new DataView(prefix.buffer).setUint32(1, message.length);
  return concatBytes([prefix, message]);
};

/** Hex, so a Buffer and a Uint8Array of the same bytes compare equal (and fast). */
const plain = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");

const direction = fc.constantFrom("request" as const, "response" as const);
const headerPairs = fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), fc.string({ maxLength: 20 })), {
  maxLength: 4,
});
const metadata = fc.option(
  fc.dictionary(
    fc.string({ maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })),
    {
      maxKeys: 2,
    },
  ),
  { nil: undefined },
);
const body = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.integer({ min: 0, max: 70_000 }).map((n) => new Uint8Array(n).fill(0x62)),
);

/** Replies as the SDK builds them, and some it never builds but the encoder must still get right. */
const reply: fc.Arbitrary<ProcessingResponse> = fc.oneof(
  fc
    .record({
      direction,
      kind: fc.constantFrom("Headers" as const, "Body" as const),
      set: headerPairs,
      remove: fc.array(fc.stringMatching(/^[a-z][a-z-]{0,8}$/), { maxLength: 2 }),
      clearRouteCache: fc.boolean(),
      metadata,
      replace: fc.option(body, { nil: undefined }),
      modeOverride: fc.boolean(),
    })
    .map((r) =>
      commonReply(r.direction, r.kind, {
        headerMutation: buildHeaderMutation(
          r.set.length + r.remove.length > 0 ? { set: r.set, remove: r.remove } : undefined,
        ).mutation,
        clearRouteCache: r.clearRouteCache,
        dynamicMetadata: r.metadata as never,
        bodyMutation: r.replace === undefined ? undefined : replaceBodyMutation(r.replace),
        modeOverride: r.modeOverride ? ({ requestBodyMode: 1, responseBodyMode: 2 } as never) : undefined,
      }),
    ),
  fc
    .record({ direction, body, endOfStream: fc.boolean(), chunk: fc.integer({ min: 1000, max: 80_000 }) })
    .chain((r) =>
      fc.constantFrom(
        ...streamedBodyReplies(r.direction, r.body, r.endOfStream, r.chunk),
        commonReply(r.direction, "Body", {}),
      ),
    ),
  fc
    .record({
      status: fc.integer({ min: 200, max: 599 }),
      body: fc.string({ maxLength: 40 }),
      set: headerPairs,
      metadata,
    })
    .map((r) => immediateReply({ status: r.status, body: r.body, headers: r.set }, r.metadata as never)),
  fc
    .record({ direction, set: headerPairs })
    .map((r) => trailersReply(r.direction, buildHeaderMutation({ set: r.set }).mutation)),
  fc
    .record({
      status: fc.integer({ min: -3, max: 3 }),
      clearBody: fc.boolean(),
      eosWithout: fc.boolean(),
      compressed: fc.boolean(),
      drain: fc.boolean(),
      timeout: fc.boolean(),
      trailers: fc.boolean(),
      kind: fc.constantFrom("clear", "streamed", "none", "empty"),
    })
    .map((r) =>
      create(ProcessingResponseSchema, {
        response: {
          case: "responseBody",
          value:
            r.kind === "empty"
              ? {}
              : {
                  response: {
                    status: r.status,
                    trailers: r.trailers ? { headers: [{ key: "x", rawValue: new Uint8Array([1]) }] } : undefined,
                    bodyMutation:
                      r.kind === "clear"
                        ? { mutation: { case: "clearBody", value: r.clearBody } }
                        : r.kind === "streamed"
                          ? {
                              mutation: {
                                case: "streamedResponse",
                                value: { endOfStreamWithoutMessage: r.eosWithout, grpcMessageCompressed: r.compressed },
                              },
                            }
                          : undefined,
                  },
                },
        },
        requestDrain: r.drain,
        overrideMessageTimeout: r.timeout ? { seconds: 1n } : undefined,
      }),
    ),
  fc.constant(create(ProcessingResponseSchema)),
);

describe("encodeResponseFrame()", () => {
  it("writes the prefix and toBinary's bytes for every reply", () => {
    fc.assert(
      fc.property(reply, fc.constantFrom(1, 1024, 16 * 1024), (r, limit) => {
        expect(plain(concatBytes(encodeResponseFrame(r, limit)))).toEqual(plain(expectedFrame(r)));
      }),
      { numRuns: 1500 },
    );
  });

  it("leaves a large streamed body as a view of the reply's bytes", () => {
    const body = new Uint8Array(64 * 1024).fill(0x61);
    const [chunk] = streamedBodyReplies("request", body, true, 64 * 1024);
    const parts = encodeResponseFrame(chunk as ProcessingResponse);
    // Prefix and framing, the body itself, end_of_stream.
    expect(parts).toHaveLength(3);
    expect(parts[1]?.buffer).toBe(body.buffer);
    expect(plain(concatBytes(parts))).toEqual(plain(expectedFrame(chunk as ProcessingResponse)));
  });

  it("writes a headers-only CONTINUE as one buffer", () => {
    const parts = encodeResponseFrame(commonReply("request", "Headers", {}));
    expect(parts).toHaveLength(1);
    expect(plain(parts[0] as Uint8Array)).toEqual(plain(expectedFrame(commonReply("request", "Headers", {}))));
  });
});
