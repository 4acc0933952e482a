// Translated code stays correct when what it was translated from changes, and it stays precise
// and interruptible (docs/jit.md, Invalidation and Where blocks run). Every scenario runs
// interpreted and with the JIT forced on (every block translated before it first runs); both
// must reach the expected state, and the same state.

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { A, COND, CNTV_CTL, CNTV_CVAL, MMIO_BASE, MMIO_READ_BASE, RAM_BASE, SR, VBAR, both, type TestMachine } from "../support/jit-machine.ts";

const MAIN = RAM_BASE + 0x1000;
const FUNC = RAM_BASE + 0x3000;
const DATA = RAM_BASE + 0x20_0000;

/** Runs both machines to their HVC and checks they stopped at the same one with the same state. */
function runBoth(machines: [TestMachine, TestMachine], pc: number): number {
  const [a, b] = machines;
  const ha = a.runToHvc(pc);
  const hb = b.runToHvc(pc);
  expect(hb).toBe(ha);
  expect(b.state()).toEqual(a.state());
  expect(b.core.jitStats().insnsJit).toBeGreaterThan(0n);
  return ha;
}

describe("self-modifying code", () => {
  // main: x0 = F(); x21 = x0; F[0] = "movz x0, #2"; DSB; IC IVAU F; DSB; ISB; x0 = F(); HVC #1
  const program = (m: TestMachine, mmu: boolean) => {
    m.vectors();
    if (mmu) m.mmuOn();
    m.code(FUNC, [A.movz(0, 1), A.ret()]);
    m.code(MAIN, [
      ...A.mov64(20, FUNC),
      A.blr(20),
      A.addi(21, 0, 0),
      A.movz(1, A.movz(0, 2) & 0xffff), A.movk(1, A.movz(0, 2) >>> 16, 1),
      A.strw(1, 20),
      A.dsb(), A.icIvau(20), A.dsb(), A.isb(),
      A.blr(20),
      A.hvc(1),
    ]);
  };

  for (const mmu of [false, true]) {
    it(`a store, IC IVAU and a call run the new code (MMU ${mmu ? "on" : "off"})`, () => {
      const ms = both((m) => program(m, mmu));
      expect(runBoth(ms, MAIN)).toBe(1);
      const [, jit] = ms;
      expect(jit.core.x(21)).toBe(1n);
      expect(jit.core.x(0)).toBe(2n);
      expect(jit.core.jitStats().invalidatedPages).toBeGreaterThan(0);
    });
  }

  it("a store to a later instruction of the running block takes effect", () => {
    // x2 = &insn[5]; w1 = "movz x0, #7"; str w1, [x2]; nop; (insn 5) movz x0, #1; hvc #1
    const ms = both((m) => {
      m.vectors();
      const at = MAIN + 4 * 7;
      m.code(MAIN, [
        ...A.mov64(2, at).slice(0, 2),
        A.movz(1, A.movz(0, 7) & 0xffff), A.movk(1, A.movz(0, 7) >>> 16, 1),
        A.strw(1, 2),
        A.nop(), A.nop(),
        A.movz(0, 1),
        A.hvc(1),
      ]);
    });
    runBoth(ms, MAIN);
    expect(ms[1].core.x(0)).toBe(7n);
  });

  // The VMM writes code behind the core's back (no jitInvalidate), then the guest runs IC.
  for (const ic of ["IC IVAU", "IC IALLU"] as const) {
    it(`${ic} drops a translation the core did not see being overwritten`, () => {
      const ms = both((m) => {
        m.vectors();
        m.code(FUNC, [A.movz(0, 1), A.ret()]);
        m.code(MAIN, [
          ...A.mov64(20, FUNC),
          A.blr(20), // translated now, in JIT mode
          A.hvc(1), // the test rewrites FUNC here
          A.dsb(), ic === "IC IVAU" ? A.icIvau(20) : A.icIallu(), A.dsb(), A.isb(),
          A.blr(20),
          A.hvc(2),
        ]);
      });
      for (const m of ms) {
        expect(m.runToHvc(MAIN)).toBe(1);
        // A raw write into RAM, as a buggy DMA path would do: no invalidation.
        new DataView(m.core.ram().buffer).setUint32(m.core.ram().byteOffset + FUNC - RAM_BASE, A.movz(0, 3), true);
        expect(m.runToHvc(Number(m.core.pc))).toBe(2);
        expect(m.core.x(0)).toBe(3n);
      }
      expect(ms[1].state()).toEqual(ms[0].state());
    });
  }

  it("IC IALLU drops only the pages whose translated words changed; the other translations stay", () => {
    const FUNC2 = RAM_BASE + 0x5000;
    const ms = both((m) => {
      m.vectors();
      m.code(FUNC, [A.movz(0, 1), A.ret()]);
      m.code(FUNC2, [A.movz(1, 5), A.ret()]);
      m.code(MAIN, [
        ...A.mov64(20, FUNC), ...A.mov64(22, FUNC2),
        A.blr(20), A.blr(22),
        A.hvc(1), // the test rewrites FUNC's first word, and FUNC2's with the same word
        A.dsb(), A.icIallu(), A.dsb(), A.isb(),
        A.blr(20), A.blr(22),
        A.hvc(2),
      ]);
    });
    for (const m of ms) {
      expect(m.runToHvc(MAIN)).toBe(1);
      const dv = new DataView(m.core.ram().buffer);
      dv.setUint32(m.core.ram().byteOffset + FUNC - RAM_BASE, A.movz(0, 3), true);
      dv.setUint32(m.core.ram().byteOffset + FUNC2 - RAM_BASE, A.movz(1, 5), true);
      expect(m.runToHvc(Number(m.core.pc))).toBe(2);
      expect(m.core.x(0)).toBe(3n);
      expect(m.core.x(1)).toBe(5n);
    }
    expect(ms[1].state()).toEqual(ms[0].state());
    const stats = ms[1].core.jitStats();
    expect(stats.icInvalidateAll).toBe(1);
    expect(stats.flushes).toBe(0);
    expect(stats.invalidatedPages).toBe(1); // FUNC's page; FUNC2's and MAIN's blocks stay
  });

  it("without IC the stale translation survives such a write (which is why the IC hooks matter)", () => {
    const [, jit] = both((m) => {
      m.vectors();
      m.code(FUNC, [A.movz(0, 1), A.ret()]);
      m.code(MAIN, [...A.mov64(20, FUNC), A.blr(20), A.hvc(1), A.blr(20), A.hvc(2)]);
    });
    expect(jit.runToHvc(MAIN)).toBe(1);
    new DataView(jit.core.ram().buffer).setUint32(jit.core.ram().byteOffset + FUNC - RAM_BASE, A.movz(0, 3), true);
    expect(jit.runToHvc(Number(jit.core.pc))).toBe(2);
    expect(jit.core.x(0)).toBe(1n);
  });

  it("the VMM's writes through writePhys drop translations", () => {
    const [, jit] = both((m) => {
      m.vectors();
      m.code(FUNC, [A.movz(0, 1), A.ret()]);
      m.code(MAIN, [...A.mov64(20, FUNC), A.blr(20), A.hvc(1), A.blr(20), A.hvc(2)]);
    });
    expect(jit.runToHvc(MAIN)).toBe(1);
    jit.code(FUNC, [A.movz(0, 4)]);
    expect(jit.runToHvc(Number(jit.core.pc))).toBe(2);
    expect(jit.core.x(0)).toBe(4n);
  });
});

