/**
 * Reading answers from services the callouts call (embedders, guardrail backends): bounded
 * reads, JSON with a clear error, deadlines over promises that take no signal, and Google's
 * error envelope reduced to its status (never its message, which may echo the input).
 */

/** The body as text, failing past `limit` bytes (a garbage or hostile endpoint). `what` names the answer in errors. */
export async function readCapped(response: Response, limit: number, what = "answer"): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await response.body?.cancel();
    throw new Error(`${what} of ${declared} bytes exceeds ${limit}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`${what} exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The JSON of an answer, or a clear error. */
export function parseJson(raw: string, what = "answer"): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`${what} is not JSON`);
  }
}

/** Rejects when `signal` aborts first (for calls that take no signal, such as token fetches). */
export function withDeadline<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error(`${what}: deadline passed`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(`${what}: deadline passed`));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** `RESOURCE_EXHAUSTED` from a Google error body (`{ error: { code, message, status } }`), else undefined. */
export function googleErrorStatus(raw: string): string | undefined {
  try {
    const status = (JSON.parse(raw) as { error?: { status?: unknown } }).error?.status;
    return typeof status === "string" && /^[A-Z_]{1,40}$/.test(status) ? status : undefined;
  } catch {
    return undefined;
  }
}

/** Milliseconds a `retry-after` header asks for (seconds or an HTTP date), else undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
