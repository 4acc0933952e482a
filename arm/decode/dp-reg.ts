// ARM ARM C4.1.5: Data Processing -- Register (ARMv8.0-A).
//
// Encodings of later extensions in this space stay unallocated (no row matches them):
// PACGA, IRG, GMI, SUBP, SUBPS (2 source); PAC*, AUT*, XPAC* (1 source, opcode2 = 0b00001);
// the CSSC instructions (ABS, CNT, CTZ, SMAX, UMAX, SMIN, UMIN); RMIF, SETF8 and SETF16.
// Reserved values of fields a row does match (shift = 0b11 for add/sub, imm3 > 4, a 32-bit
// shift of 32 or more, CRC32 with the wrong sf) are UNDEFINED in the handler.
//
// Variants that differ only by a negation share a row (ADD/SUB through op, the N bit of the
// logical ops, CSEL/CSINC/CSINV/CSNEG, MADD/MSUB), so the handlers stay branch-free. Rows that
// fix what the ARM ARM's decode reads as a field (the logical opc, the shift type op2, o1 of the
// divides, U of the long multiplies, register or immediate CCMP) share a handler, which gets it
// as a constant.
// MOV (register) and MUL have rows of their own because they are the hot aliases; having more
// fixed bits, they override ORR and MADD.

import type { Group } from "./table.ts";
import { concat } from "./transforms.ts";

const CCMP_ARGS = ["sf", "op", "second", "cond", "rn", "nzcv", "imm"];

