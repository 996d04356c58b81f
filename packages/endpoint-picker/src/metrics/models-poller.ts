import { joinHostPort } from "../candidates.js";
import type { Datastore } from "../datastore.js";
import { createHttpGetter } from "./http-getter.js";

/** `/v1/models` (OpenAI shape) -> model ids, base model and loaded adapters alike. */
export function parseModelList(text: string): { value: Set<string> } | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { error: "not JSON" };
  }
  const data = (doc as { data?: unknown }).data;
  if (!Array.isArray(data)) return { error: "no data array" };
  const ids = new Set<string>();
  for (const entry of data) {
    const id = (entry as { id?: unknown }).id;
    if (typeof id === "string") ids.add(id);
  }
  return { value: ids };
}

export interface ModelsPollerOptions {
  readonly datastore: Datastore;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** Reads every endpoint's `/v1/models` periodically; failures keep the last known list. */
export function createModelsPoller(o: ModelsPollerOptions) {
  const getter = createHttpGetter();
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<string>();
  async function poll(id: string, address: string, port: number) {
    try {
      const text = await getter.get(
        `http://${joinHostPort(address, port)}/v1/models`,
        AbortSignal.timeout(o.timeoutMs),
      );
      const parsed = parseModelList(text);
      if ("value" in parsed) o.datastore.recordLoadedModels(id, parsed.value);
    } catch {
      // Unreachable or unsupported: the scraper already reports endpoint health.
    }
  }
  const poller = {
    async pollOnce(): Promise<void> {
      const jobs: Promise<void>[] = [];
      for (const [id, s] of o.datastore.specs()) {
        if (inFlight.has(id)) continue;
        inFlight.add(id);
        jobs.push(poll(id, s.address, s.port).finally(() => inFlight.delete(id)));
      }
      await Promise.all(jobs);
    },
    start() {
      if (timer) return;
      void poller.pollOnce();
      timer = setInterval(() => void poller.pollOnce(), o.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      getter.close();
    },
  };
  return poller;
}
