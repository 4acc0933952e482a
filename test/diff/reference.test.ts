// Self-test of the differential-test oracle: hand-written cases whose outcome follows from the
// architecture, run on qemu-aarch64 through test/support/diff/harness. If these fail, the reference
// (not our core) is wrong.

import { beforeAll, describe, expect, test } from "vitest";
import {
  type Case,
  type Result,
  CASE_HEADER_SIZE,
  CODE_VA,
  DATA_END,
  DATA_SIZE,
  DATA_VA,
  FPCR,
  FPSR,
  NZCV,
  RMODE,
  SIG,
  applyMemDiff,
  bitsF64,
  cloneCase,
  decodeCase,
  decodeResult,
  diffMem,
  encodeCase,
  encodeCases,
  encodeResult,
  f32bits,
  f64bits,
  initialData,
  isSvc,
  makeCase,
  validateCase,
} from "../support/diff/case.ts";
import { Rng, INTERESTING_64, randomCase, randomState, splitmix64 } from "../support/diff/random.ts";
import { buildHarness, runReference as runOn, MAX_CPU, type ReferenceOptions } from "../support/diff/reference.ts";

// The harness's self-tests pin qemu's behaviour with every feature on (the quirks below are
// those of `-cpu max`); the differential suites use DEFAULT_CPU, the core's own model.
const runReference = (cases: Case[], options: ReferenceOptions = {}) => runOn(cases, { cpu: MAX_CPU, ...options });

const M64 = (1n << 64n) - 1n;

// Instruction words (checked against aarch64-linux-gnu-as).
const I = {
  ADD_X0_X1_X2: 0x8b020020,
  ADDS_X0_X1_X2: 0xab020020,
  LDR_X3_X4: 0xf9400083, // ldr x3, [x4]
  LDR_W3_X4_PRE4: 0xb8404c83, // ldr w3, [x4, #4]!
  STR_X5_X6: 0xf90000c5, // str x5, [x6]
  STP_X1_X2_SP_PRE: 0xa9bf0be1, // stp x1, x2, [sp, #-16]!
  LDR_Q0_X4: 0x3dc00080, // ldr q0, [x4]
  STR_Q1_X6: 0x3d8000c1, // str q1, [x6]
  MOVZ_X7_1234_LSL16: 0xd2a24687,
  B_PLUS8: 0x14000002,
  B_SELF: 0x14000000,
  MOVZ_X0_1: 0xd2800020,
  MOVZ_X1_2: 0xd2800041,
  FADD_D0_D1_D2: 0x1e622820,
  FDIV_S0_S1_S2: 0x1e221820,
  UMOV_X0_V31_D1: 0x4e183fe0,
  MRS_X0_NZCV: 0xd53b4200,
  MRS_X0_FPCR: 0xd53b4400,
  MRS_X1_FPSR: 0xd53b4421,
  MOV_X0_SP: 0x910003e0,
  MOV_SP_X1: 0x9100003f,
  BRK_1: 0xd4200020,
  MSR_TPIDR_EL0_X1: 0xd51bd041,
  MRS_X0_TPIDR_EL0: 0xd53bd040,
  MSR_SCTLR_EL1_X0: 0xd5181000,
  UDF_0: 0x00000000,
  SVC_0: 0xd4000001,
};

/** A case with a distinctive state: every register holds a different, non-zero value. */
function baseCase(insns: number[], seed = 1): Case {
  const rng = new Rng(seed);
  const c = makeCase(insns, randomState(rng, { pointerRegs: [], offsetRegs: [], memSize: 0x100 }));
  for (let i = 0; i < 31; i++) c.x[i] = (rng.next64() & ~0xfn) | BigInt(i); // distinct
  for (let i = 0; i < 32; i++) c.v[i] = [rng.next64(), rng.next64()];
  c.sp = DATA_VA + 0x8000n;
  c.nzcv = NZCV.N | NZCV.C;
  c.fpcr = 0;
  c.fpsr = 0;
  return c;
}