export const dataProcessingRegister: Group = {
  module: "dp-reg",
  section: "C4.1.5 Data Processing -- Register",
  emitters: [
    "LOGIC_shift", "MOV_reg", "ADDSUB_shift", "ADDSUBS_shift", "ADDSUB_ext", "ADDSUBS_ext", "ADC_SBC", "CCMP", "CSEL",
    "MADD", "MUL", "MADDL", "SHIFTV", "DIV", "CLZ", "REV16", "REV32", "REV64",
  ],
  rows: [
    // ---- Data-processing (2 source) ----
    { name: "UDIV", title: "UDIV", pattern: "sf 0 0 11010110 rm:5 000010 rn:5 rd:5", handler: "DIV", set: { o1: 0 } },
    { name: "SDIV", title: "SDIV", pattern: "sf 0 0 11010110 rm:5 000011 rn:5 rd:5", handler: "DIV", set: { o1: 1 } },
    { name: "LSLV", title: "LSLV", pattern: "sf 0 0 11010110 rm:5 001000 rn:5 rd:5", handler: "SHIFTV", set: { op2: 0b00 } },
    { name: "LSRV", title: "LSRV", pattern: "sf 0 0 11010110 rm:5 001001 rn:5 rd:5", handler: "SHIFTV", set: { op2: 0b01 } },
    { name: "ASRV", title: "ASRV", pattern: "sf 0 0 11010110 rm:5 001010 rn:5 rd:5", handler: "SHIFTV", set: { op2: 0b10 } },
    { name: "RORV", title: "RORV", pattern: "sf 0 0 11010110 rm:5 001011 rn:5 rd:5", handler: "SHIFTV", set: { op2: 0b11 } },
    { name: "CRC32", title: "CRC32B, CRC32H, CRC32W, CRC32X, CRC32CB, CRC32CH, CRC32CW, CRC32CX",
      pattern: "sf 0 0 11010110 rm:5 010 C sz:2 rn:5 rd:5" },

    // ---- Data-processing (1 source) ----
    { name: "RBIT", title: "RBIT", pattern: "sf 1 0 11010110 00000 000000 rn:5 rd:5" },
    { name: "REV16", title: "REV16", pattern: "sf 1 0 11010110 00000 000001 rn:5 rd:5" },
    // opc = 0b10 is REV32 for sf = 1 and REV (32-bit) for sf = 0: both reverse the bytes of
    // each 32-bit word. opc = 0b11 with sf = 0 is unallocated.
    { name: "REV32", title: "REV32, REV (32-bit)", pattern: "sf 1 0 11010110 00000 000010 rn:5 rd:5" },
    { name: "REV64", title: "REV (64-bit)", pattern: "1 1 0 11010110 00000 000011 rn:5 rd:5" },
    { name: "CLZ", title: "CLZ", pattern: "sf 1 0 11010110 00000 000100 rn:5 rd:5" },
    { name: "CLS", title: "CLS", pattern: "sf 1 0 11010110 00000 000101 rn:5 rd:5" },

    // ---- Logical (shifted register): N inverts the second operand ----
    { name: "AND_shift", title: "AND, BIC (shifted register)", pattern: "sf 00 01010 shift:2 N rm:5 imm6:6 rn:5 rd:5", handler: "LOGIC_shift", set: { opc: 0b00 } },
    { name: "ORR_shift", title: "ORR, ORN (shifted register)", pattern: "sf 01 01010 shift:2 N rm:5 imm6:6 rn:5 rd:5", handler: "LOGIC_shift", set: { opc: 0b01 } },
    { name: "EOR_shift", title: "EOR, EON (shifted register)", pattern: "sf 10 01010 shift:2 N rm:5 imm6:6 rn:5 rd:5", handler: "LOGIC_shift", set: { opc: 0b10 } },
    { name: "ANDS_shift", title: "ANDS, BICS (shifted register)", pattern: "sf 11 01010 shift:2 N rm:5 imm6:6 rn:5 rd:5", handler: "LOGIC_shift", set: { opc: 0b11 } },
    { name: "MOV_reg", title: "MOV (register): ORR Rd, ZR, Rm", pattern: "sf 01 01010 00 0 rm:5 000000 11111 rd:5", overrides: ["ORR_shift"] },

    // ---- Add/subtract (shifted register) ----
    { name: "ADDSUB_shift", title: "ADD, SUB (shifted register)", pattern: "sf op 0 01011 shift:2 0 rm:5 imm6:6 rn:5 rd:5" },
    { name: "ADDSUBS_shift", title: "ADDS, SUBS (shifted register)", pattern: "sf op 1 01011 shift:2 0 rm:5 imm6:6 rn:5 rd:5" },

    // ---- Add/subtract (extended register); opt (bits 23:22) != 0b00 is unallocated ----
    { name: "ADDSUB_ext", title: "ADD, SUB (extended register)", pattern: "sf op 0 01011 00 1 rm:5 option:3 imm3:3 rn:5 rd:5" },
    { name: "ADDSUBS_ext", title: "ADDS, SUBS (extended register)", pattern: "sf op 1 01011 00 1 rm:5 option:3 imm3:3 rn:5 rd:5" },

    // ---- Add/subtract (with carry) ----
    { name: "ADC_SBC", title: "ADC, SBC", pattern: "sf op 0 11010000 rm:5 000000 rn:5 rd:5" },
    { name: "ADCS_SBCS", title: "ADCS, SBCS", pattern: "sf op 1 11010000 rm:5 000000 rn:5 rd:5" },

    // ---- Conditional compare: S = 1, o2 = 0, o3 = 0; the rest is unallocated ----
    // The second operand is Rm or imm5, in the same bits: both rows pass it as `second`.
    { name: "CCMP_reg", title: "CCMN, CCMP (register)", pattern: "sf op 1 11010010 rm:5 cond:4 0 0 rn:5 0 nzcv:4",
      handler: "CCMP", derive: { second: concat("rm") }, set: { imm: 0 }, args: CCMP_ARGS },
    { name: "CCMP_imm", title: "CCMN, CCMP (immediate)", pattern: "sf op 1 11010010 imm5:5 cond:4 1 0 rn:5 0 nzcv:4",
      handler: "CCMP", derive: { second: concat("imm5") }, set: { imm: 1 }, args: CCMP_ARGS },

    // ---- Conditional select: S = 0, op2<1> = 0 ----
    { name: "CSEL", title: "CSEL, CSINC, CSINV, CSNEG", pattern: "sf op 0 11010100 rm:5 cond:4 0 o2 rn:5 rd:5" },

    // ---- Data-processing (3 source); the long and high forms exist only with sf = 1 ----
    { name: "MADD", title: "MADD, MSUB", pattern: "sf 00 11011 000 rm:5 o0 ra:5 rn:5 rd:5" },
    { name: "MUL", title: "MUL: MADD Rd, Rn, Rm, ZR", pattern: "sf 00 11011 000 rm:5 0 11111 rn:5 rd:5", overrides: ["MADD"] },
    { name: "SMADDL", title: "SMADDL, SMSUBL", pattern: "1 00 11011 001 rm:5 o0 ra:5 rn:5 rd:5", handler: "MADDL", set: { U: 0 } },
    { name: "UMADDL", title: "UMADDL, UMSUBL", pattern: "1 00 11011 101 rm:5 o0 ra:5 rn:5 rd:5", handler: "MADDL", set: { U: 1 } },
    // Ra is (1)(1)(1)(1)(1) in the ARM ARM; other values are CONSTRAINED UNPREDICTABLE and
    // behave as 0b11111 here (as on qemu).
    { name: "SMULH", title: "SMULH", pattern: "1 00 11011 010 rm:5 0 xxxxx rn:5 rd:5" },
    { name: "UMULH", title: "UMULH", pattern: "1 00 11011 110 rm:5 0 xxxxx rn:5 rd:5" },
  ],
};
