import { decodeBody } from "@llm-callouts/ext-proc";
import { type ApiKind, detectApi, type PathModel, rewritePathModel } from "@llm-callouts/llm-api";
import type { BaseModelSource } from "./base-model-source.js";
import type { BodyRouterConfig } from "./config.js";
import { type ClientError, clientError, type RouterErrorCode } from "./error-body.js";
import { encodeModelToken, extractModel } from "./extract-model.js";
import { modelNameProblem } from "./model-name.js";
import type { ModelRouter } from "./model-router.js";
import { isMultipart } from "./multipart-model.js";
import { spliceBytes } from "./rewrite-model.js";

/**
 * The body router's decisions as plain data: which model a request asks for, which
 * target serves it, and which headers and body bytes change. No protocol types; the
 * processor maps an outcome onto the SDK contract.
 */

/** The slice of a header map this module reads (names lower-case). */
export interface HeaderLookup {
  get(name: string): string | undefined;
  has(name: string): boolean;
}

export interface HeaderChanges {
  /** Overwrite semantics: a client-sent copy never survives. */
  readonly set: Readonly<Record<string, string>>;
  /** Headers to delete (only ones present in the request). */
  readonly remove: readonly string[];
}

/** Why a request passed without a model header. */
export type PassReason =
  | "no_body"
  | "missing_model"
  | "empty_model"
  | "model_not_in_prefix"
  | "unsupported_content_encoding";

export type RouteOutcome =
  | {
      readonly kind: "routed";
      readonly api: ApiKind;
      readonly model: string;
      readonly target: string;
      readonly baseModel: string | undefined;
      readonly sticky: boolean;
      readonly headers: HeaderChanges;
      /** The rewritten body, when a route changed the model in it. */
      readonly body: Uint8Array | undefined;
      /** Client-sent gateway-owned headers that were overwritten or removed. */
      readonly spoofed: number;
    }
  | {
      readonly kind: "passed";
      readonly api: ApiKind;
      readonly reason: PassReason;
      readonly headers: HeaderChanges;
      readonly spoofed: number;
    }
  | { readonly kind: "rejected"; readonly api: ApiKind; readonly error: ClientError }
  /** Headers phase only: the body decides. */
  | { readonly kind: "needs-body"; readonly api: ApiKind };

export interface RequestRouterOptions {
  readonly config: BodyRouterConfig;
  readonly models: ModelRouter;
  readonly baseModels: BaseModelSource | undefined;
  /** Seconds-resolution clock for the extraction timer (performance.now()/1000). */
  readonly now?: () => number;
  /** Receives the decode + scan time of each body, in seconds. */
  readonly onExtraction?: (seconds: number) => void;
}

export interface BodyInput {
  readonly headers: HeaderLookup;
  readonly body: Uint8Array;
  /** Envoy sent only the first part of the body (BUFFERED_PARTIAL over its buffer limit). */
  readonly partial: boolean;
}

export interface RequestRouter {
  /** Decides on request headers: path-addressed models, bodiless requests, early 413. */
  routeHeaders(headers: HeaderLookup, endOfStream: boolean): RouteOutcome;
  /** Decides on the whole request body. */
  routeBody(input: BodyInput): Promise<RouteOutcome>;
}

