import { once } from "node:events";
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { createServer as createH2Server, connect as h2connect, constants as h2constants } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { generate } from "selfsigned";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningService, startService, streamResetLimits } from "./server.js";
import type { Service } from "./service.js";
import { checkHealth } from "./testing/health-check.js";
import { createTestRuntime } from "./testing/runtime.js";

const running: RunningService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.shutdown()));
});

async function start(service: Partial<Service>, options: Parameters<typeof startService>[1] = {}) {
  const server = await startService(
    { name: "options", processor: () => ({}), ...service },
    { host: "127.0.0.1", port: 0, adminPort: 0, log: createTestRuntime().log, drainTimeoutMs: 2000, ...options },
  );
  running.push(server);
  return server;
}

describe("the health port (GIE's --grpc-health-port)", () => {
  it("serves grpc.health.v1 with the service's extra names, and nothing else", async () => {
    let ready = false;
    const server = await start({ healthNames: ["inference-extension"], isReady: () => ready }, { healthPort: 0 });
    const url = `http://127.0.0.1:${server.healthPort}`;
    expect(await checkHealth(url, "inference-extension")).toBe("NOT_SERVING");
    expect(await checkHealth(url, "liveness")).toBe("SERVING");
    ready = true;
    expect(await checkHealth(url, "inference-extension")).toBe("SERVING");
    expect(await checkHealth(url, "readiness")).toBe("SERVING");
    expect(await checkHealth(url, "nope")).toBe("NotFound");
    // The same names on the ext_proc port.
    expect(await checkHealth(`http://127.0.0.1:${server.port}`, "inference-extension")).toBe("SERVING");
    // The health port is health only: ext_proc there is not routed (HTTP 404).
    const session = h2connect(url);
    const stream = session.request({
      ":method": "POST",
      ":path": "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
      "content-type": "application/grpc",
    });
    let status: unknown;
    const record = (h: Record<string, unknown>) => {
      status ??= h[":status"];
    };
    stream.on("response", record).on("trailers", record).resume().end();
    await once(stream, "close");
    session.close();
    expect(status).toBe(404);
  });

  it("stays up through the drain: readiness NOT_SERVING, liveness SERVING", async () => {
    const server = await start({ healthNames: ["inference-extension"] }, { healthPort: 0 });
    // An ext_proc stream that never ends keeps the drain going.
    const session = h2connect(`http://127.0.0.1:${server.port}`);
    const held = session.request({
      ":method": "POST",
      ":path": "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
      "content-type": "application/grpc",
    });
    held.on("error", () => undefined);
    await expect.poll(() => server.activeStreams).toBe(1);
    const stopped = server.shutdown();
    const url = `http://127.0.0.1:${server.healthPort}`;
    expect(await checkHealth(url, "inference-extension")).toBe("NOT_SERVING");
    expect(await checkHealth(url, "liveness")).toBe("SERVING");
    expect(server.activeStreams).toBe(1);
    session.destroy();
    await stopped;
  });

  it("is off by default", async () => {
    const server = await start({});
    expect(server.healthPort).toBeUndefined();
  });
});

describe("authorizeMetrics", () => {
  it("answers 401, 403 or the metrics by the service's verdict, and 503 when it cannot decide", async () => {
    const server = await start({
      authorizeMetrics: (authorization) => {
        if (authorization === "Bearer boom") throw new Error("token review unreachable");
        if (!authorization) return "unauthenticated";
        return authorization === "Bearer reader" ? "allowed" : "forbidden";
      },
    });
    const get = (authorization?: string) =>
      fetch(`http://127.0.0.1:${server.adminPort}/metrics`, {
        headers: authorization ? { authorization } : {},
      });
    expect((await get()).status).toBe(401);
    expect((await get("Bearer other")).status).toBe(403);
    expect((await get("Bearer boom")).status).toBe(503);
    const ok = await get("Bearer reader");
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("# HELP");
    // Health endpoints stay open (kubelet probes carry no token).
    expect((await fetch(`http://127.0.0.1:${server.adminPort}/healthz`)).status).toBe(200);
  });
});

