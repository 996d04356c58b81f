export { type EchoConfig, echoConfigSchema } from "./config.js";
export { createEchoProcessor } from "./processor.js";
export { serviceModule } from "./service.js";
