// Shared pieces of the AdvSIMD differential tests (test/arm/simd-*.diff.test.ts and
// ldst-simd.diff.test.ts): instruction words drawn from a decode-table row with every field
// random, V registers full of lane values that matter to integer code (0, all ones, the signed
// minimum and maximum of each lane size, 0x80…, small numbers, random bits), FPSR with and
// without QC preset, and one qemu-aarch64 run for a whole file's cases.

import { beforeAll, describe, expect, it } from "vitest";
import { parsePattern, type Group, type ParsedField, type ParsedPattern, type Row } from "../../../arm/decode/table.ts";
import { type Case, type Result, type V128, FPSR, SIG, makeCase } from "./case.ts";
import { Rng, randomState, randomFpcr } from "./random.ts";
import { runReference } from "./reference.ts";
import { runOnCore } from "./core-runner.ts";
import { resultDifferences } from "./compare.ts";

/** An ARMv8.0 CPU: RDM, dot product, FP16 and the rest are UNDEFINED there, as in our core. */
export const CPU = "cortex-a57";

export function field(p: ParsedPattern, name: string): ParsedField | undefined {
  return p.fields.find((f) => f.name === name);
}

export function getField(word: number, f: ParsedField): number {
  return (word >>> f.lsb) & (f.width === 32 ? 0xffffffff : (1 << f.width) - 1);
}

export function setField(word: number, f: ParsedField, v: number): number {
  const mask = (f.width === 32 ? 0xffffffff : ((1 << f.width) - 1) << f.lsb) >>> 0;
  return ((word & ~mask) | ((v << f.lsb) & mask)) >>> 0;
}

/** A word matching the pattern with every field random. */
export function randomWord(rng: Rng, p: ParsedPattern): number {
  let w = p.value;
  for (const f of p.fields) w = setField(w, f, rng.below(2 ** f.width));
  return w >>> 0;
}

/** The value of field `name` of the row in `word`. */
export function fieldOf(row: Row, word: number, name: string): number | undefined {
  const f = field(parsePattern(row.pattern), name);
  return f ? getField(word, f) : undefined;
}

const M64 = (1n << 64n) - 1n;

/** An interesting value for a lane of `bits` bits. */
function laneValue(rng: Rng, bits: number): bigint {
  const ones = (1n << BigInt(bits)) - 1n;
  const min = 1n << BigInt(bits - 1);
  switch (rng.below(12)) {
    case 0: return 0n;
    case 1: return ones; // -1
    case 2: return min; // signed minimum
    case 3: return min - 1n; // signed maximum
    case 4: return min + 1n;
    case 5: return 1n;
    case 6: return BigInt(rng.below(16)); // small
    case 7: return (ones - BigInt(rng.below(16))) & ones; // small negative
    case 8: return (1n << BigInt(rng.below(bits))) & ones; // a power of two
    case 9: return (min >> BigInt(rng.below(4))) + BigInt(rng.range(-2, 2)) & ones; // near half-range
    default: return rng.next64() & ones;
  }
}

/** A 64-bit half made of lanes of one size (or random bits). */
function half64(rng: Rng): bigint {
  const bits = rng.pick([8, 16, 32, 64, 0]);
  if (bits === 0) return rng.next64();
  let v = 0n;
  for (let i = 0; i < 64 / bits; i++) v |= laneValue(rng, bits) << BigInt(i * bits);
  return v & M64;
}

/** A V register value for integer code. */
export function randomIntV128(rng: Rng): V128 {
  if (rng.chance(0.05)) return [0n, 0n];
  if (rng.chance(0.05)) return [M64, M64];
  return [half64(rng), half64(rng)];
}

/** FPSR: sometimes QC preset (saturating instructions must leave it set), sometimes other flags. */
export function randomFpsr(rng: Rng): number {
  let v = rng.chance(0.3) ? FPSR.QC : 0;
  if (rng.chance(0.2)) v |= rng.u32() & (FPSR.IOC | FPSR.DZC | FPSR.OFC | FPSR.UFC | FPSR.IXC | FPSR.IDC);
  return v >>> 0;
}

