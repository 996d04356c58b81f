/**
 * Rewrites the top-level `model` of a JSON body by splicing the new JSON string over the
 * old token's bytes. Unlike parse + serialise this keeps every other byte as sent: key
 * order, whitespace, number spellings (`1.0`, integers beyond 2^53) and duplicate keys.
 */

const encoder = new TextEncoder();

/** The byte range `[start, end)` of the model token, as the scanner reports it. */
export interface TokenSpan {
  readonly start: number;
  readonly end: number;
}

/** Returns a new body with `span` replaced by `JSON.stringify(model)`. */
export function rewriteModel(body: Uint8Array, span: TokenSpan, model: string): Uint8Array {
  return spliceBytes(body, span, encoder.encode(JSON.stringify(model)));
}

/** Returns a new body with `span` replaced by `token` (one copy). */
export function spliceBytes(body: Uint8Array, span: TokenSpan, token: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length - (span.end - span.start) + token.length);
  out.set(body.subarray(0, span.start), 0);
  out.set(token, span.start);
  out.set(body.subarray(span.end), span.start + token.length);
  return out;
}
