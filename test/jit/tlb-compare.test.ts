// The one-compare TLB (arm/core/tlb-compare.ts): data accesses compare the page address with a
// comparator per EL and access kind, into which everything that forces the slow path is folded.
// Each case folded in runs interpreted and translated; both must reach the expected state, and
// the same state.

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { A, COND, RAM_BASE, SR, both, type TestMachine } from "../support/jit-machine.ts";

const MAIN = RAM_BASE + 0x1000;
const EL0_CODE = RAM_BASE + 0x4000;
const DATA = RAM_BASE + 0x20_0000;
const TABLES = RAM_BASE + 0x70_0000; // as jit-machine.ts builds them
const TABLES2 = RAM_BASE + 0x60_0000; // a second tree (ASID 2): L0, L1, L2, one L3

const NG = 1n << 11n;
const AP_EL0_RW = 1n << 6n;
const AP_RO = 3n << 6n;
const AP_EL0_RO = AP_RO; // AP = 11: read-only at EL1 and EL0
const ATTR_DEVICE = 1n << 2n; // AttrIndx 1: Device-nGnRnE (jit-machine.ts's MAIR)

const ldpx = (rt: number, rt2: number, rn: number, imm = 0) => (0xa9400000 | (((imm >> 3) & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt) >>> 0;
const stpx = (rt: number, rt2: number, rn: number, imm = 0) => (0xa9000000 | (((imm >> 3) & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt) >>> 0;
/** LDUR Xt, [Xn, #simm9]. */
const ldurx = (rt: number, rn: number, imm: number) => (0xf8400000 | ((imm & 0x1ff) << 12) | (rn << 5) | rt) >>> 0;
/** ADD Xd, Xn, Xm, LSL #5. */
const addLsl5 = (rd: number, rn: number, rm: number) => (0x8b000000 | (rm << 16) | (5 << 10) | (rn << 5) | rd) >>> 0;
const msrTtbr0 = (rt: number) => A.msr(0, 2, 0, 0, rt);
const msrElr = (rt: number) => A.msr(0, 4, 0, 1, rt);
const msrSpsr = (rt: number) => A.msr(0, 4, 0, 0, rt);

function runBoth(machines: [TestMachine, TestMachine], pc: number): number {
  const [a, b] = machines;
  const ha = a.runToHvc(pc);
  const hb = b.runToHvc(pc);
  expect(hb).toBe(ha);
  expect(b.state()).toEqual(a.state());
  for (let off = 0; off < 0x6000; off += 8) expect(b.u64(DATA + off)).toBe(a.u64(DATA + off));
  expect(b.core.jitStats().insnsJit).toBeGreaterThan(0n);
  return ha;
}

/**
 * Builds a second table tree at TABLES2, a copy of jit-machine.ts's, in which the page at va
 * maps pa instead (with `attrs`).
 */
function secondTree(m: TestMachine, va: number, pa: number, attrs: bigint): void {
  const [l0, l1, l2, l3] = [TABLES2, TABLES2 + 0x1000, TABLES2 + 0x2000, TABLES2 + 0x3000];
  const i = (va - RAM_BASE) >> 21;
  const j = ((va - RAM_BASE) >> 12) & 511;
  for (let k = 0; k < 512; k++) {
    m.setU64(l0 + k * 8, 0n);
    m.setU64(l1 + k * 8, m.u64(TABLES + 0x1000 + k * 8));
    m.setU64(l2 + k * 8, m.u64(TABLES + 0x2000 + k * 8));
    m.setU64(l3 + k * 8, m.u64(TABLES + 0x3000 + i * 0x1000 + k * 8));
  }
  m.setU64(l0, BigInt(l1) | 3n);
  m.setU64(l1 + 2 * 8, BigInt(l2) | 3n);
  m.setU64(l2 + i * 8, BigInt(l3) | 3n);
  m.setU64(l3 + j * 8, BigInt(pa) | 3n | (1n << 10n) | (3n << 8n) | attrs);
}

describe("the one-compare TLB", () => {
  it("keeps non-global entries of one ASID away from another across ASID switches", () => {
    // The page at DATA is non-global: PA DATA + 0x1000 under ASID 1 (tree 1), PA DATA + 0x2000
    // under ASID 2 (tree 2). The loop switches back and forth, loading and storing through the
    // same VA each time; a comparator left open for the other ASID would reach the wrong page.
    const va = DATA;
    const [pa1, pa2] = [DATA + 0x1000, DATA + 0x2000];
    const count = 20;
    const ms = both((m) => {
      m.vectors();
      m.mmuOn();
      m.mapPage(va, pa1, NG);
      secondTree(m, va, pa2, NG);
      m.setU64(pa1, 1n);
      m.setU64(pa2, 1000n);
      m.code(MAIN, [
        ...A.mov64(10, BigInt(TABLES) | (1n << 48n)),
        ...A.mov64(11, BigInt(TABLES2) | (2n << 48n)),
        ...A.mov64(1, va),
        A.movz(0, 0),
        A.movz(2, count),
        msrTtbr0(10), A.isb(), // loop:
        A.ldrx(3, 1), A.addr(0, 0, 3), A.strx(2, 1, 8),
        msrTtbr0(11), A.isb(),
        A.ldrx(3, 1), A.addr(0, 0, 3), A.strx(2, 1, 16),
        A.subsi(2, 2, 1),
        A.bcond(COND.NE, -44),
        A.hvc(1),
      ]);
    });
    expect(runBoth(ms, MAIN)).toBe(1);
    for (const m of ms) {
      expect(m.core.x(0)).toBe(BigInt(count * 1001));
      expect([m.u64(pa1 + 8), m.u64(pa1 + 16), m.u64(pa2 + 8), m.u64(pa2 + 16)]).toEqual([1n, 0n, 0n, 1n]);
    }
  });

  it("denies EL0 what an entry filled at EL1 allows EL1 only, and stores to a read-only page", () => {
    // EL1 reads pages 0..2 (filling their entries), then ERETs to EL0, which loads and stores
    // each page in turn: pages 0 and 1 are EL0 read/write, page 2 is EL1-only (the load faults)
    // or read-only for both (the store faults).
    for (const [ap, faultWnR] of [[0n, 0n], [AP_EL0_RO, 1n]] as const) {
      const ms = both((m) => {
        m.vectors();
        m.mmuOn();
        m.mapPage(EL0_CODE, EL0_CODE); // EL0-executable (UXN = 0), EL1-only data
        m.mapPage(DATA, DATA, AP_EL0_RW);
        m.mapPage(DATA + 0x1000, DATA + 0x1000, AP_EL0_RW);
        m.mapPage(DATA + 0x2000, DATA + 0x2000, ap);
        for (let p = 0; p < 3; p++) m.setU64(DATA + p * 0x1000, BigInt(p + 1));
        m.code(MAIN, [
          ...A.mov64(1, DATA),
          A.movz(0, 0),
          A.ldrx(3, 1), A.addr(0, 0, 3), A.addi(1, 1, 0x800), A.addi(1, 1, 0x800),
          A.ldrx(3, 1), A.addr(0, 0, 3), A.addi(1, 1, 0x800), A.addi(1, 1, 0x800),
          A.ldrx(3, 1), A.addr(0, 0, 3),
          ...A.mov64(9, EL0_CODE),
          msrElr(9),
          A.movz(9, 0),
          msrSpsr(9), // EL0t
          A.eret(),
        ]);
        m.code(EL0_CODE, [
          ...A.mov64(1, DATA),
          A.movz(2, 3),
          A.ldrx(3, 1), // loop:
          A.addr(0, 0, 3),
          A.strx(0, 1, 8),
          A.addi(1, 1, 0x800), A.addi(1, 1, 0x800),
          A.subsi(2, 2, 1),
          A.bcond(COND.NE, -24),
          A.hvc(1),
        ]);
      });
      // A data abort from EL0: vector "lower EL, AArch64, synchronous" (entry 8).
      expect(runBoth(ms, MAIN)).toBe(0x108);
      const [interp] = ms;
      expect(interp.core.sysregSlot(SR.FAR)).toBe(BigInt(ap === 0n ? DATA + 0x2000 : DATA + 0x2008));
      const esr = interp.core.sysregSlot(SR.ESR);
      expect(esr >> 26n).toBe(0x24n); // data abort from a lower EL
      expect((esr >> 6n) & 1n).toBe(faultWnR);
      expect(esr & 0x3cn).toBe(0xcn); // permission fault
    }
  });

  it("sends stores to a page holding translated code through the slow path", () => {
    // Each iteration rewrites the MOVZ of a function in the loop's own page (no cache
    // maintenance: this core keeps instruction fetches coherent with stores, translated or not)
    // and calls it: a store that went straight to RAM would leave the old translation running.
    const func = MAIN + 0x800;
    const movz5 = A.movz(5, 0);
    const ms = both((m) => {
      m.vectors();
      m.mmuOn();
      m.code(func, [A.movz(5, 0), A.ret()]);
      m.code(MAIN, [
        ...A.mov64(20, func),
        A.movz(2, 30),
        A.movz(0, 0),
        A.movz(6, movz5 & 0xffff), // loop: w6 = "movz x5, #x2"
        A.movk(6, movz5 >>> 16, 1),
        addLsl5(6, 6, 2), // the immediate field starts at bit 5
        A.strw(6, 20),
        A.blr(20),
        A.addr(0, 0, 5),
        A.subsi(2, 2, 1),
        A.bcond(COND.NE, -28),
        A.hvc(1),
      ]);
    });
    expect(runBoth(ms, MAIN)).toBe(1);
    for (const m of ms) expect(m.core.x(0)).toBe(BigInt(30 * 31 / 2));
  });

  it("keeps Device memory off the fast path: aligned accesses work, an unaligned one faults", () => {
    const ms = both((m) => {
      m.vectors();
      m.mmuOn();
      m.mapPage(DATA, DATA, ATTR_DEVICE);
      for (let i = 0; i < 16; i++) m.setU64(DATA + i * 8, BigInt(i * 5 + 1));
      m.code(MAIN, [
        ...A.mov64(1, DATA),
        A.movz(2, 16),
        A.movz(0, 0),
        A.ldrx(3, 1), // loop:
        A.addr(0, 0, 3),
        A.strx(0, 1),
        A.addi(1, 1, 8),
        A.subsi(2, 2, 1),
        A.bcond(COND.NE, -20),
        ldurx(3, 1, -4), // unaligned: alignment fault on Device memory
        A.hvc(1),
      ]);
    });
    // Data abort at the same EL (entry 4, current EL with SP_ELx).
    expect(runBoth(ms, MAIN)).toBe(0x104);
    const [interp] = ms;
    expect(interp.core.sysregSlot(SR.ESR) & 0x3fn).toBe(0x21n);
    expect(interp.core.sysregSlot(SR.FAR)).toBe(BigInt(DATA + 0x80 - 4));
    expect(interp.u64(DATA + 15 * 8)).toBe(BigInt((16 * 15 / 2) * 5 + 16));
  });

  for (const mmu of [true, false]) {
    it(`does unaligned and page-crossing singles and pairs as interpreted (MMU ${mmu ? "on" : "off"})`, () => {
      // x1 walks from 24 bytes before a page boundary in steps of 4: aligned, unaligned and
      // page-crossing LDR, LDP and STP. With the MMU on, the next page maps elsewhere (a fast
      // path that let a pair cross would reach the physically next page); with the MMU off
      // (Device memory) the first unaligned access faults.
      const ms = both((m) => {
        m.vectors();
        if (mmu) {
          m.mmuOn();
          m.mapPage(DATA + 0x1000, DATA + 0x3000);
        }
        for (let i = 0; i < 0x4000; i += 8) m.setU64(DATA + i, BigInt(i * 3 + 7));
        m.code(MAIN, [
          ...A.mov64(1, DATA + 0x1000 - 24),
          A.movz(2, 10),
          A.movz(0, 0),
          A.ldrx(3, 1), // loop:
          A.addr(0, 0, 3),
          ldpx(4, 5, 1),
          A.addr(0, 0, 4),
          A.addr(0, 0, 5),
          stpx(0, 3, 1, 0x100 - 0x100),
          A.addi(1, 1, 4),
          A.subsi(2, 2, 1),
          A.bcond(COND.NE, -36),
          A.hvc(1),
        ]);
      });
      expect(runBoth(ms, MAIN)).toBe(mmu ? 1 : 0x104);
      if (!mmu) expect(ms[0].core.sysregSlot(SR.ESR) & 0x3fn).toBe(0x21n);
      else expect(ms[0].core.x(2)).toBe(0n);
    });
  }
});

void abi;
