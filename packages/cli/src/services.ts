import type { ServiceModule } from "@llm-callouts/ext-proc";

/** Every callout the CLI can serve, loaded lazily so one service never pays for another's dependencies. */
export const serviceLoaders: Record<string, () => Promise<unknown>> = {
  echo: () => import("@llm-callouts/echo"),
  "body-router": () => import("@llm-callouts/body-router"),
  guardrail: () => import("@llm-callouts/guardrail"),
  "semantic-cache": () => import("@llm-callouts/semantic-cache"),
  "endpoint-picker": () => import("@llm-callouts/endpoint-picker"),
};

export const knownServices = Object.keys(serviceLoaders);

export async function loadServiceModule(name: string): Promise<ServiceModule | undefined> {
  const loader = serviceLoaders[name];
  if (!loader) return undefined;
  const loaded = (await loader()) as { serviceModule?: ServiceModule };
  return loaded.serviceModule;
}
