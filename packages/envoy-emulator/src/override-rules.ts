import type { ProcessingMode } from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import { type BodyMode, bodyModeName, type HeaderSendMode, headerModeName } from "./http.js";

/** A `ProcessingMode` as written in config: unset header/trailer modes are DEFAULT, unset body modes NONE. */
export interface ProcessingModeSpec {
  readonly requestHeaderMode?: HeaderSendMode;
  readonly responseHeaderMode?: HeaderSendMode;
  readonly requestBodyMode?: BodyMode;
  readonly responseBodyMode?: BodyMode;
  readonly requestTrailerMode?: HeaderSendMode;
  readonly responseTrailerMode?: HeaderSendMode;
}

export type ResolvedModes = Required<ProcessingModeSpec>;

/** The filter settings that decide whether Envoy honours a `mode_override`. */
export interface OverrideSettings {
  readonly processingMode?: ProcessingModeSpec;
  readonly allowModeOverride?: boolean;
  readonly sendBodyWithoutWaitingForHeaderResponse?: boolean;
  /** Empty or unset: every override is allowed. */
  readonly allowedOverrideModes?: readonly ProcessingModeSpec[];
}

export type OverrideVerdict =
  | { readonly applied: true; readonly modes: ResolvedModes }
  | {
      readonly applied: false;
      readonly reason:
        | "allow_mode_override_off"
        | "send_body_without_waiting"
        | "full_duplex_filter"
        | "not_in_allowed_override_modes";
    };

function raw(spec: ProcessingModeSpec | undefined): ResolvedModes {
  return {
    requestHeaderMode: spec?.requestHeaderMode ?? "DEFAULT",
    responseHeaderMode: spec?.responseHeaderMode ?? "DEFAULT",
    requestBodyMode: spec?.requestBodyMode ?? "NONE",
    responseBodyMode: spec?.responseBodyMode ?? "NONE",
    requestTrailerMode: spec?.requestTrailerMode ?? "DEFAULT",
    responseTrailerMode: spec?.responseTrailerMode ?? "DEFAULT",
  };
}

/** A wire `mode_override` in names (GRPC and unknown body modes read as NONE). */
export function modeSpecFromWire(mode: ProcessingMode): ResolvedModes {
  return {
    requestHeaderMode: headerModeName(mode.requestHeaderMode),
    responseHeaderMode: headerModeName(mode.responseHeaderMode),
    requestBodyMode: bodyModeName(mode.requestBodyMode),
    responseBodyMode: bodyModeName(mode.responseBodyMode),
    requestTrailerMode: headerModeName(mode.requestTrailerMode),
    responseTrailerMode: headerModeName(mode.responseTrailerMode),
  };
}

/** AllowedOverrideModesSet::processingModeToInt equality: every field but request_header_mode. */
function sameKey(a: ResolvedModes, b: ResolvedModes): boolean {
  return (
    a.responseHeaderMode === b.responseHeaderMode &&
    a.requestBodyMode === b.requestBodyMode &&
    a.responseBodyMode === b.responseBodyMode &&
    a.requestTrailerMode === b.requestTrailerMode &&
    a.responseTrailerMode === b.responseTrailerMode
  );
}

/**
 * Whether Envoy applies a `mode_override` received on a headers reply, and the modes it then
 * uses (Filter::onReceiveMessage and effectiveModeOverride() in ext_proc.cc, December 2025):
 * - only with `allow_mode_override`, without `send_body_without_waiting_for_header_response`, and
 *   only when the filter's configured processing mode has FULL_DUPLEX_STREAMED in neither direction;
 * - DEFAULT header/trailer fields of the override are filled from the filter's configured
 *   `processing_mode` (as written: an unset field stays DEFAULT); body modes are always explicit;
 * - with `allowed_override_modes`, the filled-in mode must equal one entry exactly, every field
 *   but `request_header_mode` (AllowedOverrideModesSet).
 */
export function decideModeOverride(settings: OverrideSettings, override: ProcessingModeSpec): OverrideVerdict {
  if (settings.allowModeOverride !== true) return { applied: false, reason: "allow_mode_override_off" };
  if (settings.sendBodyWithoutWaitingForHeaderResponse === true) {
    return { applied: false, reason: "send_body_without_waiting" };
  }
  const configured = raw(settings.processingMode);
  if (configured.requestBodyMode === "FULL_DUPLEX_STREAMED" || configured.responseBodyMode === "FULL_DUPLEX_STREAMED") {
    return { applied: false, reason: "full_duplex_filter" };
  }
  const asked = raw(override);
  const keep = (value: HeaderSendMode, fallback: HeaderSendMode) => (value === "DEFAULT" ? fallback : value);
  const effective: ResolvedModes = {
    requestHeaderMode: keep(asked.requestHeaderMode, configured.requestHeaderMode),
    responseHeaderMode: keep(asked.responseHeaderMode, configured.responseHeaderMode),
    requestBodyMode: asked.requestBodyMode,
    responseBodyMode: asked.responseBodyMode,
    requestTrailerMode: keep(asked.requestTrailerMode, configured.requestTrailerMode),
    responseTrailerMode: keep(asked.responseTrailerMode, configured.responseTrailerMode),
  };
  const allowed = settings.allowedOverrideModes ?? [];
  if (allowed.length > 0 && !allowed.some((entry) => sameKey(raw(entry), effective))) {
    return { applied: false, reason: "not_in_allowed_override_modes" };
  }
  return { applied: true, modes: effective };
}
