import { readFile } from "node:fs/promises";
import type { EndpointSpec } from "../datastore.js";
import { parseEndpointList } from "./endpoint-list.js";

export interface FileDiscoveryOptions {
  readonly path: string;
  /** How often the file is re-read (polling survives atomic renames and ConfigMap symlink swaps). */
  readonly pollIntervalMs: number;
  readonly onEndpoints: (endpoints: EndpointSpec[]) => void;
  /** A read or parse failure: the last good list stays in force. */
  readonly onError: (error: string) => void;
}

export interface Discovery {
  /** Resolves after the first successful (or failed) load. */
  start(): Promise<void>;
  stop(): void;
}

/** Watches an endpoints file; applies each changed, valid version. */
export function createFileDiscovery(o: FileDiscoveryOptions): Discovery {
  let last: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastError: string | undefined;

  async function load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(o.path, "utf8");
    } catch (err) {
      report(`read ${o.path}: ${(err as Error).message}`);
      return;
    }
    if (text === last) return;
    const parsed = parseEndpointList(text);
    if ("error" in parsed) {
      report(`parse ${o.path}: ${parsed.error}`);
      return;
    }
    last = text;
    lastError = undefined;
    o.onEndpoints(parsed.value);
  }

  function report(error: string): void {
    if (error === lastError) return; // log each distinct problem once
    lastError = error;
    o.onError(error);
  }

  return {
    async start() {
      await load();
      timer = setInterval(() => void load(), o.pollIntervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
