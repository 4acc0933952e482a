// Page regions (docs/jit.md, Regions): the hot blocks of a page whose control flow loops through
// more than one of them run as one function, with registers and pending flags in locals across
// blocks. Every scenario runs interpreted and translated with regions on (every block
// translated before it first runs, so regions grow block by block); both must reach the same
// state, and the translated run must have used a region.

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { A, COND, RAM_BASE, SR, TestMachine } from "../support/jit-machine.ts";

const MAIN = RAM_BASE + 0x1000;
const FUNC = RAM_BASE + 0x3000;
const DATA = RAM_BASE + 0x20_0000;

const u = (x: number) => x >>> 0;
/** CSET Xd, cond. */
const cset = (rd: number, cond: number) => u(0x9a9f07e0 | ((cond ^ 1) << 12) | rd);
/** MRS Xt, NZCV. */
const mrsNzcv = (rt: number) => A.mrs(rt, 3, 4, 2, 0);
/** CMP Xn, #imm. */
const cmpi = (rn: number, imm: number) => A.subsi(31, rn, imm);

/** The same scenario interpreted and translated with page regions. */
function both(setup: (m: TestMachine) => void): [TestMachine, TestMachine] {
  const interp = new TestMachine(false);
  const jit = new TestMachine(true, { enabled: true, threshold: 0, eager: true, regions: true });
  setup(interp);
  setup(jit);
  return [interp, jit];
}

/** Runs both to their HVC from pc: the same HVC, the same state. */
function runBoth(ms: [TestMachine, TestMachine], pc: number): number {
  const [a, b] = ms;
  const ha = a.runToHvc(pc);
  const hb = b.runToHvc(pc);
  expect(hb).toBe(ha);
  expect(b.state()).toEqual(a.state());
  return ha;
}

function expectRegion(m: TestMachine): void {
  const s = m.core.jitStats();
  expect(s.regions).toBeGreaterThan(0);
  expect(s.insnsJit).toBeGreaterThan(0n);
}

// A loop through two blocks of one page: A sets the flags, B reads them (pending across the
// transfer), and branches back to A.
//   MAIN: movz x1, #n; movz x0, #0; movz x5, #0
//   A:    add x0, x0, #3; subs x1, x1, #1; b B
//   (gap) hvc #9
//   B:    cset x3, hi; add x5, x5, x3; mrs x6, nzcv; add x7, x7, x6; b.ne A; hvc #1
function twoBlockLoop(n: number): number[] {
  return [
    A.movz(1, n), A.movz(0, 0), A.movz(5, 0),
    A.addi(0, 0, 3), A.subsi(1, 1, 1), A.b(8),
    A.hvc(9),
    cset(3, 8), A.addr(5, 5, 3), mrsNzcv(6), A.addr(7, 7, 6), A.bcond(COND.NE, -32), A.hvc(1),
  ];
}

describe("a region keeps registers and flags in locals across its blocks", () => {
  it("a loop through two blocks, the flags of one read by the other, agrees with the interpreter", () => {
    const ms = both((m) => {
      m.vectors();
      m.code(MAIN, twoBlockLoop(3000));
    });
    expect(runBoth(ms, MAIN)).toBe(1);
    const c = ms[1].core;
    expect(c.x(0)).toBe(9000n);
    expect(c.x(5)).toBe(2999n);
    expectRegion(ms[1]);
    // The loop ran inside the region: neither the run loop nor the dispatcher saw its iterations.
    const s = c.jitStats();
    expect(s.lookups).toBeLessThan(100n);
    expect(s.dispatches).toBeLessThan(100n);
  });

  it("flags written whole in one block (MSR NZCV) reach the next, not the setter before them", () => {
    // A: subs x1, x1, #1; b B;  B: lsl x6, x1, #28; msr nzcv, x6; b C
    // C: mrs x7, nzcv; add x8, x8, x7; cset x3, eq; add x5, x5, x3; cbnz x1, A; hvc #1
    const lsl28 = (rd: number, rn: number) => u(0xd3400000 | (36 << 16) | (35 << 10) | (rn << 5) | rd);
    const ms = both((m) => {
      m.vectors();
      m.code(MAIN, [
        A.movz(1, 2000),
        A.subsi(1, 1, 1), A.b(8),
        A.hvc(9),
        lsl28(6, 1), A.msr(3, 4, 2, 0, 6), A.b(8),
        A.hvc(9),
        mrsNzcv(7), A.addr(8, 8, 7), cset(3, COND.EQ), A.addr(5, 5, 3), A.cbnz(1, -44), A.hvc(1),
      ]);
    });
    expect(runBoth(ms, MAIN)).toBe(1);
    expect(ms[1].core.x(5)).toBe(1000n); // Z is x1 bit 2 (bit 30 after the shift): set for 1000 of 1999..0
    expectRegion(ms[1]);
  });

  it("retires exactly its budget", () => {
    const ms = both((m) => {
      m.vectors();
      m.code(MAIN, twoBlockLoop(5000));
    });
    for (const m of ms) {
      m.core.pc = BigInt(MAIN);
      for (const budget of [1, 2, 3, 5, 7, 1000, 1001, 12, 999, 4097, 1500]) {
        expect(m.core.run(budget)).toBe(abi.EXIT_BUDGET);
        expect(m.core.exitInsns).toBe(budget);
        expect(m.state()).toBeDefined();
      }
      expect(m.runToHvc(Number(m.core.pc))).toBe(1);
    }
    expect(ms[1].state()).toEqual(ms[0].state());
    expectRegion(ms[1]);
  });
});

