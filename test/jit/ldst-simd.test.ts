// The SIMD&FP load/store emitters (arm/core/jit/ldst-simd.ts): LDR/STR/LDUR/STUR of B, H, S, D
// and Q registers, LDP/STP/LDNP, register offsets and literals run inline in translated code,
// and every case their fast path leaves to the handler (FP disabled, strict alignment, a page
// crossing, a store to translated code) ends exactly where the interpreter ends.

import { describe, expect, it } from "vitest";
import { A, COND, RAM_BASE, TestMachine, both } from "../support/jit-machine.ts";

const MAIN = RAM_BASE + 0x1000;
const DATA = RAM_BASE + 0x20_0000;
const STACK = RAM_BASE + 0x30_0000;
const CPACR_SLOT = 15;
const FPEN_ALL = 3n << 20n;
const SCTLR_A = 2n;

// Encodings (checked with aarch64-linux-gnu-as), with the registers as named.
const I = {
  ldrQ1_x2_32: 0x3dc00841, // ldr q1, [x2, #32]
  strQ1_x2_64: 0x3d801041, // str q1, [x2, #64]
  ldrD3_x2_8: 0xfd400443, // ldr d3, [x2, #8]
  strD3_x2_96: 0xfd003043, // str d3, [x2, #96]
  ldrS4_x2_4: 0xbd400444, // ldr s4, [x2, #4]
  ldrH5_x2_2: 0x7d400445, // ldr h5, [x2, #2]
  ldrB6_x2_1: 0x3d400446, // ldr b6, [x2, #1]
  strB6_x2_1: 0x3d000446, // str b6, [x2, #1]
  ldurQ7_x2_m3: 0x3cdfd047, // ldur q7, [x2, #-3]
  sturQ7_x2_5: 0x3c805047, // stur q7, [x2, #5]
  ldrQ8_x2_post16: 0x3cc10448, // ldr q8, [x2], #16
  ldrQ9_x2_pre16: 0x3cc10c49, // ldr q9, [x2, #16]!
  strQ9_x2_postm16: 0x3c9f0449, // str q9, [x2], #-16
  ldpQ10Q11_x2_32: 0xad412c4a, // ldp q10, q11, [x2, #32]
  stpQ10Q11_x2_160: 0xad052c4a, // stp q10, q11, [x2, #160]
  ldpQ12Q12_x2_32: 0xad41304c, // ldp q12, q12, [x2, #32] (Rt = Rt2: the higher element stays)
  ldpD13D14_x2_16: 0x6d41384d, // ldp d13, d14, [x2, #16]
  stpS13S14_x2_200: 0x2d19384d, // stp s13, s14, [x2, #200]
  ldnpQ15Q16_x2_32: 0xac41404f, // ldnp q15, q16, [x2, #32]
  ldrQ17_x2_x3_lsl4: 0x3ce37851, // ldr q17, [x2, x3, lsl #4]
  strQ17_x2_x3: 0x3ca36851, // str q17, [x2, x3]
  ldrQ18_sp_16: 0x3dc007f2, // ldr q18, [sp, #16]
  stpQ18Q17_sp_pre_m32: 0xadbf47f2, // stp q18, q17, [sp, #-32]!
  ldrQ19_lit8: 0x9c000053, // ldr q19, [pc, #8]
};

/** CPACR_EL1.FPEN = 11 and data at DATA (bytes i * 7 + 1), X10 = DATA, SP = STACK. */
function setup(m: TestMachine, fpen = FPEN_ALL): void {
  m.vectors();
  m.mmuOn();
  m.core.setSysregSlot(CPACR_SLOT, fpen);
  for (let off = 0; off < 0x3000; off += 8) {
    let v = 0n;
    for (let b = 7; b >= 0; b--) v = (v << 8n) | BigInt(((off + b) * 7 + 1) & 0xff);
    m.setU64(DATA + off, v);
  }
  m.core.setX(10, BigInt(DATA));
  m.core.sp = BigInt(STACK);
  for (let n = 0; n < 32; n++) m.core.setV(n, (BigInt(n + 1) << 96n) | (BigInt(n + 1) << 32n) | 0xabcdn);
}

