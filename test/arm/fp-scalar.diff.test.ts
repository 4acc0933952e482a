// Scalar floating point (ARM ARM C4.1.6) against qemu-aarch64: every row of arm/decode/fp.ts,
// with ftype biased to single and double but also hitting the unallocated 10 and the
// FEAT_FP16 11 (both UNDEFINED on an ARMv8.0 core).

import { scalarFloatingPoint, fpConversions } from "../../arm/decode/fp.ts";
import { type Case, type V128, FPCR, makeCase } from "../support/diff/case.ts";
import { describeCases, describeRows, encode, type Fields, type RowTest, type Width } from "../support/diff/fp.ts";

const arith = (f: Fields): Width => (f.ftype === 1 ? 64 : 32);
const conv = (t: number): Width => (t === 1 ? 64 : t === 3 ? 16 : 32);
const FTYPES = [0, 1, 0, 1, 0, 1, 0, 1, 2, 3];

const TWO_SOURCE = ["FMUL", "FDIV", "FADD", "FSUB", "FMAX", "FMIN", "FMAXNM", "FMINNM", "FNMUL"];
const THREE_SOURCE = ["FMADD", "FMSUB", "FNMADD", "FNMSUB"];

describeRows("scalar FP data processing agrees with qemu", scalarFloatingPoint, [
  { row: "FP_1SRC", label: "FMOV/FABS/FNEG", fields: { ftype: FTYPES, opc: [0, 1, 2] }, width: arith, perMode: 60 },
  { row: "FP_1SRC", label: "FSQRT", fields: { ftype: FTYPES, opc: [3] }, width: arith },
  { row: "FCVT_prec", label: "FCVT between precisions", fields: { ftype: [0, 1, 3, 0, 1, 3, 2], opc: (rng, f) => (rng.chance(0.1) ? rng.below(4) : rng.pick([0, 1, 3].filter((t) => t !== f.ftype))) }, width: (f) => conv(f.ftype!), perMode: 400 },
  { row: "FRINT", fields: { ftype: FTYPES }, width: arith, perMode: 400 },
  { row: "FCMP", label: "FCMP/FCMPE", fields: { ftype: FTYPES }, width: arith },
  { row: "FMOV_imm", fields: { ftype: [0, 1, 0, 1, 2, 3] }, width: arith, perMode: 40 },
  { row: "FCCMP", label: "FCCMP/FCCMPE", fields: { ftype: FTYPES }, width: arith },
  ...TWO_SOURCE.map((name, opcode): RowTest => ({ row: "FP_2SRC", label: name, fields: { ftype: FTYPES, opcode: [opcode] }, width: arith })),
  { row: "FP_2SRC", label: "unallocated 2-source opcodes", fields: { ftype: [0, 1], opcode: [9, 10, 11, 12, 13, 14, 15] }, width: arith, perMode: 10, minCompleted: 0 },
  { row: "FCSEL", fields: { ftype: FTYPES }, width: arith, perMode: 60 },
  // Round to nearest with normal operands takes the native fast paths: more cases there.
  ...["FMUL", "FDIV", "FADD", "FSUB"].map((name): RowTest => ({ row: "FP_2SRC", label: `${name} (RN, fast path)`, fields: { ftype: [0, 1], opcode: [TWO_SOURCE.indexOf(name)] }, width: arith, perMode: 1000, modes: [0] })),
  ...THREE_SOURCE.map((name, i): RowTest => ({ row: "FP_3SRC", label: `${name} single (RN, fast path)`, fields: { ftype: [0], o1: [i >> 1], o0: [i & 1] }, width: arith, perMode: 500, modes: [0] })),
  { row: "FP_1SRC", label: "FSQRT (RN, fast path)", fields: { ftype: [0, 1], opc: [3] }, width: arith, perMode: 1000, modes: [0] },
  ...THREE_SOURCE.map((name, i): RowTest => ({ row: "FP_3SRC", label: name, fields: { ftype: FTYPES, o1: [i >> 1], o0: [i & 1] }, width: arith, perMode: 300 })),
], "fp-scalar-dp");

