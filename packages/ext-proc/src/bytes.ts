/** Byte helpers shared by the SDK and services. */

export const emptyBytes: Uint8Array = new Uint8Array(0);

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) return emptyBytes;
  if (parts.length === 1) return parts[0]!;
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}
