import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { ConfigError, defineServiceModule, type Service, type ServiceRuntime } from "@llm-callouts/ext-proc";
import { freshOrAll, isStale } from "./candidates.js";
import { type EndpointPickerServiceConfig, endpointPickerConfigSchema, endpointPickerDefaults } from "./config.js";
import { createDatastore, type EndpointSpec } from "./datastore.js";
import { createFileDiscovery, type Discovery } from "./discovery/file-discovery.js";
import { loadKubeConnection } from "./discovery/kube-client.js";
import { createKubernetesDiscovery } from "./discovery/kubernetes-discovery.js";
import { createKubernetesMetricsAuth } from "./discovery/metrics-auth.js";
import { watchObjectives } from "./discovery/objective-watch.js";
import { eppFlagNames, parseEppFlags } from "./epp-flags.js";
import { createFlowControl } from "./flow-control.js";
import { createInflightTracker } from "./inflight-tracker.js";
import {
  type EngineMetricSpec,
  engineMetricSpecs,
  engineSettingsFrom,
  specWithOverrides,
} from "./metrics/engine-metrics.js";
import { createMetricsScraper } from "./metrics/metrics-scraper.js";
import { createModelsPoller } from "./metrics/models-poller.js";
import { createObjectiveStore } from "./objectives.js";
import { createPickerMetrics } from "./picker-metrics.js";
import { createPickerProcessorFactory } from "./processor.js";
import { createRequestControl } from "./request-control.js";
import { loadEndpointPickerConfig } from "./scheduling/config-loader.js";
import type { EngineType } from "./scheduling/types.js";
import { parseGoDurationMs } from "./upstream/units.js";

