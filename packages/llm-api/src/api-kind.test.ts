import { describe, expect, it } from "vitest";
import { detectApi, rewritePathModel } from "./api-kind.js";

describe("detectApi()", () => {
  it.each([
    { path: "/v1/chat/completions", api: "chat_completions" },
    { path: "/v1/chat/completions?stream=true", api: "chat_completions" },
    { path: "/openai/deployments/gpt/chat/completions/", api: "chat_completions" },
    { path: "/v1/completions", api: "completions" },
    { path: "/v1/embeddings", api: "embeddings" },
    { path: "/v1/responses", api: "responses" },
    { path: "/v1/conversations", api: "conversations" },
    { path: "/v1/messages", api: "messages" },
    { path: "/v1/audio/transcriptions", api: "audio" },
    { path: "/v1/images/edits", api: "images" },
    { path: "/v1/models", api: "other" },
    { path: "/", api: "other" },
  ])("classifies $path as $api", ({ path, api }) => {
    expect(detectApi(path)).toEqual({ api });
  });

  it.each([
    { path: "/v1beta/models/gemini-2.0-flash:generateContent", model: "gemini-2.0-flash" },
    { path: "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", model: "gemini-2.0-flash" },
    {
      path: "/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-1.5-pro:streamGenerateContent",
      model: "gemini-1.5-pro",
    },
    {
      path: "/v1/projects/p/locations/l/publishers/anthropic/models/claude-3-5-sonnet@20240620:rawPredict",
      model: "claude-3-5-sonnet@20240620",
    },
    { path: "/v1beta/models/my%20model:generateContent", model: "my model" },
    { path: "/v1beta/models/bad%zz:generateContent", model: "bad%zz" },
  ])("takes the model from $path", ({ path, model }) => {
    const match = detectApi(path);
    expect(match.api).toBe("path_addressed");
    expect(match.pathModel?.model).toBe(model);
  });

  it("does not take a model from an unknown method", () => {
    expect(detectApi("/v1beta/models/gemini:deleteEverything")).toEqual({ api: "other" });
  });
});

describe("rewritePathModel()", () => {
  it("replaces only the model segment", () => {
    const path = "/v1beta/models/gemini-pro:streamGenerateContent?alt=sse";
    const match = detectApi(path);
    if (!match.pathModel) throw new Error("expected a path model");
    expect(rewritePathModel(path, match.pathModel, "gemini 2/flash")).toBe(
      "/v1beta/models/gemini%202%2Fflash:streamGenerateContent?alt=sse",
    );
  });
});
