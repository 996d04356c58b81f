import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";

/**
 * How to reach the Kubernetes API server: the server URL and its TLS and credential material.
 * A watch needs nothing more, so the picker does without `@kubernetes/client-node` (54 MB, most
 * of it generated API models), which kept its image over its size budget.
 */
export interface KubeConnection {
  readonly server: URL;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** Read per request: in-cluster service-account tokens are rotated on disk. */
  readonly token?: () => string | undefined;
  readonly insecureSkipTlsVerify: boolean;
}

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * In-cluster config when KUBERNETES_SERVICE_HOST is set (the pod's service account), else the
 * current context of $KUBECONFIG (first file) or ~/.kube/config: server, certificate authority,
 * and a token, token file or client certificate. Exec and auth-provider plugins are refused with
 * a clear message (use a token or run in the cluster).
 */
export function loadKubeConnection(env: NodeJS.ProcessEnv = process.env, saDir = serviceAccountDir): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host) {
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    return {
      server: new URL(`https://${host.includes(":") ? `[${host}]` : host}:${port}`),
      ca: readFileSync(join(saDir, "ca.crt")),
      token: () => readFileSync(join(saDir, "token"), "utf8").trim(),
      insecureSkipTlsVerify: false,
    };
  }
  const file = (env.KUBECONFIG ?? "").split(":").find((f) => f !== "") ?? join(homedir(), ".kube", "config");
  return fromKubeconfig(readFileSync(file, "utf8"), file);
}

interface Named<T> {
  readonly name: string;
  readonly [key: string]: unknown;
  readonly value?: T;
}

/** The current context of a kubeconfig document. */
export function fromKubeconfig(text: string, where = "kubeconfig"): KubeConnection {
  const doc = (parseYaml(text) ?? {}) as Record<string, unknown>;
  const list = (key: string, inner: string) =>
    ((doc[key] as Named<unknown>[] | undefined) ?? []).map((e) => ({
      name: String(e.name),
      value: (e[inner] ?? {}) as Record<string, unknown>,
    }));
  const contextName = String(doc["current-context"] ?? "");
  const ctx = list("contexts", "context").find((c) => c.name === contextName)?.value;
  if (!ctx) throw new Error(`${where}: no current-context ${JSON.stringify(contextName)}`);
  const cluster = list("clusters", "cluster").find((c) => c.name === ctx.cluster)?.value;
  if (!cluster?.server) throw new Error(`${where}: cluster ${JSON.stringify(ctx.cluster)} has no server`);
  const user = list("users", "user").find((u) => u.name === ctx.user)?.value ?? {};
  if (user.exec || user["auth-provider"]) {
    throw new Error(`${where}: user ${JSON.stringify(ctx.user)} needs an exec or auth-provider plugin; use a token`);
  }
  const material = (data: unknown, path: unknown) =>
    typeof data === "string" ? Buffer.from(data, "base64") : typeof path === "string" ? readFileSync(path) : undefined;
  const token = typeof user.token === "string" ? user.token : undefined;
  const tokenFile = typeof user.tokenFile === "string" ? user.tokenFile : undefined;
  return {
    server: new URL(String(cluster.server)),
    ca: material(cluster["certificate-authority-data"], cluster["certificate-authority"]),
    cert: material(user["client-certificate-data"], user["client-certificate"]),
    key: material(user["client-key-data"], user["client-key"]),
    token: token ? () => token : tokenFile ? () => readFileSync(tokenFile, "utf8").trim() : undefined,
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
  };
}

/**
 * One watch request (`?watch=true`): newline-delimited JSON events to `onEvent` until the server
 * ends the stream, the signal aborts, or an error. Resolves when the stream is over; rejects on a
 * connection error or a non-200 status (with the API server's message).
 */
