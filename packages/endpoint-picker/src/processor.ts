import { randomUUID } from "node:crypto";
import type {
  ChunkDecision,
  ChunkEvent,
  HeadersDecision,
  ImmediateResponse,
  JsonValue,
  Processor,
  ProcessorFactory,
  StreamContext,
  StreamOutcome,
} from "@llm-callouts/ext-proc";
import { createSseUsageReader, detectApi, type TokenUsage, usageFromBody } from "@llm-callouts/llm-api";
import { filterBySubset, freshOrAll, parseSubsetHint } from "./candidates.js";
import type { EndpointPickerServiceConfig } from "./config.js";
import type { Datastore } from "./datastore.js";
import type { FlowControl } from "./flow-control.js";
import type { InflightTracker } from "./inflight-tracker.js";
import type { ObjectiveStore } from "./objectives.js";
import { errorReply, type InferenceError, inferenceError } from "./picker-error.js";
import type { PickerMetrics } from "./picker-metrics.js";
import { parseRequestBody, rewriteModelInText } from "./request-body.js";
import type { PickOutcome, RequestControl } from "./request-control.js";
import type { Endpoint, SchedulingRequest } from "./scheduling/types.js";

/** Protocol names (GIE pkg/epp/metadata/consts.go). */
export const eppNames = {
  destinationHeader: "x-gateway-destination-endpoint",
  destinationNamespace: "envoy.lb",
  subsetNamespace: "envoy.lb.subset_hint",
  scoresKey: "x-gateway-destination-endpoint-scores",
  subsetKey: "x-gateway-destination-endpoint-subset",
  objectiveHeader: "x-gateway-inference-objective",
  fairnessHeader: "x-gateway-inference-fairness-id",
  rewriteHeader: "x-gateway-model-name-rewrite",
  servedKey: "x-gateway-destination-endpoint-served",
  defaultFairnessId: "default-flow",
} as const;

/** llm-d-router's renamed headers, accepted when the x-gateway-* name is absent. */
export const llmdHeaderAliases = {
  "x-gateway-inference-objective": "x-llm-d-inference-objective",
  "x-gateway-inference-fairness-id": "x-llm-d-inference-fairness-id",
  "x-gateway-model-name-rewrite": "x-llm-d-model-name-rewrite",
} as const;

function headerOrAlias(headers: Readonly<Record<string, string>>, name: keyof typeof llmdHeaderAliases): string {
  return headers[name] || headers[llmdHeaderAliases[name]] || "";
}

export interface PickerProcessorDeps {
  readonly config: EndpointPickerServiceConfig;
  readonly datastore: Datastore;
  readonly control: RequestControl;
  readonly inflight: InflightTracker;
  readonly flowControl: FlowControl | undefined;
  readonly metrics: PickerMetrics;
  readonly clock: () => number;
  /** Objective priorities and model rewrites (config and Kubernetes). */
  readonly objectives: ObjectiveStore;
  readonly random?: () => number;
}

/** Non-streamed response bodies are kept up to this size for usage parsing. */
const maxUsageBodyBytes = 1024 * 1024;

function respond(err: InferenceError): { respond: ImmediateResponse } {
  return { respond: errorReply(err) };
}

/**
 * Header mutation + `envoy.lb` metadata naming the targets (primary first), and with
 * `scores` each candidate's score under `x-gateway-destination-endpoint-scores` (GIE's
 * --emit-endpoint-scores).
 */
export function destinationDecision(
  targets: readonly Endpoint[],
  scores?: ReadonlyMap<string, number>,
): HeadersDecision {
  const value = targets.map((t) => t.id).join(",");
  const lb: Record<string, JsonValue> = { [eppNames.destinationHeader]: value };
  if (scores && scores.size > 0) lb[eppNames.scoresKey] = Object.fromEntries(scores);
  return {
    headers: { set: { [eppNames.destinationHeader]: value } },
    dynamicMetadata: { [eppNames.destinationNamespace]: lb },
    clearRouteCache: true,
  };
}

