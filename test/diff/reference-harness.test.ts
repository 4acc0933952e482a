// Self-test of the differential-test oracle as a harness: random states, the qemu-user quirks
// the differential suites steer around, robustness against random words, and the case codec.

import { beforeAll, describe, expect, test } from "vitest";
import {
  CASE_HEADER_SIZE, CODE_VA, DATA_END, DATA_SIZE, DATA_VA, SIG, applyMemDiff, cloneCase,
  decodeCase, decodeResult, diffMem, encodeCase, encodeCases, encodeResult, initialData, isSvc,
  makeCase, validateCase,
} from "../support/diff/case.ts";
import { Rng, INTERESTING_64, randomCase, randomState, splitmix64 } from "../support/diff/random.ts";
import { buildHarness } from "../support/diff/reference.ts";
import {
  runReference, M64, I, baseCase, expectState, completed, run1, le64,
} from "../support/diff/reference-cases.ts";

beforeAll(() => {
  buildHarness();
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
