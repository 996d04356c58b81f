import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeBody } from "./decode-body.js";

const json = Buffer.from('{"model":"m","messages":[]}');
const text = (result: Awaited<ReturnType<typeof decodeBody>>) =>
  "value" in result ? Buffer.from(result.value).toString() : result.error;

describe("decodeBody()", () => {
  it.each([
    { name: "no encoding", encoding: undefined, body: json, decoded: false },
    { name: "identity", encoding: "identity", body: json, decoded: false },
    { name: "gzip", encoding: "gzip", body: gzipSync(json), decoded: true },
    { name: "x-gzip, upper case", encoding: "X-GZIP", body: gzipSync(json), decoded: true },
    { name: "zlib deflate", encoding: "deflate", body: deflateSync(json), decoded: true },
    { name: "raw deflate", encoding: "deflate", body: deflateRawSync(json), decoded: true },
    { name: "brotli", encoding: "br", body: brotliCompressSync(json), decoded: true },
    { name: "stacked", encoding: "deflate, gzip", body: gzipSync(deflateSync(json)), decoded: true },
  ])("decodes $name", async ({ encoding, body, decoded }) => {
    const result = await decodeBody(body, encoding, 1024);
    expect(text(result)).toBe(json.toString());
    expect("value" in result && result.decoded).toBe(decoded);
  });

  it("rejects an encoded body over the limit", async () => {
    expect(await decodeBody(new Uint8Array(2048), undefined, 1024)).toEqual({
      error: { kind: "too-large", limitBytes: 1024 },
    });
  });

  it.each(["gzip", "deflate", "br"])("stops a %s bomb at the limit of the decoded size", async (encoding) => {
    const zeros = Buffer.alloc(8 * 1024 * 1024);
    const bomb =
      encoding === "gzip" ? gzipSync(zeros) : encoding === "deflate" ? deflateSync(zeros) : brotliCompressSync(zeros);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await decodeBody(bomb, encoding, 1024 * 1024)).toEqual({
      error: { kind: "too-large", limitBytes: 1024 * 1024 },
    });
  });

  it("reports an unsupported encoding", async () => {
    expect(await decodeBody(json, "zstd", 1024)).toEqual({ error: { kind: "unsupported-encoding", encoding: "zstd" } });
  });

  it("reports a corrupt body", async () => {
    const result = await decodeBody(json, "gzip", 1024);
    expect("error" in result && result.error.kind).toBe("corrupt");
  });
});
