// ARM ARM C4.1.94 (Loads and Stores, atomic memory operations class): the FEAT_LS64 64-byte
// single-copy-atomic loads and stores. They sit in the LSE atomics' space (size = 11, V = 0,
// A = R = 0, bit 21 = 1, o3 = 1, bits 11:10 = 00), which the core leaves unallocated otherwise.
// Rows decode whatever the CPU model: the handlers take UNDEFINED without the feature
// (--cpu-features), and for an odd Rt or one above 22. The JIT runs them through the handlers.

import type { Group, Row } from "./table.ts";

const mem: Row["flags"] = ["memory"];

export const loadsAndStores64: Group = {
  module: "ldst64",
  section: "C4.1.94 Loads and Stores (FEAT_LS64)",
  rows: [
    //                                     size 111 V 00 A R 1 Rs     o3 opc 00 Rn     Rt
    { name: "LD64B", title: "LD64B", pattern: "11 111 0 00 0 0 1 11111 1 101 00 rn:5 rt:5", flags: mem },
    { name: "ST64B", title: "ST64B", pattern: "11 111 0 00 0 0 1 11111 1 001 00 rn:5 rt:5", flags: mem },
    { name: "ST64BV", title: "ST64BV", pattern: "11 111 0 00 0 0 1 rs:5 1 011 00 rn:5 rt:5", handler: "ST64BV", set: { accdata: 0 }, flags: mem },
    { name: "ST64BV0", title: "ST64BV0", pattern: "11 111 0 00 0 0 1 rs:5 1 010 00 rn:5 rt:5", handler: "ST64BV", set: { accdata: 1 }, flags: mem },
  ],
};
