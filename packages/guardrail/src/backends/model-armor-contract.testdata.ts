/**
 * A contract server for Google Model Armor (which cannot run here), on the shared Google
 * contract server (`@llm-callouts/remote/testing`: STS token exchange, bearer tokens,
 * project check, 429 with retry-after, 5xx, hang, malformed JSON, closed socket, delay).
 * It serves `POST /v1/projects/{p}/locations/{l}/templates/{t}:sanitizeUserPrompt` and
 * `:sanitizeModelResponse` as googleapis' service.proto and the REST reference describe:
 * `{ userPromptData: { text } }` / `{ modelResponseData: { text }, userPrompt? }` in,
 * `{ sanitizationResult }` out with every filter of a template that enables all of them
 * (`csam` always), 404 NOT_FOUND for a template it does not have, 400 INVALID_ARGUMENT for
 * a body without text. Its "models" are fixed rules, enough to tell its answer from the
 * local pass's:
 * - pi_and_jailbreak: "ignore previous instructions", "developer mode", or the marker
 *   `zx-attack` (an attack the local pass does not know) → MATCH_FOUND, HIGH; fewer than
 *   three words are never matched, as Model Armor documents;
 * - sdp (basic): US_SOCIAL_SECURITY_NUMBER `123-45-6789`-shaped, CREDIT_CARD_NUMBER 16 digits,
 *   and the marker `zx-secret-<digits>` as GCP_API_KEY, with byte and code point ranges;
 * - rai: `dangerous` for "build a bomb" (MEDIUM_AND_ABOVE), the other three NO_MATCH_FOUND;
 * - malicious_uris: any `http(s)://…malware.test…` URL, with its code point location.
 * Templates named `*-deidentify` stand for advanced SDP with a de-identify template: `sdp`
 * answers `deidentifyResult` (`data.text` with each finding replaced by `[INFO_TYPE]`,
 * `transformedBytes`, `infoTypes`) instead of `inspectResult`.
 */
import { type GoogleContractServer, googleError, startGoogleContractServer } from "@llm-callouts/remote/testing";

export interface ModelArmorContractServer extends GoogleContractServer {
  readonly location: string;
  /** Template ids it knows. */
  readonly templates: readonly string[];
  /** Texts sanitized so far, by method. */
  readonly sanitized: readonly { readonly method: string; readonly template: string; readonly text: string }[];
}

const path =
  /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/templates\/([^/:]+):(sanitizeUserPrompt|sanitizeModelResponse)$/;

