import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { createEnvoyClient } from "@llm-callouts/envoy-emulator";
import type { AuthzDecision, Service } from "@llm-callouts/ext-proc";
import { describe, expect, it } from "vitest";
import { startEcho, startWith, text } from "./harness.js";

const cli = join(dirname(fileURLToPath(import.meta.url)), "../../packages/cli/dist/main.js");
const require = createRequire(import.meta.url);

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function waitForHealthy(adminPort: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`callouts exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("callouts did not become healthy");
}

describe("callouts serve echo (process)", () => {
  it("drains: an in-flight stream completes after SIGTERM, health turns NOT_SERVING, exit 0", async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), "callouts-drain-"));
    const config = join(dir, "echo.yaml");
    writeFileSync(config, "server:\n  drainTimeoutMs: 5000\n  logLevel: warn\nservice:\n  delayMs: 800\n");
    const child = spawn(
      process.execPath,
      [
        cli,
        "serve",
        "echo",
        "--port",
        String(port),
        "--admin-port",
        String(adminPort),
        "--host",
        "127.0.0.1",
        "--config",
        config,
      ],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    try {
      await waitForHealthy(adminPort, child);
      const client = createEnvoyClient(`127.0.0.1:${port}`);
      const inFlight = client.exchange(
        { processingMode: { requestBodyMode: "BUFFERED" }, messageTimeoutMs: 5000 },
        { request: { headers: {}, body: ["in flight"] } },
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 100));
      const health = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
      expect(health.status).toBe(503);
      const result = await inFlight;
      expect(result.error).toBeUndefined();
      expect(text(result.upstream!.body)).toBe("in flight");
      const [code] = await exited;
      expect(code).toBe(0);
      client.close();
    } finally {
      child.kill("SIGKILL");
    }
  });
});

/** HealthCheckRequest{service} encoded by hand: field 1, length-delimited. */
const encodeHealthRequest = (service: string) => {
  const bytes = Buffer.from(service);
  return Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]);
};

/** grpc.health.v1.Health/Check; the reply's raw bytes (SERVING is 08 01). */
const healthCheck = (client: grpc.Client, service: string) =>
  new Promise<Buffer>((resolve, reject) =>
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      encodeHealthRequest,
      (b: Buffer) => b,
      service,
      (err, value) => (err ? reject(err) : resolve(value!)),
    ),
  );

describe("health", () => {
  it("answers grpc.health.v1 Check and Watch, and the admin listener", async () => {
    const echo = await startEcho();
    const client = new grpc.Client(`127.0.0.1:${echo.server.port}`, grpc.credentials.createInsecure());
    const check = (service: string) => healthCheck(client, service);
    try {
      // HealthCheckResponse{status: SERVING(1)} is 08 01.
      expect([...(await check("envoy.service.ext_proc.v3.ExternalProcessor"))]).toEqual([0x08, 0x01]);
      expect([...(await check(""))]).toEqual([0x08, 0x01]);
      await expect(check("nope")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });

      const watch = client.makeServerStreamRequest(
        "/grpc.health.v1.Health/Watch",
        encodeHealthRequest,
        (b: Buffer) => b,
        "",
      );
      const seen: number[] = [];
      const sawNotServing = new Promise<void>((resolve) =>
        watch.on("data", (b: Buffer) => {
          seen.push(b[1] ?? 0);
          if (b[1] === 2) resolve();
        }),
      );
      watch.on("error", () => {});
      const admin = `http://127.0.0.1:${echo.server.adminPort}`;
      expect((await fetch(`${admin}/`)).status).toBe(200);
      expect((await fetch(`${admin}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      expect(metrics).toContain("callouts_extproc_streams_total");
      await new Promise((resolve) => setTimeout(resolve, 50));
      echo.server.health.setServing(false);
      await sawNotServing;
      expect(seen).toEqual([1, 2]);
      expect((await fetch(`${admin}/healthz`)).status).toBe(503);
      watch.cancel();
    } finally {
      client.close();
      await echo.close();
    }
  });
});

describe("TLS", () => {
  it("serves ext_proc over TLS with a generated self-signed pair", async () => {
    const service: Service = {
      name: "tls",
      processor: () => ({ onRequestHeaders: () => ({ headers: { set: { "x-tls": "yes" } } }) }),
    };
    const s = await startWith(service, { port: null, tls: { port: 0, selfSigned: true } });
    const client = createEnvoyClient(`localhost:${s.server.tlsPort}`, { tls: true });
    try {
      const result = await client.exchange({}, { request: { headers: {} } });
      expect(result.error).toBeUndefined();
      expect(result.upstream!.headers).toContainEqual(["x-tls", "yes"]);
    } finally {
      client.close();
      await s.close();
    }
  });
});

describe("ext_authz", () => {
  it("allows with header changes and denies with a status and body", async () => {
    const service: Service = {
      name: "authz",
      processor: () => ({}),
      authorize: (request): AuthzDecision =>
        request.headers.get("x-user") === "ok"
          ? { allow: true, headers: { set: { "x-checked": "1" } } }
          : { allow: false, status: 403, body: '{"error":"no"}', headers: { "content-type": "application/json" } },
    };
    const s = await startWith(service);
    const packageDefinition = protoLoader.loadSync("envoy/service/auth/v3/external_auth.proto", {
      includeDirs: ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) =>
        join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps", d),
      ),
      keepCase: true,
      longs: String,
      enums: Number,
      defaults: true,
      oneofs: true,
    });
    const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as {
      envoy: { service: { auth: { v3: { Authorization: grpc.ServiceClientConstructor } } } };
    };
    const client = new proto.envoy.service.auth.v3.Authorization(
      `127.0.0.1:${s.server.port}`,
      grpc.credentials.createInsecure(),
    );
    const check = (user: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        (
          client as unknown as {
            Check: (r: unknown, cb: (e: Error | null, v: Record<string, unknown>) => void) => void;
          }
        ).Check(
          {
            attributes: {
              request: { http: { method: "POST", path: "/v1/chat/completions", headers: { "x-user": user } } },
            },
          },
          (err, value) => (err ? reject(err) : resolve(value)),
        ),
      );
    try {
      const allowed = (await check("ok")) as {
        status: { code: number };
        ok_response: { headers: { header: { key: string; raw_value: Buffer }; append: { value: boolean } }[] };
      };
      expect(allowed.status.code).toBe(0);
      expect(allowed.ok_response.headers[0]!.header.key).toBe("x-checked");
      expect(Buffer.from(allowed.ok_response.headers[0]!.header.raw_value).toString()).toBe("1");
      expect(allowed.ok_response.headers[0]!.append.value).toBe(false);
      const denied = (await check("bad")) as {
        status: { code: number };
        denied_response: { status: { code: number }; body: string };
      };
      expect(denied.status.code).toBe(7);
      expect(denied.denied_response.status.code).toBe(403);
      expect(denied.denied_response.body).toBe('{"error":"no"}');
    } finally {
      client.close();
      await s.close();
    }
  });
});

describe("a second client built from Envoy's npm-shipped protos", () => {
  // These protos predate protocol_config, as Envoys before 1.34 do: the server relies on
  // its configured assumedModes to know BUFFERED from STREAMED.
  it.each([
    { mode: "BUFFERED", chunks: ["abc"] },
    { mode: "STREAMED", chunks: ["a", "b", "c"] },
  ] as const)("gets Envoy-shaped $mode replies from serve echo", async ({ mode, chunks }) => {
    const echo = await startEcho(
      { addHeaders: [{ phase: "requestHeaders", name: "x-echo", value: "1" }], replaceBody: { request: "new" } },
      { assumedModes: { requestBody: mode } },
    );
    const packageDefinition = protoLoader.loadSync("envoy/service/ext_proc/v3/external_processor.proto", {
      includeDirs: ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) =>
        join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps", d),
      ),
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as {
      envoy: { service: { ext_proc: { v3: { ExternalProcessor: grpc.ServiceClientConstructor } } } };
    };
    const client = new proto.envoy.service.ext_proc.v3.ExternalProcessor(
      `127.0.0.1:${echo.server.port}`,
      grpc.credentials.createInsecure(),
    );
    try {
      {
        const call = (
          client as unknown as { Process: () => grpc.ClientDuplexStream<unknown, Record<string, unknown>> }
        ).Process();
        const replies: Record<string, unknown>[] = [];
        call.on("data", (r) => replies.push(r));
        const done = new Promise((resolve) => call.on("status", resolve));
        call.write({
          request_headers: {
            headers: { headers: [{ key: ":path", raw_value: Buffer.from("/") }] },
            end_of_stream: false,
          },
        });
        for (const [i, c] of chunks.entries()) {
          call.write({ request_body: { body: Buffer.from(c), end_of_stream: i === chunks.length - 1 } });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
        call.end();
        await done;
        expect(replies.map((r) => r.response)).toEqual(["request_headers", ...chunks.map(() => "request_body")]);
        const headerReply = replies[0]!.request_headers as {
          response: {
            header_mutation: {
              set_headers: { header: { key: string; value: string; raw_value: Buffer }; append: { value: boolean } }[];
            };
          };
        };
        const set = headerReply.response.header_mutation.set_headers[0]!;
        expect(set.header.key).toBe("x-echo");
        expect(set.header.value).toBe("");
        expect(Buffer.from(set.header.raw_value).toString()).toBe("1");
        expect(set.append.value).toBe(false);
        const last = replies.at(-1)!.request_body as { response: { body_mutation: { body: Buffer } } };
        expect(text(last.response.body_mutation.body)).toBe("new");
      }
    } finally {
      client.close();
      await echo.close();
    }
  });

  it("answers the Endpoint Picker Protocol's liveness and readiness names (GIE cmd/epp/runner/health.go)", async () => {
    let ready = false;
    const s = await startWith({ name: "picker-like", processor: () => ({}), isReady: () => ready });
    const client = new grpc.Client(`127.0.0.1:${s.server.port}`, grpc.credentials.createInsecure());
    const status = async (service: string) => (await healthCheck(client, service))[1] ?? 0;
    const SERVING = 1;
    const NOT_SERVING = 2;
    try {
      // Not ready yet (a picker before discovery synced): alive, not ready, ext_proc not serving.
      expect(await status("liveness")).toBe(SERVING);
      expect(await status("readiness")).toBe(NOT_SERVING);
      expect(await status("envoy.service.ext_proc.v3.ExternalProcessor")).toBe(NOT_SERVING);
      ready = true;
      expect(await status("readiness")).toBe(SERVING);
      expect(await status("envoy.service.ext_proc.v3.ExternalProcessor")).toBe(SERVING);
      // Draining: no longer ready, still alive (a liveness probe must not restart a draining pod).
      s.server.health.setServing(false);
      expect(await status("readiness")).toBe(NOT_SERVING);
      expect(await status("liveness")).toBe(SERVING);
    } finally {
      client.close();
      await s.close();
    }
  });
});