/** Builds the endpoint picker: discovery -> datastore <- scraper; scheduler; processor. */
export function createEndpointPickerService(config: EndpointPickerServiceConfig, runtime: ServiceRuntime): Service {
  const clock = () => Date.now();
  const schedulerText =
    config.scheduler.configText ??
    (config.scheduler.configFile === undefined
      ? undefined
      : readFileSync(
          isAbsolute(config.scheduler.configFile)
            ? config.scheduler.configFile
            : join(runtime.configDir, config.scheduler.configFile),
          "utf8",
        ));
  const inflight = createInflightTracker();
  const datastore = createDatastore(inflight);
  let flowControl: ReturnType<typeof createFlowControl> | undefined;
  const metrics = createPickerMetrics(runtime.metrics, {
    queuedRequests: () => flowControl?.queuedRequests ?? 0,
    inflightByEndpoint: () => inflight.byEndpoint(),
    readyEndpoints: () => datastore.endpoints().filter((e) => !isStale(e, clock(), config.metrics.stalenessMs)),
    allEndpoints: () => datastore.endpoints(),
    poolName: config.endpoints.kubernetes?.poolName ?? "",
  });
  const loaded = loadEndpointPickerConfig(schedulerText, {
    observe: (extensionPoint, plugin, seconds) => {
      const labels = {
        extension_point: extensionPoint,
        plugin_type: plugin.typedName.type,
        plugin_name: plugin.typedName.name,
      };
      metrics.pluginSeconds.observe(labels, seconds);
      metrics.gie.pluginDuration.observe(labels, seconds);
    },
  });
  if ("errors" in loaded) throw new ConfigError(`service.scheduler: ${loaded.errors.join("; ")}`);
  const { scheduler, settings } = loaded;
  // https when the EndpointPickerConfig's metrics-data-source says so (its TLS parameters then
  // apply) or the service config / --model-server-metrics-scheme does.
  const source = settings.metricsSource;
  const scrapeTls =
    source?.scheme === "https"
      ? {
          insecureSkipVerify: source.insecureSkipVerify,
          ca: source.caCertPath ? readConfigFile(source.caCertPath, runtime.configDir) : undefined,
          cert: source.clientCertPath ? readConfigFile(source.clientCertPath, runtime.configDir) : undefined,
          key: source.clientKeyPath ? readConfigFile(source.clientKeyPath, runtime.configDir) : undefined,
        }
      : config.metrics.scheme === "https"
        ? { insecureSkipVerify: config.metrics.insecureSkipVerify }
        : undefined;
  const scrapeIntervalMs =
    source?.interval !== undefined
      ? Math.max(50, parseGoDurationMs(source.interval) as number)
      : config.metrics.scrapeIntervalMs;
  // Engines: core-metrics-extractor's parameters, then GIE's --*-metric flags on the default engine.
  let engines: ReturnType<typeof engineSettingsFrom>;
  try {
    engines = engineSettingsFrom(settings.metricsExtractor ?? {});
  } catch (error) {
    throw new ConfigError(`service.scheduler: core-metrics-extractor: ${(error as Error).message}`);
  }
  const specs: Partial<Record<EngineType, EngineMetricSpec>> = { ...engines.specs };
  if (config.metrics.specs) {
    const base = specs[engines.defaultEngine] ?? engineMetricSpecs[engines.defaultEngine];
    try {
      specs[engines.defaultEngine] = specWithOverrides(base, config.metrics.specs);
    } catch (error) {
      throw new ConfigError(`service.metrics.specs: ${(error as Error).message}`);
    }
  }
  for (const note of settings.notes) runtime.log.warn(note);
  // What the EndpointPickerConfig says wins over the service's own defaults.
  const saturation = { ...config.saturation, ...settings.saturation };
  const flowControlConfig = settings.flowControl
    ? { ...config.flowControl, ...settings.flowControl, enabled: true }
    : config.flowControl;
  const control = createRequestControl({
    scheduler,
    inflight,
    saturation,
    clock,
    random: Math.random,
    maxEndpoints: 1 + config.fallbackEndpoints,
    onSaturation: (s) => metrics.saturation.set(s),
  });
  if (flowControlConfig.enabled) {
    flowControl = createFlowControl({
      maxRequests: flowControlConfig.maxRequests,
      maxBytes: flowControlConfig.maxBytes,
      ttlMs: flowControlConfig.defaultRequestTtlMs,
      pollIntervalMs: flowControlConfig.pollIntervalMs,
      saturated: () => control.saturated(freshOrAll(datastore.endpoints(), clock(), config.metrics.stalenessMs)),
      clock,
    });
  }

  // Discovery sources are merged: static entries plus the latest file / Kubernetes lists.
  const sources = {
    static: config.endpoints.static as EndpointSpec[],
    file: [] as EndpointSpec[],
    k8s: [] as EndpointSpec[],
  };
  const apply = () => {
    for (const id of datastore.setEndpoints([...sources.static, ...sources.file, ...sources.k8s]))
      scheduler.endpointRemoved(id);
  };
  apply();
  const discoveries: Discovery[] = [];
  if (config.endpoints.file) {
    discoveries.push(
      createFileDiscovery({
        path: isAbsolute(config.endpoints.file.path)
          ? config.endpoints.file.path
          : join(runtime.configDir, config.endpoints.file.path),
        pollIntervalMs: config.endpoints.file.pollIntervalMs,
        onEndpoints: (list) => {
          sources.file = list;
          apply();
        },
        onError: (error) => runtime.log.error({ error }, "endpoints file rejected"),
      }),
    );
  }
  // One Kubernetes connection (service account or kubeconfig) for discovery, objectives and metrics auth.
  const connection = config.endpoints.kubernetes || config.metricsAuth === "kubernetes" ? loadConnection() : undefined;
  if (config.endpoints.kubernetes) {
    discoveries.push(
      createKubernetesDiscovery({
        ...config.endpoints.kubernetes,
        connection,
        engines: { labelKey: engines.labelKey, defaultEngine: engines.defaultEngine },
        onEndpoints: (list) => {
          sources.k8s = list;
          apply();
        },
        onError: (error) => runtime.log.error({ error }, "kubernetes discovery error"),
      }),
    );
  }
  for (const d of discoveries) void d.start();

  const objectives = createObjectiveStore(config);
  const kube = config.endpoints.kubernetes;
  if (kube?.poolName !== undefined && kube.watchObjectives && connection) {
    watchObjectives({
      connection,
      namespace: kube.namespace,
      poolName: kube.poolName,
      poolGroup: kube.group,
      store: objectives,
      // 404: that API group's CRD is not installed (normal: one of the two groups usually is not).
      onError: (error) =>
        error.includes("HTTP 404")
          ? runtime.log.debug({ error }, "InferenceObjective / InferenceModelRewrite CRD not installed")
          : runtime.log.warn({ error }, "InferenceObjective / InferenceModelRewrite watch"),
      signal: runtime.signal,
    });
  }

  // No metrics source (dataLayer.injectDefaults: false and none configured): no scraping, as upstream.
  const scraper = source
    ? createMetricsScraper({
        datastore,
        intervalMs: scrapeIntervalMs,
        timeoutMs: config.metrics.scrapeTimeoutMs,
        ...(scrapeTls ? { scheme: "https" as const, tls: scrapeTls } : {}),
        // The service's own path unless the EndpointPickerConfig's metrics-data-source names one.
        path: source.path !== "/metrics" ? source.path : config.metrics.path,
        ...(source.port !== undefined
          ? { port: source.port }
          : config.metrics.port !== undefined
            ? { port: config.metrics.port }
            : {}),
        specs,
        clock,
        onScrape: (result) => metrics.scrapes.inc({ result }),
      })
    : undefined;
  scraper?.start();
  const modelsPoller =
    config.metrics.modelsIntervalMs > 0 || settings.modelsSource
      ? createModelsPoller({
          datastore,
          intervalMs: config.metrics.modelsIntervalMs || endpointPickerDefaults.modelsIntervalMs,
          timeoutMs: config.metrics.scrapeTimeoutMs,
        })
      : undefined;
  modelsPoller?.start();

  const close = () => {
    scraper?.stop();
    modelsPoller?.stop();
    flowControl?.stop();
    for (const d of discoveries) d.stop();
  };
  runtime.signal.addEventListener("abort", close, { once: true });

  return {
    name: "endpoint-picker",
    processor: createPickerProcessorFactory({
      config,
      datastore,
      control,
      inflight,
      flowControl,
      metrics,
      clock,
      objectives,
    }),
    healthNames: ["inference-extension"], // the name GIE's chart probes with one replica
    ...(config.metricsAuth === "kubernetes" && connection
      ? { authorizeMetrics: createKubernetesMetricsAuth(connection) }
      : {}),
    isReady: () => datastore.synced && datastore.specs().size > 0,
    close,
    assumedModes: { requestBody: "FULL_DUPLEX_STREAMED", responseBody: "FULL_DUPLEX_STREAMED" },
    // Fail closed: a picker that cannot decide must not let the request go wherever its header points.
    failure: { mode: "closed", status: 500 },
  };
}

/** A file named in config (relative to the config dir), or a ConfigError naming it. */
function readConfigFile(path: string, configDir: string): Buffer {
  try {
    return readFileSync(isAbsolute(path) ? path : join(configDir, path));
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The Kubernetes connection, or a ConfigError saying why there is none. */
function loadConnection() {
  try {
    return loadKubeConnection();
  } catch (error) {
    throw new ConfigError(
      `Kubernetes: ${(error as Error).message} (in a pod the service account is used; elsewhere set KUBECONFIG)`,
    );
  }
}

/** The endpoint picker as a CLI service module. */
export const serviceModule = defineServiceModule<EndpointPickerServiceConfig>({
  name: "endpoint-picker",
  description:
    "Endpoint Picker Protocol callout: metrics-, prefix- and LoRA-aware replica selection for an InferencePool",
  configSchema: endpointPickerConfigSchema,
  create: (config, runtime) => createEndpointPickerService(config, runtime),
  upstreamFlags: {
    command: "epp",
    description: "GIE's and llm-d-router's EPP flags (cmd/epp)",
    flagNames: eppFlagNames,
    parse: (argv, env) => parseEppFlags(argv, env),
  },
});
