/**
 * Model names become header values, so they must be valid HTTP field values
 * (RFC 9110 §5.5: no CTLs) and small (Envoy caps a header value at 16 KiB).
 */

const encoder = new TextEncoder();

/** Why `name` cannot be a model header value, or undefined when it can. */
export function modelNameProblem(name: string, maxBytes: number): string | undefined {
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c < 0x20 || c === 0x7f) return "contains control characters";
  }
  if (name.length > maxBytes || encoder.encode(name).length > maxBytes) return `is longer than ${maxBytes} bytes`;
  return undefined;
}