/** Expect the result to equal the case's state except for the listed changes. */
function expectState(
  r: Result,
  c: Case,
  changes: { x?: Record<number, bigint>; sp?: bigint; nzcv?: number; v?: Record<number, [bigint, bigint]>; fpsr?: number } = {},
) {
  const x = c.x.map((v, i) => (changes.x?.[i] ?? v) & M64);
  expect(r.x.map((v) => v.toString(16))).toEqual(x.map((v) => v.toString(16)));
  expect(r.sp.toString(16)).toBe(((changes.sp ?? c.sp) & M64).toString(16));
  expect(r.nzcv >>> 0).toBe((changes.nzcv ?? c.nzcv) >>> 0);
  const v = c.v.map((q, i) => changes.v?.[i] ?? q);
  expect(r.v).toEqual(v.map(([lo, hi]) => [lo & M64, hi & M64]));
  expect(r.fpcr).toBe(c.fpcr);
  expect(r.fpsr).toBe(changes.fpsr ?? c.fpsr);
}

function completed(r: Result, c: Case) {
  expect({ signal: r.signal, pc: r.pc }).toEqual({ signal: SIG.NONE, pc: CODE_VA + 4n * BigInt(c.insns.length) });
}

async function run1(c: Case): Promise<Result> {
  const [r] = await runReference([c]);
  return r;
}

function le64(x: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, x & M64, true);
  return b;
}

beforeAll(() => {
  buildHarness();
});

describe("integer instructions", () => {
  test("ADD X0, X1, X2 changes only X0 and PC", async () => {
    const c = baseCase([I.ADD_X0_X1_X2]);
    c.x[1] = 0xffff_ffff_ffff_fff0n;
    c.x[2] = 0x20n;
    const r = await run1(c);
    completed(r, c);
    expectState(r, c, { x: { 0: 0x10n } });
    expect(r.memDiff).toEqual([]);
  });

  test("ADDS sets N, Z, C, V", async () => {
    const table: [bigint, bigint, bigint, number][] = [
      [1n, 2n, 3n, 0],
      [1n, M64, 0n, NZCV.Z | NZCV.C], // 1 + -1
      [(1n << 63n) - 1n, 1n, 1n << 63n, NZCV.N | NZCV.V], // INT64_MAX + 1
      [1n << 63n, 1n << 63n, 0n, NZCV.Z | NZCV.C | NZCV.V], // INT64_MIN + INT64_MIN
      [M64, M64, M64 - 1n, NZCV.N | NZCV.C], // -1 + -1
      [0n, 0n, 0n, NZCV.Z],
    ];
    const cases = table.map(([a, b], i) => {
      const c = baseCase([I.ADDS_X0_X1_X2], 10 + i);
      c.x[1] = a;
      c.x[2] = b;
      c.nzcv = (NZCV.N | NZCV.Z | NZCV.C | NZCV.V) >>> 0; // all set before: ADDS must clear
      return c;
    });
    const rs = await runReference(cases);
    rs.forEach((r, i) => {
      completed(r, cases[i]);
      expectState(r, cases[i], { x: { 0: table[i][2] }, nzcv: table[i][3] });
    });
  });

  test("MOVZ X7, #0x1234, LSL #16", async () => {
    const c = baseCase([I.MOVZ_X7_1234_LSL16]);
    const r = await run1(c);
    completed(r, c);
    expectState(r, c, { x: { 7: 0x1234_0000n } });
  });

  test("a branch skips an instruction", async () => {
    const c = baseCase([I.B_PLUS8, I.MOVZ_X0_1, I.MOVZ_X1_2]);
    const r = await run1(c);
    completed(r, c);
    expectState(r, c, { x: { 1: 2n } });
  });

  test("SP and NZCV are set and read back exactly", async () => {
    const c = baseCase([I.MOV_X0_SP, I.MRS_X0_NZCV]);
    c.insns = [I.MOV_X0_SP];
    c.sp = 0x1234_5678_9abc_def0n;
    let r = await run1(c);
    completed(r, c);
    expectState(r, c, { x: { 0: c.sp } });

    for (const nzcv of [0, NZCV.Z, NZCV.V, (NZCV.N | NZCV.Z | NZCV.C | NZCV.V) >>> 0]) {
      const d = baseCase([I.MRS_X0_NZCV]);
      d.nzcv = nzcv;
      r = await run1(d);
      completed(r, d);
      expectState(r, d, { x: { 0: BigInt(nzcv) } });
    }

    const e = baseCase([I.MOV_SP_X1]);
    e.x[1] = DATA_VA + 0x1230n;
    r = await run1(e);
    completed(r, e);
    expectState(r, e, { sp: e.x[1] });
  });
});

