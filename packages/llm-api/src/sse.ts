/**
 * An incremental Server-Sent Events framer (WHATWG HTML, "event stream interpretation"): feed it
 * body chunks split anywhere (inside a line, a CRLF or a UTF-8 sequence) and it hands back each
 * complete frame with its text exactly as received and its byte offset in the stream, so a
 * processor can pass untouched frames through byte for byte and rewrite only the ones it changes.
 *
 * A frame is every line up to and including the blank line that ends it; frames with no `data`
 * field (comments such as `: keep-alive`, a lone `retry:`) are frames too, with `data` undefined,
 * so that every byte of the stream belongs to exactly one frame.
 */
export interface SseFrame {
  /** The frame's text as received, its terminating blank line included. */
  readonly raw: string;
  /** UTF-8 byte offset of the frame's first byte in the stream. */
  readonly offset: number;
  /** UTF-8 length of `raw`. */
  readonly byteLength: number;
  /** The `event` field; undefined for the default type ("message"). */
  readonly event: string | undefined;
  /** The `data` fields joined with "\n"; undefined when the frame has none. */
  readonly data: string | undefined;
  readonly id: string | undefined;
  /** `data: [DONE]`, OpenAI's end-of-stream sentinel. */
  readonly done: boolean;
  /** false only for a last frame the stream ended without its blank line (see `end()`). */
  readonly complete: boolean;
}

export interface SseFramer {
  /** Feeds the next chunk (bytes are decoded as UTF-8 across chunk boundaries). */
  push(chunk: Uint8Array | string): SseFrame[];
  /** The stream ended: an unterminated last frame, if any, comes out with `complete: false`. */
  end(): SseFrame[];
}

export function createSseFramer(): SseFramer {
  const decoder = new TextDecoder("utf-8");
  let text = "";
  /** Where the current frame and its next line start in `text`. */
  let frameStart = 0;
  let lineStart = 0;
  let offset = 0;
  let firstLine = true;
  let fields: { event?: string; data?: string[]; id?: string } = {};

  const frame = (end: number, complete: boolean): SseFrame => {
    const raw = text.slice(frameStart, end);
    const byteLength = Buffer.byteLength(raw, "utf8");
    const data = fields.data?.join("\n");
    const out: SseFrame = {
      raw,
      offset,
      byteLength,
      event: fields.event,
      data,
      id: fields.id,
      done: data !== undefined && data.trim() === "[DONE]",
      complete,
    };
    offset += byteLength;
    frameStart = end;
    lineStart = end;
    fields = {};
    return out;
  };

  const field = (start: number, end: number): void => {
    // A byte-order mark before the stream's first line is not part of it.
    if (firstLine && text.charCodeAt(start) === 0xfeff) start++;
    firstLine = false;
    if (start === end || text.charCodeAt(start) === 58 /* ":" comment */) return;
    const line = text.slice(start, end);
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "data") {
      fields.data ??= [];
      fields.data.push(value);
    } else if (name === "event") fields.event = value;
    else if (name === "id" && !value.includes("\0")) fields.id = value;
  };

  /** Reads every complete line; a CR at the very end waits for the next chunk (it may be a CRLF). */
  const scan = (final: boolean): SseFrame[] => {
    const out: SseFrame[] = [];
    for (;;) {
      let end = lineStart;
      while (end < text.length && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
      if (end >= text.length) break;
      let next = end + 1;
      if (text.charCodeAt(end) === 13) {
        if (next >= text.length && !final) break;
        if (text.charCodeAt(next) === 10) next++;
      }
      if (end === lineStart) out.push(frame(next, true));
      else {
        field(lineStart, end);
        lineStart = next;
      }
    }
    // Keep only the unfinished frame.
    if (frameStart > 0) {
      text = text.slice(frameStart);
      lineStart -= frameStart;
      frameStart = 0;
    }
    return out;
  };

  return {
    push(chunk) {
      text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      return scan(false);
    },
    end() {
      text += decoder.decode();
      const out = scan(true);
      if (text.length > 0) {
        if (lineStart < text.length) field(lineStart, text.length);
        out.push(frame(text.length, false));
      }
      return out;
    },
  };
}
