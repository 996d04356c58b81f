import { describe, expect, it } from "vitest";
import { createPiiDetector, detectCards, detectIbans, detectIps, detectPhones, detectSsns } from "./pii.js";

const spans = (text: string, found: { start: number; end: number; type: string }[]): string[] =>
  found.map((f) => `${f.type}:${text.slice(f.start, f.end)}`);

describe("createPiiDetector()", () => {
  it.each([
    { text: "mail jane.doe+x@mail.example.co.uk now", expected: ["EMAIL_ADDRESS:jane.doe+x@mail.example.co.uk"] },
    { text: "card 4111 1111 1111 1111 ok", expected: ["CREDIT_CARD:4111 1111 1111 1111"] },
    { text: "card 378282246310005.", expected: ["CREDIT_CARD:378282246310005"] },
    { text: "IBAN DE89 3704 0044 0532 0130 00 thanks", expected: ["IBAN_CODE:DE89 3704 0044 0532 0130 00"] },
    { text: "my iban is gb82west12345698765432", expected: ["IBAN_CODE:gb82west12345698765432"] },
    { text: "SSN: 123-45-6789", expected: ["US_SSN:123-45-6789"] },
    {
      text: "from 192.168.1.20 and 2001:db8::8a2e:370:7334",
      expected: ["IP_ADDRESS:192.168.1.20", "IP_ADDRESS:2001:db8::8a2e:370:7334"],
    },
    {
      text: "call +1 (415) 555-2671 or 020 7946 0958",
      expected: ["PHONE_NUMBER:+1 (415) 555-2671", "PHONE_NUMBER:020 7946 0958"],
    },
  ])("finds $expected", ({ text, expected }) => {
    expect(spans(text, createPiiDetector().detect(text))).toEqual(expected);
  });

  it.each([
    { name: "a Luhn-invalid number", text: "order 4111111111111112" },
    { name: "an IBAN with a bad checksum", text: "GB82WEST12345698765433" },
    { name: "a version string", text: "version 1.2.3.4.5" },
    { name: "an ISO date and time", text: "at 2012-10-01 00:46:43" },
    { name: "a house number", text: "lives at 224 4966 Bond Street" },
    { name: "a time", text: "meet at 12:30:45" },
  ])("ignores $name", ({ text }) => {
    expect(createPiiDetector().detect(text)).toEqual([]);
  });

  it("rates a known card scheme HIGH and an unknown prefix MEDIUM", () => {
    expect(detectCards("4111111111111111")[0]?.confidence).toBe("HIGH");
    expect(detectCards("1111111111111117")[0]?.confidence).toBe("MEDIUM");
  });

  it.each(["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"])(
    "rejects the invalid SSN %s",
    (text) => {
      expect(detectSsns(text)).toEqual([]);
    },
  );

  it("raises SSN confidence with context", () => {
    expect(detectSsns("ssn 123-45-6789")[0]?.confidence).toBe("HIGH");
    expect(detectSsns("ref 123456789")[0]?.confidence).toBe("LOW");
  });

  it("validates phones with libphonenumber", () => {
    expect(detectPhones("+44 20 7946 0958")[0]?.confidence).toBe("HIGH");
  });

  it("trims a spaced IBAN that runs into following digits", () => {
    expect(spans("DE89 3704 0044 0532 0130 00 12", detectIbans("DE89 3704 0044 0532 0130 00 12"))).toEqual([
      "IBAN_CODE:DE89 3704 0044 0532 0130 00",
    ]);
  });

  it("finds IPv4-mapped IPv6", () => {
    expect(spans("::ffff:10.0.0.1", detectIps("::ffff:10.0.0.1"))).toEqual(["IP_ADDRESS:::ffff:10.0.0.1"]);
  });
});
