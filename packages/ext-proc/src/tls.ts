import { readFileSync } from "node:fs";
import { generate } from "selfsigned";

export interface TlsOptions {
  readonly port: number;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** Generate a self-signed pair at start (development; GCP backends accept self-signed). */
  readonly selfSigned?: boolean | undefined;
  /** Require and verify client certificates against this CA (mTLS inside a mesh). */
  readonly clientCaFile?: string | undefined;
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
