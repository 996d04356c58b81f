import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake Kubernetes API server for tests: collections that answer list (with a resourceVersion)
 * and watch (`?watch=true`, newline-delimited events pushed on every change), field selectors on
 * metadata.name and equality label selectors, TokenReview and SubjectAccessReview from a table
 * of tokens, and the request log. It reproduces the shapes the picker reads, not a cluster.
 */
export interface FakeKubeApi {
  readonly url: string;
  /** Creates or replaces an object in a collection path (`/api/v1/namespaces/ns/pods`). */
  put(collection: string, object: KubeObjectLike): void;
  remove(collection: string, name: string): void;
  /** Ends every open watch stream (the client should relist). */
  dropWatches(): void;
  /** While on, ends every watch and answers 503 to every list and watch (an API server outage). */
  outage(on: boolean): void;
  /** Token -> user; `allowed` users may GET /metrics. */
  readonly tokens: Map<string, { username: string; groups?: string[] }>;
  readonly allowedMetricsUsers: Set<string>;
  /** Method, path and query of every request, and the bearer token it carried. */
  readonly requests: { method: string; path: string; query: string; token: string | undefined }[];
  /** Collections answered 404 (a cluster without those CRDs). */
  readonly missing: Set<string>;
  watchers(collection: string): number;
  close(): Promise<void>;
}

export interface KubeObjectLike {
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; [k: string]: unknown };
  readonly [key: string]: unknown;
}

export async function startFakeKubeApi(): Promise<FakeKubeApi> {
  const collections = new Map<string, Map<string, KubeObjectLike>>();
  const watches = new Map<string, Set<{ res: ServerResponse; matches: (o: KubeObjectLike) => boolean }>>();
  let version = 1;
  const tokens = new Map<string, { username: string; groups?: string[] }>();
  const allowedMetricsUsers = new Set<string>();
  const requests: FakeKubeApi["requests"] = [];
  const missing = new Set<string>();
  let down = false;

  const collection = (path: string) => {
    const c = collections.get(path) ?? new Map<string, KubeObjectLike>();
    collections.set(path, c);
    return c;
  };
  const matcher = (query: URLSearchParams) => {
    const field = query.get("fieldSelector");
    const fieldName = field?.startsWith("metadata.name=") ? field.slice("metadata.name=".length) : undefined;
    const labels = (query.get("labelSelector") ?? "")
      .split(",")
      .filter((t) => t !== "")
      .map((t) => t.split("=") as [string, string]);
    return (o: KubeObjectLike) =>
      (fieldName === undefined || o.metadata.name === fieldName) &&
      labels.every(([k, v]) => o.metadata.labels?.[k] === v);
  };
  const notify = (path: string, type: string, object: KubeObjectLike) => {
    for (const w of watches.get(path) ?? [])
      if (w.matches(object)) w.res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
  };

  const endWatches = () => {
    for (const set of watches.values()) {
      for (const w of set) w.res.end();
      set.clear();
    }
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = req.headers.authorization;
    requests.push({
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams.toString(),
      token: auth?.startsWith("Bearer ") ? auth.slice(7) : undefined,
    });
    if (req.method === "POST" && url.pathname === "/apis/authentication.k8s.io/v1/tokenreviews") {
      const body = await readBody(req);
      const token = (body.spec as { token?: string } | undefined)?.token ?? "";
      const user = tokens.get(token);
      return json(res, 201, { ...body, status: user ? { authenticated: true, user } : { authenticated: false } });
    }
    if (req.method === "POST" && url.pathname === "/apis/authorization.k8s.io/v1/subjectaccessreviews") {
      const body = await readBody(req);
      const spec = body.spec as { user?: string; nonResourceAttributes?: { path?: string; verb?: string } };
      const allowed =
        allowedMetricsUsers.has(spec.user ?? "") &&
        spec.nonResourceAttributes?.path === "/metrics" &&
        spec.nonResourceAttributes.verb === "get";
      return json(res, 201, { ...body, status: { allowed } });
    }
    if (req.method !== "GET") return json(res, 405, { kind: "Status", message: "method not allowed", code: 405 });
    if (down)
      return json(res, 503, {
        kind: "Status",
        message: "the server is currently unable to handle the request",
        code: 503,
      });
    if (missing.has(url.pathname))
      return json(res, 404, { kind: "Status", message: "the server could not find the requested resource", code: 404 });
    const matches = matcher(url.searchParams);
    if (url.searchParams.get("watch") === "true") {
      res.writeHead(200, { "content-type": "application/json" });
      res.flushHeaders();
      const set = watches.get(url.pathname) ?? new Set();
      watches.set(url.pathname, set);
      const entry = { res, matches };
      set.add(entry);
      res.on("close", () => set.delete(entry));
      return;
    }
    const items = [...collection(url.pathname).values()].filter(matches);
    return json(res, 200, { kind: "List", metadata: { resourceVersion: String(version) }, items });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    put(path, object) {
      const c = collection(path);
      const type = c.has(object.metadata.name) ? "MODIFIED" : "ADDED";
      const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++version) } };
      c.set(object.metadata.name, stored);
      notify(path, type, stored);
    },
    remove(path, name) {
      const c = collection(path);
      const object = c.get(name);
      if (!object) return;
      c.delete(name);
      version++;
      notify(path, "DELETED", object);
    },
    dropWatches() {
      endWatches();
    },
    outage(on) {
      down = on;
      if (on) endWatches();
    },
    tokens,
    allowedMetricsUsers,
    requests,
    missing,
    watchers: (path) => watches.get(path)?.size ?? 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A Running, Ready pod with an IP and labels. */
export function readyPod(name: string, ip: string, labels: Record<string, string>, ready = true): KubeObjectLike {
  return {
    metadata: { name, labels },
    status: { phase: "Running", podIP: ip, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}
