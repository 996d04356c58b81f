/**
 * Finds the `model` field of a `multipart/form-data` body (OpenAI audio transcription and
 * translation, image edits): the part whose Content-Disposition is `form-data; name="model"`.
 * Only part headers are parsed; file contents are skipped with native `indexOf`.
 */

/** The `model` field's value and its raw bytes `[start, end)`, for splicing a rewrite. */
export interface MultipartField {
  readonly model: string;
  readonly start: number;
  readonly end: number;
  readonly duplicate: boolean;
}

export type MultipartError =
  | { readonly kind: "no-boundary" }
  | { readonly kind: "malformed"; readonly message: string }
  | { readonly kind: "missing" };

export type MultipartResult = { readonly value: MultipartField } | { readonly error: MultipartError };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const CRLF_CRLF = encoder.encode("\r\n\r\n");

/** The `boundary` parameter of a multipart content-type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** True for `multipart/form-data` content types. */
export function isMultipart(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*multipart\/form-data\s*(;|$)/i.test(contentType);
}

/** Scans the parts of a multipart body for a field named `model` (the last one wins). */
export function scanMultipartModel(body: Uint8Array, boundary: string | undefined): MultipartResult {
  if (boundary === undefined) return { error: { kind: "no-boundary" } };
  const delimiter = encoder.encode(`--${boundary}`);
  const next = encoder.encode(`\r\n--${boundary}`);
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.length);
  let at = buffer.indexOf(delimiter);
  if (at === -1) return { error: { kind: "malformed", message: "no boundary delimiter" } };
  let found: { start: number; end: number } | undefined;
  let count = 0;
  for (;;) {
    let i = at + delimiter.length;
    if (body[i] === 0x2d && body[i + 1] === 0x2d) break; // closing delimiter "--boundary--"
    const headersEnd = buffer.indexOf(CRLF_CRLF, i);
    if (headersEnd === -1) return { error: { kind: "malformed", message: "part headers do not end" } };
    const partEnd = buffer.indexOf(next, headersEnd + 4);
    if (partEnd === -1) return { error: { kind: "malformed", message: "part does not end with a delimiter" } };
    i = headersEnd + 4;
    if (isModelPart(decoder.decode(body.subarray(at + delimiter.length, headersEnd)))) {
      found = { start: i, end: partEnd };
      count++;
    }
    at = partEnd + 2;
  }
  if (!found) return { error: { kind: "missing" } };
  const model = decoder.decode(body.subarray(found.start, found.end));
  return { value: { model, start: found.start, end: found.end, duplicate: count > 1 } };
}

function isModelPart(headers: string): boolean {
  for (const line of headers.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== "content-disposition") continue;
    const value = line.slice(colon + 1);
    if (!/^\s*form-data\s*(;|$)/i.test(value)) return false;
    const name = /;\s*name\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(value);
    // A part with a filename is a file upload, never the model field.
    return name !== null && (name[1] ?? name[2]) === "model" && !/;\s*filename\*?\s*=/i.test(value);
  }
  return false;
}
