import type { HttpMessage } from "./types.js";

/** An upstream's 200 answer to an OpenAI chat completion, as an exchange's upstream message. */
export function chatCompletionAnswer(model: unknown, content: string): HttpMessage {
  return {
    headers: { ":status": "200", "content-type": "application/json" },
    body: [
      JSON.stringify({
        id: "chatcmpl-upstream",
        object: "chat.completion",
        created: 1,
        model,
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
      }),
    ],
  };
}
