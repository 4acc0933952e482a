// A loop block's memory access sites run many times with addresses that change (docs/jit.md,
// "What an instruction becomes"; loop blocks once cached each site's last page in locals).
// Accesses that move to another page, become misaligned or fault must still behave exactly as
// interpreted.

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { A, RAM_BASE, SR, both, type TestMachine } from "../support/jit-machine.ts";

const CODE = RAM_BASE + 0x1000;
const DATA = RAM_BASE + 0x20_0000;


/** x1 walks from DATA by `step` bytes, `count` times: x0 += [x1] (8 bytes); [x1 + 8] = x0. */
function walk(step: number, count: number): number[] {
  return [
    ...A.mov64(1, DATA),
    A.movz(0, 0),
    A.movz(2, count),
    A.ldrx(3, 1), // loop:
    A.addr(0, 0, 3),
    A.strx(0, 1, 8),
    A.addi(1, 1, step),
    A.subsi(2, 2, 1),
    A.bcond(1, -20), // b.ne loop
    A.hvc(1),
  ];
}

/** x1 = DATA, advancing by 0, 4, 8, … bytes: x0 += [x1], `count` times (misaligned at the third). */
function growing(count: number): number[] {
  return [
    ...A.mov64(1, DATA),
    A.movz(0, 0),
    A.movz(2, count),
    A.movz(5, 0),
    A.ldrx(3, 1), // loop:
    A.addr(0, 0, 3),
    A.addr(1, 1, 5),
    A.addi(5, 5, 4),
    A.subsi(2, 2, 1),
    A.bcond(1, -20), // b.ne loop
    A.hvc(1),
  ];
}

function runBoth(setup: (m: TestMachine) => void, minTranslated = 100n): [TestMachine, TestMachine] {
  const machines = both((m) => {
    m.vectors();
    for (let i = 0; i < 0x3000; i += 8) m.setU64(DATA + i, BigInt(i * 7 + 1));
    setup(m);
  });
  const stops = machines.map((m) => m.runToHvc(CODE));
  expect(stops[1]).toBe(stops[0]);
  expect(machines[1].state()).toEqual(machines[0].state());
  for (let i = 0; i < 0x3000; i += 8) expect(machines[1].u64(DATA + i)).toBe(machines[0].u64(DATA + i));
  expect(machines[1].core.jitStats().insnsJit).toBeGreaterThan(minTranslated);
  return machines;
}

describe("loop blocks' memory accesses", () => {
  it("follows an access across page boundaries", () => {
    const [, jit] = runBoth((m) => {
      m.mmuOn();
      m.code(CODE, walk(0x100, 40)); // three pages
    });
    expect(jit.runToHvc(CODE)).toBe(1);
  });

  it("does not take a misaligned access in a page the TLB holds for an aligned one", () => {
    for (const mmu of [true, false]) {
      // MMU on: Normal memory, misaligned accesses are allowed (the handler does them); MMU
      // off: Device memory, the first misaligned access takes an alignment fault.
      // The first access fills the TLB, the second hits it, the third is misaligned in the
      // same page.
      const [interp] = runBoth((m) => {
        if (mmu) m.mmuOn();
        m.code(CODE, growing(40));
      }, mmu ? 100n : 0n);
      expect(interp.core.x(2)).toBe(mmu ? 0n : 38n);
    }
  });

  it("faults precisely when the access moves to an unmapped page", () => {
    const [interp] = runBoth((m) => {
      m.mmuOn();
      // Unmap the third page: the walk faults there, after two pages' worth of iterations.
      const l3 = RAM_BASE + 0x70_0000 + 0x3000 + ((DATA - RAM_BASE) >> 21) * 0x1000 + (((DATA + 0x2000 - RAM_BASE) >> 12) & 511) * 8;
      m.setU64(l3, 0n);
      m.code(CODE, walk(0x100, 40));
    });
    expect(interp.core.sysregSlot(SR.FAR)).toBe(BigInt(DATA + 0x2000));
  });
});

describe("a loop block's slow path", () => {
  it("leaves SP right when an access from EL0 faults into EL1 (SP is banked)", () => {
    // EL0, MMU off (Device memory): the loop moves SP and loads at x1, which is misaligned at
    // the second iteration; the alignment fault enters EL1, whose vector stops with HVC #0x108.
    const machines = both((m) => {
      m.vectors();
      m.code(CODE, [
        ...A.mov64(1, DATA),
        A.movz(2, 40),
        A.subi(31, 31, 16), // loop: sub sp, sp, #16
        A.ldrx(3, 1),
        A.addi(1, 1, 4),
        A.subsi(2, 2, 1),
        A.bcond(1, -16), // b.ne loop
        A.hvc(1),
      ]);
      m.core.setStateU64(abi.SP_EL1, BigInt(RAM_BASE + 0x40_0000));
      m.core.setStateU32(abi.PSTATE_EL, 0);
      m.core.setStateU32(abi.PSTATE_SPSEL, 0);
      m.core.sp = BigInt(RAM_BASE + 0x30_0000);
    });
    for (const m of machines) expect(m.runToHvc(CODE)).toBe(0x108);
    const [interp, jit] = machines;
    expect(jit.state()).toEqual(interp.state());
    expect(jit.core.stateU64(abi.SP_EL0)).toBe(interp.core.stateU64(abi.SP_EL0));
    expect(interp.core.stateU64(abi.SP_EL0)).toBe(BigInt(RAM_BASE + 0x30_0000 - 32));
    expect(interp.core.sp).toBe(BigInt(RAM_BASE + 0x40_0000));
  });
});
