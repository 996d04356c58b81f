import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpGetter, decodeChunked, parseHead } from "./http-getter.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function http(
  handler: Parameters<typeof createHttpServer>[1],
): Promise<{ url: string; server: Server; connections: () => number }> {
  const server = createHttpServer(handler);
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    server,
    connections: () => connections,
  };
}

async function raw(reply: string): Promise<string> {
  const server: TcpServer = createTcpServer((s) => s.once("data", () => s.end(reply)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

const never = () => new AbortController().signal;

describe("parseHead()", () => {
  it("reads status, content-length, chunked and connection", () => {
    const buf = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    expect(parseHead(buf, buf.indexOf("\r\n\r\n"))).toEqual({
      status: 200,
      bodyStart: 57,
      contentLength: 5,
      chunked: false,
      close: true,
    });
  });
  it("rejects a non-HTTP reply", () => {
    const buf = Buffer.from("SSH-2.0\r\n\r\n");
    expect(parseHead(buf, buf.indexOf("\r\n\r\n"))).toBeInstanceOf(Error);
  });
});

describe("decodeChunked()", () => {
  it("decodes a complete body and waits for an incomplete one", () => {
    expect(decodeChunked(Buffer.from("3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"), 0)).toEqual({
      body: Buffer.from("abcde"),
    });
    expect(decodeChunked(Buffer.from("3\r\nabc\r\n"), 0)).toBeUndefined();
  });
});

describe("createHttpGetter()", () => {
  it("reads content-length bodies and reuses one connection", async () => {
    const s = await http((_req, res) => res.end("page"));
    const g = createHttpGetter();
    expect(await g.get(s.url, never())).toBe("page");
    expect(await g.get(s.url, never())).toBe("page");
    expect(s.connections()).toBe(1);
    g.close();
  });

  it("reads chunked bodies", async () => {
    const s = await http((_req, res) => {
      res.write("a".repeat(10_000));
      setTimeout(() => res.end("b"), 5);
    });
    const g = createHttpGetter();
    expect(await g.get(s.url, never())).toBe(`${"a".repeat(10_000)}b`);
    g.close();
  });

  it("reads a body delimited by connection close", async () => {
    const url = await raw("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nvllm:x 1\n");
    const g = createHttpGetter();
    expect(await g.get(url, never())).toBe("vllm:x 1\n");
  });

  it("retries once on a fresh connection when the idle one was closed by the server", async () => {
    const s = await http((_req, res) => res.end("ok"));
    const g = createHttpGetter();
    await g.get(s.url, never());
    s.server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 20));
    expect(await g.get(s.url, never())).toBe("ok");
    expect(s.connections()).toBe(2);
    g.close();
  });

  it("fails on a non-200 status", async () => {
    const s = await http((_req, res) => {
      res.statusCode = 503;
      res.end("busy");
    });
    await expect(createHttpGetter().get(s.url, never())).rejects.toThrow("HTTP 503");
  });

  it("fails a page over 4 MiB as garbage", async () => {
    const s = await http((_req, res) => res.end("x".repeat(5 * 1024 * 1024)));
    await expect(createHttpGetter().get(s.url, never())).rejects.toMatchObject({ kind: "parse" });
  });

  it("gives up when the signal aborts (hanging endpoint)", async () => {
    const s = await http(() => {
      /* never answers */
    });
    await expect(createHttpGetter().get(s.url, AbortSignal.timeout(50))).rejects.toThrow("aborted");
  });

  it("fails on connection refused", async () => {
    const s = await http((_req, res) => res.end("x"));
    const url = s.url;
    s.server.close();
    await new Promise((r) => setTimeout(r, 10));
    await expect(createHttpGetter().get(url, never())).rejects.toThrow(/ECONNREFUSED/);
  });
});
