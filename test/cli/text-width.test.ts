// src/cli/text-width.ts stands in for string-width in the bundle (Makefile): yargs lays out
// --help with it, so its column counts decide where help lines wrap.

import { describe, expect, it } from "vitest";
import stringWidth from "../../src/cli/text-width.ts";

describe("text width (the bundle's string-width)", () => {
  it("counts one column per ASCII character and typographic sign", () => {
    expect(stringWidth("")).toBe(0);
    expect(stringWidth("--debug-perf")).toBe(12);
    expect(stringWidth("… — × ≥")).toBe(7);
  });

  it("counts East Asian wide characters as two columns, combining marks and controls as none", () => {
    expect(stringWidth("漢字")).toBe(4);
    expect(stringWidth("ｌｋｖｍ")).toBe(8);
    expect(stringWidth("e\u0301")).toBe(1);
    expect(stringWidth("a\tb\u0007")).toBe(2);
  });

  it("skips ANSI escape sequences unless asked to count them", () => {
    expect(stringWidth("\u001b[1m\u001b[31mbold red\u001b[39m\u001b[22m")).toBe(8);
    expect(stringWidth("\u001b]8;;http://x\u0007link\u001b]8;;\u0007")).toBe(4);
    expect(stringWidth("\u001b[1mb", { countAnsiEscapeCodes: true })).toBe(4); // ESC itself is a control: no column
  });
});