describe("leaving a region from the middle is precise", () => {
  it("an HVC in a later block stops with the region's registers and flags written back", () => {
    // A: add x0, x0, #1; subs x1, x1, #1; b B
    // B: cmp x1, #500; b.ne skip; hvc #7; skip: cbnz x1, A; hvc #1
    const ms = both((m) => {
      m.vectors();
      m.code(MAIN, [
        A.movz(1, 1000), A.movz(0, 0),
        A.addi(0, 0, 1), A.subsi(1, 1, 1), A.b(8),
        A.hvc(9),
        cmpi(1, 500), A.bcond(COND.NE, 8), A.hvc(7), A.cbnz(1, -28), A.hvc(1),
      ]);
    });
    expect(runBoth(ms, MAIN)).toBe(7);
    expect(ms[1].core.x(0)).toBe(500n);
    expect(runBoth(ms, Number(ms[0].core.pc))).toBe(1);
    expect(ms[1].core.x(0)).toBe(1000n);
    expectRegion(ms[1]);
  });

  it("an SVC in a later block takes the exception with its own PC and the registers as they were", () => {
    const ms = both((m) => {
      m.vectors();
      m.code(MAIN, [
        A.movz(1, 1000), A.movz(0, 0),
        A.addi(0, 0, 1), A.subsi(1, 1, 1), A.b(8),
        A.hvc(9),
        cmpi(1, 321), A.bcond(COND.NE, 8), A.svc(3), A.cbnz(1, -28), A.hvc(1),
      ]);
    });
    // SVC goes to the current-EL SPx synchronous vector (entry 4): HVC #0x104.
    expect(runBoth(ms, MAIN)).toBe(0x104);
    const c = ms[1].core;
    expect(c.sysregSlot(SR.ELR)).toBe(BigInt(MAIN + 4 * 9)); // the instruction after the SVC
    expect(Number(c.sysregSlot(SR.ESR)) >>> 26).toBe(0x15);
    expect(c.x(0)).toBe(1000n - 321n);
    expectRegion(ms[1]);
  });

  it("a load that faults in a later block reports its own PC, ESR and FAR, with the registers as they were", () => {
    const HOLE = DATA + 0x3000; // unmapped page
    const ms = both((m) => {
      m.vectors();
      m.mmuOn();
      m.unmapPage(HOLE);
      for (let i = 0; i < 0x3000; i += 8) m.setU64(DATA + i, BigInt(i));
      // A: add x2, x2, #1; b B;  B: ldr x3, [x1], #8; add x4, x4, x3; cmp x2, #0; b.ne A
      m.code(MAIN, [
        ...A.mov64(1, DATA), A.movz(2, 0), A.movz(4, 0),
        A.addi(2, 2, 1), A.b(8),
        A.hvc(9),
        A.ldrxPost(3, 1, 8), A.addr(4, 4, 3), cmpi(2, 0), A.bcond(COND.NE, -24), A.hvc(1),
      ]);
    });
    expect(runBoth(ms, MAIN)).toBe(0x104);
    const c = ms[1].core;
    expect(c.sysregSlot(SR.ELR)).toBe(BigInt(MAIN + 4 * 9));
    expect(Number(c.sysregSlot(SR.ESR)) >>> 26).toBe(0x25);
    expect(c.sysregSlot(SR.FAR)).toBe(BigInt(HOLE));
    expect(c.x(1)).toBe(BigInt(HOLE));
    expect(c.x(2)).toBe(0x3000n / 8n + 1n);
    expect(c.x(4)).toBe(((0x3000n / 8n) * (0x3000n - 8n)) / 2n);
    expectRegion(ms[1]);
  });
});