describe("remapping", () => {
  it("a code page remapped to another physical page runs the new page's code", () => {
    const VA = RAM_BASE + 0x10_000;
    const PA2 = RAM_BASE + 0x11_000;
    const ms = both((m) => {
      m.vectors();
      m.mmuOn();
      m.code(VA, [A.movz(0, 1), A.ret()]); // flat: VA's page is PA1 = VA
      m.code(PA2, [A.movz(0, 2), A.ret()]);
      // The L3 entry for VA and the descriptor that maps it to PA2.
      const l3 = m.l3Entry(VA);
      const desc = BigInt(PA2) | 3n | (1n << 10n) | (3n << 8n);
      m.code(MAIN, [
        ...A.mov64(20, VA),
        A.blr(20),
        A.addi(21, 0, 0),
        ...A.mov64(2, l3),
        ...A.mov64(3, desc),
        A.strx(3, 2),
        A.dsb(), A.tlbiVmalle1(), A.dsb(), A.isb(),
        A.blr(20),
        A.hvc(1),
      ]);
    });
    runBoth(ms, MAIN);
    expect(ms[1].core.x(21)).toBe(1n);
    expect(ms[1].core.x(0)).toBe(2n);
  });
});

describe("exceptions inside translated loops are precise", () => {
  it("a load that faults mid-loop reports its own PC, ESR and FAR, with the loop's registers as they were", () => {
    const HOLE = DATA + 0x3000; // unmapped page
    const ms = both((m) => {
      m.vectors();
      m.mmuOn();
      m.unmapPage(HOLE);
      for (let i = 0; i < 0x3000; i += 8) m.setU64(DATA + i, BigInt(i));
      m.code(MAIN, [
        ...A.mov64(1, DATA),
        A.movz(2, 0), // count
        A.movz(4, 0), // sum
        // loop: ldr x3, [x1], #8; add x4, x4, x3; add x2, x2, #1; b loop
        A.ldrxPost(3, 1, 8),
        A.addr(4, 4, 3),
        A.addi(2, 2, 1),
        A.b(-12),
      ]);
    });
    // The fault goes to the current-EL SPx synchronous vector (entry 4): HVC #0x104.
    expect(runBoth(ms, MAIN)).toBe(0x104);
    const c = ms[1].core;
    const loadPc = BigInt(MAIN + 4 * 6);
    expect(c.sysregSlot(SR.ELR)).toBe(loadPc);
    expect(Number(c.sysregSlot(SR.ESR)) >>> 26).toBe(0x25); // data abort, current EL
    expect(Number(c.sysregSlot(SR.ESR)) & 0x3f).toBe(0x07); // translation fault, level 3
    expect(c.sysregSlot(SR.FAR)).toBe(BigInt(HOLE));
    expect(c.x(1)).toBe(BigInt(HOLE)); // post-index writeback did not happen
    expect(c.x(2)).toBe(0x3000n / 8n);
    expect(c.x(4)).toBe(((0x3000n / 8n) * (0x3000n - 8n)) / 2n);
  });
});