export function createRequestRouter(options: RequestRouterOptions): RequestRouter {
  const { config, models, baseModels } = options;
  const now = options.now ?? (() => performance.now() / 1000);
  const owned = [config.headers.model, config.headers.target, config.headers.baseModel];
  const reject = (api: ApiKind, code: RouterErrorCode, message: string, status: 400 | 413 = 400): RouteOutcome => ({
    kind: "rejected",
    api,
    error: clientError(code, message, status),
  });

  function present(headers: HeaderLookup, names: readonly string[]): string[] {
    return names.filter((name) => headers.has(name));
  }

  function pass(api: ApiKind, headers: HeaderLookup, reason: PassReason): RouteOutcome {
    const remove = present(headers, [...owned, ...config.stripHeaders]);
    return { kind: "passed", api, reason, headers: { set: {}, remove }, spoofed: remove.length };
  }

  function missing(api: ApiKind, headers: HeaderLookup, reason: PassReason, message: string): RouteOutcome {
    return config.missingModel === "reject" ? reject(api, "missing_model", message) : pass(api, headers, reason);
  }

  function route(
    api: ApiKind,
    headers: HeaderLookup,
    model: string,
    rewrite: (target: string) => { set?: Record<string, string>; body?: Uint8Array; remove?: string[] },
  ): RouteOutcome {
    const problem = modelNameProblem(model, config.maxModelBytes);
    if (problem !== undefined) return reject(api, "invalid_model", `'model' ${problem}`);
    const sticky = config.stickyHeader === undefined ? undefined : headers.get(config.stickyHeader);
    const choice = models.choose(model, sticky);
    const baseModel = baseModels?.lookup(choice.target);
    const change = choice.target === model ? {} : rewrite(choice.target);
    const set: Record<string, string> = { [config.headers.model]: model, [config.headers.target]: choice.target };
    if (baseModel !== undefined) set[config.headers.baseModel] = baseModel;
    Object.assign(set, change.set);
    const remove = present(headers, [...owned, ...config.stripHeaders, ...(change.remove ?? [])]).filter(
      (name) => !(name in set),
    );
    return {
      kind: "routed",
      api,
      model,
      target: choice.target,
      baseModel,
      sticky: choice.sticky,
      headers: { set, remove },
      body: change.body,
      spoofed: present(headers, [...owned, ...config.stripHeaders]).length,
    };
  }

  function routePath(api: ApiKind, headers: HeaderLookup, path: string, pathModel: PathModel): RouteOutcome {
    if (pathModel.model === "") return missing(api, headers, "empty_model", "the path names an empty model");
    return route(api, headers, pathModel.model, (target) => ({
      set: { ":path": rewritePathModel(path, pathModel, target) },
    }));
  }

  return {
    routeHeaders(headers, endOfStream) {
      const path = headers.get(":path") ?? "/";
      const { api, pathModel } = detectApi(path);
      if (pathModel) return routePath(api, headers, path, pathModel);
      if (endOfStream) return pass(api, headers, "no_body");
      const length = Number(headers.get("content-length"));
      if (length > config.bodyLimitBytes) {
        return reject(api, "request_too_large", `request body is larger than ${config.bodyLimitBytes} bytes`, 413);
      }
      return { kind: "needs-body", api };
    },

    async routeBody({ headers, body, partial }) {
      const path = headers.get(":path") ?? "/";
      const { api, pathModel } = detectApi(path);
      if (pathModel) return routePath(api, headers, path, pathModel);
      // BUFFERED_PARTIAL sent a prefix: a JSON model before the cut still routes (a
      // compressed or multipart prefix cannot be read reliably).
      if (partial && (headers.has("content-encoding") || isMultipart(headers.get("content-type")))) {
        return reject(api, "request_too_large", "request body is larger than the gateway buffers", 413);
      }
      if (body.length === 0) return missing(api, headers, "no_body", "request body is empty");
      const started = now();
      const decoded = await decodeBody(body, headers.get("content-encoding"), config.bodyLimitBytes);
      if ("error" in decoded) {
        options.onExtraction?.(now() - started);
        const { error } = decoded;
        if (error.kind === "too-large") {
          return reject(api, "request_too_large", `request body is larger than ${error.limitBytes} bytes`, 413);
        }
        if (error.kind === "corrupt") return reject(api, "corrupt_body", `request body is not valid ${error.encoding}`);
        return missing(
          api,
          headers,
          "unsupported_content_encoding",
          `content-encoding ${error.encoding} is not supported`,
        );
      }
      const extraction = extractModel(decoded.value, headers.get("content-type"), {
        truncated: partial,
        strict: config.strictJson,
      });
      options.onExtraction?.(now() - started);
      if ("error" in extraction) return reject(api, extraction.error.code, extraction.error.message);
      if ("missing" in extraction) {
        return extraction.inPrefix
          ? missing(api, headers, "model_not_in_prefix", "no 'model' in the part of the body the gateway buffers")
          : missing(api, headers, "missing_model", "request body has no 'model'");
      }
      const field = extraction.value;
      if (field.duplicate && config.duplicateModel === "reject") {
        return reject(api, "duplicate_model", "request body has more than one 'model' field");
      }
      if (field.model === "") return missing(api, headers, "empty_model", "'model' is empty");
      return route(api, headers, field.model, (target) => ({
        body: spliceBytes(decoded.value, field, encodeModelToken(field.format, target)),
        // The rewritten body is sent decoded.
        remove: decoded.decoded ? ["content-encoding"] : [],
      }));
    },
  };
}
