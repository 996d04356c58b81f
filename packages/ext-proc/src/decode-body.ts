import { promisify } from "node:util";
import { brotliDecompress, gunzip, inflate, inflateRaw, type ZlibOptions } from "node:zlib";

/**
 * Decodes a `content-encoding`d request body for inspection, with the size limit
 * enforced on the encoded and on every decoded size (a 16 MiB limit stops a zip bomb
 * after 16 MiB of output, not after it filled memory).
 */

export type DecodeError =
  | { readonly kind: "too-large"; readonly limitBytes: number }
  | { readonly kind: "unsupported-encoding"; readonly encoding: string }
  | { readonly kind: "corrupt"; readonly encoding: string; readonly message: string };

export type DecodeResult = { readonly value: Uint8Array; readonly decoded: boolean } | { readonly error: DecodeError };

type Inflater = (input: Uint8Array, options: ZlibOptions) => Promise<Buffer>;
const gunzipAsync = promisify(gunzip) as Inflater;
const inflateAsync = promisify(inflate) as Inflater;
const inflateRawAsync = promisify(inflateRaw) as Inflater;
const brotliAsync = promisify(brotliDecompress) as (input: Uint8Array, options: object) => Promise<Buffer>;

/** Decodes `body` per `contentEncoding` (a comma list, applied in order, so undone in reverse). */
export async function decodeBody(
  body: Uint8Array,
  contentEncoding: string | undefined,
  limitBytes: number,
): Promise<DecodeResult> {
  if (body.length > limitBytes) return { error: { kind: "too-large", limitBytes } };
  const encodings = (contentEncoding ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "" && e !== "identity");
  let value = body;
  for (const encoding of encodings.reverse()) {
    const step = await decodeOne(value, encoding, limitBytes);
    if ("error" in step) return step;
    value = step.value;
  }
  return { value, decoded: encodings.length > 0 };
}

async function decodeOne(
  body: Uint8Array,
  encoding: string,
  limitBytes: number,
): Promise<{ value: Uint8Array } | { error: DecodeError }> {
  const options = { maxOutputLength: Math.max(1, limitBytes) };
  try {
    switch (encoding) {
      case "gzip":
      case "x-gzip":
        return { value: await gunzipAsync(body, options) };
      case "deflate":
        // RFC 9110 "deflate" is zlib-wrapped, but some clients send raw deflate.
        return {
          value: await inflateAsync(body, options).catch((cause: unknown) => {
            if (isTooLarge(cause)) throw cause;
            return inflateRawAsync(body, options);
          }),
        };
      case "br":
        return { value: await brotliAsync(body, options) };
      default:
        return { error: { kind: "unsupported-encoding", encoding } };
    }
  } catch (cause) {
    if (isTooLarge(cause)) return { error: { kind: "too-large", limitBytes } };
    return { error: { kind: "corrupt", encoding, message: (cause as Error).message } };
  }
}

function isTooLarge(cause: unknown): boolean {
  const code = (cause as { code?: unknown }).code;
  return (
    code === "ERR_BUFFER_TOO_LARGE" || (cause instanceof RangeError && /Cannot create a Buffer/.test(cause.message))
  );
}