describe("regions and code changes", () => {
  it("a write to one block of a region drops the region, and the new code runs", () => {
    const ms = both((m) => {
      m.vectors();
      m.code(MAIN, twoBlockLoop(1000));
    });
    expect(runBoth(ms, MAIN)).toBe(1);
    const before = ms[1].core.jitStats();
    // B's "add x5, x5, x3" becomes "add x5, x5, #2" (the VMM's write path: writePhys).
    for (const m of ms) m.code(MAIN + 4 * 8, [A.addi(5, 5, 2)]);
    expect(runBoth(ms, MAIN)).toBe(1);
    const after = ms[1].core.jitStats();
    expect(ms[1].core.x(5)).toBe(2000n);
    expect(after.invalidatedPages).toBeGreaterThan(before.invalidatedPages);
    expect(after.regions).toBeGreaterThan(before.regions); // translated again
  });

  it("a store from inside the region to one of its blocks takes effect at once", () => {
    // A: add x0, x0, #1; subs x1, x1, #1; b B
    // B: cmp x1, #600; b.ne skip; str w9, [x8] (A's add becomes add x0, x0, #100); skip: cbnz x1, A; hvc #1
    const ms = both((m) => {
      m.vectors();
      const a = MAIN + 4 * (4 + 2);
      m.code(MAIN, [
        ...A.mov64(8, a).slice(0, 2),
        A.movz(9, A.addi(0, 0, 100) & 0xffff), A.movk(9, A.addi(0, 0, 100) >>> 16, 1),
        A.movz(1, 1000), A.movz(0, 0),
        A.addi(0, 0, 1), A.subsi(1, 1, 1), A.b(8),
        A.hvc(9),
        cmpi(1, 600), A.bcond(COND.NE, 8), A.strw(9, 8), A.cbnz(1, -28), A.hvc(1),
      ]);
    });
    expect(runBoth(ms, MAIN)).toBe(1);
    expect(ms[1].core.x(0)).toBe(400n + 600n * 100n);
    expect(ms[1].core.jitStats().invalidatedPages).toBeGreaterThan(0);
    expectRegion(ms[1]);
  });
});

describe("a region has an entry for each of its blocks", () => {
  it("calls entering it at different blocks each run from their own", () => {
    // FUNC: F1: add x0, x0, #1; b LOOP;  F2: add x0, x0, #10; b LOOP
    //       LOOP: add x0, x0, x2; b NEXT;  NEXT: subs x2, x2, #1; b.ne LOOP; ret
    const ms = both((m) => {
      m.vectors();
      m.code(FUNC, [
        A.addi(0, 0, 1), A.b(12),
        A.addi(0, 0, 10), A.b(4),
        A.addr(0, 0, 2), A.b(4),
        A.subsi(2, 2, 1), A.bcond(COND.NE, -12), A.ret(),
      ]);
      // main: x20 = F1, x21 = F2; 300 times: x2 = 5; blr x20; x2 = 3; blr x21
      m.code(MAIN, [
        ...A.mov64(20, FUNC), ...A.mov64(21, FUNC + 8), A.movz(0, 0), A.movz(9, 300),
        A.movz(2, 5), A.blr(20), A.movz(2, 3), A.blr(21), A.subsi(9, 9, 1), A.bcond(COND.NE, -20),
        A.hvc(1),
      ]);
    });
    expect(runBoth(ms, MAIN)).toBe(1);
    expect(ms[1].core.x(0)).toBe(300n * (1n + 15n + 10n + 6n));
    expectRegion(ms[1]);
  });
});
