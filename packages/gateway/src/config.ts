import { z } from "zod";

const bodyMode = z.enum(["NONE", "STREAMED", "BUFFERED", "BUFFERED_PARTIAL", "FULL_DUPLEX_STREAMED"]);
const headerMode = z.enum(["DEFAULT", "SEND", "SKIP"]);
const processingMode = z
  .object({
    requestHeaderMode: headerMode.optional(),
    responseHeaderMode: headerMode.optional(),
    requestBodyMode: bodyMode.optional(),
    responseBodyMode: bodyMode.optional(),
    requestTrailerMode: headerMode.optional(),
    responseTrailerMode: headerMode.optional(),
  })
  .strict();

/** One ext_proc filter of the chain, as in an Envoy `http_filters` entry. */
export const filterSchema = z
  .object({
    name: z.string().min(1),
    /** host:port of the ext_proc server. */
    target: z.string().min(1),
    tls: z.boolean().default(false),
    processingMode: processingMode.default({}),
    failureModeAllow: z.boolean().default(false),
    messageTimeoutMs: z.number().int().positive().default(200),
    allowModeOverride: z.boolean().default(false),
    /** allowed_override_modes: Envoy applies an override only if its filled-in mode equals one entry. */
    allowedOverrideModes: z.array(processingMode).default([]),
    sendBodyWithoutWaitingForHeaderResponse: z.boolean().default(false),
    statusOnError: z.number().int().min(200).max(599).optional(),
    /** metadata_options.receiving_namespaces.untyped */
    receivingNamespaces: z.array(z.string()).default([]),
    /** metadata_options.forwarding_namespaces.untyped */
    forwardingNamespaces: z.array(z.string()).default([]),
    /** Run only on routes to these pools (Envoy: disabled in the HCM, enabled per route). Empty = all. */
    pools: z.array(z.string()).default([]),
  })
  .strict();

export const poolSchema = z
  .object({
    name: z.string().min(1),
    /** Model names routed here by the model header (base models and adapters). */
    models: z.array(z.string().min(1)).min(1),
    /** Replicas (host:port), used when no picker chose one (round-robin). */
    endpoints: z.array(z.string().min(1)).default([]),
  })
  .strict();

/**
 * Request headers only the gateway and its callouts may set, removed from every client request
 * before the chain runs (deploy/envoy/envoy.yaml's strip filter removes the same list):
 * - routing: the picker's endpoint (and the served one), the body router's model headers and
 *   GIE's model-rewrite input, with llm-d-router's name for it;
 * - scheduling: the InferenceObjective (priority) and the flow-control fairness id, with
 *   llm-d-router's names. GIE lets clients set these; a client that may not choose its priority
 *   or pose as another tenant's flow must not be able to, so they are stripped unless a deployment
 *   trusts its clients (drop them from `stripHeaders`) or sets them from an authenticated identity
 *   after the strip.
 */
export const gatewayOwnedHeaders = [
  "x-gateway-destination-endpoint",
  "x-gateway-destination-endpoint-served",
  "x-gateway-model-name",
  "x-gateway-base-model-name",
  "x-gateway-model-target",
  "x-gateway-model-name-rewrite",
  "x-llm-d-model-name-rewrite",
  "x-gateway-inference-objective",
  "x-llm-d-inference-objective",
  "x-gateway-inference-fairness-id",
  "x-llm-d-inference-fairness-id",
] as const;

/** The gateway's configuration: an Envoy HCM in miniature. */
export const gatewayConfigSchema = z
  .object({
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(8000),
    /** Client-supplied headers removed before the chain (spoofable routing headers). */
    stripHeaders: z.array(z.string()).default([...gatewayOwnedHeaders]),
    /** The header the route table matches (set by the body router). */
    modelHeader: z.string().default("x-gateway-model-name"),
    /** The header (and envoy.lb metadata key) the endpoint picker sets. */
    endpointHeader: z.string().default("x-gateway-destination-endpoint"),
    filters: z.array(filterSchema).default([]),
    pools: z.array(poolSchema).default([]),
    /** Upstream connect timeout before falling back to the next endpoint. */
    connectTimeoutMs: z.number().int().positive().default(2000),
  })
  .strict();

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type FilterSpec = z.infer<typeof filterSchema>;
export type PoolSpec = z.infer<typeof poolSchema>;
