// Direct tests of the SIMD&FP loads and stores on the core, for what the qemu-aarch64
// differential tests cannot show: precise faults where qemu 7.2 is imprecise, the alignment of
// 128-bit accesses in Device memory (qemu-user has only Normal memory), and big-endian data
// (SCTLR_EL1.EE; qemu-user runs little-endian).

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { Core, type CoreHost } from "../../arm/host/core.ts";
import { DATA_END, SIG, makeCase } from "../support/diff/case.ts";
import { Rng } from "../support/diff/random.ts";
import { runOnCore } from "../support/diff/core-runner.ts";
import { simdState } from "../support/diff/simd.ts";

const MEM_SIZE = 0x2000;

// The complement of the do-not-test list: loads whose later access faults after an earlier one
// succeeded must leave every register (and the base) as it was. Checked on the core alone, since
// qemu 7.2 is imprecise here.
describe("SIMD&FP loads that fault part-way change no register", () => {
  const loads = [
    { insn: 0x4cdf0000, text: "ld4 {v0.16b-v3.16b}, [x0], #64", offset: -32n },
    { insn: 0xadc09404, text: "ldp q4, q5, [x0, #16]!", offset: -40n },
    { insn: 0x0dc19006, text: "ld1 {v6.s}[1], [x0], x1", offset: -2n },
    { insn: 0x4d40e407, text: "ld3r {v7.8h-v9.8h}, [x0]", offset: -4n },
  ];
  for (const { insn, text, offset } of loads) {
    it(text, () => {
      const rng = new Rng(`ldst-simd-precise-${insn}`);
      const c = makeCase([insn], simdState(rng, MEM_SIZE));
      c.x[0] = DATA_END + offset;
      c.x[1] = 16n;
      const r = runOnCore(c);
      expect(r.signal).toBe(SIG.SEGV);
      expect(r.faultAddr).toBe(DATA_END);
      expect(r.x).toEqual(c.x);
      expect(r.v).toEqual(c.v);
    });
  }
});

// With the MMU off, EL1 data accesses are Device-nGnRnE: every access must be naturally aligned.
// A Q register at 8 (mod 16) is the case the two 64-bit halves would not catch by themselves.
const RAM_BASE = 0x8000_0000;
const LOAD = RAM_BASE + 0x80000;
const VECTORS = RAM_BASE + 0x1000;
const DATA = RAM_BASE + 0x90000;
const [SCTLR_EL1, VBAR_EL1, ESR_EL1, FAR_EL1, ELR_EL1, CPACR_EL1] = [0, 6, 7, 8, 9, 15];
const host: CoreHost = { mmio: () => true, sysreg: () => undefined, counter: () => 0 };

/** Runs one instruction at EL1 with the MMU off, X1 = address, SCTLR_EL1 = sctlr; then HVC. */
function run(insn: number, address: number, sctlr = 0n, setup?: (core: Core) => void): Core {
  const core = new Core({ ramBase: RAM_BASE, ramSizeBytes: 16 << 20, host });
  core.reset(0);
  core.setSysregSlot(VBAR_EL1, BigInt(VECTORS));
  core.setSysregSlot(CPACR_EL1, 3n << 20n);
  core.setSysregSlot(SCTLR_EL1, sctlr);
  const code = new DataView(new ArrayBuffer(8));
  code.setUint32(0, insn, true);
  code.setUint32(4, 0xd4000002, true); // hvc #0
  core.writePhys(LOAD, new Uint8Array(code.buffer));
  const vec = new DataView(new ArrayBuffer(4));
  vec.setUint32(0, 0xd4000002, true);
  core.writePhys(VECTORS + 0x200, new Uint8Array(vec.buffer));
  core.setX(1, BigInt(address));
  setup?.(core);
  core.pc = BigInt(LOAD);
  expect(core.run(10)).toBe(abi.EXIT_HVC);
  return core;
}

const vLo = (core: Core, n: number) => core.stateU64(abi.V_REGS + 16 * n);
const vHi = (core: Core, n: number) => core.stateU64(abi.V_REGS + 16 * n + 8);

