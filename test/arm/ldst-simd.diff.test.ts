// Differential tests of the SIMD&FP loads and stores (arm/decode/ldst-simd.ts) against
// qemu-aarch64: for every row, seeded random words (every field random, so unallocated
// sizes, opcodes and Q/size combinations come up too), the base register pointed into DATA,
// near its end or at unmapped memory, random V registers and memory. Registers, SP, FPSR and the
// DATA region must agree, and so must how the case ended (the fault address included).
//
// Do-not-test list:
//   - A load of more than one access (LDP, LDNP, LD1-LD4, LD1R-LD4R) whose accesses straddle
//     the end of DATA, so that a later access faults after an earlier one succeeded: qemu 7.2
//     writes each register (or element) as it loads it, so its registers are half-updated at
//     the fault; our core is precise and writes none. Those cases are redrawn with the base well
//     inside DATA (a load faulting on its first access is tested: both change nothing).
//   - ST1-ST4 (multiple structures) straddling the end of DATA: qemu 7.2 merges consecutive
//     elements of one register into 8-byte accesses, so it writes a different prefix of the
//     elements before the fault than our element-by-element stores. The architecture allows
//     either (a faulting store may leave memory partly updated); those cases are redrawn too.
//   - SP not 16-byte aligned as a base: qemu-user never checks SP alignment; cases start with SP
//     16-byte aligned.

import { beforeAll, describe, expect, it } from "vitest";
import { simdLoadsStores } from "../../arm/decode/ldst-simd.ts";
import { parsePattern, type Row } from "../../arm/decode/table.ts";
import { type Case, CODE_VA, DATA_END, DATA_VA, SIG, makeCase } from "../support/diff/case.ts";
import { Rng, dataPointer } from "../support/diff/random.ts";
import { compareAll, describeRowGroup, field, getField, randomWord, setField, simdState } from "../support/diff/simd.ts";

const MEM_SIZE = 0x2000;
const CASES_PER_ROW = 300;

/** Rows whose loads make several accesses (see the do-not-test list). */
const MULTI_ACCESS = /^(LDSTNP|LDSTP|LDST_multi|LDST_single|LDnR)/;

/** A base address: mostly into DATA, sometimes near its end, sometimes unmapped. */
function baseAddress(rng: Rng, nearEnd: boolean): bigint {
  const r = rng.below(100);
  if (r < 80 || (!nearEnd && r < 95)) {
    const a = dataPointer(rng, MEM_SIZE, 0, 16);
    return rng.chance(0.7) ? a : a + BigInt(rng.below(16));
  }
  if (r < 95) return DATA_END - BigInt(rng.below(80));
  return rng.pick([0n, DATA_END + 0x1000n, DATA_VA - 0x1000n, 0x1234_5678_9000n]);
}

/** Bytes and first address of the accesses of a structure or pair word (for the do-not-test list). */
function accessRange(row: Row, word: number, base: bigint): [bigint, bigint] | undefined {
  const p = parsePattern(row.pattern);
  const get = (n: string) => getField(word, field(p, n)!);
  if (row.name.startsWith("LDSTNP") || row.name.startsWith("LDSTP")) {
    const opc = get("opc");
    const imm = BigInt.asIntN(7, BigInt(get("imm7"))) << BigInt(2 + opc);
    const va = row.name.includes("post") ? base : base + imm;
    return [va, BigInt(2 * (4 << opc))];
  }
  // Structures: at most 64 bytes from the base.
  return [base, 64n];
}

function straddlesEnd([va, len]: [bigint, bigint]): boolean {
  const inside = (a: bigint) => a >= DATA_VA && a < DATA_END;
  return inside(va) !== inside(va + len - 1n);
}

function caseFor(rng: Rng, row: Row, nearEnd = true): Case {
  const p = parsePattern(row.pattern);
  const st = simdState(rng, MEM_SIZE);
  let word = randomWord(rng, p);
  const imm19 = field(p, "imm19");
  if (imm19 && !rng.chance(0.1)) {
    // The case's one instruction is at CODE_VA: aim into DATA (or at the code page itself).
    const target = rng.chance(0.8) ? Number(DATA_VA - CODE_VA) + 4 * rng.below(MEM_SIZE / 4 + 64) : 4 * rng.below(0x400);
    word = setField(word, imm19, target / 4);
  }
  const imm12 = field(p, "imm12");
  if (imm12 && rng.chance(0.8)) word = setField(word, imm12, rng.below(64)); // mostly near the base
  const c = makeCase([word], st);
  const rm = field(p, "rm");
  if (rm) {
    const m = getField(word, rm);
    const r = rng.below(10);
    const off = r < 7 ? BigInt.asUintN(64, BigInt(rng.range(-256, 256))) : r < 9 ? BigInt(rng.below(0x1000)) : BigInt(rng.u32());
    if (m !== 31) c.x[m] = off;
  }
  const rn = field(p, "rn");
  if (rn) {
    const n = getField(word, rn);
    const load = field(p, "L") === undefined || getField(word, field(p, "L")!) === 1;
    const multi = (MULTI_ACCESS.test(row.name) && load) || row.name.startsWith("LDST_multi");
    let base = baseAddress(rng, nearEnd);
    while (multi && straddlesEnd(accessRange(row, word, base)!)) base = baseAddress(rng, false);
    if (n === 31) c.sp = base & ~15n;
    else c.x[n] = base;
  }
  return c;
}

// The generator must mostly produce cases that run to the end (not all faults or UNDEFs).
describeRowGroup({
  title: "SIMD&FP loads and stores agree with qemu-aarch64",
  prefix: "ldst-simd",
  group: simdLoadsStores,
  perRow: CASES_PER_ROW,
  caseFor: (rng, row) => caseFor(rng, row),
  minDefined: 1 / 3,
});

describe("the SIMD&FP load/store space agrees with qemu-aarch64 word for word", () => {
  const classes: [string, string][] = [
    ["register, imm9 forms", "size:2 111 1 00 opc:2 0 imm9:9 type:2 rn:5 rt:5"],
    ["register, bit 21 set", "size:2 111 1 00 opc:2 1 rm:5 option:3 S op2:2 rn:5 rt:5"],
    ["register, unsigned offset", "size:2 111 1 01 opc:2 imm12:12 rn:5 rt:5"],
    ["pairs", "opc:2 101 1 0 idx:2 L imm7:7 rt2:5 rn:5 rt:5"],
    ["literal", "opc:2 011 1 00 imm19:19 rt:5"],
    ["multiple structures", "0 Q 0011000 L b21_16:6 opcode:4 size:2 rn:5 rt:5"],
    ["multiple structures, post-index", "0 Q 0011001 L b21 rm:5 opcode:4 size:2 rn:5 rt:5"],
    ["single structure", "0 Q 0011010 L R b20_16:5 opcode:3 S size:2 rn:5 rt:5"],
    ["single structure, post-index", "0 Q 0011011 L R rm:5 opcode:3 S size:2 rn:5 rt:5"],
  ];
  const byClass = new Map<string, Case[]>();
  for (const [name, pattern] of classes) {
    const rng = new Rng(`ldst-simd-space-${name}`);
    const row: Row = { name: `SPACE ${name}`, title: name, pattern };
    byClass.set(name, Array.from({ length: 200 }, () => caseFor(rng, row, false)));
  }
  let results: Awaited<ReturnType<typeof compareAll>>;
  beforeAll(async () => {
    results = await compareAll(byClass);
  });
  for (const [name] of classes) {
    it(name, () => {
      expect(results.get(name)!.problems.slice(0, 30)).toEqual([]);
    });
  }
});
