// ARM ARM C4.1.3: Branches, Exception Generating and System instructions.

import type { Group } from "./table.ts";
import { concat, sext } from "./transforms.ts";

/** Branch offsets are in words. */
const words = (field: string) => sext(field, 2);

export const branchesExceptionsSystem: Group = {
  module: "branch-system",
  section: "C4.1.3 Branches, Exception Generating and System instructions",
  emitters: ["B", "B_cond", "CBZ", "TBZ", "BR", "HINT", "BARRIER", "CLREX", "MRS", "SYS"],
  rows: [
    // Conditional branch (immediate)
    { name: "B_cond", title: "B.cond", pattern: "0101010 0 imm19:19 0 cond:4", derive: { imm19: words("imm19") }, flags: ["branch"] },

    // Exception generation
    { name: "SVC", title: "SVC", pattern: "11010100 000 imm16:16 000 01", flags: ["exception"] },
    { name: "HVC", title: "HVC", pattern: "11010100 000 imm16:16 000 10", flags: ["exception"] },
    { name: "SMC", title: "SMC", pattern: "11010100 000 imm16:16 000 11", flags: ["exception"] },
    { name: "BRK", title: "BRK", pattern: "11010100 001 imm16:16 000 00", flags: ["exception"] },
    { name: "HLT", title: "HLT", pattern: "11010100 010 imm16:16 000 00", flags: ["exception"] },

    // System: hints, barriers, PSTATE
    { name: "HINT", title: "HINT (NOP, YIELD, WFE, WFI, SEV, SEVL, …)", pattern: "11010101 00000011 0010 crm:4 op2:3 11111", flags: ["system"] },
    { name: "CLREX", title: "CLREX", pattern: "11010101 00000011 0011 crm:4 010 11111" },
    { name: "DSB", title: "DSB", pattern: "11010101 00000011 0011 crm:4 100 11111", handler: "BARRIER", set: { op2: 0b100 } },
    { name: "DMB", title: "DMB", pattern: "11010101 00000011 0011 crm:4 101 11111", handler: "BARRIER", set: { op2: 0b101 } },
    { name: "ISB", title: "ISB", pattern: "11010101 00000011 0011 crm:4 110 11111", handler: "BARRIER", set: { op2: 0b110 }, flags: ["branch"] },
    { name: "MSR_imm", title: "MSR (immediate)", pattern: "11010101 00000 op1:3 0100 crm:4 op2:3 11111", flags: ["system"] },

    // System instructions and system register moves
    { name: "SYS", title: "SYS (DC, IC, AT, TLBI)", pattern: "1101010100 0 01 op1:3 crn:4 crm:4 op2:3 rt:5", flags: ["system", "memory"] },
    { name: "MSR_reg", title: "MSR (register)", pattern: "1101010100 0 1 sysreg:15 rt:5", derive: { sysreg: concat("1", "sysreg") }, flags: ["system"] },
    { name: "MRS", title: "MRS", pattern: "1101010100 1 1 sysreg:15 rt:5", derive: { sysreg: concat("1", "sysreg") }, flags: ["system"] },

    // Unconditional branch (register)
    { name: "BR", title: "BR", pattern: "1101011 0000 11111 000000 rn:5 00000", set: { link: 0 }, flags: ["branch"] },
    { name: "BLR", title: "BLR", pattern: "1101011 0001 11111 000000 rn:5 00000", handler: "BR", set: { link: 1 }, flags: ["branch"] },
    { name: "RET", title: "RET", pattern: "1101011 0010 11111 000000 rn:5 00000", handler: "BR", set: { link: 0 }, flags: ["branch"] },
    { name: "ERET", title: "ERET", pattern: "1101011 0100 11111 000000 11111 00000", flags: ["branch", "system"] },

    // Unconditional branch (immediate)
    { name: "B", title: "B", pattern: "000101 imm26:26", derive: { imm26: words("imm26") }, set: { link: 0 }, flags: ["branch"] },
    { name: "BL", title: "BL", pattern: "100101 imm26:26", handler: "B", derive: { imm26: words("imm26") }, set: { link: 1 }, flags: ["branch"] },

    // Compare and branch, test and branch
    { name: "CBZ", title: "CBZ, CBNZ", pattern: "sf 011010 op imm19:19 rt:5", derive: { imm19: words("imm19") }, flags: ["branch"] },
    { name: "TBZ", title: "TBZ, TBNZ", pattern: "b5 011011 op b40:5 imm14:14 rt:5", derive: { imm14: words("imm14") }, flags: ["branch"] },
  ],
};