export async function startModelArmorContractServer(
  options: { project?: string; location?: string; templates?: readonly string[] } = {},
): Promise<ModelArmorContractServer> {
  const location = options.location ?? "us-central1";
  const templates = options.templates ?? ["prompt-template", "response-template", "prompt-deidentify"];
  const sanitized: { method: string; template: string; text: string }[] = [];
  const google = await startGoogleContractServer(({ method, path: url, body }) => {
    const match = path.exec(url);
    if (method !== "POST" || !match) return undefined;
    const [, , where, template, rpc] = match as unknown as [string, string, string, string, string];
    if (where !== location || !templates.includes(decodeURIComponent(template))) {
      return googleError(404, "NOT_FOUND", "Template not found.");
    }
    let request: { userPromptData?: { text?: unknown }; modelResponseData?: { text?: unknown } };
    try {
      request = JSON.parse(body);
    } catch {
      return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    const item = rpc === "sanitizeUserPrompt" ? request.userPromptData : request.modelResponseData;
    if (typeof item?.text !== "string") {
      return googleError(
        400,
        "INVALID_ARGUMENT",
        `${rpc === "sanitizeUserPrompt" ? "user_prompt_data" : "model_response_data"} is required.`,
      );
    }
    sanitized.push({ method: rpc, template: decodeURIComponent(template), text: item.text });
    return { status: 200, body: { sanitizationResult: sanitize(item.text, template.endsWith("-deidentify")) } };
  }, options.project);
  return Object.assign(google, { location, templates, sanitized });
}

/** Model Armor's answer for `text` under a template with every filter on. */
export function sanitize(text: string, deidentify = false): Record<string, unknown> {
  const cp = (utf16: number) => [...text.slice(0, utf16)].length;
  const bytes = (utf16: number) => Buffer.byteLength(text.slice(0, utf16), "utf8");
  const range = (start: number, end: number, unit: (n: number) => number) => ({
    start: String(unit(start)),
    end: String(unit(end)),
  });
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  const attack = words >= 3 && /ignore (all )?previous instructions|developer mode|zx-attack/i.test(text);
  const sdp: {
    infoType: string;
    likelihood: string;
    location: Record<string, unknown>;
    codepoints: readonly [number, number];
    bytes: number;
  }[] = [];
  for (const [infoType, pattern] of [
    ["US_SOCIAL_SECURITY_NUMBER", /\b\d{3}-\d{2}-\d{4}\b/g],
    ["CREDIT_CARD_NUMBER", /\b(?:\d{4}[ -]?){3}\d{4}\b/g],
    ["GCP_API_KEY", /zx-secret-\d+/g],
  ] as const) {
    for (const m of text.matchAll(pattern)) {
      const [start, end] = [m.index, m.index + m[0].length];
      sdp.push({
        infoType,
        likelihood: "VERY_LIKELY",
        location: { byteRange: range(start, end, bytes), codepointRange: range(start, end, cp) },
        codepoints: [cp(start), cp(end)],
        bytes: bytes(end) - bytes(start),
      });
    }
  }
  const dangerous = /build a bomb/i.test(text);
  const uris = [...text.matchAll(/https?:\/\/[^\s"']*malware\.test[^\s"']*/g)].map((m) => ({
    uri: m[0],
    locations: [range(m.index, m.index + m[0].length, cp)],
  }));
  const state = (found: boolean) => (found ? "MATCH_FOUND" : "NO_MATCH_FOUND");
  const ok = "EXECUTION_SUCCESS";
  const rai = Object.fromEntries(
    ["sexually_explicit", "hate_speech", "harassment", "dangerous"].map((key) => [
      key,
      key === "dangerous" && dangerous
        ? { confidenceLevel: "MEDIUM_AND_ABOVE", matchState: "MATCH_FOUND" }
        : { matchState: "NO_MATCH_FOUND" },
    ]),
  );
  const matched = attack || sdp.length > 0 || dangerous || uris.length > 0;
  return {
    filterMatchState: state(matched),
    filterResults: {
      csam: { csamFilterFilterResult: { executionState: ok, matchState: "NO_MATCH_FOUND" } },
      malicious_uris: {
        maliciousUriFilterResult: {
          executionState: ok,
          matchState: state(uris.length > 0),
          ...(uris.length > 0 ? { maliciousUriMatchedItems: uris } : {}),
        },
      },
      rai: { raiFilterResult: { executionState: ok, matchState: state(dangerous), raiFilterTypeResults: rai } },
      pi_and_jailbreak: {
        piAndJailbreakFilterResult: {
          executionState: ok,
          matchState: state(attack),
          ...(attack ? { confidenceLevel: "HIGH" } : {}),
        },
      },
      sdp: {
        sdpFilterResult: deidentify
          ? {
              deidentifyResult: {
                executionState: ok,
                matchState: state(sdp.length > 0),
                ...(sdp.length > 0
                  ? {
                      data: { text: deidentified(text, sdp) },
                      transformedBytes: String(sdp.reduce((n, f) => n + f.bytes, 0)),
                      infoTypes: [...new Set(sdp.map((f) => f.infoType))],
                    }
                  : {}),
              },
            }
          : {
              inspectResult: {
                executionState: ok,
                matchState: state(sdp.length > 0),
                ...(sdp.length
                  ? { findings: sdp.map(({ infoType, likelihood, location }) => ({ infoType, likelihood, location })) }
                  : {}),
              },
            },
      },
    },
    invocationResult: "SUCCESS",
  };
}

/** `text` with each finding's code point range replaced by `[INFO_TYPE]`. */
function deidentified(
  text: string,
  findings: readonly { readonly infoType: string; readonly codepoints: readonly [number, number] }[],
): string {
  const cps = [...text];
  let out = "";
  let at = 0;
  for (const f of [...findings].sort((a, b) => a.codepoints[0] - b.codepoints[0])) {
    out += `${cps.slice(at, f.codepoints[0]).join("")}[${f.infoType}]`;
    at = f.codepoints[1];
  }
  return out + cps.slice(at).join("");
}
