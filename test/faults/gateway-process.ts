/**
 * The gateway as its own process (spawned by `spawnGateway`), so its RSS and file descriptors
 * can be read from /proc apart from the load generator's: `pnpm start`'s chain
 * (`stackGatewayConfig`) on GATEWAY_PORTS (JSON: router, guardrail, cache, pickerLlama,
 * pickerQwen). Prints `ready <port>` once listening; exits on SIGTERM.
 */
import { stackGatewayConfig } from "@llm-callouts/cli/stack";
import { createLogger } from "@llm-callouts/ext-proc";
import { startGateway } from "@llm-callouts/gateway";

const ports = JSON.parse(process.env.GATEWAY_PORTS ?? "{}") as Parameters<typeof stackGatewayConfig>[2];
const gateway = await startGateway(
  stackGatewayConfig("127.0.0.1", 0, ports),
  createLogger({ level: "warn", service: "gateway" }),
);
process.stdout.write(`ready ${gateway.port}\n`);
process.once("SIGTERM", () => {
  gateway.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
