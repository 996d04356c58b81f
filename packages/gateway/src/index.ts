export { createChain, type DownstreamRequest, envoyFilterConfig, type GatewayResponse } from "./chain.js";
export {
  type FilterSpec,
  filterSchema,
  type GatewayConfig,
  type GatewayConfigInput,
  gatewayConfigSchema,
  gatewayOwnedHeaders,
  type PoolSpec,
  poolSchema,
} from "./config.js";
export { destinations, parseHostPort, selectPool, splitList } from "./routing.js";
export { type GatewayHandle, startGateway } from "./server.js";
