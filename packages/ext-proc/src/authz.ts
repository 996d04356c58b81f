import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type Authorization,
  type CheckRequest,
  type CheckResponse,
  CheckResponseSchema,
} from "@llm-callouts/proto/gen/envoy/service/auth/v3/external_auth_pb";
import { StatusSchema } from "@llm-callouts/proto/gen/google/rpc/status_pb";
import { SpanKind } from "@opentelemetry/api";
import type { Logger } from "pino";
import { createHeaderMap } from "./headers.js";
import type { SdkMetrics } from "./metrics.js";
import type { JsonValue } from "./processor.js";
import type { AuthzDecision, AuthzRequest, Service } from "./service.js";
import { contextFromHeaders, tracer } from "./tracing.js";
import { buildHeaderMutation, readHeaderMap } from "./wire/headers.js";
import { readForwardedMetadata } from "./wire/metadata.js";

/** google.rpc.Code values used in CheckResponse.status. */
const rpcOk = 0;
const rpcPermissionDenied = 7;
const rpcUnavailable = 14;

/** CheckRequest -> plain data. Headers come from `header_map` with `encode_raw_headers`, else `headers`. */
export function readCheckRequest(request: CheckRequest): AuthzRequest {
  const http = request.attributes?.request?.http;
  const headers = http?.headerMap
    ? readHeaderMap(http.headerMap)
    : createHeaderMap(Object.entries(http?.headers ?? {}));
  const body =
    http && http.rawBody.length > 0
      ? http.rawBody
      : http && http.body.length > 0
        ? new TextEncoder().encode(http.body)
        : undefined;
  return {
    headers,
    method: http?.method ?? headers.get(":method") ?? "",
    path: http?.path ?? headers.get(":path") ?? "",
    host: http?.host ?? headers.get(":authority") ?? "",
    body,
    metadata: readForwardedMetadata(request.attributes?.metadataContext),
    contextExtensions: request.attributes?.contextExtensions ?? {},
  };
}

/** Plain decision -> CheckResponse (`append` set explicitly on every header, as for ext_proc). */
export function buildCheckResponse(decision: AuthzDecision): CheckResponse {
  const dynamicMetadata = decision.dynamicMetadata as Record<string, JsonValue> | undefined;
  if (decision.allow) {
    const upstream = buildHeaderMutation(decision.headers);
    const downstream = buildHeaderMutation(decision.responseHeaders ? { set: decision.responseHeaders } : undefined);
    return create(CheckResponseSchema, {
      status: create(StatusSchema, { code: rpcOk }),
      httpResponse: {
        case: "okResponse",
        value: {
          headers: upstream.mutation?.setHeaders ?? [],
          headersToRemove: upstream.mutation?.removeHeaders ?? [],
          responseHeadersToAdd: downstream.mutation?.setHeaders ?? [],
        },
      },
      dynamicMetadata,
    });
  }
  const headers =
    buildHeaderMutation(decision.headers ? { set: decision.headers } : undefined).mutation?.setHeaders ?? [];
  return create(CheckResponseSchema, {
    status: create(StatusSchema, { code: rpcPermissionDenied, message: "denied" }),
    httpResponse: {
      case: "deniedResponse",
      value: { status: { code: decision.status }, headers, body: decision.body ?? "" },
    },
    dynamicMetadata,
  });
}

/** envoy.service.auth.v3.Authorization for services that define `authorize`. */
export function createAuthzService(
  service: Service,
  log: Logger,
  metrics: SdkMetrics,
  failureStatus: number,
  failOpen: boolean,
): ServiceImpl<typeof Authorization> {
  return {
    async check(request) {
      const authorize = service.authorize!;
      const started = performance.now();
      const plain = readCheckRequest(request);
      const requestId = plain.headers.get("x-request-id");
      // A SERVER span per Check, child of the request's W3C trace context (no-op untraced).
      const span = tracer.startSpan(
        "envoy.service.auth.v3.Authorization/Check",
        {
          kind: SpanKind.SERVER,
          attributes: {
            "rpc.system": "grpc",
            "rpc.service": "envoy.service.auth.v3.Authorization",
            "rpc.method": "Check",
            "callouts.service": service.name,
          },
        },
        contextFromHeaders((name) => plain.headers.get(name)),
      );
      try {
        const decision = await authorize(plain, {
          log: requestId ? log.child({ request_id: requestId }) : log,
          requestId,
        });
        metrics.authzChecks.inc({ service: service.name, result: decision.allow ? "allow" : "deny" });
        return buildCheckResponse(decision);
      } catch (error) {
        metrics.authzChecks.inc({ service: service.name, result: "error" });
        log.error({ err: error, request_id: requestId }, "authorize failed");
        if (failOpen) return buildCheckResponse({ allow: true });
        // ext_authz on GCP and Envoy: a denied_response with the configured status.
        const response = buildCheckResponse({ allow: false, status: failureStatus, body: "" });
        response.status = create(StatusSchema, { code: rpcUnavailable, message: "authorizer failed" });
        return response;
      } finally {
        span.end();
        metrics.authzSeconds.observe({ service: service.name }, (performance.now() - started) / 1000);
      }
    },
  };
}
