import { describe, expect, it } from "vitest";
import { createSecretsDetector, shannonEntropy } from "./secrets.js";

const detect = (text: string): string[] =>
  createSecretsDetector()
    .detect(text)
    .map((f) => `${f.type}:${text.slice(f.start, f.end)}`);

describe("createSecretsDetector()", () => {
  it.each([
    { type: "AWS_ACCESS_KEY_ID", value: "AKIAIOSFODNN7EXAMPLE" },
    { type: "GCP_API_KEY", value: `AIza${"SyD-9tSrke72PouQMnMX".padEnd(35, "x")}` },
    { type: "GITHUB_TOKEN", value: `ghp_${"a1B2".repeat(9)}` },
    { type: "SLACK_TOKEN", value: "xoxb-123456789012-abcdefghijkl" },
    { type: "STRIPE_SECRET_KEY", value: `sk_live_${"4eC39HqLyjWDarjtT1zdp7dc"}` },
    { type: "OPENAI_API_KEY", value: `sk-proj-${"Ab3dE".repeat(8)}` },
    { type: "ANTHROPIC_API_KEY", value: `sk-ant-api03-${"Zx9_".repeat(10)}` },
    {
      type: "JWT",
      value: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    },
  ])("finds a $type", ({ type, value }) => {
    expect(detect(`token: ${value} end`)).toContain(`${type}:${value}`);
  });

  it("finds a whole private key block", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----";
    expect(detect(`key:\n${pem}\n`)).toEqual([`PRIVATE_KEY:${pem}`]);
  });

  it("finds an unterminated private key block up to the end", () => {
    expect(detect("-----BEGIN PRIVATE KEY-----\nMIIE")).toEqual(["PRIVATE_KEY:-----BEGIN PRIVATE KEY-----\nMIIE"]);
  });

  it.each([
    { text: "password=Tr0ub4dor&3x", expected: "PASSWORD:Tr0ub4dor&3x" },
    { text: 'db_password: "s3cr3t-Value!"', expected: "PASSWORD:s3cr3t-Value!" },
    { text: "Authorization: Bearer abcdefghijklmnop0123456789", expected: "AUTH_TOKEN:abcdefghijklmnop0123456789" },
    { text: "postgres://admin:hunter2@db:5432/x", expected: "PASSWORD:hunter2" },
  ])("finds the value of $text", ({ text, expected }) => {
    expect(detect(text)).toEqual([expected]);
  });

  it.each(["password=changeme", "password: <password>", `api_key=${"$"}{API_KEY}`, "token = [PASSWORD_1]"])(
    "ignores the placeholder in %s",
    (text) => {
      expect(detect(text)).toEqual([]);
    },
  );
});

describe("shannonEntropy()", () => {
  it("is 0 for one repeated symbol and 2 for four equiprobable symbols", () => {
    expect(shannonEntropy("aaaa")).toBe(0);
    expect(shannonEntropy("abcd")).toBe(2);
  });
});