describe("128-bit SIMD&FP accesses to Device memory must be 16-byte aligned", () => {
  const cases = [
    { insn: 0x3dc00023, text: "ldr q3, [x1]", write: false },
    { insn: 0x3d800024, text: "str q4, [x1]", write: true },
    { insn: 0xad401c26, text: "ldp q6, q7, [x1]", write: false },
  ];
  for (const { insn, text, write } of cases) {
    it(`${text} at 8 (mod 16) takes an alignment fault`, () => {
      const core = run(insn, DATA + 8);
      const esr = core.sysregSlot(ESR_EL1);
      expect(Number(esr >> 26n)).toBe(0x25); // data abort, current EL
      expect(Number(esr & 0x3fn)).toBe(0x21); // alignment fault
      expect(Number((esr >> 6n) & 1n)).toBe(write ? 1 : 0); // WnR
      expect(Number((esr >> 24n) & 1n)).toBe(0); // ISV = 0
      expect(core.sysregSlot(FAR_EL1)).toBe(BigInt(DATA + 8));
      expect(core.sysregSlot(ELR_EL1)).toBe(BigInt(LOAD));
    });
    it(`${text} at 0 (mod 16) completes`, () => {
      const core = run(insn, DATA + 16);
      expect(core.pc).toBe(BigInt(LOAD + 8)); // past the HVC: no exception
    });
  }

  it("ldr d5, [x1] at 8 (mod 16) completes: a D register needs 8-byte alignment only", () => {
    const core = run(0xfd400025, DATA + 8);
    expect(core.pc).toBe(BigInt(LOAD + 8));
  });
});

// Big-endian data (SCTLR_EL1.EE = 1): Mem[address, size] reverses the bytes of each access, and
// an access is one element (structure loads), one register (LDR) or one pair half (LDP). So a
// byte vector loads the same either way, and LDR Q puts the first byte in the top of the register.
describe("SIMD&FP loads and stores with big-endian data", () => {
  const EE = 1n << 25n;
  const bytes = Uint8Array.from({ length: 16 }, (_, i) => i); // 00 01 02 … 0f at DATA
  const load = (insn: number) => run(insn, DATA, EE, (core) => core.writePhys(DATA, bytes));

  it("ld1 {v0.16b}: bytes are elements, so no reversal", () => {
    const core = load(0x4c407020);
    expect([vLo(core, 0), vHi(core, 0)]).toEqual([0x0706050403020100n, 0x0f0e0d0c0b0a0908n]);
  });
  it("ldr q1: one 16-byte big-endian value", () => {
    const core = load(0x3dc00021);
    expect([vLo(core, 1), vHi(core, 1)]).toEqual([0x08090a0b0c0d0e0fn, 0x0001020304050607n]);
  });
  it("ld1 {v2.2d}: two big-endian doublewords, in element order", () => {
    const core = load(0x4c407c22);
    expect([vLo(core, 2), vHi(core, 2)]).toEqual([0x0001020304050607n, 0x08090a0b0c0d0e0fn]);
  });
  it("ldr d3: one big-endian doubleword, the upper half zeroed", () => {
    const core = load(0xfd400023);
    expect([vLo(core, 3), vHi(core, 3)]).toEqual([0x0001020304050607n, 0n]);
  });
  it("ld1 {v4.4s}: big-endian words", () => {
    const core = load(0x4c407824);
    expect([vLo(core, 4), vHi(core, 4)]).toEqual([0x0405060700010203n, 0x0c0d0e0f08090a0bn]);
  });
  it("ld1 {v5.h}[1]: one big-endian halfword into lane 1, the other lanes kept", () => {
    const core = run(0x0d404825, DATA, EE, (c) => {
      c.writePhys(DATA, bytes);
      c.setStateU64(abi.V_REGS + 16 * 5, 0xaaaa_aaaa_aaaa_aaaan);
      c.setStateU64(abi.V_REGS + 16 * 5 + 8, 0xbbbb_bbbb_bbbb_bbbbn);
    });
    expect([vLo(core, 5), vHi(core, 5)]).toEqual([0xaaaa_aaaa_0001_aaaan, 0xbbbb_bbbb_bbbb_bbbbn]);
  });
  it("ldp s6, s7: two big-endian words", () => {
    const core = load(0x2d401c26);
    expect([vLo(core, 6), vLo(core, 7)]).toEqual([0x00010203n, 0x04050607n]);
  });
  it("str q1 and st1 {v2.2d} store what ldr q1 and ld1 {v2.2d} load", () => {
    const regs = (c: Core) => {
      c.setStateU64(abi.V_REGS + 16 * 1, 0x08090a0b0c0d0e0fn);
      c.setStateU64(abi.V_REGS + 16 * 1 + 8, 0x0001020304050607n);
      c.setStateU64(abi.V_REGS + 16 * 2, 0x0001020304050607n);
      c.setStateU64(abi.V_REGS + 16 * 2 + 8, 0x08090a0b0c0d0e0fn);
      c.setX(3, BigInt(DATA + 0x40));
      c.setX(4, BigInt(DATA + 0x80));
    };
    expect(run(0x3d800061, DATA, EE, regs).readPhys(DATA + 0x40, 16)).toEqual(bytes);
    expect(run(0x4c007c82, DATA, EE, regs).readPhys(DATA + 0x80, 16)).toEqual(bytes);
  });
});
