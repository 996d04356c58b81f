/**
 * Protocol faults of a stream (an out-of-order or unknown message). The server ends
 * that stream with a gRPC error and keeps serving; processor faults never use this.
 */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

export function isProtocolError(error: unknown): error is ProtocolError {
  return error instanceof Error && error.name === "ProtocolError";
}
