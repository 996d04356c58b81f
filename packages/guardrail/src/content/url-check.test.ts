import { describe, expect, it } from "vitest";
import { classifyUrl, createUrlDetector } from "./url-check.js";

describe("classifyUrl()", () => {
  it.each([
    { url: "javascript:alert(1)", type: "URL_SCRIPT_SCHEME" },
    { url: "data:text/html;base64,PHNjcmlwdD4=", type: "URL_DATA_SCHEME" },
    { url: "http://evil.example/login", type: "URL_BLOCKLISTED" },
    { url: "https://cdn.evil.example/x", type: "URL_BLOCKLISTED" },
    { url: "http://192.168.0.1/admin", type: "URL_IP_LITERAL" },
    { url: "http://[::1]:8080/", type: "URL_IP_LITERAL" },
    { url: "https://xn--pple-43d.com/", type: "URL_PUNYCODE" },
    { url: "https://paypal.com@attacker.example/", type: "URL_USERINFO_DECEPTION" },
  ])("flags $url as $type", ({ url, type }) => {
    expect(classifyUrl(url, { blocklist: ["evil.example"] })?.type).toBe(type);
  });

  it("rates a mixed-script punycode host HIGH", () => {
    expect(classifyUrl("https://xn--pple-43d.com/")?.confidence).toBe("HIGH");
  });

  it.each(["https://example.com/a?b=c", "www.wikipedia.org", "https://xn--pple-43d.com/"])(
    "passes %s when allowlisted or benign",
    (url) => {
      expect(classifyUrl(url, { allowlist: ["xn--pple-43d.com"] })).toBeUndefined();
    },
  );
});

describe("createUrlDetector()", () => {
  it("reports offsets without trailing punctuation", () => {
    const text = "see (http://10.0.0.1/x).";
    const [finding] = createUrlDetector().detect(text);
    expect(text.slice(finding?.start, finding?.end)).toBe("http://10.0.0.1/x");
  });

  it("stops after maxUrls", () => {
    const text = Array.from({ length: 5 }, (_, i) => `http://10.0.0.${i}/`).join(" ");
    expect(createUrlDetector({ maxUrls: 2 }).detect(text)).toHaveLength(2);
  });
});
