import { type FSWatcher, readFileSync, watch } from "node:fs";
import { dirname } from "node:path";
import { generate } from "selfsigned";

export interface TlsOptions {
  readonly port: number;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** Generate a self-signed pair at start (development; GCP backends accept self-signed). */
  readonly selfSigned?: boolean | undefined;
  /** Require and verify client certificates against this CA (mTLS inside a mesh). */
  readonly clientCaFile?: string | undefined;
  /** Re-read certFile/keyFile when they change (see `watchTlsMaterial`). */
  readonly reloadCerts?: boolean | undefined;
  readonly minVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3" | undefined;
  readonly ciphers?: string | undefined;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | undefined;
}

export async function loadTlsMaterial(options: TlsOptions): Promise<TlsMaterial> {
  const ca = options.clientCaFile ? readFileSync(options.clientCaFile, "utf8") : undefined;
  if (options.certFile && options.keyFile) {
    return { cert: readFileSync(options.certFile, "utf8"), key: readFileSync(options.keyFile, "utf8"), ca };
  }
  if (!options.selfSigned) throw new Error("tls needs certFile and keyFile, or selfSigned: true");
  const pems = await generate([{ name: "commonName", value: "llm-callouts.local" }], {
    keySize: 2048,
    algorithm: "sha256",
    extensions: [
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private, ca };
}

/**
 * Calls `onChange` with fresh material whenever certFile or keyFile changes. It watches their
 * directories, because a Kubernetes secret volume swaps a `..data` symlink rather than writing the
 * files. A half-written pair (cert and key that do not match) is skipped until the next event.
 * Returns a stop function.
 */
export function watchTlsMaterial(
  options: TlsOptions,
  onChange: (material: TlsMaterial) => void,
  onError: (error: Error) => void,
): () => void {
  if (!options.certFile || !options.keyFile) return () => undefined;
  const dirs = [...new Set([dirname(options.certFile), dirname(options.keyFile)])];
  let timer: NodeJS.Timeout | undefined;
  let last = "";
  const reload = () => {
    timer = undefined;
    loadTlsMaterial(options).then((material) => {
      const key = material.cert + material.key;
      if (key === last) return;
      last = key;
      onChange(material);
    }, onError);
  };
  // The first load is the server's own; remember it so an unrelated event changes nothing.
  loadTlsMaterial(options).then((m) => {
    last = m.cert + m.key;
  }, onError);
  const watchers: FSWatcher[] = dirs.map((dir) =>
    watch(dir, () => {
      clearTimeout(timer);
      timer = setTimeout(reload, 100); // one reload per burst of events
    }),
  );
  for (const w of watchers) w.on("error", onError);
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
