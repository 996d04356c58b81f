import { createParser, type EventSourceMessage } from "eventsource-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSseFramer, type SseFrame } from "./sse.js";

const enc = (s: string) => new TextEncoder().encode(s);

/** Feeds `bytes` cut at `cuts` (sorted, deduplicated) and ends the stream. */
function frame(bytes: Uint8Array, cuts: readonly number[] = []): SseFrame[] {
  const framer = createSseFramer();
  const out: SseFrame[] = [];
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    out.push(...framer.push(bytes.subarray(at, cut)));
    at = cut;
  }
  out.push(...framer.push(bytes.subarray(at)), ...framer.end());
  return out;
}

/** eventsource-parser (the reference): the events a browser's EventSource would dispatch. */
function reference(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(text);
  parser.feed("\n\n"); // dispatch a last unterminated event, as the framer's end() does
  return events;
}

const line = fc.oneof(
  fc.string({ unit: fc.constantFrom("a", "é", "😀", " ", ":", "x", "{", "}") }).map((v) => `data: ${v}`),
  fc.string({ unit: fc.constantFrom("a", "b", "_") }).map((v) => `data:${v}`),
  fc.constantFrom("data", "data:", "event: message_start", "event:delta", "id: 7", ": keep-alive", "retry: 10"),
);
const frameText = fc.array(line, { minLength: 1, maxLength: 4 });
const newline = fc.constantFrom("\n", "\r\n", "\r");
const stream = fc
  .array(fc.tuple(frameText, newline), { maxLength: 6 })
  .map((frames) => frames.map(([lines, nl]) => lines.join(nl) + nl + nl).join(""));

describe("createSseFramer()", () => {
  it("agrees with eventsource-parser on data and event type, split anywhere", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 6 }), (text, cutSeeds) => {
        const bytes = enc(text);
        const cuts = cutSeeds.map((c) => (bytes.length === 0 ? 0 : c % bytes.length));
        const dispatched = frame(bytes, cuts).filter((f) => f.data !== undefined);
        expect(dispatched.map((f) => ({ data: f.data, event: f.event }))).toEqual(
          reference(text).map((e) => ({ data: e.data, event: e.event })),
        );
      }),
      { numRuns: 400 },
    );
  });

  it("accounts for every byte: frames tile the stream and `raw` is the text at `offset`", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 6 }), (text, cutSeeds) => {
        const bytes = enc(text);
        const frames = frame(
          bytes,
          cutSeeds.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)),
        );
        let at = 0;
        for (const f of frames) {
          expect(f.offset).toBe(at);
          expect(Buffer.from(bytes.subarray(f.offset, f.offset + f.byteLength)).toString("utf8")).toBe(f.raw);
          at += f.byteLength;
        }
        expect(at).toBe(bytes.length);
      }),
      { numRuns: 400 },
    );
  });

  it("holds a CR at the end of a chunk until it knows whether an LF follows", () => {
    const framer = createSseFramer();
    expect(framer.push("data: a\r\n\r")).toEqual([]);
    const [f] = framer.push("\ndata: b\r\n\r\n");
    expect(f).toMatchObject({ raw: "data: a\r\n\r\n", data: "a", complete: true });
  });

  it("keeps a UTF-8 sequence split across chunks whole and counts bytes, not characters", () => {
    const bytes = enc('data: {"t":"é😀"}\n\ndata: [DONE]\n\n');
    const frames = frame(bytes, [13, 14, 15, 16]);
    expect(frames.map((f) => f.data)).toEqual(['{"t":"é😀"}', "[DONE]"]);
    expect(frames[1]).toMatchObject({ offset: 22, done: true });
  });

  it("gives comment-only frames with no data and an unterminated tail as incomplete", () => {
    const frames = frame(enc(": ping\n\nevent: x\ndata: 1"));
    expect(frames).toMatchObject([
      { raw: ": ping\n\n", data: undefined, complete: true },
      { raw: "event: x\ndata: 1", event: "x", data: "1", complete: false },
    ]);
  });

  it("joins multi-line data with LF and strips one leading space", () => {
    expect(frame(enc("data:  a\ndata:b\n\n"))[0]?.data).toBe(" a\nb");
  });
});
