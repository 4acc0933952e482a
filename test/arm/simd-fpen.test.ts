// CPACR_EL1.FPEN and the AdvSIMD handlers, run directly on the core at EL1: with FPEN = 00 (or
// 10) every SIMD instruction — arithmetic, move, load and store — takes the FP access trap
// (ESR_EL1.EC = 0x07) before touching a register or memory, with ELR_EL1 at the instruction;
// FPEN = 01 and 11 let EL1 use the unit. A reserved encoding is UNDEFINED (EC = 0) whatever FPEN
// says, because the ARM ARM decodes it before CheckFPAdvSIMDEnabled64().

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { Core, type CoreHost } from "../../arm/host/core.ts";

const RAM_BASE = 0x8000_0000;
const LOAD = RAM_BASE + 0x80000;
const VECTORS = RAM_BASE + 0x1000;
const DATA = RAM_BASE + 0x90000;

// Sysreg slots (arm/core/sysregs.ts).
const VBAR_EL1 = 6;
const ESR_EL1 = 7;
const ELR_EL1 = 9;
const CPACR_EL1 = 15;

const EC_FP_ACCESS = 0x07;
const EC_UNKNOWN = 0x00;

const quietHost: CoreHost = { mmio: () => true, sysreg: () => undefined, counter: () => 0 };

function words(...insns: number[]): Uint8Array {
  const b = new Uint8Array(insns.length * 4);
  const v = new DataView(b.buffer);
  insns.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
  return b;
}

const HVC_0 = 0xd4000002;

/** A core at EL1 (MMU off) with `fpen` in CPACR_EL1, X1 pointing at DATA, V registers patterned. */
function makeCore(fpen: number, insn: number): Core {
  const core = new Core({ ramBase: RAM_BASE, ramSizeBytes: 16 << 20, host: quietHost });
  core.reset(0);
  core.setSysregSlot(VBAR_EL1, BigInt(VECTORS));
  core.setSysregSlot(CPACR_EL1, BigInt(fpen) << 20n);
  core.writePhys(VECTORS + 0x200, words(HVC_0)); // current EL with SPx, synchronous
  core.writePhys(LOAD, words(insn, HVC_0));
  core.writePhys(DATA, Uint8Array.from({ length: 64 }, (_, i) => 0xa0 + i));
  core.setX(1, BigInt(DATA));
  for (let i = 0; i < 32; i++) {
    core.setStateU64(abi.V_REGS + 16 * i, 0x0101_0101_0101_0101n * BigInt(i + 1));
    core.setStateU64(abi.V_REGS + 16 * i + 8, 0x1010_1010_1010_1010n * BigInt(i + 1));
  }
  core.pc = BigInt(LOAD);
  return core;
}

function vRegs(core: Core): bigint[] {
  return Array.from({ length: 64 }, (_, i) => core.stateU64(abi.V_REGS + 8 * i));
}

const SIMD = [
  { insn: 0x4e228420, text: "add v0.16b, v1.16b, v2.16b" },
  { insn: 0x5e220c20, text: "sqadd b0, b1, b2" },
  { insn: 0x6f00e427, text: "movi v7.2d, #0xff" },
  { insn: 0x4e083c22, text: "mov x2, v1.d[0] (UMOV)" },
  { insn: 0x3dc00023, text: "ldr q3, [x1]" },
  { insn: 0x3d800024, text: "str q4, [x1]" },
  { insn: 0x4c40a025, text: "ld1 {v5.16b, v6.16b}, [x1]" },
];

describe("CPACR_EL1.FPEN traps AdvSIMD instructions at EL1", () => {
  for (const fpen of [0, 2]) {
    for (const { insn, text } of SIMD) {
      it(`FPEN = ${fpen.toString(2).padStart(2, "0")}: ${text} takes EC 0x07 and changes nothing`, () => {
        const core = makeCore(fpen, insn);
        const before = vRegs(core);
        const x2 = core.x(2);
        const mem = core.readPhys(DATA, 64);
        expect(core.run(10)).toBe(abi.EXIT_HVC);
        const esr = core.sysregSlot(ESR_EL1);
        expect(Number(esr >> 26n)).toBe(EC_FP_ACCESS);
        expect((esr >> 25n) & 1n).toBe(1n); // IL: a 32-bit instruction
        expect(core.sysregSlot(ELR_EL1)).toBe(BigInt(LOAD));
        expect(vRegs(core)).toEqual(before);
        expect(core.x(2)).toBe(x2);
        expect(core.readPhys(DATA, 64)).toEqual(mem);
      });
    }
  }

  for (const fpen of [1, 3]) {
    it(`FPEN = ${fpen.toString(2).padStart(2, "0")}: EL1 may use the unit`, () => {
      const core = makeCore(fpen, 0x4e228420); // add v0.16b, v1.16b, v2.16b
      expect(core.run(10)).toBe(abi.EXIT_HVC);
      expect(core.pc).toBe(BigInt(LOAD + 8)); // past the HVC after it: no exception
      expect(core.stateU64(abi.V_REGS)).toBe(0x0505_0505_0505_0505n);
      expect(core.stateU64(abi.V_REGS + 8)).toBe(0x5050_5050_5050_5050n);
    });
  }

  it("a reserved encoding is UNDEFINED (EC 0), not an FP access trap", () => {
    const core = makeCore(0, 0x0ee28420); // add v0.1d, v1.1d, v2.1d: size = 11 with Q = 0
    expect(core.run(10)).toBe(abi.EXIT_HVC);
    expect(Number(core.sysregSlot(ESR_EL1) >> 26n)).toBe(EC_UNKNOWN);
    expect(core.sysregSlot(ELR_EL1)).toBe(BigInt(LOAD));
  });
});
