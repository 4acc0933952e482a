// Modules compiled in the background (docs/jit.md, "When to translate"): the guest runs on
// interpreted while V8 compiles, and what it wrote meanwhile wins over what was translated.

import { describe, expect, it } from "vitest";
import { A, RAM_BASE, TestMachine, callLoop } from "../support/jit-machine.ts";

const MAIN = RAM_BASE + 0x1000;
const FUNC = RAM_BASE + 0x3000;

/** Returns to the event loop until the machine's background compiles are done (or 5 s pass). */
async function compiled(m: TestMachine): Promise<void> {
  const until = Date.now() + 5000;
  while (m.core.jitPending() && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
  expect(m.core.jitPending()).toBe(false);
}

function machine(): TestMachine {
  return new TestMachine(true, { enabled: true, threshold: 2, background: true, syncCompileBytes: 0 });
}

/** x0 = 100 calls of F, which returns 1 in x1. */
function program(m: TestMachine): void {
  m.code(FUNC, [A.movz(1, 1), A.ret()]);
  m.code(MAIN, callLoop(100, FUNC));
}

describe("background compilation", () => {
  it("installs a module once V8 has compiled it, and the guest runs it", async () => {
    const m = machine();
    program(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.x(0)).toBe(100n);
    // The blocks got hot and their module went off to compile: nothing is installed yet.
    expect(m.core.jitPending()).toBe(true);
    expect(m.core.jitStats().modules).toBe(0);
    expect(m.core.jitStats().blocks).toBe(0);
    await compiled(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.x(0)).toBe(100n);
    const s = m.core.jitStats();
    expect(s.blocks).toBeGreaterThan(0);
    expect(s.insnsJit).toBeGreaterThan(0n);
  });

  it("never installs a block whose page was written while it compiled", async () => {
    const m = machine();
    program(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.jitPending()).toBe(true);
    // F now returns 2: its translation (of "movz x1, #1") is in flight.
    m.code(FUNC, [A.movz(1, 2), A.ret()]);
    await compiled(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.x(0)).toBe(200n);
    expect(m.core.jitStats().invalidatedPages).toBeGreaterThan(0);
  });

  it("installs a module that compiled across an IC IALLU which changed none of its words", async () => {
    const m = machine();
    program(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.jitPending()).toBe(true);
    m.code(RAM_BASE, [A.icIallu(), A.hvc(2)]);
    expect(m.runToHvc(RAM_BASE)).toBe(2);
    await compiled(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.x(0)).toBe(100n);
    const s = m.core.jitStats();
    expect(s.flushes).toBe(0);
    expect(s.blocks).toBeGreaterThan(0);
    expect(s.insnsJit).toBeGreaterThan(0n);
  });

  it("never installs a block whose words changed behind the core's back before an IC IALLU", async () => {
    const m = machine();
    program(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.jitPending()).toBe(true);
    // F's translation is in flight; a raw write (no jitInvalidate) makes it return 3, and the
    // guest's IC IALLU must cancel it.
    const ram = m.core.ram();
    new DataView(ram.buffer).setUint32(ram.byteOffset + FUNC - RAM_BASE, A.movz(1, 3), true);
    m.code(RAM_BASE, [A.icIallu(), A.hvc(2)]);
    expect(m.runToHvc(RAM_BASE)).toBe(2);
    await compiled(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.x(0)).toBe(300n);
    expect(m.core.jitStats().invalidatedPages).toBeGreaterThan(0);
  });

  it("discards a module built before the code cache was dropped", async () => {
    const m = machine();
    program(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.jitPending()).toBe(true);
    const blocksBefore = m.core.jitStats().blocks;
    m.core.jitFlush();
    expect(m.core.jitStats().flushes).toBe(1);
    await compiled(m);
    // The next run installs nothing from the old module; the program still runs right, and
    // its blocks get hot and compile again.
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.x(0)).toBe(100n);
    expect(m.core.jitStats().blocks).toBe(blocksBefore);
    await compiled(m);
    expect(m.runToHvc(MAIN)).toBe(1);
    expect(m.core.x(0)).toBe(100n);
    expect(m.core.jitStats().blocks).toBeGreaterThan(0);
  });

  it("gives a module from before the flush none of the table slots newer blocks hold", async () => {
    const m = machine();
    program(m);
    // A second program whose function returns 7 (x0 = 700).
    const main2 = RAM_BASE + 0x5000;
    const func2 = RAM_BASE + 0x7000;
    m.code(func2, [A.movz(1, 7), A.ret()]);
    m.code(main2, callLoop(100, func2));
    expect(m.runToHvc(MAIN)).toBe(1); // module 1 compiling
    m.core.jitFlush(); // the cache is dropped
    expect(m.runToHvc(MAIN)).toBe(1); // module 2 (same blocks, the same slots) compiling
    await compiled(m);
    expect(m.runToHvc(MAIN)).toBe(1); // installs module 2 (module 1 is refused whole)
    expect(m.runToHvc(main2)).toBe(1); // module 3 compiling: it must not reuse module 2's slots
    await compiled(m);
    for (const [pc, want] of [[main2, 700n], [MAIN, 100n], [main2, 700n]] as const) {
      expect(m.runToHvc(pc)).toBe(1);
      expect(m.core.x(0)).toBe(want);
    }
    expect(m.core.jitStats().insnsJit).toBeGreaterThan(0n);
  });
});
