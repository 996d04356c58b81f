import { headerNameSchema } from "@llm-callouts/ext-proc";
import { z } from "zod";
import { compileCustomPatterns } from "./content/custom-patterns.js";
import { maxTermsPerTemplate } from "./content/term-lists.js";

const confidence = z.enum(["LOW", "MEDIUM", "HIGH"]);
const action = z.enum(["block", "redact", "inspect"]);
const failMode = z.enum(["open", "closed"]);

/** Classifier labels per attack kind (Prompt Guard: INJECTION / JAILBREAK; deberta-v3 prompt-injection: INJECTION). */
const attackLabels = z
  .strictObject({
    injection: z.array(z.string().min(1)).default(["INJECTION"]),
    jailbreak: z.array(z.string().min(1)).default(["JAILBREAK"]),
  })
  .prefault({});
/** A kind's score (its labels' summed probability) at or above these is LOW, MEDIUM or HIGH confidence. */
const attackThresholds = z
  .strictObject({
    LOW: z.number().min(0).max(1).default(0.5),
    MEDIUM: z.number().min(0).max(1).default(0.8),
    HIGH: z.number().min(0).max(1).default(0.95),
  })
  .prefault({});

const blockResponse = z.strictObject({
  /** HTTP status of the local reply (>= 400). */
  status: z.number().int().min(400).max(599).default(400),
  /** `error.code` in the OpenAI-style body. */
  code: z.string().min(1).default("content_policy_violation"),
  message: z.string().min(1).default("The request was blocked by the content policy."),
});

const termList = z.strictObject({
  category: z.string().min(1),
  terms: z.array(z.string().min(1).max(200)),
  confidence: confidence.optional(),
});

const customPattern = z.strictObject({
  name: z.string().min(1),
  /** RE2 syntax (linear time; no backreferences or lookaround). */
  pattern: z.string().min(1).max(1000),
  type: z.string().optional(),
  confidence: confidence.optional(),
  caseInsensitive: z.boolean().optional(),
  /** Overrides the filter's action for this pattern. */
  action: action.optional(),
});

/** One policy template (Model Armor's Template: filter settings plus metadata). */
export const templateSchema = z.strictObject({
  piAndJailbreak: z
    .strictObject({
      enabled: z.boolean().default(true),
      minConfidence: confidence.default("MEDIUM"),
      action: z.enum(["block", "inspect"]).default("block"),
      /** Also classify all scanned texts joined, to catch payloads spread over turns. */
      scanConversation: z.boolean().default(true),
    })
    .prefault({}),
  sensitiveData: z
    .strictObject({
      enabled: z.boolean().default(true),
      minConfidence: confidence.default("MEDIUM"),
      action: action.default("redact"),
      /** Per info type action, e.g. `{ PRIVATE_KEY: block, PERSON: inspect }`. */
      infoTypeActions: z.record(z.string(), action).default({}),
      /** `placeholder`: `[EMAIL_1]`, consistent within a request; `mask`: `*` of equal length. */
      redaction: z.enum(["placeholder", "mask"]).default("placeholder"),
      names: z.boolean().default(true),
      addresses: z.boolean().default(true),
    })
    .prefault({}),
  responsibleAi: z
    .strictObject({
      enabled: z.boolean().default(true),
      minConfidence: confidence.default("MEDIUM"),
      action: action.default("block"),
      useDefaultTermLists: z.boolean().default(true),
      termLists: z.array(termList).default([]),
    })
    .prefault({}),
  maliciousUris: z
    .strictObject({
      enabled: z.boolean().default(true),
      minConfidence: confidence.default("MEDIUM"),
      action: action.default("block"),
      blocklist: z.array(z.string()).default([]),
      allowlist: z.array(z.string()).default([]),
      flagIpLiterals: z.boolean().default(true),
      flagPunycode: z.boolean().default(true),
    })
    .prefault({}),
  customPatterns: z
    .strictObject({
      action: action.default("block"),
      patterns: z.array(customPattern).default([]),
    })
    .prefault({}),
  /** Detector errors: `open` continues with a PARTIAL verdict, `closed` rejects with 503. */
  failMode: failMode.default("closed"),
  /** Scan requests and/or responses. */
  directions: z.strictObject({ request: z.boolean().default(true), response: z.boolean().default(true) }).prefault({}),
  /**
   * Model Armor templates this template also consults (ids in `backends.modelArmor`'s project and
   * location, or full `projects/.../templates/...` names); empty = not consulted in that direction.
   */
  modelArmor: z
    .strictObject({
      userPromptTemplate: z.string().default(""),
      modelResponseTemplate: z.string().default(""),
    })
    .prefault({}),
  /**
   * How backend verdicts join the local one: `any` (a match from any source counts, the strongest
   * action wins, a local block skips the backends) or `remote-authoritative` (the backends are always
   * asked, and for each filter a backend evaluated successfully its verdict decides: local matches
   * there are reported, not enforced; filters no backend evaluated stay local).
   */
  backendsCombine: z.enum(["any", "remote-authoritative"]).default("any"),
  /** The NeMo Guardrails configuration this template also consults (`backends.nemoGuardrails`); empty = none. */
  nemoGuardrails: z.strictObject({ configId: z.string().default("") }).prefault({}),
  /** Local reply for blocked prompts (Model Armor's custom_prompt_safety_error_*). */
  requestBlock: blockResponse.prefault({}),
  /** Reply or SSE error event for blocked model output. */
  responseBlock: blockResponse.prefault({ message: "The response was blocked by the content policy." }),
});

