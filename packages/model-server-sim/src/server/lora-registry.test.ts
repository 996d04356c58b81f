import { describe, expect, it } from "vitest";
import { createLoraRegistry } from "./lora-registry.js";

const base = "meta-llama/Llama-3.1-8B-Instruct";

describe("createLoraRegistry()", () => {
  it("starts with the initial adapters", () => {
    const r = createLoraRegistry(base, ["a", "b"]);
    expect(r.list()).toEqual([
      ["a", "/loras/a"],
      ["b", "/loras/b"],
    ]);
    expect(r.has("a")).toBe(true);
  });

  it.each([
    {
      name: "load",
      body: { lora_name: "x", lora_path: "/p" },
      want: { text: "Success: LoRA adapter 'x' added successfully." },
    },
    {
      name: "load without a path",
      body: { lora_name: "x" },
      want: { error: { status: 400, message: "Both 'lora_name' and 'lora_path' must be provided." } },
    },
    {
      name: "load of a loaded adapter",
      body: { lora_name: "a", lora_path: "/p" },
      want: { error: { status: 400, message: "The lora adapter 'a' has already been loaded." } },
    },
    {
      name: "load of the base model name",
      body: { lora_name: base, lora_path: "/p" },
      want: { error: { status: 400 } },
    },
    { name: "load of a non-object", body: null, want: { error: { status: 400 } } },
  ])("answers $name", ({ body, want }) => {
    expect(createLoraRegistry(base, ["a"]).load(body)).toMatchObject(want);
  });

  it.each([
    { name: "unload", body: { lora_name: "a" }, want: { text: "Success: LoRA adapter 'a' removed successfully." } },
    {
      name: "unload of an unknown adapter",
      body: { lora_name: "zz" },
      want: { error: { status: 404, type: "NotFoundError", message: "The lora adapter 'zz' cannot be found." } },
    },
    { name: "unload without a name", body: {}, want: { error: { status: 400 } } },
  ])("answers $name", ({ body, want }) => {
    expect(createLoraRegistry(base, ["a"]).unload(body)).toMatchObject(want);
  });

  it("forgets an unloaded adapter", () => {
    const r = createLoraRegistry(base, ["a"]);
    r.unload({ lora_name: "a" });
    expect(r.has("a")).toBe(false);
  });
});
