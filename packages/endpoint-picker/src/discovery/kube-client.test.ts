import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startFakeKubeApi } from "./fake-kube-api.testdata.js";
import { fromKubeconfig, loadKubeConnection, watchForever, watchOnce } from "./kube-client.js";

const kubeconfig = (user: string) => `
apiVersion: v1
kind: Config
current-context: dev
contexts:
  - name: dev
    context: { cluster: c1, user: u1 }
clusters:
  - name: c1
    cluster:
      server: https://10.0.0.1:6443
      certificate-authority-data: ${Buffer.from("CA-PEM").toString("base64")}
users:
  - name: u1
    user: ${user}
`;

describe("fromKubeconfig()", () => {
  it("takes the current context's server, CA and token", () => {
    const c = fromKubeconfig(kubeconfig("{ token: abc }"));
    expect(c.server.href).toBe("https://10.0.0.1:6443/");
    expect(c.ca?.toString()).toBe("CA-PEM");
    expect(c.token?.()).toBe("abc");
    expect(c.insecureSkipTlsVerify).toBe(false);
  });

  it("reads client certificates from data fields", () => {
    const pem = (s: string) => Buffer.from(s).toString("base64");
    const c = fromKubeconfig(kubeconfig(`{ client-certificate-data: ${pem("CERT")}, client-key-data: ${pem("KEY")} }`));
    expect([c.cert?.toString(), c.key?.toString(), c.token]).toEqual(["CERT", "KEY", undefined]);
  });

  it("refuses exec plugins and a missing context with a clear message", () => {
    expect(() => fromKubeconfig(kubeconfig("{ exec: { command: gke-gcloud-auth-plugin } }"), "k.yaml")).toThrow(
      /k\.yaml: user "u1" needs an exec or auth-provider plugin/,
    );
    expect(() => fromKubeconfig("current-context: nope\n", "k.yaml")).toThrow(/no current-context "nope"/);
  });
});

describe("loadKubeConnection() in a cluster", () => {
  it("uses the service account and re-reads its (rotated) token", () => {
    const dir = mkdtempSync(join(tmpdir(), "sa-"));
    writeFileSync(join(dir, "ca.crt"), "CLUSTER-CA");
    writeFileSync(join(dir, "token"), "t1\n");
    const c = loadKubeConnection({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, dir);
    expect(c.server.href).toBe("https://10.96.0.1/");
    expect(c.ca?.toString()).toBe("CLUSTER-CA");
    expect(c.token?.()).toBe("t1");
    writeFileSync(join(dir, "token"), "t2\n");
    expect(c.token?.()).toBe("t2");
  });
});

describe("watchOnce()", () => {
  async function api(handler: Parameters<typeof createServer>[1]) {
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
  }

  it("streams events with the bearer token and ends with the stream", async () => {
    let auth: string | undefined;
    const s = await api((req, res) => {
      auth = req.headers.authorization;
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MOD');
      res.end('IFIED","object":{"metadata":{"name":"a"}}}\n');
    });
    const events: string[] = [];
    await watchOnce(
      { server: new URL(s.url), token: () => "tok", insecureSkipTlsVerify: false },
      "/api/v1/pods",
      {},
      (type) => events.push(type),
      new AbortController().signal,
    );
    s.close();
    expect(auth).toBe("Bearer tok");
    expect(events).toEqual(["ADDED", "MODIFIED"]);
  });

  it("rejects with the API server's message on 403 and on an ERROR event (410 Gone)", async () => {
    const s = await api((req, res) => {
      if (req.url?.startsWith("/forbidden")) {
        res.writeHead(403, { "content-type": "application/json" });
        res.end(JSON.stringify({ kind: "Status", message: 'pods is forbidden: User "x" cannot watch', code: 403 }));
        return;
      }
      res.writeHead(200);
      res.end('{"type":"ERROR","object":{"kind":"Status","message":"too old resource version","code":410}}\n');
    });
    const conn = { server: new URL(s.url), insecureSkipTlsVerify: false };
    const signal = new AbortController().signal;
    await expect(watchOnce(conn, "/forbidden", {}, () => {}, signal)).rejects.toThrow(/HTTP 403: pods is forbidden/);
    await expect(watchOnce(conn, "/gone", {}, () => {}, signal)).rejects.toThrow(/too old resource version \(410\)/);
    s.close();
  });
});

describe("watchForever()", () => {
  it("backs off after failures (1 s, 2 s, ...) instead of retrying every second", async () => {
    const api = await startFakeKubeApi();
    const path = "/apis/llm-d.ai/v1alpha2/namespaces/ml/inferenceobjectives";
    api.missing.add(path);
    const errors: string[] = [];
    const abort = new AbortController();
    void watchForever(
      { server: new URL(api.url), insecureSkipTlsVerify: true },
      path,
      {},
      { replace: () => undefined, change: () => undefined, error: (e) => errors.push(e) },
      abort.signal,
      300,
    );
    // Failures at about 0, 0.3, 0.9, 2.1 s; a fixed 300 ms retry would have failed 8 times by 2.3 s.
    await new Promise((r) => setTimeout(r, 2300));
    abort.abort();
    await api.close();
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeLessThanOrEqual(4);
    expect(errors[0]).toContain("HTTP 404");
  });
});