describe("MMIO from translated code", () => {
  for (const mmu of [false, true]) {
    it(`reaches the device in program order with the values it returns (MMU ${mmu ? "on" : "off"})`, () => {
      const ms = both((m) => {
        m.vectors();
        if (mmu) m.mmuOn();
        m.code(MAIN, [
          ...A.mov64(1, MMIO_BASE),
          A.movz(2, 5), // iterations
          A.movz(4, 0),
          // loop: str x2, [x1, #8]; ldr x3, [x1, #16]; add x4, x4, x3; subs x2, x2, #1; b.ne loop
          A.strx(2, 1, 8),
          A.ldrx(3, 1, 16),
          A.addr(4, 4, 3),
          A.subsi(2, 2, 1),
          A.bcond(COND.NE, -16),
          A.hvc(1),
        ]);
      });
      runBoth(ms, MAIN);
      const [interp, jit] = ms;
      expect(jit.mmio).toEqual(interp.mmio);
      expect(jit.mmio.length).toBe(10);
      expect(jit.mmio[0]).toEqual({ gpa: MMIO_BASE + 8, lengthBytes: 8, isWrite: true, value: 5n });
      expect(jit.core.x(4)).toBe(5n * (MMIO_READ_BASE + 16n));
    });
  }
});

describe("translated loops stay interruptible", () => {
  it("a timer interrupt ends a tight translated loop", () => {
    const CVAL = 50; // the counter moves one tick per read: fires about 50 polls in
    const ms = both((m) => {
      m.vectors();
      // IRQ, current EL with SPx (entry 5): x9 = 1, disable the timer, ERET.
      m.code(VBAR + 0x280, [A.movz(9, 1), A.msr(...CNTV_CTL, 31), A.eret()]);
      m.code(MAIN, [
        A.movz(9, 0),
        A.movz(1, CVAL), A.msr(...CNTV_CVAL, 1),
        A.movz(1, 1), A.msr(...CNTV_CTL, 1), // enabled, unmasked
        A.daifClr(2), // PSTATE.I = 0
        A.cbz(9, 0), // the loop: one instruction branching to itself
        A.hvc(1),
      ]);
    });
    const reports: string[][] = [];
    for (const m of ms) {
      const log: string[] = [];
      const c = m.core;
      c.pc = BigInt(MAIN);
      m.autoTick = true;
      for (let i = 0; i < 100; i++) {
        const exit = c.run(1_000_000);
        log.push(`${exit}:${c.exitInsns}`);
        if (exit === abi.EXIT_HVC) break;
        expect(exit).toBe(abi.EXIT_TIMER);
        c.setIrqLines(c.timerOutputs() & 1); // the VMM routes CNTV to the GIC, which raises IRQ
      }
      expect(c.exitImm).toBe(1);
      expect(c.x(9)).toBe(1n);
      // The interrupt was taken in the loop.
      expect(c.sysregSlot(SR.ELR)).toBe(BigInt(MAIN + 4 * 6));
      reports.push(log);
    }
    // The timer fired mid-run (the loop did not run the whole budget), then the interrupt
    // was taken and the guest went on. (Instruction counts differ a little: the counter moves
    // on every read, and eager translation re-enters run(), which reads it.)
    for (const log of reports) {
      expect(log.map((e) => e.split(":")[0])).toEqual(["9", "9", "2"]);
      expect(Number(log[0]!.split(":")[1])).toBeLessThan(1_000_000);
    }
    expect(ms[1].core.jitStats().insnsJit).toBeGreaterThan(10_000n);
  });

  it("a loop whose back-edge is in the middle of its block retires exactly its budget", () => {
    // A block goes on past a conditional branch that is not taken, so the block at the loop
    // head runs "subs; b.ne loop" and then the code after the loop: one more iteration may
    // run the whole block, and must fit.
    const ms = both((m) => {
      m.vectors();
      m.code(MAIN, [
        A.movz(0, 3000),
        A.subsi(0, 0, 1), // loop:
        A.bcond(COND.NE, -4),
        ...Array.from({ length: 20 }, (_, i) => A.addi(1 + (i % 5), 1 + (i % 5), i + 1)),
        A.hvc(1),
      ]);
    });
    for (const m of ms) {
      m.core.pc = BigInt(MAIN);
      let total = 0;
      for (const budget of [1, 2, 3, 7, 1000, 1001, 12, 999, 1500]) {
        const exit = m.core.run(budget);
        total += m.core.exitInsns;
        if (exit === abi.EXIT_HVC) break;
        expect(exit).toBe(abi.EXIT_BUDGET);
        expect(m.core.exitInsns).toBe(budget);
      }
      expect(m.runToHvc(Number(m.core.pc))).toBe(1);
    }
    expect(ms[1].state()).toEqual(ms[0].state());
    expect(ms[1].core.x(1)).toBe(1n + 6n + 11n + 16n);
  });

  it("blocks that call each other directly retire exactly their budget", () => {
    // loop: add x0, x0, #1; b next; next: subs x1, x1, #1; b.ne loop: two blocks of one page,
    // each ending in a branch to the other, which become direct calls (docs/jit.md, Chaining).
    const ms = both((m) => {
      m.vectors();
      m.code(MAIN, [A.movz(1, 5000), A.addi(0, 0, 1), A.b(4), A.subsi(1, 1, 1), A.bcond(COND.NE, -12), A.hvc(1)]);
    });
    for (const m of ms) {
      m.core.pc = BigInt(MAIN);
      for (const budget of [1, 2, 3, 7, 1000, 1001, 12, 999, 1500]) {
        expect(m.core.run(budget)).toBe(abi.EXIT_BUDGET);
        expect(m.core.exitInsns).toBe(budget);
      }
      expect(m.runToHvc(Number(m.core.pc))).toBe(1);
    }
    expect(ms[1].state()).toEqual(ms[0].state());
    expect(ms[1].core.x(0)).toBe(5000n);
    expect(ms[1].core.jitStats().chains).toBeGreaterThan(0);
  });

  it("a run of a translated loop retires exactly its budget", () => {
    const ms = both((m) => {
      m.vectors();
      // x0 counts down from 2^20: subs x0, x0, #1; b.ne
      m.code(MAIN, [A.movz(0, 16, 1), A.subsi(0, 0, 1), A.bcond(COND.NE, -4), A.hvc(1)]);
    });
    for (const m of ms) {
      m.core.pc = BigInt(MAIN);
      for (const budget of [1, 2, 3, 1000, 12345]) {
        expect(m.core.run(budget)).toBe(abi.EXIT_BUDGET);
        expect(m.core.exitInsns).toBe(budget);
      }
    }
    expect(ms[1].state()).toEqual(ms[0].state());
  });
});