describe("memory", () => {
  test("LDR X3, [X4] reads DATA (aligned and unaligned)", async () => {
    const mem = new Uint8Array(0x400);
    for (let i = 0; i < mem.length; i++) mem[i] = (i * 7 + 3) & 0xff;
    const expectAt = (off: number) => new DataView(mem.buffer).getBigUint64(off, true);
    const cases = [0x100, 0x101, 0x3f8].map((off, i) => {
      const c = baseCase([I.LDR_X3_X4], 20 + i);
      c.mem = mem;
      c.x[4] = DATA_VA + BigInt(off);
      return c;
    });
    const rs = await runReference(cases);
    rs.forEach((r, i) => {
      completed(r, cases[i]);
      expectState(r, cases[i], { x: { 3: expectAt([0x100, 0x101, 0x3f8][i]) } });
      expect(r.memDiff).toEqual([]);
    });
  });

  test("DATA beyond `mem` reads as zero, also after a case that wrote there", async () => {
    const w = baseCase([I.STR_X5_X6]);
    w.x[6] = DATA_VA + 0x8000n;
    const rd = baseCase([I.LDR_X3_X4]);
    rd.x[4] = DATA_VA + 0x8000n;
    const [rw, rr] = await runReference([w, rd]);
    completed(rw, w);
    expect(rw.memDiff).toEqual([{ offset: 0x8000, bytes: le64(w.x[5]) }]);
    completed(rr, rd);
    expectState(rr, rd, { x: { 3: 0n } });
  });

  test("LDR W3, [X4, #4]! loads and writes back", async () => {
    const c = baseCase([I.LDR_W3_X4_PRE4]);
    c.mem = new Uint8Array([0, 1, 2, 3, 0xef, 0xbe, 0xad, 0xde, 9, 9]);
    c.x[4] = DATA_VA;
    const r = await run1(c);
    completed(r, c);
    expectState(r, c, { x: { 3: 0xdeadbeefn, 4: DATA_VA + 4n } });
  });

  test("STR X5, [X6] writes DATA and nothing else", async () => {
    const c = baseCase([I.STR_X5_X6]);
    c.mem = new Uint8Array(0x300).fill(0x5a);
    c.x[5] = 0x0102_0304_0506_0708n;
    c.x[6] = DATA_VA + 0x203n; // unaligned, crossing the end of `mem` is fine too
    const r = await run1(c);
    completed(r, c);
    expectState(r, c);
    expect(r.memDiff).toEqual([{ offset: 0x203, bytes: new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]) }]);
    const after = r.mem;
    expect(after.length).toBe(DATA_SIZE);
    const want = initialData(c.mem);
    want.set(le64(c.x[5]), 0x203);
    expect(Buffer.from(after).equals(Buffer.from(want))).toBe(true);
  });

  test("STR at the last doubleword of DATA; STP with pre-index on SP", async () => {
    const a = baseCase([I.STR_X5_X6]);
    a.x[5] = 0x1122_3344_5566_7788n;
    a.x[6] = DATA_END - 8n;
    const b = baseCase([I.STP_X1_X2_SP_PRE]);
    b.sp = DATA_VA + 0x1000n;
    const [ra, rb] = await runReference([a, b]);
    completed(ra, a);
    expect(ra.memDiff).toEqual([{ offset: DATA_SIZE - 8, bytes: le64(a.x[5]) }]);
    completed(rb, b);
    expectState(rb, b, { sp: b.sp - 16n });
    expect(rb.memDiff).toEqual([{ offset: 0x1000 - 16, bytes: new Uint8Array([...le64(b.x[1]), ...le64(b.x[2])]) }]);
  });

  test("Q-register load and store", async () => {
    const c = baseCase([I.LDR_Q0_X4, I.STR_Q1_X6]);
    c.mem = new Uint8Array(0x40);
    for (let i = 0; i < 16; i++) c.mem[0x10 + i] = 0xa0 + i;
    c.x[4] = DATA_VA + 0x10n;
    c.x[6] = DATA_VA + 0x30n;
    c.v[1] = [0x1716_1514_1312_1110n, 0x1f1e_1d1c_1b1a_1918n];
    const r = await run1(c);
    completed(r, c);
    expectState(r, c, { v: { 0: [0xa7a6_a5a4_a3a2_a1a0n, 0xafae_adac_abaa_a9a8n] } });
    expect(r.memDiff).toEqual([
      { offset: 0x30, bytes: new Uint8Array(Array.from({ length: 16 }, (_, i) => 0x10 + i)) },
    ]);
  });

  test("a load from an unmapped address is SIGSEGV at the faulting PC", async () => {
    for (const addr of [0n, DATA_END, 0x8000_1000n /* between CODE and DATA */, (1n << 47n) - 8n]) {
      const c = baseCase([I.MOVZ_X0_1, I.LDR_X3_X4, I.MOVZ_X1_2]);
      c.x[4] = addr;
      const r = await run1(c);
      expect(r.signal).toBe(SIG.SEGV);
      expect(r.pc).toBe(CODE_VA + 4n);
      expect(r.faultAddr).toBe(addr);
      // State is precise: the MOVZ before ran, the LDR and the MOVZ after did not.
      expectState(r, c, { x: { 0: 1n } });
    }
  });

  test("a store that faults leaves DATA untouched", async () => {
    const c = baseCase([I.STR_X5_X6]);
    c.x[6] = 0x10n;
    const r = await run1(c);
    expect([r.signal, r.pc, r.faultAddr]).toEqual([SIG.SEGV, CODE_VA, 0x10n]);
    expect(r.memDiff).toEqual([]);
  });
});