/** The bytes at DATA + off as a little-endian bigint of `size` bytes (as setup wrote them). */
function dataBytes(off: number, size: number): bigint {
  let v = 0n;
  for (let b = size - 1; b >= 0; b--) v = (v << 8n) | BigInt(((off + b) * 7 + 1) & 0xff);
  return v;
}

/** Runs both machines from MAIN to HVC; they must agree on the exit, X, V, SP, PC and DATA's bytes. */
function runBoth([a, b]: [TestMachine, TestMachine]): number {
  const ha = a.runToHvc(MAIN);
  const hb = b.runToHvc(MAIN);
  expect(hb).toBe(ha);
  expect(b.state()).toEqual(a.state());
  for (let n = 0; n < 32; n++) expect(b.core.v(n), `v${n}`).toBe(a.core.v(n));
  for (let off = 0; off < 0x3000; off += 8) expect(b.u64(DATA + off)).toBe(a.u64(DATA + off));
  for (let off = -64; off < 64; off += 8) expect(b.u64(STACK + off)).toBe(a.u64(STACK + off));
  expect(b.core.jitStats().insnsJit).toBeGreaterThan(0n);
  return ha;
}

/** `body` `iterations` times (X2 = X10 + x2Offset at the start of each), then HVC #1. */
function loop(body: number[], iterations: number, x2Offset = 0): number[] {
  return [
    A.movz(9, iterations),
    A.addi(2, 10, x2Offset), // loop:
    ...body,
    A.subsi(9, 9, 1),
    A.bcond(COND.NE, -4 * (body.length + 2)),
    A.hvc(1),
  ];
}

