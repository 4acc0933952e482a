// Direct tests of the SIMD&FP loads and stores on the core, for what the qemu-aarch64
// differential tests cannot show: precise faults where qemu 7.2 is imprecise, and the alignment
// of 128-bit accesses in Device memory (qemu-user has only Normal memory).

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { Core, type CoreHost } from "../../arm/cpu.ts";
import { DATA_END, SIG, makeCase } from "../diff/case.ts";
import { Rng } from "../diff/random.ts";
import { runOnCore } from "../diff/core-runner.ts";
import { simdState } from "./simd-diff.ts";

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
describe("128-bit SIMD&FP accesses to Device memory must be 16-byte aligned", () => {
  const RAM_BASE = 0x8000_0000;
  const LOAD = RAM_BASE + 0x80000;
  const VECTORS = RAM_BASE + 0x1000;
  const DATA = RAM_BASE + 0x90000;
  const [VBAR_EL1, ESR_EL1, FAR_EL1, ELR_EL1, CPACR_EL1] = [6, 7, 8, 9, 15];
  const host: CoreHost = { mmio: () => true, sysreg: () => undefined, counter: () => 0 };

  function run(insn: number, address: number): Core {
    const core = new Core({ ramBase: RAM_BASE, ramSizeBytes: 16 << 20, host });
    core.reset(0);
    core.setSysregSlot(VBAR_EL1, BigInt(VECTORS));
    core.setSysregSlot(CPACR_EL1, 3n << 20n);
    const code = new DataView(new ArrayBuffer(8));
    code.setUint32(0, insn, true);
    code.setUint32(4, 0xd4000002, true); // hvc #0
    core.writePhys(LOAD, new Uint8Array(code.buffer));
    const vec = new DataView(new ArrayBuffer(4));
    vec.setUint32(0, 0xd4000002, true);
    core.writePhys(VECTORS + 0x200, new Uint8Array(vec.buffer));
    core.setX(1, BigInt(address));
    core.pc = BigInt(LOAD);
    expect(core.run(10)).toBe(abi.EXIT_HVC);
    return core;
  }

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
