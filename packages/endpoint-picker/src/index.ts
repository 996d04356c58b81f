/**
 * The endpoint picker's public surface: the service as the CLI runs it, its config, and the
 * scheduling framework (config loader, plugin registry, plugin types) for custom filters, scorers
 * and pickers, as in GIE's EPP. Everything else is internal (`service.ts` composes it).
 */
export { type EndpointPickerServiceConfig, endpointPickerConfigSchema, endpointPickerDefaults } from "./config.js";
export {
  decodeEndpointPickerConfig,
  defaultEndpointPickerConfig,
  type EndpointPickerConfig,
  instantiateEndpointPickerConfig,
  loadEndpointPickerConfig,
} from "./scheduling/config-loader.js";
export { createPluginRegistry, type PluginRegistry } from "./scheduling/plugin-registry.js";
export { registerBuiltins } from "./scheduling/register-builtins.js";
export { createScheduler, type Scheduler, type SchedulerProfile } from "./scheduling/scheduler.js";
export type * from "./scheduling/types.js";
export { createEndpointPickerService, serviceModule } from "./service.js";
