import { headerNameSchema } from "@llm-callouts/ext-proc";
import { z } from "zod";
import { parsePluginParams, toScoreMap } from "../../plugin-params.js";
import type { EndpointLifecycleHook, PluginFactory, PreRequestHook, Scorer } from "../../types.js";

export const sessionAffinityScorerType = "session-affinity-scorer";

export interface SessionAffinityScorerOptions {
  /** Request header carrying the session id (lower-case). */
  readonly headerName?: string;
  /** A session unused for this long is forgotten. */
  readonly ttlMs?: number;
}

/** 1 for the endpoint the session is bound to, 0 for the others. */
export function scoreSessionAffinity(boundEndpointId: string | undefined, endpointId: string): number {
  return boundEndpointId !== undefined && boundEndpointId === endpointId ? 1 : 0;
}

export interface SessionAffinityScorer extends Scorer, PreRequestHook, EndpointLifecycleHook {
  /** Endpoint a session is bound to, if any. */
  boundEndpoint(sessionId: string, nowMs: number): string | undefined;
}

/**
 * Keeps a session on one endpoint while that endpoint stays a candidate (healthy,
 * fresh metrics); when it leaves, the session is rebound to the next pick.
 */
export function createSessionAffinityScorer(
  name: string = sessionAffinityScorerType,
  options: SessionAffinityScorerOptions = {},
): SessionAffinityScorer {
  const header = (options.headerName ?? "x-session-id").toLowerCase();
  const ttlMs = options.ttlMs ?? 300_000;
  const sessions = new Map<string, { endpointId: string; lastUsedMs: number }>();
  let lastSweepMs = 0;

  function sweep(nowMs: number): void {
    if (nowMs - lastSweepMs < 10_000) return;
    lastSweepMs = nowMs;
    for (const [id, s] of sessions) if (nowMs - s.lastUsedMs > ttlMs) sessions.delete(id);
  }

  const scorer: SessionAffinityScorer = {
    kind: "scorer",
    typedName: { type: sessionAffinityScorerType, name },
    category: "affinity",
    boundEndpoint(sessionId, nowMs) {
      const s = sessions.get(sessionId);
      if (!s || nowMs - s.lastUsedMs > ttlMs) return undefined;
      return s.endpointId;
    },
    score(ctx, _state, request, endpoints) {
      const sessionId = request.headers[header];
      const bound = sessionId ? scorer.boundEndpoint(sessionId, ctx.nowMs) : undefined;
      return toScoreMap(
        endpoints,
        endpoints.map((e) => scoreSessionAffinity(bound, e.id)),
      );
    },
    preRequest(request, targets, nowMs) {
      const sessionId = request.headers[header];
      const primary = targets[0];
      if (!sessionId || !primary) return;
      sweep(nowMs);
      sessions.set(sessionId, { endpointId: primary.id, lastUsedMs: nowMs });
    },
    endpointRemoved(endpointId) {
      for (const [id, s] of sessions) if (s.endpointId === endpointId) sessions.delete(id);
    },
  };
  return scorer;
}

const paramsSchema = z.strictObject({
  headerName: headerNameSchema.optional(),
  ttlMs: z.number().int().positive().optional(),
});

export const sessionAffinityScorerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(paramsSchema, params);
  return "error" in parsed ? parsed : { plugin: createSessionAffinityScorer(name, parsed.value) };
};
