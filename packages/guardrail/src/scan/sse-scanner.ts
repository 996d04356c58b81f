import { createSseFramer } from "@llm-callouts/llm-api";
import { parseSseEvent, type SseEvent } from "./sse-events.js";

/** What the policy wants done with a span of streamed text. */
export interface StreamSpan {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly action: "block" | "redact" | "inspect";
  /** Which filter found it and how sure it is (carried into the stream verdict). */
  readonly filter?: string;
  readonly confidence?: "LOW" | "MEDIUM" | "HIGH";
  /** The remote backend that reported it (undefined = the local detectors). */
  readonly backend?: string;
}

export interface SseScannerOptions {
  /** Characters of each channel's text held back so a value split across events is seen whole. */
  readonly holdBackChars: number;
  /** Scans a channel's held text; offsets are into that text. */
  readonly scan: (text: string) => readonly StreamSpan[];
  /** Replacement for a redacted value (placeholder or mask). */
  readonly replacement: (type: string, value: string) => string;
  /** The SSE event(s) that end a blocked stream. */
  readonly blockEvents: (flavour: "openai" | "anthropic") => string;
}

export interface SseStep {
  /** Bytes to forward now. */
  readonly emit: string;
  /** True once the stream was blocked (later steps emit nothing). */
  readonly blocked: boolean;
  /** The text this chunk added, per channel (for scanners that look at whole windows, such as remote backends). */
  readonly appended: ReadonlyMap<string, string>;
}

/** Upper bound on text held per channel (bounds memory and rescans per chunk). */
const maxHeldChars = 16_384;

interface Segment {
  readonly channel: string;
  readonly start: number;
  readonly end: number;
  readonly index: number;
}

interface Held {
  readonly event: SseEvent;
  readonly segments: readonly Segment[];
}

interface Channel {
  /** Absolute offset of `text[0]` in the channel's whole text. */
  base: number;
  text: string;
}

/**
 * Incremental SSE output scanner. Complete events are parsed; their text deltas
 * are appended to per-channel buffers; an event is forwarded only once every
 * delta it carries lies before the channel's hold-back window and outside any
 * finding that may still grow. Redactions are written into the event JSON (the
 * placeholder in the first delta a value touches, later parts emptied), so SSE
 * framing and event JSON stay valid. A block ends the stream with an error
 * event and `data: [DONE]`.
 */
export function createSseScanner(options: SseScannerOptions) {
  const framer = createSseFramer();
  let blocked = false;
  let flavour: "openai" | "anthropic" = "openai";
  const held: Held[] = [];
  const channels = new Map<string, Channel>();
  const spans: StreamSpan[] = [];

  const channel = (name: string): Channel => {
    let c = channels.get(name);
    if (!c) {
      c = { base: 0, text: "" };
      channels.set(name, c);
    }
    return c;
  };

  /** Releases held events in order while they are safe; `final` releases everything. */
  const release = (final: boolean): string => {
    const safeBy = new Map<string, number>();
    const findings = new Map<string, StreamSpan[]>();
    for (const [name, c] of channels) {
      const found = options.scan(c.text).map((s) => ({ ...s, start: s.start + c.base, end: s.end + c.base }));
      if (found.some((s) => s.action === "block")) {
        blocked = true;
        spans.push(...found);
        return "";
      }
      // Held text is bounded: past maxHeldChars it is released as if the stream ended, except
      // that a finding still growing at the end (an unterminated key block) cannot be redacted
      // safely in parts, so it blocks the stream.
      const flush = final || c.text.length > maxHeldChars;
      if (!final && flush && found.some((s) => s.action !== "inspect" && s.end >= c.base + c.text.length)) {
        blocked = true;
        spans.push(...found);
        return "";
      }
      let safe = flush ? c.base + c.text.length : c.base + c.text.length - options.holdBackChars;
      if (!flush) for (const s of found) if (s.end > safe && s.start < safe) safe = Math.min(safe, s.start);
      safeBy.set(name, safe);
      findings.set(
        name,
        found.filter((s) => s.end <= safe),
      );
    }
    let out = "";
    while (held.length > 0) {
      const next = held[0] as Held;
      if (!next.segments.every((s) => s.end <= (safeBy.get(s.channel) ?? 0))) break;
      held.shift();
      for (const segment of next.segments) {
        const c = channels.get(segment.channel) as Channel;
        const delta = next.event.deltas[segment.index];
        const own = (findings.get(segment.channel) ?? []).filter(
          (s) => s.action === "redact" && s.start < segment.end && s.end > segment.start,
        );
        if (delta && own.length > 0) {
          let text = "";
          let cursor = segment.start;
          for (const s of own.sort((a, b) => a.start - b.start)) {
            if (s.start > cursor) text += c.text.slice(cursor - c.base, s.start - c.base);
            if (s.start >= segment.start) {
              text += options.replacement(s.type, c.text.slice(s.start - c.base, s.end - c.base));
            }
            cursor = Math.max(cursor, Math.min(s.end, segment.end));
          }
          text += c.text.slice(cursor - c.base, segment.end - c.base);
          delta.set(text);
        }
      }
      out += next.event.serialize();
    }
    // Drop released text, keeping findings reported once.
    for (const [name, c] of channels) {
      const firstHeld =
        held.flatMap((h) => h.segments).find((s) => s.channel === name)?.start ?? c.base + c.text.length;
      for (const s of findings.get(name) ?? []) if (s.end <= firstHeld) spans.push(s);
      c.text = c.text.slice(firstHeld - c.base);
      c.base = firstHeld;
    }
    return out;
  };

  return {
    /** Feeds one body chunk; `end` flushes everything. */
    push(chunk: Uint8Array, end: boolean): SseStep {
      const appended = new Map<string, string>();
      if (blocked) return { emit: "", blocked, appended };
      const frames = framer.push(chunk);
      // At the end, an unterminated last event is scanned like the others.
      if (end) frames.push(...framer.end());
      let final = end;
      for (const frame of frames) {
        if (frame.event === "message_start") flavour = "anthropic";
        const event = parseSseEvent(frame);
        const segments = event.deltas.map((d, index) => {
          const c = channel(d.channel);
          const start = c.base + c.text.length;
          c.text += d.text;
          appended.set(d.channel, (appended.get(d.channel) ?? "") + d.text);
          return { channel: d.channel, start, end: start + d.text.length, index };
        });
        held.push({ event, segments });
        if (event.done || frame.event === "message_stop") final = true;
      }
      const emit = release(final);
      if (blocked) return { emit: emit + options.blockEvents(flavour), blocked, appended };
      return { emit, blocked, appended };
    },
    /**
     * Ends the stream now (a verdict from outside, such as a remote backend's): the events
     * that end a blocked stream, to send instead of anything still held. Later pushes emit nothing.
     */
    /** Adds findings made outside the scanner (remote backends) to the stream's report. */
    record(found: readonly StreamSpan[]): void {
      spans.push(...found);
    },
    block(found: readonly StreamSpan[] = []): string {
      if (blocked) return "";
      blocked = true;
      held.length = 0;
      spans.push(...found);
      return options.blockEvents(flavour);
    },
    /** Findings reported so far (absolute channel offsets). */
    spans: (): readonly StreamSpan[] => spans,
    get blocked() {
      return blocked;
    },
  };
}

export type SseScanner = ReturnType<typeof createSseScanner>;
