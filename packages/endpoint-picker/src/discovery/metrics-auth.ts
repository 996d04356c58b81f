import { createHash } from "node:crypto";
import { type KubeConnection, requestJson } from "./kube-client.js";

export type MetricsVerdict = "allowed" | "unauthenticated" | "forbidden";

/**
 * GIE's --metrics-endpoint-auth (controller-runtime's WithAuthenticationAndAuthorization filter):
 * the bearer token is authenticated with a TokenReview, then the user must be allowed `get` on
 * the non-resource URL `/metrics` (SubjectAccessReview). The EPP's RBAC already grants
 * tokenreviews/subjectaccessreviews `create` for this. Verdicts are cached by token hash, 60 s
 * for an answer, so a Prometheus scrape every few seconds costs two API calls a minute; an API
 * server that cannot answer is an error (the admin listener then answers 503: fail closed).
 */
export function createKubernetesMetricsAuth(
  connection: KubeConnection,
  options: { readonly cacheMs?: number; readonly clock?: () => number } = {},
): (authorization: string | undefined) => Promise<MetricsVerdict> {
  const cacheMs = options.cacheMs ?? 60_000;
  const clock = options.clock ?? Date.now;
  const cache = new Map<string, { verdict: MetricsVerdict; until: number }>();

  async function review(token: string): Promise<MetricsVerdict> {
    const tokenReview = (await requestJson(connection, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
    })) as { status?: { authenticated?: boolean; user?: UserInfo } };
    const user = tokenReview.status?.user;
    if (!tokenReview.status?.authenticated || !user?.username) return "unauthenticated";
    const access = (await requestJson(connection, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          ...(user.groups ? { groups: user.groups } : {}),
          ...(user.extra ? { extra: user.extra } : {}),
          nonResourceAttributes: { path: "/metrics", verb: "get" },
        },
      },
    })) as { status?: { allowed?: boolean } };
    return access.status?.allowed ? "allowed" : "forbidden";
  }

  return async (authorization) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!m) return "unauthenticated";
    const key = createHash("sha256")
      .update(m[1] as string)
      .digest("hex");
    const now = clock();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.verdict;
    const verdict = await review(m[1] as string);
    if (cache.size > 1000) cache.clear(); // bounded: a flood of distinct tokens cannot grow it
    cache.set(key, { verdict, until: now + cacheMs });
    return verdict;
  };
}

interface UserInfo {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}
