import { commonOf, type FilterStream } from "../filter-stream.js";
import type { Header } from "../http.js";
import type { BodyStart } from "../messages.js";
import { sendChunks } from "./send-chunks.js";

/**
 * STREAMED: chunks go out as they arrive and each reply, matched in order, replaces its chunk.
 * ProcessorState::enqueueStreamingChunk / clearWatermark: chunks sent and not yet answered form a
 * queue; above the buffer limit Envoy stops reading the body until replies bring the queue under
 * half of it. Returns the headers as they went on (a pending headers reply is applied first).
 */
export async function streamedBody(stream: FilterStream, start: BodyStart): Promise<Header[]> {
  const { dir, message, headerReplyPending, sink } = start;
  let headers = start.headers;
  const sent: Uint8Array[] = [];
  let sendingDone = false;
  let wake: (() => void) | undefined;
  const limit = stream.bufferLimit();
  let queued = 0;
  let resume: (() => void) | undefined;
  const gate = async () => {
    if (queued <= limit) return;
    await new Promise<void>((resolve) => {
      resume = resolve;
    });
  };
  const sender = sendChunks(stream, dir, message.body, message.trailers !== undefined, false, {
    gate,
    onSent: (chunk) => {
      queued += chunk.length;
      sent.push(chunk);
      wake?.();
    },
  }).finally(() => {
    sendingDone = true;
    wake?.();
  });
  if (headerReplyPending) {
    const reply = await stream.expect(dir, ["Headers"], stream.messageTimeout());
    if (reply) headers = stream.applyHeadersReply(dir, headers, reply).headers;
  }
  sink.headers(headers);
  try {
    for (let i = 0; ; i++) {
      while (i >= sent.length && !sendingDone) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (i >= sent.length || stream.aborted) break;
      const original = sent[i]!;
      if (!stream.serverActive) {
        sink.chunk(original);
        continue;
      }
      const reply = await stream.expect(dir, ["Body"], stream.messageTimeout());
      queued -= original.length;
      if (resume && queued < limit / 2) {
        const r = resume;
        resume = undefined;
        r();
      }
      const common = reply ? commonOf(reply) : undefined;
      const mutation = common?.bodyMutation?.mutation;
      if (mutation?.case === "streamedResponse")
        stream.protocolFault("spurious", "streamed_response in a STREAMED reply");
      // Header mutations in a STREAMED body reply: the headers have already continued.
      if (reply) stream.noteRouteCache(dir, common);
      sink.chunk(
        mutation?.case === "body" ? mutation.value : mutation?.case === "clearBody" ? new Uint8Array() : original,
      );
    }
  } finally {
    // Unblock a sender still waiting on the watermark (the exchange ended early).
    resume?.();
  }
  await sender;
  return headers;
}
