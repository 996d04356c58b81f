/**
 * Row 9, TLS and mTLS: the TLS port with client-certificate verification refuses expired,
 * wrong-CA and missing client certificates and plaintext, and keeps serving good clients.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import type { SecureClientSessionOptions } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";
import {
  type CaseResult,
  count,
  emptyTally,
  type Form,
  type Outcome,
  type RowResult,
  spawnService,
  suiteServerConfig,
  timed,
  underWitness,
} from "../harness.js";
import { connectH2, grpcFrame, type RawAnswer, rawCall } from "../raw-grpc.js";

const caExtensions = () => [
  { name: "basicConstraints" as const, cA: true },
  { name: "keyUsage" as const, keyCertSign: true, digitalSignature: true, keyEncipherment: true },
  { name: "subjectAltName" as const, altNames: [{ type: 2 as const, value: "localhost" }] },
];

const yearMs = 365 * 24 * 3600 * 1000;

/** A CA that also serves as the server certificate, a good client, an expired client (same CA), and a client of another CA. */
export async function tlsMaterial() {
  const subject = [{ name: "commonName", value: "localhost" }];
  const ca = await generate(subject, {
    keySize: 2048,
    algorithm: "sha256",
    extensions: caExtensions(),
    clientCertificate: { cn: "good-client" },
  });
  // Same key and subject as `ca`, so its client certificate chains to `ca`; but long expired.
  const expired = await generate(subject, {
    keySize: 2048,
    algorithm: "sha256",
    extensions: caExtensions(),
    keyPair: { privateKey: ca.private, publicKey: ca.public },
    clientCertificate: {
      cn: "expired-client",
      notBeforeDate: new Date(Date.now() - 2 * yearMs),
      notAfterDate: new Date(Date.now() - yearMs),
    },
  });
  const other = await generate([{ name: "commonName", value: "other-ca" }], {
    keySize: 2048,
    algorithm: "sha256",
    extensions: caExtensions(),
    clientCertificate: { cn: "stranger" },
  });
  return { ca, expired, other };
}

const healthCheck = { ":path": "/grpc.health.v1.Health/Check" };
/** An empty HealthCheckRequest (overall health). */
const healthFrame = grpcFrame(new Uint8Array(0));

async function attempt(port: number, options: SecureClientSessionOptions | "plaintext"): Promise<RawAnswer> {
  try {
    const session =
      options === "plaintext"
        ? await connectH2(`http://127.0.0.1:${port}`)
        : await connectH2(`https://localhost:${port}`, { ...options, servername: "localhost" });
    let sessionError: string | undefined;
    session.on("error", (error: Error) => {
      sessionError ??= error.message;
    });
    try {
      const answer = await rawCall(session, { headers: healthCheck, frames: [healthFrame], deadlineMs: 3000 });
      // The server's TLS alert (TLS 1.3 sends it after the client's handshake completed).
      return answer.kind === "lost" && sessionError ? { kind: "lost", reason: sessionError } : answer;
    } finally {
      session.destroy();
    }
  } catch (error) {
    return { kind: "lost", reason: (error as Error).message };
  }
}

export async function tlsRow(form: Form): Promise<RowResult> {
  const material = await tlsMaterial();
  const dir = mkdtempSync(join(tmpdir(), "callouts-faults-tls-"));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const args = [
    "--tls-cert",
    file("cert.pem", material.ca.cert),
    "--tls-key",
    file("key.pem", material.ca.private),
    "--tls-client-ca",
    file("ca.pem", material.ca.cert),
  ];
  const proc = await spawnService("echo", { config: suiteServerConfig, args, tls: true });
  const tlsPort = proc.tlsPort!;
  const repeats = form === "full" ? 100 : 10;
  const ca = Buffer.from(material.ca.cert);
  const good = { ca, key: material.ca.clientprivate, cert: material.ca.clientcert };
  const served = (a: RawAnswer) => a.kind === "status" && a.code === 0 && a.replies === 1;
  const refused = (a: RawAnswer) => a.kind === "lost";
  const cases: {
    name: string;
    expected: string;
    options: SecureClientSessionOptions | "plaintext";
    ok: (a: RawAnswer) => boolean;
  }[] = [
    { name: "client certificate signed by the configured CA", expected: "served", options: good, ok: served },
    {
      name: "expired client certificate (same CA)",
      expected: "handshake refused",
      options: { ca, key: material.expired.clientprivate, cert: material.expired.clientcert },
      ok: refused,
    },
    {
      name: "client certificate of another CA",
      expected: "handshake refused",
      options: { ca, key: material.other.clientprivate, cert: material.other.clientcert },
      ok: refused,
    },
    { name: "no client certificate", expected: "handshake refused", options: { ca }, ok: refused },
    { name: "plaintext HTTP/2 to the TLS port", expected: "connection closed", options: "plaintext", ok: refused },
    {
      name: "server certificate not trusted by the client (no CA given)",
      expected: "handshake refused by the client",
      options: { key: material.ca.clientprivate, cert: material.ca.clientcert },
      ok: refused,
    },
  ];
  try {
    return await underWitness("9. TLS / mTLS", proc, async () => {
      const results: CaseResult[] = [];
      for (const c of cases) {
        results.push(
          await timed(async () => {
            const tally = emptyTally();
            let detail: string | undefined;
            for (let i = 0; i < repeats; i++) {
              const answer = await attempt(tlsPort, c.options);
              const outcome: Outcome = c.ok(answer) ? "answered" : answer.kind === "hung" ? "hung" : "errored";
              count(tally, outcome);
              if (outcome !== "answered") detail ??= JSON.stringify(answer);
              else detail ??= answer.kind === "lost" ? answer.reason : undefined;
            }
            return { name: c.name, expected: c.expected, tally, detail };
          }),
        );
      }
      // A good client still gets in after all of it.
      const after = await attempt(tlsPort, good);
      const tally = emptyTally();
      count(tally, served(after) ? "answered" : "errored");
      results.push({ name: "good client after the refusals", expected: "served", tally });
      return results;
    });
  } finally {
    await proc.stop();
  }
}
