import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { generate } from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningService, startService } from "./server.js";
import { createTestRuntime } from "./testing/runtime.js";

/** gRPC health Check over TLS; `encode` writes HealthCheckRequest{service: ""}. */
function check(port: number, credentials: grpc.ChannelCredentials): Promise<number> {
  const client = new grpc.Client(`localhost:${port}`, credentials);
  return new Promise<number>((resolve, reject) =>
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      () => Buffer.alloc(0),
      (b: Buffer) => b,
      {},
      (err, value) => {
        client.close();
        if (err) reject(err);
        else resolve(value![1] ?? 0);
      },
    ),
  );
}

describe("TLS with client-certificate verification (mTLS)", () => {
  let server: RunningService;
  let pems: Awaited<ReturnType<typeof generate>>;
  beforeAll(async () => {
    // One generated pair acts as the server certificate and as the CA of the client certificate.
    pems = await generate([{ name: "commonName", value: "localhost" }], {
      keySize: 2048,
      algorithm: "sha256",
      clientCertificate: true,
      extensions: [
        { name: "basicConstraints", cA: true },
        { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
        { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }] },
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), "callouts-mtls-"));
    writeFileSync(join(dir, "cert.pem"), pems.cert);
    writeFileSync(join(dir, "key.pem"), pems.private);
    const runtime = createTestRuntime();
    server = await startService(
      { name: "mtls", processor: () => ({}) },
      {
        host: "127.0.0.1",
        port: null,
        adminPort: null,
        log: runtime.log,
        tls: {
          port: 0,
          certFile: join(dir, "cert.pem"),
          keyFile: join(dir, "key.pem"),
          clientCaFile: join(dir, "cert.pem"),
        },
      },
    );
  });
  afterAll(() => server.shutdown());

  it("accepts a client that presents a certificate signed by the configured CA", async () => {
    const credentials = grpc.credentials.createSsl(
      Buffer.from(pems.cert),
      Buffer.from(pems.clientprivate!),
      Buffer.from(pems.clientcert!),
    );
    expect(await check(server.tlsPort!, credentials)).toBe(1); // SERVING
  });

  it("refuses a client without a certificate", async () => {
    await expect(check(server.tlsPort!, grpc.credentials.createSsl(Buffer.from(pems.cert)))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });
});
