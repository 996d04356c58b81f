/**
 * Adapters a simulator serves, with vLLM's dynamic load/unload semantics
 * (`vllm/entrypoints/openai/serving_models.py`): pure decisions returning either
 * the success text vLLM sends or an OpenAI-shaped error.
 */
import type { ApiError } from "./openai.js";

export type LoraResult = { readonly text: string } | { readonly error: ApiError };

export interface LoraRegistry {
  has(name: string): boolean;
  /** `[name, path]` in load order. */
  list(): [name: string, path: string][];
  /** Body of `POST /v1/load_lora_adapter`. */
  load(body: unknown): LoraResult;
  /** Body of `POST /v1/unload_lora_adapter`. */
  unload(body: unknown): LoraResult;
}

const badRequest = (message: string): LoraResult => ({ error: { status: 400, type: "BadRequestError", message } });

/** Creates a registry with `initial` adapters loaded (path `/loras/<name>`); `baseModel` can never be loaded. */
export function createLoraRegistry(baseModel: string, initial: readonly string[]): LoraRegistry {
  const loras = new Map<string, string>(initial.map((name) => [name, `/loras/${name}`]));
  return {
    has: (name) => loras.has(name),
    list: () => [...loras],
    load(body) {
      const b = (body ?? {}) as { lora_name?: unknown; lora_path?: unknown };
      if (typeof b.lora_name !== "string" || typeof b.lora_path !== "string" || !b.lora_name || !b.lora_path) {
        return badRequest("Both 'lora_name' and 'lora_path' must be provided.");
      }
      if (loras.has(b.lora_name) || b.lora_name === baseModel) {
        return badRequest(`The lora adapter '${b.lora_name}' has already been loaded.`);
      }
      loras.set(b.lora_name, b.lora_path);
      return { text: `Success: LoRA adapter '${b.lora_name}' added successfully.` };
    },
    unload(body) {
      const b = (body ?? {}) as { lora_name?: unknown };
      if (typeof b.lora_name !== "string" || !b.lora_name) {
        return badRequest("'lora_name' needs to be provided to unload a LoRA adapter.");
      }
      if (!loras.delete(b.lora_name)) {
        return {
          error: { status: 404, type: "NotFoundError", message: `The lora adapter '${b.lora_name}' cannot be found.` },
        };
      }
      return { text: `Success: LoRA adapter '${b.lora_name}' removed successfully.` };
    },
  };
}
