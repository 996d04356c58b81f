import { create } from "@bufbuild/protobuf";
import {
  type ProcessingMode,
  ProcessingMode_BodySendMode,
  ProcessingMode_HeaderSendMode,
  ProcessingModeSchema,
} from "@llm-callouts/proto/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb";
import type { BodyMode, HeaderSendMode, ModeOverride } from "../processor.js";

const bodyModeNames: Record<number, BodyMode> = {
  [ProcessingMode_BodySendMode.NONE]: "NONE",
  [ProcessingMode_BodySendMode.STREAMED]: "STREAMED",
  [ProcessingMode_BodySendMode.BUFFERED]: "BUFFERED",
  [ProcessingMode_BodySendMode.BUFFERED_PARTIAL]: "BUFFERED_PARTIAL",
  [ProcessingMode_BodySendMode.FULL_DUPLEX_STREAMED]: "FULL_DUPLEX_STREAMED",
};

/** Wire enum -> name; GRPC (5) and unknown values read as undefined. */
export function bodyModeName(mode: ProcessingMode_BodySendMode): BodyMode | undefined {
  return bodyModeNames[mode];
}

export function bodyModeValue(mode: BodyMode): ProcessingMode_BodySendMode {
  return ProcessingMode_BodySendMode[mode];
}

export function headerModeValue(mode: HeaderSendMode): ProcessingMode_HeaderSendMode {
  return ProcessingMode_HeaderSendMode[mode];
}

export function headerModeName(mode: ProcessingMode_HeaderSendMode): HeaderSendMode {
  return mode === ProcessingMode_HeaderSendMode.SEND
    ? "SEND"
    : mode === ProcessingMode_HeaderSendMode.SKIP
      ? "SKIP"
      : "DEFAULT";
}

/**
 * Wire form of a mode override. Unset header/trailer fields are DEFAULT ("no change"
 * since Envoy 1.34); unset body fields would read as NONE, so the caller passes the
 * current modes to keep them.
 */
export function buildModeOverride(
  override: ModeOverride,
  current: { requestBody: BodyMode; responseBody: BodyMode },
): ProcessingMode {
  return create(ProcessingModeSchema, {
    responseHeaderMode: headerModeValue(override.responseHeaders ?? "DEFAULT"),
    requestBodyMode: bodyModeValue(override.requestBody ?? current.requestBody),
    responseBodyMode: bodyModeValue(override.responseBody ?? current.responseBody),
    requestTrailerMode: headerModeValue(override.requestTrailers ?? "DEFAULT"),
    responseTrailerMode: headerModeValue(override.responseTrailers ?? "DEFAULT"),
  });
}
