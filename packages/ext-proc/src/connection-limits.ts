/**
 * What one connection to a gRPC listener may hold or do. The peer is a proxy (Envoy, GCP's
 * load balancer) multiplexing many requests, so stream counts are high; what a proxy never
 * does is bounded tightly.
 */
export interface ConnectionLimits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to the client. */
  readonly maxConcurrentStreams: number;
  /**
   * Streams a client may reset before sending one whole message (HTTP/2 Rapid Reset,
   * CVE-2023-44487), as a token bucket: `earlyResetBurst` at once, refilled at
   * `earlyResetsPerSecond`. Past it the connection gets GOAWAY ENHANCE_YOUR_CALM. Envoy sends
   * its first message as it opens the stream, so its resets never count.
   */
  readonly earlyResetBurst: number;
  readonly earlyResetsPerSecond: number;
  /** A connection that has not sent its HTTP/2 preface and SETTINGS (or finished TLS) by then is closed. */
  readonly handshakeTimeoutMs: number;
}

export const defaultConnectionLimits: ConnectionLimits = {
  maxConcurrentStreams: 100_000,
  earlyResetBurst: 200,
  earlyResetsPerSecond: 20,
  handshakeTimeoutMs: 10_000,
};

/** `burst` tokens, refilled continuously at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
  }
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
