// ARM ARM C4.1.2: Data Processing -- Immediate.

import type { Group } from "./table.ts";
import { concat, sext } from "./transforms.ts";

export const dataProcessingImmediate: Group = {
  module: "dp-imm",
  section: "C4.1.2 Data Processing -- Immediate",
  emitters: ["ADR", "ADDSUB_imm", "LOGIC_imm", "MOVE_wide", "BITFIELD", "EXTR"],
  rows: [
    { name: "ADR", title: "ADR, ADRP", pattern: "op immlo:2 10000 immhi:19 rd:5",
      derive: { imm: sext(concat("immhi", "immlo")) }, args: ["op", "imm", "rd"] },
    { name: "ADDSUB_imm", title: "ADD, ADDS, SUB, SUBS (immediate)", pattern: "sf op S 100010 sh imm12:12 rn:5 rd:5" },
    { name: "LOGIC_imm", title: "AND, ORR, EOR, ANDS (immediate)", pattern: "sf opc:2 100100 N immr:6 imms:6 rn:5 rd:5" },
    { name: "MOVE_wide", title: "MOVN, MOVZ, MOVK", pattern: "sf opc:2 100101 hw:2 imm16:16 rd:5" },
    { name: "BITFIELD", title: "SBFM, BFM, UBFM", pattern: "sf opc:2 100110 N immr:6 imms:6 rn:5 rd:5" },
    { name: "EXTR", title: "EXTR", pattern: "sf 00 100111 N 0 rm:5 imms:6 rn:5 rd:5" },
  ],
};