describe("exceptions and control", () => {
  test("UDF #0 is SIGILL at its PC, after the instructions before it ran", async () => {
    const a = baseCase([I.UDF_0]);
    const b = baseCase([I.ADD_X0_X1_X2, I.UDF_0, I.MOVZ_X1_2]);
    const [ra, rb] = await runReference([a, b]);
    expect([ra.signal, ra.pc]).toEqual([SIG.ILL, CODE_VA]);
    expectState(ra, a);
    expect([rb.signal, rb.pc]).toEqual([SIG.ILL, CODE_VA + 4n]);
    expectState(rb, b, { x: { 0: (b.x[1] + b.x[2]) & M64 } });
    expect(ra.faultAddr).toBeUndefined();
  });

  test("an EL1 system register write is SIGILL at EL0", async () => {
    const c = baseCase([I.MSR_SCTLR_EL1_X0]);
    const r = await run1(c);
    expect([r.signal, r.pc]).toEqual([SIG.ILL, CODE_VA]);
    expectState(r, c);
  });

  test("running off the end of the instructions hits the appended BRK; a BRK in the case is SIGTRAP", async () => {
    const c = baseCase([I.MOVZ_X0_1, I.BRK_1, I.MOVZ_X1_2]);
    const r = await run1(c);
    expect([r.signal, r.pc]).toEqual([SIG.TRAP, CODE_VA + 4n]);
    expectState(r, c, { x: { 0: 1n } });
  });

  test("a branch past the appended BRK runs into zeros (UDF)", async () => {
    const c = baseCase([0x14000010 /* b .+64 */]);
    const r = await run1(c);
    expect([r.signal, r.pc]).toEqual([SIG.ILL, CODE_VA + 64n]);
  });

  test("an endless loop is stopped by the watchdog and the batch goes on", async () => {
    const loop = baseCase([I.MOVZ_X0_1, I.B_SELF]);
    const after = baseCase([I.ADD_X0_X1_X2]);
    const [rl, ra] = await runReference([loop, after]);
    expect([rl.signal, rl.pc]).toEqual([SIG.TIMEOUT, CODE_VA + 4n]);
    expectState(rl, loop, { x: { 0: 1n } });
    completed(ra, after);
    expectState(ra, after, { x: { 0: (after.x[1] + after.x[2]) & M64 } });
  });

  test("TPIDR_EL0 starts at 0 and a case changing it does not disturb the harness", async () => {
    const set = baseCase([I.MRS_X0_TPIDR_EL0, I.MSR_TPIDR_EL0_X1]);
    const get = baseCase([I.MRS_X0_TPIDR_EL0]);
    const rs = await runReference([set, get, set, get]);
    for (const [r, c] of [
      [rs[0], set],
      [rs[1], get],
    ] as const) {
      completed(r, c);
      expectState(r, c, { x: { 0: 0n } });
    }
  });

  test("faults and normal completions interleave in one batch", async () => {
    const rng = new Rng(99);
    const cases: Case[] = [];
    const want: number[] = [];
    for (let i = 0; i < 300; i++) {
      const kind = rng.below(4);
      const c = baseCase([[I.ADD_X0_X1_X2, I.UDF_0, I.LDR_X3_X4, I.BRK_1][kind]], 1000 + i);
      c.x[4] = rng.chance() ? DATA_VA + BigInt(rng.below(0x100)) : BigInt(rng.below(0x1000));
      cases.push(c);
      want.push(kind === 0 ? SIG.NONE : kind === 1 ? SIG.ILL : kind === 3 ? SIG.TRAP : c.x[4] >= DATA_VA ? SIG.NONE : SIG.SEGV);
    }
    const rs = await runReference(cases);
    expect(rs.map((r) => r.signal)).toEqual(want);
    rs.forEach((r, i) => {
      const c = cases[i];
      if (c.insns[0] === I.ADD_X0_X1_X2) expectState(r, c, { x: { 0: (c.x[1] + c.x[2]) & M64 } });
    });
  });

  test("SVC is refused (it would be a real system call)", async () => {
    await expect(runReference([baseCase([I.SVC_0])])).rejects.toThrow(/SVC/);
  });
});