describe("loop blocks keep registers in wasm locals", () => {
  it("and stay exact around the handler, TLB misses, MMIO and the flags", () => {
    const ms = both((m) => {
      m.vectors();
      for (let i = 0; i < 0x800; i += 8) m.setU64(DATA + i, BigInt(i) * 0x9e3779b97f4a7c15n);
      m.code(MAIN, [
        ...A.mov64(1, DATA), // source, post-incremented
        ...A.mov64(4, MMIO_BASE), // a device register
        A.movz(3, 0xffff), // crc
        A.movz(5, 0), // sum
        A.movz(6, 200), // iterations
        // loop: ldr x2, [x1], #8; crc32x w3, w3, x2 (through the handler); str x2, [x4] (MMIO:
        // the miss path); add x5, x5, x2; mrs x7, nzcv; subs x6, x6, #1; b.ne loop
        A.ldrxPost(2, 1, 8),
        0x9ac24c63,
        A.strx(2, 4),
        A.addr(5, 5, 2),
        0xd53b4207,
        A.subsi(6, 6, 1),
        A.bcond(COND.NE, -24),
        A.hvc(1),
      ]);
    });
    runBoth(ms, MAIN);
    const [interp, jit] = ms;
    expect(jit.mmio).toEqual(interp.mmio);
    expect(jit.mmio.length).toBe(200);
    expect(jit.core.x(6)).toBe(0n);
  });
});