describeRows("scalar FP conversions agree with qemu", fpConversions, [
  { row: "FCVT_fixed", label: "FCVTZS/FCVTZU (fixed-point)", fields: { ftype: FTYPES, rmode: [3], opcode: [0, 1], scale: (rng, f) => (f.sf ? rng.below(64) : rng.range(32, 63)) }, width: arith },
  { row: "FCVT_fixed", label: "SCVTF/UCVTF (fixed-point)", fields: { ftype: FTYPES, rmode: [0], opcode: [2, 3], scale: (rng, f) => (f.sf ? rng.below(64) : rng.range(24, 63)) }, width: arith },
  { row: "FCVT_fixed", label: "unallocated fixed-point forms", fields: { ftype: [0, 1], rmode: [0, 1, 2, 3], opcode: [0, 1, 2, 3, 4, 5, 6, 7] }, width: arith, perMode: 20, minCompleted: 0 },
  { row: "FCVT_int", label: "FCVT{N,P,M,Z}{S,U}", fields: { ftype: FTYPES, opcode: [0, 1] }, width: arith, perMode: 400 },
  { row: "FCVT_int", label: "FCVTAS/FCVTAU", fields: { ftype: FTYPES, rmode: [0, 0, 0, 1], opcode: [4, 5] }, width: arith },
  { row: "FCVT_int", label: "SCVTF/UCVTF (integer)", fields: { ftype: FTYPES, rmode: [0, 0, 0, 2], opcode: [2, 3] }, width: arith },
  { row: "FCVT_int", label: "FMOV (general)", fields: { sf: [0, 1], ftype: (rng, f) => (rng.chance(0.1) ? rng.below(4) : f.sf ? rng.pick([1, 2]) : 0), rmode: (rng, f) => (rng.chance(0.1) ? rng.below(4) : f.ftype === 2 ? 1 : 0), opcode: [6, 7] }, width: arith, perMode: 60 },
], "fp-scalar-conv");

// Conversions at the edges of the integer ranges and at ties, in every variant: FCVT{N,P,M,Z,A}
// {S,U} to W and X from S and D, and SCVTF/UCVTF from W and X around 2^24, 2^53 and 2^64
// under each FPCR rounding mode.
const FCVT_INT = fpConversions.rows.find((r) => r.name === "FCVT_int")!.pattern;

function doubleBits(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, true);
  return dv.getBigUint64(0, true);
}
function singleBits(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, x, true);
  return BigInt(dv.getUint32(0, true));
}

const EDGE_VALUES: number[] = [0, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 3.5, -0, 2 ** -1074, 2 ** -149, 1e-300];
for (const k of [31, 32, 63, 64]) {
  for (const d of [-1.5, -1, -0.5, 0, 0.5, 1, 1.5]) EDGE_VALUES.push(2 ** k + d);
  EDGE_VALUES.push(2 ** k * (1 - 2 ** -53), 2 ** k * (1 - 2 ** -24), 2 ** k * (1 + 2 ** -52), 2 ** k * (1 + 2 ** -23));
}
const SIGNED_EDGES = [...EDGE_VALUES, ...EDGE_VALUES.map((x) => -x), Infinity, -Infinity, NaN];

describeCases("conversions to integers at range edges agree with qemu", "FCVT{N,P,M,Z,A}{S,U} W/X from S/D", () => {
  const cases: Case[] = [];
  for (const ftype of [0, 1]) {
    for (const sf of [0, 1]) {
      for (const [rmode, opcodeBase] of [[0, 0], [1, 0], [2, 0], [3, 0], [0, 4]]) {
        for (const unsigned of [0, 1]) {
          const insn = encode(FCVT_INT, { sf, ftype, rmode, opcode: opcodeBase! + unsigned, rn: 1, rd: 0 });
          for (const x of SIGNED_EDGES) {
            const v = Array.from({ length: 32 }, () => [0n, 0n] as V128);
            v[1] = [ftype ? doubleBits(x) : singleBits(x), 0n];
            cases.push(makeCase([insn], { v, fpcr: x === 2 ** -1074 ? FPCR.FZ : 0 }));
          }
        }
      }
    }
  }
  return cases;
});

const INT_SOURCES: bigint[] = [0n, 1n, (1n << 64n) - 1n, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 0x7fffffffn, 0x80000000n];
for (const k of [23n, 24n, 25n, 31n, 32n, 52n, 53n, 54n, 62n, 63n]) {
  for (const d of [-3n, -1n, 1n, 3n]) INT_SOURCES.push(((1n << k) + d) & ((1n << 64n) - 1n));
  INT_SOURCES.push(((1n << k) + (1n << (k - 24n))) & ((1n << 64n) - 1n)); // a tie for singles
  INT_SOURCES.push((-(1n << k) - 1n) & ((1n << 64n) - 1n));
}

describeCases("conversions from integers at rounding edges agree with qemu", "SCVTF/UCVTF S/D from W/X in all four rounding modes", () => {
  const cases: Case[] = [];
  for (const ftype of [0, 1]) {
    for (const sf of [0, 1]) {
      for (const opcode of [2, 3]) {
        const insn = encode(FCVT_INT, { sf, ftype, rmode: 0, opcode, rn: 1, rd: 0 });
        for (let mode = 0; mode < 4; mode++) {
          for (const x of INT_SOURCES) {
            const regs = Array.from({ length: 31 }, () => 0n);
            regs[1] = x;
            cases.push(makeCase([insn], { x: regs, fpcr: mode << FPCR.RMODE_SHIFT }));
          }
        }
      }
    }
  }
  return cases;
});