describe("floating point and SIMD", () => {
  test("every V register comes back unchanged (checked through UMOV too)", async () => {
    const c = baseCase([I.UMOV_X0_V31_D1]);
    const r = await run1(c);
    completed(r, c);
    expectState(r, c, { x: { 0: c.v[31][1] } });
  });

  test("FADD D0, D1, D2", async () => {
    const c = baseCase([I.FADD_D0_D1_D2]);
    c.v[1] = [f64bits(1.5), 0xdead_beefn];
    c.v[2] = [f64bits(2.25), 0x1234n];
    const r = await run1(c);
    completed(r, c);
    // A scalar write zeroes the upper bits of the vector register.
    expectState(r, c, { v: { 0: [f64bits(3.75), 0n] } });
    expect(bitsF64(r.v[0][0])).toBe(3.75);
  });

  test("FPCR.RMode is respected and FPSR.IXC is raised", async () => {
    const tiny = 2 ** -60;
    const cases: Case[] = [];
    const want: number[] = [];
    const nextUp1 = 1 + 2 ** -52;
    for (const [mode, pos, neg] of [
      [RMODE.RN, 1, -1],
      [RMODE.RP, nextUp1, -1],
      [RMODE.RM, 1, -nextUp1],
      [RMODE.RZ, 1, -1],
    ] as const) {
      for (const [a, b, w] of [
        [1, tiny, pos],
        [-1, -tiny, neg],
      ]) {
        const c = baseCase([I.FADD_D0_D1_D2]);
        c.fpcr = mode << FPCR.RMODE_SHIFT;
        c.v[1] = [f64bits(a), 0n];
        c.v[2] = [f64bits(b), 0n];
        cases.push(c);
        want.push(w);
      }
    }
    const rs = await runReference(cases);
    rs.forEach((r, i) => {
      completed(r, cases[i]);
      expectState(r, cases[i], { v: { 0: [f64bits(want[i]), 0n] }, fpsr: FPSR.IXC });
    });
  });

  test("FDIV S0, S1, S2 by zero raises DZC; FPCR and FPSR are readable with MRS", async () => {
    const c = baseCase([I.FDIV_S0_S1_S2, I.MRS_X0_FPCR, I.MRS_X1_FPSR]);
    c.fpcr = FPCR.DN | FPCR.FZ | (RMODE.RZ << FPCR.RMODE_SHIFT);
    c.fpsr = FPSR.QC;
    c.v[1] = [f32bits(1), 0n];
    c.v[2] = [f32bits(0), 0n];
    const r = await run1(c);
    completed(r, c);
    expectState(r, c, {
      v: { 0: [f32bits(Infinity), 0n] },
      fpsr: FPSR.QC | FPSR.DZC,
      x: { 0: BigInt(c.fpcr), 1: BigInt(FPSR.QC | FPSR.DZC) },
    });
  });

  test("FPCR and FPSR values are kept as given", async () => {
    const c = baseCase([I.MOVZ_X0_1]);
    c.fpcr = FPCR.AHP | FPCR.FZ16 | (RMODE.RM << FPCR.RMODE_SHIFT);
    c.fpsr = FPSR.IOC | FPSR.IDC | FPSR.QC;
    const r = await run1(c);
    completed(r, c);
    expectState(r, c, { x: { 0: 1n } });
  });
});

