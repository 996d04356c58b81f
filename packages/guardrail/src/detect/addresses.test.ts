import { describe, expect, it } from "vitest";
import { createAddressDetector } from "./addresses.js";

const detect = (text: string): string[] =>
  createAddressDetector()
    .detect(text)
    .map((f) => text.slice(f.start, f.end));

describe("createAddressDetector()", () => {
  it.each([
    { text: "I live at 221 Baker Street, London", expected: ["221 Baker Street"] },
    { text: "Send it to 1600 Pennsylvania Ave\nSuite 12", expected: ["1600 Pennsylvania Ave\nSuite 12"] },
    { text: "lives on Rua do Arenque 1634, Goiânia", expected: ["Rua do Arenque 1634"] },
    { text: "The title refers to Loorenstrasse 149 street", expected: ["Loorenstrasse 149"] },
    { text: "at PSC 0413, Box 8144\nAPO AA 42323", expected: ["PSC 0413, Box 8144\nAPO AA 42323"] },
    { text: "to Unit 8505 Box 9220\nDPO AE 90744.", expected: ["Unit 8505 Box 9220\nDPO AE 90744"] },
    {
      text: "Jane\n4844 Søndergade 52\n Apt. 656\n Brønderslev\n\n Denmark 72939\nPhone: 555",
      expected: ["4844 Søndergade 52\n Apt. 656\n Brønderslev\n\n Denmark 72939"],
    },
  ])("finds $expected", ({ text, expected }) => {
    expect(detect(text)).toEqual(expected);
  });

  it("finds nothing without a street", () => {
    expect(detect("I bought 3 apples and 2 pears")).toEqual([]);
  });
});