/** One Endpoint Picker Protocol exchange per stream. */
export function createPickerProcessorFactory(deps: PickerProcessorDeps): ProcessorFactory {
  const { config, datastore, control, inflight, metrics } = deps;
  const random = deps.random ?? Math.random;

  return (ctx: StreamContext): Processor => {
    let requestId = "";
    let headers: Record<string, string> = {};
    let clientModel: string | undefined;
    let servedModel: string | undefined;
    let sse = false;
    let sseReader = createSseUsageReader();
    const decoder = new TextDecoder();
    let bodyText = "";
    let picked = false;
    let primaryId = "";
    let carried = 0;
    let carriedIn = 0;
    let responseBytes = 0;

    function candidates(): { value: readonly Endpoint[] } | { error: InferenceError } {
      const hint = ctx.metadata[eppNames.subsetNamespace]?.[eppNames.subsetKey];
      const subset = config.subsetFilter ? parseSubsetHint(hint) : undefined;
      let pool = datastore.endpoints();
      if (subset !== undefined) {
        pool = filterBySubset(pool, subset);
        if (pool.length === 0) {
          return {
            error: inferenceError("ServiceUnavailable", "failed to find endpoint candidates for serving the request"),
          };
        }
      }
      return { value: freshOrAll(pool, deps.clock(), config.metrics.stalenessMs) };
    }

    const gie = metrics.gie;
    let startedAt = 0;
    const modelLabels = () => ({
      model_name: metrics.modelLabel(clientModel),
      target_model_name: metrics.modelLabel(servedModel),
    });

    function finishPick(outcome: PickOutcome, started: number) {
      const seconds = (performance.now() - started) / 1000;
      metrics.schedulingSeconds.observe(seconds);
      gie.schedulerE2e.observe(seconds);
      if ("error" in outcome) {
        gie.schedulerAttempts.inc({
          status: "failure",
          target_model_name: metrics.modelLabel(servedModel),
          pod_name: "",
          namespace: "",
          port: "",
        });
        return fail(outcome.error);
      }
      const primary = outcome.targets[0];
      gie.schedulerAttempts.inc({
        status: "success",
        target_model_name: metrics.modelLabel(servedModel),
        pod_name: primary?.labels["pod-name"] ?? primary?.address ?? "",
        namespace: config.endpoints.kubernetes?.namespace ?? "",
        port: String(primary?.port ?? ""),
      });
      picked = true;
      startedAt = performance.now();
      gie.runningRequests.inc({ model_name: metrics.modelLabel(clientModel) });
      primaryId = outcome.targets[0]?.id ?? "";
      metrics.requests.inc({ result: "picked" });
      metrics.picks.inc({ endpoint: outcome.targets[0]?.id ?? "" });
      const scores =
        config.emitEndpointScores && outcome.scored
          ? new Map(outcome.scored.map((s) => [s.endpoint.id, s.score]))
          : undefined;
      return destinationDecision(outcome.targets, scores);
    }

    function fail(err: InferenceError) {
      metrics.requests.inc({ result: String(err.status) });
      gie.requestErrorTotal.inc({ ...modelLabels(), error_code: err.code });
      ctx.log.info({ status: err.status, code: err.code }, "request rejected");
      return respond(err);
    }

    return {
      onRequestHeaders(event) {
        headers = event.headers.toRecord();
        // In-flight accounting is keyed by stream: client request ids may repeat.
        requestId = ctx.streamId || randomUUID();
        if (!event.endOfStream) return { body: "whole" };
        // Header-only request (e.g. GET): random endpoint, no body phase (GIE).
        const started = performance.now();
        const c = candidates();
        if ("error" in c) return fail(c.error);
        return finishPick(control.pickRandom(schedulingRequest("", "", 0), c.value), started);
      },

      async onRequestBody(event) {
        const started = performance.now();
        const path = headers[":path"] ?? headers["x-original-path"] ?? headers["x-forwarded-path"];
        const parsed = parseRequestBody(event.body, detectApi(path ?? "").api);
        if ("error" in parsed) return fail(parsed.error);
        clientModel = parsed.value.model;
        // An InferenceModelRewrite rule wins over the rewrite header, as upstream; then the static config.
        const decided = deps.objectives.rewrite(clientModel, random);
        if (decided && decided.rewriteName !== "") {
          servedModel = decided.model;
          gie.modelRewriteDecisions.inc({
            model_rewrite_name: decided.rewriteName,
            model_name: clientModel,
            target_model: servedModel,
          });
        } else {
          servedModel = headerOrAlias(headers, eppNames.rewriteHeader) || decided?.model || clientModel;
        }
        const priority = deps.objectives.priorityOf(headerOrAlias(headers, eppNames.objectiveHeader)) ?? 0;
        gie.requestTotal.inc({ ...modelLabels(), priority: String(priority) });
        gie.requestSizes.observe(modelLabels(), event.body.byteLength);
        let c = candidates();
        if ("error" in c) return fail(c.error);
        if (deps.flowControl) {
          const fairnessId = headerOrAlias(headers, eppNames.fairnessHeader) || eppNames.defaultFairnessId;
          const admitted = await deps.flowControl.admit(
            { priority, fairnessId, bytes: event.body.byteLength },
            ctx.signal,
          );
          if ("error" in admitted) return fail(admitted.error);
          c = candidates(); // late binding: pick with the metrics of dispatch time
          if ("error" in c) return fail(c.error);
        }
        const request = schedulingRequest(
          servedModel,
          parsed.value.prompt,
          priority,
          Math.ceil(event.body.byteLength / 4),
        );
        const decision = finishPick(control.pick(request, c.value), started);
        if ("respond" in decision || servedModel === clientModel) return decision;
        // The SDK fixes content-length (and re-chunks at <= 62,000 bytes in duplex mode).
        return { ...decision, replaceBody: JSON.stringify({ ...parsed.value.json, model: servedModel }) };
      },

      onResponseHeaders(event) {
        // With fallbacks only the proxy knows which endpoint served (EPP: envoy.lb served key).
        const served = ctx.metadata[eppNames.destinationNamespace]?.[eppNames.servedKey];
        if (picked && typeof served === "string" && served !== "" && served !== primaryId) {
          inflight.move(requestId, served);
          metrics.fallbacksServed.inc();
        }
        sse = (event.headers.get("content-type") ?? "").includes("text/event-stream");
        sseReader = createSseUsageReader();
        if (event.endOfStream) inflight.firstToken(requestId);
        return { body: "chunks" };
      },

      onResponseBodyChunk(event): ChunkDecision | undefined {
        // `data` starts with what the previous decision carried: count only the new bytes.
        responseBytes += event.data.length - carriedIn;
        const decision = responseChunk(event);
        carriedIn = decision?.carry?.length ?? 0;
        return decision;
      },

      onStreamEnd(outcome) {
        if (!picked) return;
        if (clientModel !== undefined) gie.responseSizes.observe(modelLabels(), responseBytes);
        streamEnd(outcome);
      },
    };

    function responseChunk(event: ChunkEvent): ChunkDecision | undefined {
      if (event.index === 0) inflight.firstToken(requestId);
      const rewrite = clientModel !== undefined && servedModel !== undefined && clientModel !== servedModel;
      if (sse) {
        // `data` starts with the bytes carried from the previous chunk: read only the new ones.
        sseReader.push(decoder.decode(event.data.subarray(carried), { stream: !event.endOfStream }));
        if (!rewrite) return undefined; // pass through immediately
        // Rewrite complete lines now; hold only a trailing partial line.
        const cut = event.endOfStream ? event.data.length : event.data.lastIndexOf(0x0a) + 1;
        carried = event.data.length - cut;
        const ready = Buffer.from(event.data.subarray(0, cut)).toString("utf8");
        return {
          emit: rewriteModelInText(ready, servedModel as string, clientModel as string),
          carry: event.data.subarray(cut),
        };
      }
      if (!rewrite) {
        if (bodyText.length < maxUsageBodyBytes) bodyText += decoder.decode(event.data, { stream: !event.endOfStream });
        return undefined;
      }
      // Non-streamed JSON: buffer to the end (carry), then rewrite once (as GIE).
      if (!event.endOfStream) return { emit: new Uint8Array(0), carry: event.data };
      bodyText = Buffer.from(event.data).toString("utf8");
      return { emit: rewriteModelInText(bodyText, servedModel as string, clientModel as string) };
    }

    function streamEnd(outcome: StreamOutcome) {
      inflight.finish(requestId);
      gie.runningRequests.dec({ model_name: metrics.modelLabel(clientModel) });
      const seconds = (performance.now() - startedAt) / 1000;
      const labels = modelLabels();
      if (clientModel !== undefined) gie.requestDuration.observe(labels, seconds);
      const usage: TokenUsage | undefined = sse ? sseReader.usage : usageFromBody(bodyText);
      if (usage && clientModel !== undefined) {
        gie.inputTokens.observe(labels, usage.promptTokens);
        gie.outputTokens.observe(labels, usage.completionTokens);
        if (usage.completionTokens > 0)
          gie.normalizedTimePerOutputToken.observe(labels, seconds / usage.completionTokens);
        if (usage.cachedTokens > 0) gie.promptCachedTokens.observe(labels, usage.cachedTokens);
      }
      if (usage) {
        metrics.tokens.inc({ kind: "prompt" }, usage.promptTokens);
        metrics.tokens.inc({ kind: "completion" }, usage.completionTokens);
        metrics.tokens.inc({ kind: "cached" }, usage.cachedTokens);
      }
      if (outcome.aborted) ctx.log.debug("stream aborted; in-flight released");
    }

    function schedulingRequest(model: string, prompt: string, priority: number, promptTokens = 0): SchedulingRequest {
      return { requestId, targetModel: model, prompt, promptTokens, headers, priority };
    }
  };
}