describe("random states", () => {
  test("ADD and LDR on 500 random states agree with BigInt arithmetic", async () => {
    const rng = new Rng("add-ldr");
    const cases = Array.from({ length: 500 }, () =>
      randomCase(rng, [I.ADD_X0_X1_X2, I.LDR_X3_X4], { pointerRegs: [4], offsetRegs: [] }),
    );
    const rs = await runReference(cases);
    rs.forEach((r, i) => {
      const c = cases[i];
      const off = Number(c.x[4] - DATA_VA);
      const x3 = new DataView(initialData(c.mem).buffer).getBigUint64(off, true);
      completed(r, c);
      expectState(r, c, { x: { 0: (c.x[1] + c.x[2]) & M64, 3: x3 } });
    });
  });

  test("random stores: harness memDiff equals diffMem of the images", async () => {
    const rng = new Rng(7);
    const cases = Array.from({ length: 200 }, () =>
      randomCase(rng, [I.STR_X5_X6, I.STR_Q1_X6], { pointerRegs: [6], memSize: rng.pick([0, 0x10, 0x2000, DATA_SIZE]) }),
    );
    const rs = await runReference(cases);
    rs.forEach((r, i) => {
      const c = cases[i];
      completed(r, c);
      const after = initialData(c.mem);
      const off = Number(c.x[6] - DATA_VA);
      after.set(le64(c.x[5]), off);
      after.set([...le64(c.v[1][0]), ...le64(c.v[1][1])], off);
      expect(r.memDiff).toEqual(diffMem(initialData(c.mem), after));
    });
  });

  test("random states are reproducible and have pointers into DATA", () => {
    const a = randomState(new Rng(5), { pointerRegs: [3, 9] });
    const b = randomState(new Rng(5), { pointerRegs: [3, 9] });
    expect(a).toEqual(b);
    for (const r of [3, 9]) {
      expect(a.x[r] >= DATA_VA && a.x[r] < DATA_VA + BigInt(a.mem.length)).toBe(true);
    }
    expect(a.sp % 16n).toBe(0n);
    expect(a.sp >= DATA_VA && a.sp < DATA_END).toBe(true);
  });
});