async function pair(commonName: string) {
  return generate([{ name: "commonName", value: commonName }], { keySize: 2048, algorithm: "sha256" });
}

/** The certificate the TLS listener presents to a new connection. */
function presentedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, ALPNProtocols: ["h2"] }, () => {
      const subject = socket.getPeerCertificate().subject;
      socket.end();
      resolve(String(subject?.CN));
    });
    socket.on("error", reject);
  });
}

describe("TLS options", () => {
  it("reloads a rotated certificate for new connections (GIE's --enable-cert-reload)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "callouts-reload-"));
    const first = await pair("first");
    writeFileSync(join(dir, "tls.crt"), first.cert);
    writeFileSync(join(dir, "tls.key"), first.private);
    const server = await start(
      {},
      {
        port: null,
        tls: { port: 0, certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key"), reloadCerts: true },
      },
    );
    expect(await presentedCommonName(server.tlsPort!)).toBe("first");
    const second = await pair("second");
    // Written beside and renamed in, as a secret volume's atomic swap.
    writeFileSync(join(dir, "tls.key.new"), second.private);
    writeFileSync(join(dir, "tls.crt.new"), second.cert);
    renameSync(join(dir, "tls.key.new"), join(dir, "tls.key"));
    renameSync(join(dir, "tls.crt.new"), join(dir, "tls.crt"));
    await expect.poll(() => presentedCommonName(server.tlsPort!), { timeout: 5000 }).toBe("second");
  });

  it("keeps the certificate without reloadCerts, and applies minVersion", async () => {
    const dir = mkdtempSync(join(tmpdir(), "callouts-noreload-"));
    const first = await pair("first");
    writeFileSync(join(dir, "tls.crt"), first.cert);
    writeFileSync(join(dir, "tls.key"), first.private);
    const server = await start(
      {},
      {
        port: null,
        tls: { port: 0, certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key"), minVersion: "TLSv1.3" },
      },
    );
    const second = await pair("second");
    writeFileSync(join(dir, "tls.crt"), second.cert);
    writeFileSync(join(dir, "tls.key"), second.private);
    await new Promise((r) => setTimeout(r, 400));
    expect(await presentedCommonName(server.tlsPort!)).toBe("first");
    // A TLS 1.2-only client is refused.
    await expect(
      new Promise((resolve, reject) => {
        const s = tlsConnect(
          { host: "127.0.0.1", port: server.tlsPort!, rejectUnauthorized: false, maxVersion: "TLSv1.2" },
          () => resolve(s.getProtocol()),
        );
        s.on("error", reject);
      }),
    ).rejects.toThrow();
  });
});

/** Opens `count` ext_proc streams on one connection, each half-closed then reset at once, as Envoy ends them; resolves with the GOAWAY error code seen, if any. */
async function resetStorm(port: number, count: number): Promise<number | undefined> {
  const session = h2connect(`http://127.0.0.1:${port}`);
  let goaway: number | undefined;
  session.on("goaway", (code) => {
    goaway ??= code;
  });
  session.on("error", () => undefined);
  for (let i = 0; i < count && goaway === undefined && !session.destroyed; i++) {
    const stream = session.request({
      ":method": "POST",
      ":path": "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
      "content-type": "application/grpc",
    });
    stream.on("error", () => undefined);
    stream.end();
    await new Promise((r) => setImmediate(r));
    stream.close(h2constants.NGHTTP2_CANCEL);
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise((r) => setTimeout(r, 100));
  session.destroy();
  return goaway;
}

/** Whether this Node applies http2's streamResetBurst/streamResetRate (v22 and later do; v20 ignores them). */
async function resetLimitsApplied(): Promise<boolean> {
  // Not in @types/node 20's ServerOptions: passed as a variable, as server.ts spreads them.
  const tiny = { settings: {}, streamResetBurst: 1, streamResetRate: 1 };
  const server = createH2Server(tiny, (_req, res) => res.end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const code = await resetStorm((server.address() as { port: number }).port, 20);
  await new Promise<void>((r) => server.close(() => r()));
  return code !== undefined;
}
const limitsApplied = await resetLimitsApplied();
// scripts/node24-tests.sh runs this file under Node 24 with this set: there the tests must run.
if (process.env.CALLOUTS_REQUIRE_RESET_LIMITS && !limitsApplied)
  throw new Error(`Node ${process.version} does not apply streamResetBurst / streamResetRate`);

describe("Envoy's reset after every stream (nghttp2's Rapid Reset guard)", () => {
  it.skipIf(!limitsApplied)("keeps a connection through 3,000 streams that each end in RST_STREAM", async () => {
    expect(streamResetLimits.streamResetRate).toBeGreaterThan(10_000);
    const server = await start({});
    expect(await resetStorm(server.port!, 3000)).toBeUndefined();
  });

  it.skipIf(!limitsApplied)(
    "would lose the connection with nghttp2's default limit (the failure this prevents)",
    async () => {
      const plain = createH2Server((_req, res) => res.end());
      await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
      try {
        expect(await resetStorm((plain.address() as { port: number }).port, 3000)).toBe(
          h2constants.NGHTTP2_INTERNAL_ERROR,
        );
      } finally {
        await new Promise<void>((r) => plain.close(() => r()));
      }
    },
  );
});

/** Opens `count` Process streams on one connection; `sendFirst` writes a message or END_STREAM before the reset. */
async function resetStreams(port: number, count: number, before: "nothing" | "message" | "end-stream") {
  const session = h2connect(`http://127.0.0.1:${port}`);
  session.on("error", () => undefined);
  let goaway: number | undefined;
  session.on("goaway", (code) => {
    goaway = code;
  });
  await once(session, "connect");
  // A 7-byte ProcessingRequest: request_headers with an empty HeaderMap.
  const message = Buffer.from([0, 0, 0, 0, 2, 0x12, 0]);
  for (let i = 0; i < count && !session.destroyed; i++) {
    const stream = session.request({
      ":method": "POST",
      ":path": "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
      "content-type": "application/grpc",
    });
    stream.on("error", () => undefined);
    if (before === "message") stream.write(message);
    if (before === "end-stream") stream.end();
    if (before !== "nothing") await new Promise((r) => setImmediate(r));
    stream.close(h2constants.NGHTTP2_CANCEL);
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise((r) => setTimeout(r, 100));
  const destroyed = session.destroyed;
  session.destroy();
  return { goaway, destroyed };
}

describe("connection limits (server.http2)", () => {
  const limits = { earlyResetBurst: 50, earlyResetsPerSecond: 1 };

  it("sends GOAWAY ENHANCE_YOUR_CALM to a client resetting streams before any message (Rapid Reset)", async () => {
    const server = await start({}, { http2: limits });
    const result = await resetStreams(server.port!, 300, "nothing");
    expect(result.destroyed || result.goaway === h2constants.NGHTTP2_ENHANCE_YOUR_CALM).toBe(true);
  });

  it("never counts Envoy's resets: after a message, or after END_STREAM", async () => {
    const server = await start({}, { http2: limits });
    expect(await resetStreams(server.port!, 300, "message")).toEqual({ goaway: undefined, destroyed: false });
    expect(await resetStreams(server.port!, 300, "end-stream")).toEqual({ goaway: undefined, destroyed: false });
  });

  it("closes a connection that sends no HTTP/2 preface within handshakeTimeoutMs", async () => {
    const server = await start({}, { http2: { handshakeTimeoutMs: 200 } });
    const { connect } = await import("node:net");
    const socket = connect(server.port!, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.resume();
    const started = performance.now();
    await once(socket, "close");
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(5000);
  });

  it("advertises maxConcurrentStreams", async () => {
    const server = await start({}, { http2: { maxConcurrentStreams: 7 } });
    const session = h2connect(`http://127.0.0.1:${server.port}`);
    session.on("error", () => undefined);
    const [settings] = (await once(session, "remoteSettings")) as [{ maxConcurrentStreams?: number }];
    session.destroy();
    expect(settings.maxConcurrentStreams).toBe(7);
  });
});
