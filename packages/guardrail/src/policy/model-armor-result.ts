import { z } from "zod";
import type { Confidence } from "../detect/finding.js";

/**
 * Model Armor's `SanitizationResult` as its REST API writes it (proto3 JSON of
 * googleapis `google/cloud/modelarmor/v1/service.proto`: lowerCamelCase names, enums as
 * their names, int64 as decimal strings). The guardrail writes its verdict in this shape
 * and reads Model Armor's answers with the same schema, so the two cannot drift.
 */

export const FILTER_MATCH_STATES = ["FILTER_MATCH_STATE_UNSPECIFIED", "NO_MATCH_FOUND", "MATCH_FOUND"] as const;
export const EXECUTION_STATES = [
  "FILTER_EXECUTION_STATE_UNSPECIFIED",
  "EXECUTION_SUCCESS",
  "EXECUTION_SKIPPED",
] as const;
export const CONFIDENCE_LEVELS = [
  "DETECTION_CONFIDENCE_LEVEL_UNSPECIFIED",
  "LOW_AND_ABOVE",
  "MEDIUM_AND_ABOVE",
  "HIGH",
] as const;
export const SDP_LIKELIHOODS = [
  "SDP_FINDING_LIKELIHOOD_UNSPECIFIED",
  "VERY_UNLIKELY",
  "UNLIKELY",
  "POSSIBLE",
  "LIKELY",
  "VERY_LIKELY",
] as const;
export const INVOCATION_RESULTS = ["INVOCATION_RESULT_UNSPECIFIED", "SUCCESS", "PARTIAL", "FAILURE"] as const;
export const RAI_FILTER_TYPES = [
  "RAI_FILTER_TYPE_UNSPECIFIED",
  "SEXUALLY_EXPLICIT",
  "HATE_SPEECH",
  "HARASSMENT",
  "DANGEROUS",
] as const;
export const MESSAGE_TYPES = ["MESSAGE_TYPE_UNSPECIFIED", "INFO", "WARNING", "ERROR"] as const;
/** The `raiFilterTypeResults` keys Model Armor uses. */
export const RAI_KEYS = ["sexually_explicit", "hate_speech", "harassment", "dangerous"] as const;

/**
 * The schema, built strict (every key must be a field of the proto: how a client library
 * that rejects unknown fields parses it) or loose (unknown fields ignored: how the backend
 * reads Model Armor, so a new field on Google's side does not break it).
 */
export function sanitizationResultSchema(strict: boolean) {
  const object = <T extends z.ZodRawShape>(shape: T) => (strict ? z.strictObject(shape) : z.looseObject(shape));
  const int64 = z.union([z.string().regex(/^-?\d+$/), z.number().int()]);
  const range = object({ start: int64.optional(), end: int64.optional() });
  const messageItem = object({ messageType: z.enum(MESSAGE_TYPES).optional(), message: z.string().optional() });
  const common = {
    executionState: z.enum(EXECUTION_STATES).optional(),
    messageItems: z.array(messageItem).optional(),
    matchState: z.enum(FILTER_MATCH_STATES).optional(),
  };
  const dataItem = object({
    text: z.string().optional(),
    byteItem: object({ byteDataType: z.string(), byteData: z.string() }).optional(),
  });
  const filterResult = object({
    raiFilterResult: object({
      ...common,
      raiFilterTypeResults: z
        .record(
          z.string(),
          object({
            filterType: z.enum(RAI_FILTER_TYPES).optional(),
            confidenceLevel: z.enum(CONFIDENCE_LEVELS).optional(),
            matchState: z.enum(FILTER_MATCH_STATES).optional(),
          }),
        )
        .optional(),
    }).optional(),
    sdpFilterResult: object({
      inspectResult: object({
        ...common,
        findings: z
          .array(
            object({
              infoType: z.string().optional(),
              likelihood: z.enum(SDP_LIKELIHOODS).optional(),
              location: object({ byteRange: range.optional(), codepointRange: range.optional() }).optional(),
            }),
          )
          .optional(),
        findingsTruncated: z.boolean().optional(),
      }).optional(),
      deidentifyResult: object({
        ...common,
        data: dataItem.optional(),
        transformedBytes: int64.optional(),
        infoTypes: z.array(z.string()).optional(),
      }).optional(),
    }).optional(),
    piAndJailbreakFilterResult: object({ ...common, confidenceLevel: z.enum(CONFIDENCE_LEVELS).optional() }).optional(),
    maliciousUriFilterResult: object({
      ...common,
      maliciousUriMatchedItems: z
        .array(object({ uri: z.string().optional(), locations: z.array(range).optional() }))
        .optional(),
    }).optional(),
    csamFilterFilterResult: object(common).optional(),
    virusScanFilterResult: object({
      ...common,
      scannedContentType: z.string().optional(),
      scannedSize: int64.optional(),
      virusDetails: z.array(z.unknown()).optional(),
    }).optional(),
  });
  return object({
    filterMatchState: z.enum(FILTER_MATCH_STATES).optional(),
    filterResults: z.record(z.string(), filterResult).optional(),
    invocationResult: z.enum(INVOCATION_RESULTS).optional(),
    sanitizationMetadata: object({
      errorCode: int64.optional(),
      errorMessage: z.string().optional(),
      ignorePartialInvocationFailures: z.boolean().optional(),
    }).optional(),
  });
}

export type SanitizationResult = z.output<ReturnType<typeof sanitizationResultSchema>>;
export type FilterResult = NonNullable<SanitizationResult["filterResults"]>[string];

/** `SanitizeUserPromptResponse` / `SanitizeModelResponseResponse`. */
export const sanitizeResponseSchema = z.looseObject({ sanitizationResult: sanitizationResultSchema(false) });

/** Our confidence as Model Armor's `DetectionConfidenceLevel`. */
export const confidenceLevelOf: Readonly<Record<Confidence, (typeof CONFIDENCE_LEVELS)[number]>> = {
  LOW: "LOW_AND_ABOVE",
  MEDIUM: "MEDIUM_AND_ABOVE",
  HIGH: "HIGH",
};

/** Model Armor's `DetectionConfidenceLevel` as our confidence (unspecified behaves as LOW_AND_ABOVE). */
export function confidenceFromLevel(level: string | undefined): Confidence {
  return level === "HIGH" ? "HIGH" : level === "MEDIUM_AND_ABOVE" ? "MEDIUM" : "LOW";
}

/** Our confidence as an SDP `likelihood`. */
export const likelihoodOf: Readonly<Record<Confidence, (typeof SDP_LIKELIHOODS)[number]>> = {
  LOW: "POSSIBLE",
  MEDIUM: "LIKELY",
  HIGH: "VERY_LIKELY",
};

/** An SDP `likelihood` as our confidence (unspecified = POSSIBLE). */
export function confidenceFromLikelihood(likelihood: string | undefined): Confidence {
  if (likelihood === "VERY_LIKELY") return "HIGH";
  if (likelihood === "LIKELY") return "MEDIUM";
  return "LOW";
}
