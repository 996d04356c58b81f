import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "@llm-callouts/proto/gen/grpc/health/v1/health_pb";

/**
 * grpc.health.v1.Health/Check against `baseUrl` (`http://127.0.0.1:9003`, or `https://...` with
 * `insecure` to accept a self-signed certificate): the status name (`SERVING`, `NOT_SERVING`,
 * `SERVICE_UNKNOWN`), or the gRPC error's code name when the call fails (`NotFound`, `Unavailable`).
 */
export async function checkHealth(baseUrl: string, service: string, options: { insecure?: boolean } = {}) {
  const transport = createGrpcTransport({
    baseUrl,
    ...(options.insecure ? { nodeOptions: { rejectUnauthorized: false } } : {}),
  });
  const client = createClient(Health, transport);
  try {
    const reply = await client.check({ service }, { timeoutMs: 5000 });
    return HealthCheckResponse_ServingStatus[reply.status] as string;
  } catch (error) {
    return Code[ConnectError.from(error).code] as string;
  }
}