export function watchOnce(
  conn: KubeConnection,
  path: string,
  query: Record<string, string>,
  onEvent: (type: string, object: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const url = new URL(path, conn.server);
  for (const [k, v] of Object.entries({ watch: "true", ...query })) url.searchParams.set(k, v);
  const options = requestOptions(conn, url, "GET", signal);
  return new Promise<void>((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          if (body.length < 4096) body += c;
        });
        res.on("end", () => reject(new Error(`HTTP ${res.statusCode}: ${apiMessage(body)}`)));
        return;
      }
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === "") continue;
          let event: { type?: string; object?: unknown };
          try {
            event = JSON.parse(line) as { type?: string; object?: unknown };
          } catch {
            res.destroy();
            reject(new Error("malformed watch event"));
            return;
          }
          if (event.type === "ERROR") {
            // 410 Gone and friends: end this watch; the caller starts a fresh one.
            res.destroy();
            reject(new Error(`watch error: ${apiMessage(JSON.stringify(event.object))}`));
            return;
          }
          onEvent(String(event.type), event.object);
        }
      });
      res.on("end", () => resolve());
      res.on("error", (error) => (signal.aborted ? resolve() : reject(error)));
    };
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, options, onResponse);
    req.on("error", (error) => (signal.aborted ? resolve() : reject(error)));
    req.end();
  });
}

/** Request options for one call: TLS material and the bearer token, read now. */
function requestOptions(conn: KubeConnection, url: URL, method: string, signal: AbortSignal | undefined) {
  const token = conn.token?.();
  return {
    method,
    ...(signal ? { signal } : {}),
    headers: {
      accept: "application/json",
      ...(method === "POST" ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(url.protocol === "https:"
      ? { ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.insecureSkipTlsVerify }
      : {}),
  };
}

/** Largest JSON reply read (a pod list of a big namespace fits; a runaway reply does not). */
const maxJsonBytes = 64 * 1024 * 1024;

/**
 * One GET or POST with a JSON reply; rejects on a connection error, a timeout, a non-2xx status
 * (with the API server's message) or a body that is not JSON.
 */
export function requestJson(
  conn: KubeConnection,
  method: "GET" | "POST",
  path: string,
  options: { query?: Record<string, string>; body?: unknown; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<unknown> {
  const url = new URL(path, conn.server);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const signal = AbortSignal.any([
    AbortSignal.timeout(options.timeoutMs ?? 10_000),
    ...(options.signal ? [options.signal] : []),
  ]);
  return new Promise<unknown>((resolve, reject) => {
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(
      url,
      requestOptions(conn, url, method, signal),
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxJsonBytes) res.destroy(new Error(`reply over ${maxJsonBytes} bytes`));
          else chunks.push(c);
        });
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(new Error(`HTTP ${status}: ${apiMessage(text)}`));
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error("reply is not JSON"));
          }
        });
      },
    );
    req.on("error", reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

/** What `watchForever` reports: the whole collection after each list, then single changes. */
export interface CollectionEvents {
  /** The complete current set, replacing whatever was known (after every (re)list). */
  readonly replace: (objects: unknown[]) => void;
  readonly change: (type: "ADDED" | "MODIFIED" | "DELETED", object: unknown) => void;
  readonly error: (message: string) => void;
}

/**
 * An informer in miniature: list the collection (the full set replaces what was known, so a
 * deletion missed while disconnected is not kept), then watch from the list's resourceVersion;
 * when the watch ends, wait `retryMs` and list again. After a failure (410 Gone, 403, a CRD that
 * is not installed) the wait doubles, up to a minute, so a permanent refusal is retried (and
 * reported) about once a minute rather than every second. Runs until `signal` aborts.
 */
export async function watchForever(
  conn: KubeConnection,
  path: string,
  query: Record<string, string>,
  on: CollectionEvents,
  signal: AbortSignal,
  retryMs = 1000,
): Promise<void> {
  const maxRetryMs = 60_000;
  let delay = retryMs;
  while (!signal.aborted) {
    try {
      const list = (await requestJson(conn, "GET", path, { query, signal })) as {
        items?: unknown[];
        metadata?: { resourceVersion?: string };
      };
      on.replace(list.items ?? []);
      delay = retryMs;
      const resourceVersion = list.metadata?.resourceVersion;
      await watchOnce(
        conn,
        path,
        { ...query, ...(resourceVersion ? { resourceVersion, allowWatchBookmarks: "true" } : {}) },
        (type, object) => {
          if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") on.change(type, object);
        },
        signal,
      );
      await sleep(retryMs, signal);
    } catch (error) {
      if (signal.aborted) break;
      on.error(`${path}: ${(error as Error).message}`);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, maxRetryMs);
    }
  }
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function apiMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: string; code?: number };
    return status.message ? `${status.message}${status.code ? ` (${status.code})` : ""}` : body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}