describe("SIMD&FP loads and stores in translated code", () => {
  it("every single-register and pair form runs inline and agrees with the interpreter, aligned and not", () => {
    const body = [
      I.ldrQ1_x2_32, I.strQ1_x2_64, I.ldrD3_x2_8, I.strD3_x2_96, I.ldrS4_x2_4, I.ldrH5_x2_2, I.ldrB6_x2_1, I.strB6_x2_1,
      I.ldurQ7_x2_m3, I.sturQ7_x2_5, I.ldpQ10Q11_x2_32, I.stpQ10Q11_x2_160, I.ldpQ12Q12_x2_32, I.ldpD13D14_x2_16,
      I.stpS13S14_x2_200, I.ldnpQ15Q16_x2_32, A.movz(3, 2), I.ldrQ17_x2_x3_lsl4, A.movz(3, 0x108), I.strQ17_x2_x3,
      I.ldrQ18_sp_16, I.stpQ18Q17_sp_pre_m32, A.addi(31, 31, 32),
      I.ldrQ8_x2_post16, I.ldrQ9_x2_pre16, I.strQ9_x2_postm16,
    ];
    for (const x2Offset of [0x100, 0x103]) { // aligned, then every access misaligned
      const ms = both((m) => {
        setup(m);
        m.code(MAIN, loop(body, 20, x2Offset));
      });
      expect(runBoth(ms)).toBe(1);
      const [, jit] = ms;
      // What the loads read, from the bytes setup wrote (no store of the loop writes there).
      expect(jit.core.v(1)).toBe(dataBytes(x2Offset + 32, 16));
      expect(jit.core.v(12)).toBe(dataBytes(x2Offset + 48, 16)); // LDP with Rt = Rt2: the higher element
      expect(jit.core.v(6)).toBe(dataBytes(x2Offset + 1, 1)); // a scalar load zeroes the rest
      expect(jit.core.v(3) >> 64n).toBe(0n);
      // The SIMD&FP loads and stores were emitted inline: as many instructions go through the
      // handler (HVC) as in the same loop without them.
      const empty = new TestMachine(true);
      setup(empty);
      empty.code(MAIN, loop([], 20, x2Offset));
      empty.runToHvc(MAIN);
      expect(jit.core.jitStats().insnsFallback).toBe(empty.core.jitStats().insnsFallback);
      expect(jit.core.jitStats().insnsInline).toBeGreaterThanOrEqual(empty.core.jitStats().insnsInline + body.length);
    }
  });

  it("LDR (literal) of a Q register reads the words after it", () => {
    const ms = both((m) => {
      setup(m);
      m.code(MAIN, [A.movz(9, 5), I.ldrQ19_lit8, A.b(20), 0x11111111, 0x22222222, 0x33333333, 0x44444444, A.subsi(9, 9, 1), A.bcond(COND.NE, -28), A.hvc(1)]);
    });
    expect(runBoth(ms)).toBe(1);
    expect(ms[1].core.v(19)).toBe(0x44444444_33333333_22222222_11111111n);
  });

  it("takes the FP access trap when CPACR_EL1.FPEN disables the unit, and runs at EL1 with FPEN = 01", () => {
    const program = loop([I.ldrQ1_x2_32, I.strQ1_x2_64], 10);
    const trapped = both((m) => {
      setup(m, 0n);
      m.code(MAIN, program);
    });
    // EL1 synchronous exception from the current EL with SP_ELx: vector 4 (HVC #0x104).
    expect(runBoth(trapped)).toBe(0x104);
    expect(Number(trapped[1].core.sysregSlot(7)) >>> 26).toBe(0x07);
    const el1Only = both((m) => {
      setup(m, 1n << 20n);
      m.code(MAIN, program);
    });
    expect(runBoth(el1Only)).toBe(1);
  });

  it("takes the alignment fault for a misaligned access when SCTLR_EL1.A is set, and not for an aligned one", () => {
    const strict = (m: TestMachine) => m.core.setSysregSlot(0, m.core.sysregSlot(0) | SCTLR_A);
    const aligned = both((m) => {
      setup(m);
      strict(m);
      m.code(MAIN, loop([I.ldrQ1_x2_32, I.ldpQ10Q11_x2_32, I.ldrD3_x2_8], 10, 0x100));
    });
    expect(runBoth(aligned)).toBe(1);
    for (const insn of [I.ldurQ7_x2_m3, I.ldrD3_x2_8, I.ldpD13D14_x2_16, I.sturQ7_x2_5]) {
      const misaligned = both((m) => {
        setup(m);
        strict(m);
        m.code(MAIN, loop([A.nop(), insn], 10, 0x104));
      });
      expect(runBoth(misaligned)).toBe(0x104);
      expect(Number(misaligned[1].core.sysregSlot(7)) & 0x3f).toBe(0x21); // DFSC: alignment fault
    }
  });

  it("an access across a page boundary takes the handler and reads and writes both pages", () => {
    // X2 = DATA + 0xff8: the LDUR at -3 and the STUR at +5 straddle DATA + 0x1000, and so does
    // the LDP at +32 once X2 is 0x30 lower.
    const ms = both((m) => {
      setup(m);
      m.code(MAIN, loop([I.ldurQ7_x2_m3, I.sturQ7_x2_5, A.subi(2, 2, 0x30), I.ldpQ10Q11_x2_32, I.stpQ10Q11_x2_160], 10, 0xff8));
    });
    expect(runBoth(ms)).toBe(1);
  });

  it("a STP of Q registers over translated code drops that code: the new instructions run", () => {
    // TARGET holds "movz x0, #1; ret"; the loop calls it, then overwrites it with
    // "movz x0, #2; ret" plus padding through STP q20, q21 and calls it again.
    const TARGET = RAM_BASE + 0x5000;
    const ms = both((m) => {
      setup(m);
      m.code(TARGET, [A.movz(0, 1), A.ret(), A.nop(), A.nop(), A.nop(), A.nop(), A.nop(), A.nop()]);
      const newCode = [A.movz(0, 2), A.ret(), A.nop(), A.nop(), A.nop(), A.nop(), A.nop(), A.nop()].map(BigInt);
      const q = (i: number) => newCode[i]! | (newCode[i + 1]! << 32n) | (newCode[i + 2]! << 64n) | (newCode[i + 3]! << 96n);
      m.core.setV(20, q(0));
      m.core.setV(21, q(4));
      m.code(MAIN, [
        ...A.mov64(5, TARGET),
        A.movz(9, 30),
        A.movz(6, 0),
        A.blr(5), // loop: x0 = 1 until the store, 2 after
        A.addr(6, 6, 0),
        A.subsi(9, 9, 1),
        A.bcond(COND.NE, -12),
        0xad0054b4, // stp q20, q21, [x5]
        A.dsb(), A.icIvau(5), A.dsb(), A.isb(),
        A.blr(5),
        A.addr(6, 6, 0),
        A.hvc(1),
      ]);
    });
    expect(runBoth(ms)).toBe(1);
    expect(ms[1].core.x(6)).toBe(32n);
  });
});
