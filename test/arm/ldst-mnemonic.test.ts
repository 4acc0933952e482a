// The load/store disassembler lkvm's --mmio-syndrome warnings use: each line is assembled with
// the cross assembler, decoded by the core, and must print back as written.

import { describe, expect, it } from "vitest";
import { Core } from "../../arm/host/core.ts";
import { ldstMnemonic } from "../../arm/host/ldst-mnemonic.ts";
import { asm1 } from "../support/ldst.ts";

const core = new Core({ ramBase: 0x8000_0000, ramSizeBytes: 1 << 20, host: { mmio: () => true, sysreg: () => undefined, counter: () => 0 } });
const text = (src: string): string => {
  const word = asm1(src);
  return ldstMnemonic(word, core.decodeOp(word));
};

describe("ldstMnemonic", () => {
  it("prints the forms without a valid syndrome as GNU as writes them", () => {
    for (const src of [
      "ldr x1, [x0], #8", "strb w1, [x0], #1", "str w3, [x0, #-16]!", "ldrsh x2, [sp], #2", "ldrsw x4, [x5, #4]!",
      "ldp x1, x2, [x0]", "stp w1, w2, [sp, #-32]!", "ldp x29, x30, [sp], #16", "ldpsw x1, x2, [x3, #8]", "stnp x1, x2, [x0]",
      "ldxr w1, [x0]", "stlxr w2, x1, [x0]", "ldaxp x1, x2, [x0]", "stxp w3, w1, w2, [x0]",
      "ldr q0, [x1]", "str d1, [x2], #8", "ldur s3, [x4, #-4]", "stp q0, q1, [x0, #32]", "ldr h2, [x1, x2, lsl #1]",
      "dc zva, x3",
    ]) {
      expect(text(src), src).toBe(src);
    }
  });

  it("prints the single-register forms with a valid syndrome too", () => {
    for (const src of ["ldr w1, [x0]", "str x2, [x1, #24]", "ldrb w0, [x1, w2, uxtw]", "ldar x1, [x0]", "sturh w1, [x0, #-2]"]) {
      expect(text(src), src).toBe(src);
    }
  });

  it("falls back to the word and the row's ARM ARM title", () => {
    expect(text("ld1 {v0.16b}, [x0]")).toBe(".inst 0x4c407000 (LD1-LD4, ST1-ST4 (multiple structures))");
    expect(ldstMnemonic(0, core.decodeOp(0))).toBe(".inst 0x00000000 (unallocated)");
  });
});