// Where qemu-user (7.2) differs from Linux on hardware, or from what a reader might expect.
// The differential suite must steer around these; if qemu changes, these tests say so.
describe("qemu-user behaviours the differential suite must know", () => {
  test("SP alignment is not checked (Linux on hardware: SIGBUS)", async () => {
    const c = baseCase([0xf94003e0 /* ldr x0, [sp] */]);
    c.sp = DATA_VA + 0x101n;
    const r = await run1(c);
    completed(r, c);
  });

  test("unaligned exclusives are SIGBUS (BUS_ADRALN) with the address", async () => {
    const c = baseCase([0xc85f7c20 /* ldxr x0, [x1] */]);
    c.x[1] = DATA_VA + 1n;
    const r = await run1(c);
    expect([r.signal, r.sigCode, r.pc, r.faultAddr]).toEqual([SIG.BUS, 1, CODE_VA, DATA_VA + 1n]);
  });

  test("SIGILL carries si_code ILL_ILLOPN (2), not Linux's ILL_ILLOPC (1)", async () => {
    const r = await run1(baseCase([I.UDF_0]));
    expect([r.signal, r.sigCode]).toEqual([SIG.ILL, 2]);
  });

  test("faults at or above 2^47 report faultAddr 0", async () => {
    const c = baseCase([I.LDR_X3_X4]);
    c.x[4] = 1n << 47n;
    const r = await run1(c);
    expect([r.signal, r.faultAddr]).toEqual([SIG.SEGV, 0n]);
  });

  test("top-byte-ignore: tagged pointers reach DATA, tagged branch targets lose the tag", async () => {
    const ld = baseCase([I.LDR_X3_X4]);
    ld.mem = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    ld.x[4] = 0x5a00_0000_0000_0000n | DATA_VA;
    const br = baseCase([0xd61f0020 /* br x1 */]);
    br.x[1] = 0x0100_0000_0000_0000n | (CODE_VA + 8n);
    const [rl, rb] = await runReference([ld, br]);
    completed(rl, ld);
    expect(rl.x[3]).toBe(0x0807_0605_0403_0201n);
    expect([rb.signal, rb.pc]).toEqual([SIG.ILL, CODE_VA + 8n]); // the zero word after END_BRK
  });

  test("FPCR keeps bits 16-26 (incl. AArch32 Len/Stride), drops trap enables; FPSR keeps 31-27", async () => {
    const c = baseCase([I.MRS_X0_FPCR, I.MRS_X1_FPSR]);
    c.fpcr = 0xffff_ffff;
    c.fpsr = 0xffff_ffff;
    const r = await run1(c);
    completed(r, c);
    expect([r.fpcr, r.fpsr, r.x[0], r.x[1]]).toEqual([0x07ff_0000, 0xf800_009f, 0x07ff_0000n, 0xf800_009fn]);
  });

  test("DCZID_EL0 says 512-byte DC ZVA blocks; ID registers are readable at EL0", async () => {
    const c = baseCase([0xd53b00e0 /* mrs x0, dczid_el0 */, 0xd5380001 /* mrs x1, midr_el1 */]);
    const r = await run1(c);
    completed(r, c);
    expect(r.x[0]).toBe(7n);
  });
});

