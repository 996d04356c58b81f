import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** One request to a contract server: its body read whole, and a JSON answer. */
export interface JsonExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Path without the query string. */
  readonly path: string;
  readonly body: string;
  send(status: number, answer: unknown, headers?: Record<string, string>): void;
}

export interface JsonServer {
  readonly url: string;
  /** Drops every open connection (hung ones included) and stops listening. */
  close(): Promise<void>;
}

/**
 * The plumbing every contract server shares: an HTTP server on a free loopback port that
 * reads each request body whole and hands it to `handle`; a handler that never answers is
 * a hang, `req.socket.destroy()` a closed socket.
 */
export async function startJsonServer(handle: (exchange: JsonExchange) => unknown): Promise<JsonServer> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    await handle({
      req,
      res,
      path: (req.url ?? "").split("?")[0] as string,
      body: Buffer.concat(chunks).toString(),
      send(status, answer, headers = {}) {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(answer));
      },
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
