import { afterEach, describe, expect, it } from "vitest";
import { startFakeKubeApi } from "./fake-kube-api.testdata.js";
import { createKubernetesMetricsAuth } from "./metrics-auth.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("createKubernetesMetricsAuth()", () => {
  it("authenticates with a TokenReview, authorizes GET /metrics with a SubjectAccessReview, and caches", async () => {
    const api = await startFakeKubeApi();
    cleanups.push(() => api.close());
    api.tokens.set("prom-token", { username: "system:serviceaccount:monitoring:prometheus" });
    api.tokens.set("app-token", { username: "system:serviceaccount:ml:app" });
    api.allowedMetricsUsers.add("system:serviceaccount:monitoring:prometheus");
    let now = 0;
    const auth = createKubernetesMetricsAuth(
      { server: new URL(api.url), insecureSkipTlsVerify: true, token: () => "epp-sa-token" },
      { clock: () => now },
    );
    expect(await auth(undefined)).toBe("unauthenticated");
    expect(await auth("Basic abc")).toBe("unauthenticated");
    expect(await auth("Bearer nobody")).toBe("unauthenticated");
    expect(await auth("Bearer app-token")).toBe("forbidden");
    expect(await auth("Bearer prom-token")).toBe("allowed");
    // The EPP's own service-account token carries the reviews; the reviewed token never reaches a log or a URL.
    const reviews = api.requests.filter((r) => r.method === "POST");
    expect(reviews.every((r) => r.token === "epp-sa-token" && !r.query.includes("token"))).toBe(true);
    const calls = reviews.length;
    expect(await auth("Bearer prom-token")).toBe("allowed");
    expect(api.requests.filter((r) => r.method === "POST").length).toBe(calls); // cached
    now += 61_000;
    expect(await auth("Bearer prom-token")).toBe("allowed");
    expect(api.requests.filter((r) => r.method === "POST").length).toBe(calls + 2); // expired: both reviews again
  });

  it("rejects (fail closed) when the API server cannot answer", async () => {
    const auth = createKubernetesMetricsAuth({ server: new URL("http://127.0.0.1:1"), insecureSkipTlsVerify: true });
    await expect(auth("Bearer x")).rejects.toThrow();
  });
});