describe("harness robustness", () => {
  test("2000 cases of random instruction words all produce a result", async () => {
    const rng = new Rng("random-words");
    const cases = Array.from({ length: 2000 }, () => {
      const insns = Array.from({ length: rng.range(1, 4) }, () => {
        let w: number;
        do w = rng.u32();
        while (isSvc(w));
        return w;
      });
      return randomCase(rng, insns, { memSize: 0x1000 });
    });
    const rs = await runReference(cases);
    expect(rs.length).toBe(cases.length);
    const known = new Set<number>([SIG.NONE, SIG.ILL, SIG.TRAP, SIG.BUS, SIG.SEGV, SIG.TIMEOUT]);
    for (const r of rs) expect(known.has(r.signal)).toBe(true);
    // The harness is still sane afterwards: a plain ADD in the same process.
    const after = baseCase([I.ADD_X0_X1_X2]);
    const rs2 = await runReference([...cases.slice(0, 50), after]);
    expectState(rs2[50], after, { x: { 0: (after.x[1] + after.x[2]) & M64 } });
    // ...and deterministic (a timed-out case stops wherever the watchdog caught it: skip those).
    for (let i = 0; i < 50; i++) if (rs[i].signal !== SIG.TIMEOUT) expect(rs2[i]).toEqual(rs[i]);
  });
});

describe("codec and PRNG", () => {
  test("cases round-trip through the binary encoding", () => {
    const rng = new Rng(3);
    const cases = [0, 1, 7, 8, 0x2001].map((n) => {
      const c = randomCase(rng, [I.ADD_X0_X1_X2, I.LDR_X3_X4, 0xffff_ffff], { memSize: n });
      c.x[0] = -1n; // negative input is accepted and comes back unsigned
      return c;
    });
    const buf = encodeCases(cases);
    let off = 0;
    for (const c of cases) {
      const { value, next } = decodeCase(buf, off);
      expect(value).toEqual({ ...cloneCase(c), x: c.x.map((v) => v & M64) });
      off = next;
    }
    expect(off).toBe(buf.length);
    expect(encodeCase(cases[0]).length).toBe(CASE_HEADER_SIZE);
  });

  test("results round-trip through the binary encoding", async () => {
    const c = baseCase([I.STR_X5_X6, I.LDR_X3_X4]);
    c.mem = new Uint8Array(0x100).fill(1);
    c.x[6] = DATA_VA + 0x10n;
    c.x[4] = DATA_END; // faults
    const r = await run1(c);
    expect(r.signal).toBe(SIG.SEGV);
    const { value } = decodeResult(encodeResult(r), 0, c.mem);
    expect(value).toEqual(r);
    expect(value.mem).toEqual(r.mem);
    expect(applyMemDiff(c.mem, r.memDiff)).toEqual(r.mem);
  });

  test("validateCase rejects malformed cases", () => {
    expect(() => validateCase(makeCase([]))).toThrow();
    expect(() => validateCase(makeCase(new Array(17).fill(0)))).toThrow();
    expect(() => validateCase({ ...makeCase([0]), x: [] })).toThrow();
    expect(() => validateCase(makeCase([0], { mem: new Uint8Array(DATA_SIZE + 1) }))).toThrow();
    expect(() => validateCase(makeCase([I.SVC_0]))).toThrow(/SVC/);
  });

  test("splitmix64 matches its published sequence; Rng is deterministic", () => {
    let s = 0n;
    const out: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const [n, o] = splitmix64(s);
      s = n;
      out.push(o);
    }
    expect(out).toEqual([0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
    const a = new Rng(123);
    const b = new Rng(123);
    const seqA = Array.from({ length: 100 }, () => a.next64());
    expect(Array.from({ length: 100 }, () => b.next64())).toEqual(seqA);
    expect(new Set(seqA).size).toBe(100);
    const c = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const v = c.below(10);
      expect(v >= 0 && v < 10 && Number.isInteger(v)).toBe(true);
    }
    expect(INTERESTING_64).toContain(1n << 63n);
    expect(INTERESTING_64).toContain(0x7fff_ffffn);
  });
});
