import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { BaseModelIndex } from "./base-model-map.js";
import { parseBaseModelFile } from "./base-model-map.js";

/**
 * Keeps a base-model mapping file loaded and fresh. A mounted ConfigMap changes by an
 * atomic swap of the `..data` symlink, which a watch on the file itself never sees, so
 * this watches the directory and also re-reads the file periodically (through the symlinks
 * target). A file that fails to parse keeps the last good mapping.
 */

export interface BaseModelSource {
  /** The base model of `model`, or undefined when unknown. */
  lookup(model: string): string | undefined;
  /** Re-reads the file if it changed; resolves when done. Never rejects. */
  refresh(): Promise<void>;
  close(): void;
}

/** Minimal logger slice (pino-compatible). */
export interface SourceLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface BaseModelFileSourceOptions {
  readonly path: string;
  readonly log: SourceLog;
  /** Stat fallback period; 0 disables it. */
  readonly pollIntervalMs: number;
  /** Called after each load attempt (for metrics). */
  readonly onReload?: (result: "ok" | "error") => void;
}

/** A fixed mapping (inline config). */
export function createStaticBaseModelSource(index: BaseModelIndex): BaseModelSource {
  return { lookup: (model) => index.get(model), refresh: async () => {}, close: () => {} };
}

/** Loads `path` (rejecting when the first load fails) and keeps it fresh. */
export async function createBaseModelFileSource(options: BaseModelFileSourceOptions): Promise<BaseModelSource> {
  const { path, log, onReload } = options;
  let index: BaseModelIndex = new Map();
  let fingerprint = "";
  let running: Promise<void> | undefined;
  let again = false;

  async function load(initial: boolean): Promise<void> {
    // The file is small: compare contents rather than trust mtime granularity.
    const text = await readFile(path, "utf8");
    if (text === fingerprint) return;
    // An empty file mid-way through an in-place rewrite would drop every mapping.
    const parsed =
      !initial && text.trim() === "" ? { error: "file is empty (a write in progress?)" } : parseBaseModelFile(text);
    fingerprint = text;
    if ("error" in parsed) {
      onReload?.("error");
      if (initial) throw new Error(`base model file ${path}: ${parsed.error}`);
      log.error({ path, error: parsed.error }, "base model file rejected, keeping last good mapping");
      return;
    }
    index = parsed.value;
    onReload?.("ok");
    log.info({ path, models: index.size }, "base model file loaded");
  }

  function refresh(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await load(false);
        } catch (cause) {
          log.error({ path, error: (cause as Error).message }, "base model file unreadable, keeping last good mapping");
        }
      } while (again);
      running = undefined;
    })();
    return running;
  }

  await load(true);

  let watcher: FSWatcher | undefined;
  try {
    // Any change in the directory may be a ConfigMap swap (`..data`), not just the file.
    watcher = watch(dirname(path), () => void refresh());
    watcher.on("error", () => watcher?.close());
  } catch {
    watcher = undefined; // watching is best-effort; polling still runs
  }
  const timer = options.pollIntervalMs > 0 ? setInterval(() => void refresh(), options.pollIntervalMs) : undefined;
  timer?.unref();

  return {
    lookup: (model) => index.get(model),
    refresh,
    close() {
      watcher?.close();
      if (timer) clearInterval(timer);
    },
  };
}