export type PolicyTemplate = z.infer<typeof templateSchema>;

/**
 * Minimum settings no template can weaken (Model Armor floor settings): an
 * enabled filter stays enabled, the lower confidence threshold and the stronger
 * action win, fail-closed wins.
 */
export const floorSchema = z.strictObject({
  piAndJailbreak: z
    .strictObject({ minConfidence: confidence.optional(), action: z.enum(["block", "inspect"]).optional() })
    .optional(),
  sensitiveData: z
    .strictObject({
      minConfidence: confidence.optional(),
      action: action.optional(),
      infoTypeActions: z.record(z.string(), action).optional(),
    })
    .optional(),
  responsibleAi: z.strictObject({ minConfidence: confidence.optional(), action: action.optional() }).optional(),
  maliciousUris: z.strictObject({ minConfidence: confidence.optional(), action: action.optional() }).optional(),
  failMode: failMode.optional(),
  directions: z.strictObject({ request: z.boolean().optional(), response: z.boolean().optional() }).optional(),
});

export type PolicyFloor = z.infer<typeof floorSchema>;

const selector = z.strictObject({
  /** Request path prefix (`:path`). */
  pathPrefix: z.string().optional(),
  /** Exact model name (body `model` or the model header). */
  model: z.string().optional(),
  /** Exact tenant id (tenant header). */
  tenant: z.string().optional(),
  template: z.string().min(1),
});

