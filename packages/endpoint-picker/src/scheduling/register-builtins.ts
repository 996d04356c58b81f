import { configPluginFactories } from "./config-plugins.js";
import { roleFilterFactory } from "./filter/by-role/by-role.js";
import {
  loraAvailabilityFilterFactory,
  loraAvailabilityFilterType,
} from "./filter/lora-availability/lora-availability.js";
import { utilizationFilterFactory, utilizationFilterType } from "./filter/utilization/utilization.js";
import { maxScorePickerFactory, maxScorePickerType } from "./picker/max-score/max-score.js";
import { randomPickerFactory, randomPickerType } from "./picker/random/random.js";
import { weightedRandomPickerFactory, weightedRandomPickerType } from "./picker/weighted-random/weighted-random.js";
import type { PluginRegistry } from "./plugin-registry.js";
import { headerProfileHandlerFactory, headerProfileHandlerType } from "./profile-handler/header/header.js";
import { singleProfileHandlerFactory, singleProfileHandlerType } from "./profile-handler/single/single.js";
import {
  kvCacheUtilizationScorerFactory,
  kvCacheUtilizationScorerType,
} from "./scorer/kv-cache-utilization/kv-cache-utilization.js";
import { loadAwareScorerFactory, loadAwareScorerType } from "./scorer/load-aware/load-aware.js";
import { loraAffinityScorerFactory, loraAffinityScorerType } from "./scorer/lora-affinity/lora-affinity.js";
import { predictedTtftScorerFactory, predictedTtftScorerType } from "./scorer/predicted-ttft/predicted-ttft.js";
import { prefixCacheScorerFactory, prefixCacheScorerType } from "./scorer/prefix-cache/prefix-cache.js";
import { queueScorerFactory, queueScorerType } from "./scorer/queue-depth/queue-depth.js";
import { runningRequestsScorerFactory, runningRequestsScorerType } from "./scorer/running-requests/running-requests.js";
import { sessionAffinityScorerFactory, sessionAffinityScorerType } from "./scorer/session-affinity/session-affinity.js";
import { tokenLoadScorerFactory, tokenLoadScorerType } from "./scorer/token-load/token-load.js";

/** Every built-in plugin type, in one explicit list. */
export function registerBuiltins(registry: PluginRegistry): PluginRegistry {
  registry.register(utilizationFilterType, utilizationFilterFactory);
  registry.register(loraAvailabilityFilterType, loraAvailabilityFilterFactory);
  registry.register(queueScorerType, queueScorerFactory);
  registry.register(runningRequestsScorerType, runningRequestsScorerFactory);
  registry.register(kvCacheUtilizationScorerType, kvCacheUtilizationScorerFactory);
  registry.register(tokenLoadScorerType, tokenLoadScorerFactory);
  registry.register(loraAffinityScorerType, loraAffinityScorerFactory);
  registry.register(prefixCacheScorerType, prefixCacheScorerFactory);
  registry.register(sessionAffinityScorerType, sessionAffinityScorerFactory);
  registry.register(predictedTtftScorerType, predictedTtftScorerFactory);
  registry.register(maxScorePickerType, maxScorePickerFactory);
  registry.register(randomPickerType, randomPickerFactory);
  registry.register(weightedRandomPickerType, weightedRandomPickerFactory);
  registry.register("decode-filter", roleFilterFactory("decode-filter"));
  registry.register("prefill-filter", roleFilterFactory("prefill-filter"));
  registry.register("encode-filter", roleFilterFactory("encode-filter"));
  registry.register(loadAwareScorerType, loadAwareScorerFactory);
  registry.register(singleProfileHandlerType, singleProfileHandlerFactory);
  registry.register(headerProfileHandlerType, headerProfileHandlerFactory);
  for (const [type, factory] of Object.entries(configPluginFactories)) registry.register(type, factory);
  return registry;
}
