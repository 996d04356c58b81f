export { compareAtKnee, formatKneeComparisons, type KneeComparison, type KneeOptions } from "./compare.js";
export { createEventQueue, type EventQueue } from "./event-queue.js";
export { baselinePolicies, leastQueuePolicy, randomPolicy, roundRobinPolicy } from "./policies.js";
export { endpointIdOf, runSimulation, type SimulationOptions } from "./simulate.js";
export { percentile, summarize } from "./stats.js";
export { defaultScenarios, formatResults, runSweep, type Scenario, type SweepOptions } from "./sweep.js";
export type {
  EndpointMetrics,
  EndpointView,
  LatencySummary,
  PolicyContext,
  PolicyFactory,
  PoolView,
  RequestOutcome,
  RoutingPolicy,
  RunResult,
  SimRequest,
  Workload,
} from "./types.js";
export {
  type LoraMixOptions,
  loraMixWorkload,
  randomText,
  type SharedPrefixOptions,
  sharedPrefixWorkload,
  shareGptWorkload,
  type WorkloadOptions,
} from "./workloads.js";
