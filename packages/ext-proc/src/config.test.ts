import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, loadConfig } from "./config.js";

const serviceSchema = z.object({ threshold: z.number().min(0).max(1).default(0.5) }).strict();

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "callouts-config-")), "c.yaml");
  writeFileSync(path, text);
  return path;
}

describe("loadConfig()", () => {
  it("gives working defaults with no file", () => {
    const config = loadConfig(serviceSchema, {}, {});
    expect(config.server.port).toBe(8080);
    expect(config.server.adminPort).toBe(8081);
    expect(config.service).toEqual({ threshold: 0.5 });
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.service)).toBe(true);
  });

  it("lets flags win over environment and environment over the file", () => {
    const path = file("server:\n  port: 1000\n  adminPort: 1001\n  logLevel: debug\nservice:\n  threshold: 0.9\n");
    const config = loadConfig(
      serviceSchema,
      { configFile: path, port: 3000 },
      { CALLOUTS_PORT: "2000", CALLOUTS_ADMIN_PORT: "2001" },
    );
    expect(config.server.port).toBe(3000);
    expect(config.server.adminPort).toBe(2001);
    expect(config.server.logLevel).toBe("debug");
    expect(config.service.threshold).toBe(0.9);
  });

  it("merges sections set from code over the file, key by key, under the flags", () => {
    const nested = z.object({ a: z.object({ x: z.number(), y: z.number() }), b: z.number().default(1) }).strict();
    const path = file("server:\n  port: 1000\n  tls: { port: 9, selfSigned: true }\nservice:\n  a: { x: 1, y: 2 }\n");
    const config = loadConfig(
      nested,
      {
        configFile: path,
        adminPort: 7,
        sections: { server: { adminPort: 6, tls: { port: 9002 }, healthPort: 9003 }, service: { a: { y: 3 } } },
      },
      {},
    );
    expect(config.server.port).toBe(1000);
    expect(config.server.adminPort).toBe(7); // the flag wins over the section
    expect(config.server.tls).toMatchObject({ port: 9002, selfSigned: true });
    expect(config.server.healthPort).toBe(9003);
    expect(config.service).toEqual({ a: { x: 1, y: 3 }, b: 1 });
    expect(config.server.tracing).toBe(true);
    // A section from code is validated like the file.
    expect(() => loadConfig(nested, { sections: { server: { healthPort: -1 } } }, {})).toThrow(/server\.healthPort/);
  });

  it("names every bad field with its path and reason", () => {
    const path = file("server:\n  port: 70000\n  failure: { mode: sideways }\nservice:\n  threshold: 2\n  extra: 1\n");
    let error: unknown;
    try {
      loadConfig(serviceSchema, { configFile: path }, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/server\.port: /);
    expect(message).toMatch(/server\.failure\.mode: /);
    expect(message).toMatch(/service\.threshold: /);
    expect(message).toMatch(/service: Unrecognized key: "extra"/);
  });

  it("rejects unknown top-level keys and unreadable files", () => {
    expect(() => loadConfig(serviceSchema, { configFile: file("servr: {}\n") }, {})).toThrow(/unknown top-level key/);
    expect(() => loadConfig(serviceSchema, { configFile: "/nonexistent.yaml" }, {})).toThrow(/cannot read config file/);
  });

  it("turns TLS flags into a tls section and requires a pair or selfSigned", () => {
    expect(loadConfig(serviceSchema, { tlsSelfSigned: true }, {}).server.tls).toMatchObject({
      port: 8443,
      selfSigned: true,
    });
    expect(() => loadConfig(serviceSchema, { tlsCert: "c.pem" }, {})).toThrow(
      /server\.tls: needs certFile and keyFile/,
    );
  });
});
