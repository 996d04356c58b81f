import { headerNameSchema } from "@llm-callouts/ext-proc";
import { z } from "zod";

const phase = z.enum([
  "requestHeaders",
  "requestBody",
  "requestTrailers",
  "responseHeaders",
  "responseBody",
  "responseTrailers",
]);
const handling = z.enum(["whole", "chunks", "pass"]);

/** The echo service's `service:` section. Everything is off by default: a pure pass-through. */
export const echoConfigSchema = z
  .object({
    /** Headers to set (overwrite) in a phase's reply. */
    addHeaders: z.array(z.object({ phase, name: headerNameSchema, value: z.string() }).strict()).default([]),
    /** Replacement bodies per direction (applied in whole or chunk handling). */
    replaceBody: z.object({ request: z.string().optional(), response: z.string().optional() }).strict().default({}),
    /** Answer immediately from this phase. */
    respond: z
      .object({
        phase,
        status: z.number().int().min(200).max(599).default(200),
        body: z.string().default(""),
        headers: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .optional(),
    /** How bodies reach the processor. */
    bodyHandling: z
      .object({ request: handling.default("whole"), response: handling.default("whole") })
      .strict()
      .default({
        request: "whole",
        response: "whole",
      }),
    /** In chunk handling: upper-case ASCII letters (a visible per-chunk rewrite). */
    uppercaseChunks: z.boolean().default(false),
    /** In chunk handling: hold back this many trailing bytes to the next chunk (exercises carry-over). */
    carryBytes: z.number().int().min(0).default(0),
    /** Set clear_route_cache on the request-headers (or held) reply. */
    clearRouteCache: z.boolean().default(false),
    /** Emit `{ "<namespace>": { echoed: true, phase } }` dynamic metadata from request headers. */
    metadataNamespace: z.string().optional(),
    /** Mode override on the response-headers reply, e.g. { responseBody: STREAMED }. */
    responseBodyOverride: z.enum(["NONE", "STREAMED", "BUFFERED", "BUFFERED_PARTIAL"]).optional(),
    /** Throw in this phase (tests fail-open / fail-closed). */
    failIn: phase.optional(),
    /** Delay every processor call by this many ms (tests drain and timeouts). */
    delayMs: z.number().int().min(0).default(0),
  })
  .strict();

export type EchoConfig = z.infer<typeof echoConfigSchema>;
