/**
 * A complete, successful chat completion in the form the cache keeps, whether it
 * arrived as JSON or as an SSE stream. Replay renders it as either.
 */
export interface StoredCompletion {
  readonly id: string;
  readonly model: string;
  /** Epoch seconds, from the original answer. */
  readonly created: number;
  readonly systemFingerprint?: string;
  readonly choices: readonly StoredChoice[];
  readonly usage?: Readonly<Record<string, unknown>>;
}

export interface StoredChoice {
  readonly index: number;
  readonly role: string;
  /** Null when the message only carries tool calls. */
  readonly content: string | null;
  readonly toolCalls?: readonly StoredToolCall[];
  readonly refusal?: string | null;
  readonly finishReason: string;
}

export interface StoredToolCall {
  readonly id: string;
  readonly type: string;
  readonly function: { readonly name: string; readonly arguments: string };
}