/** A random state for an AdvSIMD integer instruction. */
export function simdState(rng: Rng, memSize = 0x2000): Omit<Case, "insns"> {
  const st = randomState(rng, { memSize, fp: false });
  st.v = Array.from({ length: 32 }, () => randomIntV128(rng));
  st.fpsr = randomFpsr(rng);
  st.fpcr = randomFpcr(rng);
  return st;
}

/** A case running `words` on random AdvSIMD state. */
export function simdCase(rng: Rng, words: number[], memSize = 0x2000): Case {
  return makeCase(words, simdState(rng, memSize));
}

/** Cases for each row: `perRow` random words of the row on random state (after `tweak`). */
export function rowCases(
  prefix: string,
  rows: Row[],
  perRow: number,
  tweak: (rng: Rng, row: Row, word: number) => number = (_r, _row, w) => w,
): Map<string, Case[]> {
  const out = new Map<string, Case[]>();
  for (const row of rows) {
    const rng = new Rng(`${prefix}-${row.name}`);
    const p = parsePattern(row.pattern);
    const cases: Case[] = [];
    for (let i = 0; i < perRow; i++) cases.push(simdCase(rng, [tweak(rng, row, randomWord(rng, p))]));
    out.set(row.name, cases);
  }
  return out;
}

/** Runs every case on qemu (one process for all) and on the core; differences per key. */
export async function compareAll(byKey: Map<string, Case[]>): Promise<Map<string, { problems: string[]; refs: Result[] }>> {
  const keys = [...byKey.keys()];
  const all = keys.flatMap((k) => byKey.get(k)!);
  const refs = await runReference(all, { cpu: CPU });
  const out = new Map<string, { problems: string[]; refs: Result[] }>();
  let i = 0;
  for (const k of keys) {
    const cases = byKey.get(k)!;
    const problems: string[] = [];
    const rs: Result[] = [];
    for (const c of cases) {
      const ref = refs[i++]!;
      rs.push(ref);
      problems.push(...resultDifferences(c, ref, runOnCore(c)));
    }
    out.set(k, { problems, refs: rs });
  }
  return out;
}

export interface RowGroupSuite {
  /** The describe() title: what agrees with qemu-aarch64. */
  title: string;
  /** Seeds each row's generator, with the row name. */
  prefix: string;
  group: Group;
  /** Random words per row (default 250). */
  perRow?: number;
  /** Redraws words the suite must not test (see each suite's do-not-test list). */
  tweak?: (rng: Rng, row: Row, word: number) => number;
  /** Draws a whole case instead (memory set up for loads and stores); replaces tweak. */
  caseFor?: (rng: Rng, row: Row) => Case;
  /** The share of a row's cases that must run to the end, not fault or UNDEF (default 1/8). */
  minDefined?: number;
}

/**
 * One test per row of a decode group: random words of the row (every field random, reserved
 * combinations included) on random AdvSIMD state, all run by one qemu-aarch64 process; each
 * row must agree everywhere, and enough of its words must be defined (not UNDEFINED) for the
 * comparison to mean something.
 */
export function describeRowGroup({ title, prefix, group, perRow = 250, tweak, caseFor, minDefined = 1 / 8 }: RowGroupSuite): void {
  describe(title, () => {
    const byRow = caseFor
      ? new Map(group.rows.map((row) => {
          const rng = new Rng(`${prefix}-${row.name}`);
          return [row.name, Array.from({ length: perRow }, () => caseFor(rng, row))];
        }))
      : rowCases(prefix, group.rows, perRow, tweak);
    let results: Awaited<ReturnType<typeof compareAll>>;
    beforeAll(async () => {
      results = await compareAll(byRow);
    });
    for (const row of group.rows) {
      it(`${row.name}: ${row.title}`, () => {
        const { problems, refs } = results.get(row.name)!;
        expect(problems.slice(0, 30)).toEqual([]);
        expect(refs.filter((r) => r.signal === SIG.NONE).length).toBeGreaterThan(perRow * minDefined);
      });
    }
  });
}
