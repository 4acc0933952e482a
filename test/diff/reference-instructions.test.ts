// Self-test of the differential-test oracle, instruction by instruction: hand-written cases whose
// outcome follows from the architecture, run on qemu-aarch64 through test/support/diff/harness.
// If these fail, the reference (not our core) is wrong.

import { beforeAll, describe, expect, test } from "vitest";
import {
  type Case, CODE_VA, DATA_END, DATA_SIZE, DATA_VA, FPCR, FPSR, NZCV, RMODE, SIG, bitsF64, f32bits,
  f64bits, initialData,
} from "../support/diff/case.ts";
import { Rng } from "../support/diff/random.ts";
import { buildHarness } from "../support/diff/reference.ts";
import {
  runReference, M64, I, baseCase, expectState, completed, run1, le64,
} from "../support/diff/reference-cases.ts";

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