/** The guardrail's `service:` config section. */
export const guardrailConfigSchema = z
  .strictObject({
    templates: z.record(z.string(), templateSchema).default({ default: templateSchema.parse({}) }),
    defaultTemplate: z.string().default("default"),
    /** First match wins; unmatched requests use `defaultTemplate`. */
    selectors: z.array(selector).default([]),
    floor: floorSchema.default({}),
    tenantHeader: headerNameSchema.default("x-tenant-id"),
    modelHeader: headerNameSchema.default("x-gateway-model-name"),
    /** Dynamic metadata namespace for the verdict. */
    metadataNamespace: z.string().default("com.llm-callouts.guardrail"),
    /** Summary header added to the upstream request (and downstream response). */
    summaryHeader: headerNameSchema.default("x-guardrail-result"),
    /**
     * A `content-encoding`d request body (gzip, deflate, br, or a list of them) is decoded
     * before it is scanned, to at most this many bytes (a decompression bomb stops here with 413).
     */
    maxDecodedBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    /** Nested base64/hex/URL decoding depth (0 disables). */
    decodeDepth: z.number().int().min(0).max(4).default(2),
    /** Characters scanned per text; longer texts are scanned head and tail (EXECUTION_SKIPPED beyond). */
    maxScanChars: z.number().int().min(1024).default(262_144),
    /** Findings listed per filter in the verdict (the rest are counted). */
    maxFindingsInVerdict: z.number().int().min(0).default(50),
    stream: z
      .strictObject({
        /** Characters held back at the end of each chunk so a value split across chunks is seen whole. */
        holdBackChars: z.number().int().min(0).max(4096).default(256),
        /**
         * Remote backends see a streamed answer in windows of this many new characters (with the
         * 200 before them again), each window checked once per template and cached by its hash.
         */
        remoteWindowChars: z.number().int().min(256).max(65_536).default(2_000),
      })
      .prefault({}),
    audit: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    /** Remote backends the templates may consult after the local pass. */
    backends: z
      .strictObject({
        /** Time the remote backends of one decision get, in parallel; past it they count as failed. */
        budgetMs: z.number().int().positive().default(150),
        modelArmor: z
          .strictObject({
            project: z.string().min(1),
            location: z.string().regex(/^[a-z]+-[a-z]+[0-9]+$|^us$|^eu$/, "a region such as us-central1"),
            /** Default `https://modelarmor.<location>.rep.googleapis.com`. */
            endpoint: z.union([z.url({ protocol: /^https?$/ }), z.literal("")]).default(""),
            /** Credential file (relative to the config file); empty = Application Default Credentials. */
            keyFile: z.string().default(""),
            /** Deadline of one sanitize call (token and retries included); kept under `budgetMs`. */
            timeoutMs: z.number().int().positive().default(140),
            retries: z.number().int().min(0).max(3).default(1),
            breakerFailureThreshold: z.number().int().positive().default(5),
            breakerCooldownMs: z.number().int().positive().default(5_000),
          })
          .optional(),
        nemoGuardrails: z
          .strictObject({
            /** Server root, e.g. `http://nemo-guardrails:8000`. */
            url: z.url({ protocol: /^https?$/ }),
            /** `classic`: `{ config_id, messages, options }`; `openai`: `{ model, messages, guardrails: {...} }`. */
            apiVersion: z.enum(["classic", "openai"]).default("classic"),
            model: z.string().default(""),
            timeoutMs: z.number().int().positive().default(140),
            breakerFailureThreshold: z.number().int().positive().default(5),
            breakerCooldownMs: z.number().int().positive().default(5_000),
          })
          .optional(),
      })
      .prefault({}),
    /**
     * Optional `@huggingface/transformers` prompt-attack classifier from a local model folder
     * (Prompt Guard / DeBERTa ONNX export), scored next to the built-in classifier. Off by default.
     */
    transformersModel: z
      .strictObject({
        /** Model folder (relative paths resolve against the config file's directory). */
        modelDir: z.string().min(1),
        labels: attackLabels,
        thresholds: attackThresholds,
        quantized: z.boolean().default(false),
        windowChars: z.number().int().min(64).default(2000),
        maxWindows: z.number().int().min(1).max(64).default(8),
      })
      .optional(),
    /**
     * Optional prompt-attack classifier served next to the models: Text Embeddings Inference's
     * `/predict` (`kind: tei`) or vLLM's `/classify` (`kind: vllm`), scored next to the built-in
     * classifier like `transformersModel`. Off by default; at most one of the two.
     */
    servedModel: z
      .strictObject({
        kind: z.enum(["tei", "vllm"]),
        url: z.url({ protocol: /^https?$/ }),
        /** vLLM: the served model name. */
        model: z.string().default(""),
        /** Environment variable holding a bearer token, if the server wants one. */
        apiKeyEnv: z.string().default(""),
        /** vLLM: the class names in the model's id order (e.g. Prompt Guard 2: BENIGN, MALICIOUS). */
        classLabels: z.array(z.string().min(1)).default([]),
        labels: attackLabels,
        thresholds: attackThresholds,
        windowChars: z.number().int().min(64).default(2000),
        maxWindows: z.number().int().min(1).max(64).default(8),
        /** Deadline of one classify call. */
        timeoutMs: z.number().int().positive().default(100),
        breakerFailureThreshold: z.number().int().positive().default(5),
        breakerCooldownMs: z.number().int().positive().default(5_000),
      })
      .refine((m) => m.kind !== "vllm" || m.classLabels.length > 0, {
        message: "kind vllm needs classLabels (the model's class names in id order)",
        path: ["classLabels"],
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.transformersModel && config.servedModel) {
      ctx.addIssue({
        code: "custom",
        path: ["servedModel"],
        message: "use transformersModel or servedModel, not both",
      });
    }
    if (!(config.defaultTemplate in config.templates)) {
      ctx.addIssue({
        code: "custom",
        path: ["defaultTemplate"],
        message: `unknown template "${config.defaultTemplate}"`,
      });
    }
    config.selectors.forEach((s, i) => {
      if (!(s.template in config.templates)) {
        ctx.addIssue({
          code: "custom",
          path: ["selectors", i, "template"],
          message: `unknown template "${s.template}"`,
        });
      }
    });
    for (const [name, template] of Object.entries(config.templates)) {
      const armor = template.modelArmor;
      if (template.nemoGuardrails.configId !== "" && !config.backends.nemoGuardrails) {
        ctx.addIssue({
          code: "custom",
          path: ["templates", name, "nemoGuardrails"],
          message: "names a NeMo Guardrails configuration but backends.nemoGuardrails (url) is not configured",
        });
      }
      if ((armor.userPromptTemplate !== "" || armor.modelResponseTemplate !== "") && !config.backends.modelArmor) {
        ctx.addIssue({
          code: "custom",
          path: ["templates", name, "modelArmor"],
          message: "names Model Armor templates but backends.modelArmor (project, location) is not configured",
        });
      }
      const terms = template.responsibleAi.termLists.reduce((n, l) => n + l.terms.length, 0);
      if (terms > maxTermsPerTemplate) {
        ctx.addIssue({
          code: "custom",
          path: ["templates", name, "responsibleAi", "termLists"],
          message: `${terms} terms; at most ${maxTermsPerTemplate} per template (each costs scan time on every text)`,
        });
      }
      const compiled = compileCustomPatterns(template.customPatterns.patterns);
      if ("errors" in compiled) {
        for (const message of compiled.errors) {
          ctx.addIssue({ code: "custom", path: ["templates", name, "customPatterns", "patterns"], message });
        }
      }
    }
  });

export type GuardrailConfig = z.infer<typeof guardrailConfigSchema>;
