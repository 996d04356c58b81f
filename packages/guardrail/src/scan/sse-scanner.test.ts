import { describe, expect, it } from "vitest";
import { createSseScanner, type StreamSpan } from "./sse-scanner.js";

const secret = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX";
const chatEvent = (content: string): string =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

function scanner(action: "redact" | "block" = "redact", holdBackChars = 64) {
  return createSseScanner({
    holdBackChars,
    scan: (text): StreamSpan[] =>
      [...text.matchAll(/sk-proj-[A-Za-z0-9]{20,}/g)].map((m) => ({
        type: "OPENAI_API_KEY",
        start: m.index,
        end: m.index + m[0].length,
        action,
      })),
    replacement: (type) => `[${type}_1]`,
    blockEvents: () =>
      'data: {"error":{"message":"blocked","type":"invalid_request_error","code":"content_policy_violation"}}\n\ndata: [DONE]\n\n',
  });
}

function run(s: ReturnType<typeof scanner>, chunks: string[]): string {
  const enc = new TextEncoder();
  return chunks.map((c, i) => s.push(enc.encode(c), i === chunks.length - 1).emit).join("");
}

function contentOf(sse: string): string {
  return sse
    .split("\n\n")
    .filter((e) => e.startsWith("data: {"))
    .map(
      (e) => (JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "",
    )
    .join("");
}

describe("createSseScanner()", () => {
  const text = `Here is the key ${secret} — keep it safe.`;

  it.each(Array.from({ length: text.length - 1 }, (_, i) => i + 1))(
    "redacts a secret split into events at %i",
    (cut) => {
      const out = run(scanner(), [chatEvent(text.slice(0, cut)), chatEvent(text.slice(cut)), "data: [DONE]\n\n"]);
      expect(contentOf(out)).toBe("Here is the key [OPENAI_API_KEY_1] — keep it safe.");
      expect(out).not.toContain("ABCDEFGH");
      expect(out.endsWith("data: [DONE]\n\n")).toBe(true);
    },
  );

  it("redacts a secret whose event bytes are split at every byte position", () => {
    const whole = `${chatEvent(text)}data: [DONE]\n\n`;
    const bytes = new TextEncoder().encode(whole);
    for (let cut = 1; cut < bytes.length; cut++) {
      const s = scanner();
      const out = s.push(bytes.slice(0, cut), false).emit + s.push(bytes.slice(cut), true).emit;
      expect(contentOf(out)).toBe("Here is the key [OPENAI_API_KEY_1] — keep it safe.");
    }
  });

  it("passes events without findings byte for byte", () => {
    const input = `: keep-alive\n\nevent: ping\ndata: {"x":1}\n\n${chatEvent("hello")}data: [DONE]\n\n`;
    expect(run(scanner(), [input])).toBe(input);
  });

  it("holds back only the tail window before the end", () => {
    const s = scanner("redact", 10);
    const first = s.push(new TextEncoder().encode(chatEvent("a".repeat(30)) + chatEvent("b".repeat(15))), false).emit;
    expect(contentOf(first)).toBe("a".repeat(30));
  });

  it("ends a blocked stream with an error event and [DONE]", () => {
    const s = scanner("block");
    const out = run(s, [chatEvent("safe start. "), chatEvent(`now ${secret}`), chatEvent("more")]);
    expect(out).not.toContain("ABCDEFGH");
    expect(out.endsWith('"code":"content_policy_violation"}}\n\ndata: [DONE]\n\n')).toBe(true);
    expect(s.blocked).toBe(true);
    expect(s.push(new TextEncoder().encode(chatEvent("after")), false).emit).toBe("");
  });

  it("scans tool-call argument deltas and Anthropic text deltas", () => {
    const tool = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: `{"k":"${secret}"}` } }] } }] })}\n\n`;
    const anthropic = `event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: secret } })}\n\n`;
    const out = run(scanner(), [tool, anthropic, "event: message_stop\ndata: {}\n\n"]);
    expect(out).not.toContain("ABCDEFGH");
    expect(out.match(/\[OPENAI_API_KEY_1\]/g)).toHaveLength(2);
  });

  it("blocks when a finding keeps growing past the held-text bound", () => {
    const s = createSseScanner({
      holdBackChars: 64,
      scan: (text) => {
        const at = text.indexOf("BEGIN");
        return at < 0 ? [] : [{ type: "PRIVATE_KEY", start: at, end: text.length, action: "redact" as const }];
      },
      replacement: (type) => `[${type}_1]`,
      blockEvents: () => "data: [DONE]\n\n",
    });
    let out = s.push(new TextEncoder().encode(chatEvent("ok BEGIN ")), false).emit;
    for (let i = 0; i < 20; i++) out += s.push(new TextEncoder().encode(chatEvent("x".repeat(1000))), false).emit;
    expect(s.blocked).toBe(true);
    expect(out).not.toContain("BEGIN");
    expect(out.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("releases long clean text once the held-text bound is reached", () => {
    const s = scanner("redact", 20_000);
    const out = s.push(new TextEncoder().encode(chatEvent("y".repeat(17_000))), false).emit;
    expect(contentOf(out)).toBe("y".repeat(17_000));
  });

  it("redacts Responses API text deltas split across events", () => {
    const delta = (d: string) =>
      `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", output_index: 0, content_index: 0, delta: d })}\n\n`;
    const out = run(scanner(), [
      delta("key sk-proj-ABCDEFGH"),
      delta("IJKLMNOPQRSTUVWX done"),
      "event: response.completed\ndata: {}\n\n",
    ]);
    const texts = out
      .split("\n\n")
      .filter((e) => e.includes("output_text.delta"))
      .map((e) => (JSON.parse(e.split("data: ")[1] as string) as { delta: string }).delta);
    expect(texts.join("")).toBe("key [OPENAI_API_KEY_1] done");
    expect(out).toContain("event: response.completed\ndata: {}\n\n");
  });

  it("records released findings once", () => {
    const s = scanner();
    run(s, [chatEvent(text), "data: [DONE]\n\n"]);
    expect(s.spans().map((x) => x.type)).toEqual(["OPENAI_API_KEY"]);
  });
});
