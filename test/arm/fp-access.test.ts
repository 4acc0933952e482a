// Every floating-point row decodes where the table says and takes the FP access trap while
// CPACR_EL1.FPEN disables the unit (ESR_EL1.EC = 0x07, nothing written), and runs once it is
// enabled. One word per row, from aarch64-linux-gnu-as. Runs on our core alone, at EL1.

import { describe, expect, it } from "vitest";
import { Core } from "../../arm/host/core.ts";
import * as abi from "../../arm/abi.ts";
import { allRows } from "../../arm/decode/index.ts";

const SAMPLES: [number, string, string][] = [
  [0x1e60c020, "fabs d0, d1", "FP_1SRC"],
  [0x1e624020, "fcvt s0, d1", "FCVT_prec"],
  [0x1e674020, "frintx d0, d1", "FRINT"],
  [0x1e612000, "fcmp d0, d1", "FCMP"],
  [0x1e6e1000, "fmov d0, #1.0", "FMOV_imm"],
  [0x1e610400, "fccmp d0, d1, #0x0, eq", "FCCMP"],
  [0x1e622820, "fadd d0, d1, d2", "FP_2SRC"],
  [0x1e620c20, "fcsel d0, d1, d2, eq", "FCSEL"],
  [0x1f420c20, "fmadd d0, d1, d2, d3", "FP_3SRC"],
  [0x9e58f420, "fcvtzs x0, d1, #3", "FCVT_fixed"],
  [0x9e780020, "fcvtzs x0, d1", "FCVT_int"],
  [0x9e660020, "fmov x0, d1", "FCVT_int"],
  [0x9eaf0020, "fmov v0.d[1], x1", "FCVT_int"],
  [0x4e22d420, "fadd v0.4s, v1.4s, v2.4s", "SIMD_FP_3SAME"],
  [0x4ea0f820, "fabs v0.4s, v1.4s", "SIMD_FP_CMP0"],
  [0x0e216820, "fcvtn v0.4h, v1.4s", "SIMD_FCVT_NL"],
  [0x6ee1f820, "fsqrt v0.2d, v1.2d", "SIMD_FP_2MISC"],
  [0x6e30f820, "fmaxv s0, v1.4s", "SIMD_FP_ACROSS"],
  [0x7ea2d420, "fabd s0, s1, s2", "SIMD_FP_3SAME_S"],
  [0x5ee0d820, "fcmeq d0, d1, #0.0", "SIMD_FP_CMP0_S"],
  [0x7e616820, "fcvtxn s0, d1", "SIMD_FCVTXN_S"],
  [0x5ee1d820, "frecpe d0, d1", "SIMD_FP_2MISC_S"],
  [0x7e70d820, "faddp d0, v1.2d", "SIMD_FP_PAIR_S"],
  [0x4fa21020, "fmla v0.4s, v1.4s, v2.s[1]", "SIMD_FP_ELEM_MLA"],
  [0x6fc29820, "fmulx v0.2d, v1.2d, v2.d[1]", "SIMD_FP_ELEM_MUL"],
  [0x5fc25820, "fmls d0, d1, v2.d[1]", "SIMD_FP_ELEM_MLA_S"],
  [0x5fa29820, "fmul s0, s1, v2.s[3]", "SIMD_FP_ELEM_MUL_S"],
  [0x6f03f600, "fmov v0.2d, #1.0", "SIMD_FMOV_imm"],
  [0x4f7be420, "scvtf v0.2d, v1.2d, #5", "SIMD_CVTF_fix64"],
  [0x6f3be420, "ucvtf v0.4s, v1.4s, #5", "SIMD_CVTF_fix32"],
  [0x4f7bfc20, "fcvtzs v0.2d, v1.2d, #5", "SIMD_FCVTZ_fix64"],
  [0x2f3bfc20, "fcvtzu v0.2s, v1.2s, #5", "SIMD_FCVTZ_fix32"],
  [0x5f7be420, "scvtf d0, d1, #5", "SIMD_CVTF_fix64_S"],
  [0x7f3be420, "ucvtf s0, s1, #5", "SIMD_CVTF_fix32_S"],
  [0x5f7bfc20, "fcvtzs d0, d1, #5", "SIMD_FCVTZ_fix64_S"],
  [0x7f3bfc20, "fcvtzu s0, s1, #5", "SIMD_FCVTZ_fix32_S"],
];

const RAM = 0x4000_0000;
const VBAR = RAM + 0x1000;
const SLOT = { VBAR: 6, ESR: 7, ELR: 9, CPACR: 15 };

function runOne(insn: number, fpen: bigint): { core: Core; exit: number } {
  const core = new Core({ ramBase: RAM, ramSizeBytes: 1 << 20, host: { mmio: () => true, sysreg: () => undefined, counter: () => 0 } });
  core.reset(0); // EL1h, MMU off
  const code = new Uint8Array(4);
  new DataView(code.buffer).setUint32(0, insn, true);
  core.writePhys(RAM, code);
  core.setSysregSlot(SLOT.VBAR, BigInt(VBAR));
  core.setSysregSlot(SLOT.CPACR, fpen << 20n);
  for (let i = 0; i < 32; i++) core.setStateU64(abi.V_REGS + 16 * i, 0x3ff0000000000000n);
  core.pc = BigInt(RAM);
  return { core, exit: core.run(1) };
}

describe("floating-point rows and the FP access trap", () => {
  const opOf = new Map(allRows().map((r) => [r.op, r.row.name]));

  it.each(SAMPLES)("%#: %s", (insn, _asm, row) => {
    const core = new Core({ ramBase: RAM, ramSizeBytes: 1 << 20, host: { mmio: () => true, sysreg: () => undefined, counter: () => 0 } });
    expect(opOf.get(core.decodeOp(insn))).toBe(row);

    const trapped = runOne(insn, 0n).core; // FPEN = 00: EL1 and EL0 trap
    expect(trapped.pc).toBe(BigInt(VBAR + 0x200)); // current EL, SP_ELx, synchronous
    expect(Number(trapped.sysregSlot(SLOT.ESR) >> 26n)).toBe(0x07);
    expect(trapped.sysregSlot(SLOT.ELR)).toBe(BigInt(RAM));
    expect(trapped.stateU64(abi.V_REGS)).toBe(0x3ff0000000000000n); // V0 untouched

    const ran = runOne(insn, 1n).core; // FPEN = 01: EL1 may use the unit
    expect(ran.pc).toBe(BigInt(RAM + 4));
  });
});
