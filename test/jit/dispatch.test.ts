// The dispatcher (docs/jit.md, "Block to block"): a block that leaves for an address it could
// not chain to enters the next block itself, with the checks the run loop makes. Each scenario
// runs interpreted and translated (every block translated before it first runs); both must
// end in the same state.

import { describe, expect, it } from "vitest";
import { A, RAM_BASE, SR, both, callLoop, type TestMachine } from "../support/jit-machine.ts";

const MAIN = RAM_BASE + 0x1000;
const FUNC = RAM_BASE + 0x3000;
/** A second mapping of FUNC's physical page, not executable at EL1 (PXN). */
const FUNC_NX = RAM_BASE + 0x4000;
const PXN = 1n << 53n;


/** main: 1000 calls through `blr x20` of a function returning x0 + 1 in x1 (callLoop). */
function calls(m: TestMachine, target: number): void {
  m.code(FUNC, [A.addi(1, 0, 1), A.ret()]);
  m.code(MAIN, callLoop(1000, target));
}

describe("the dispatcher", () => {
  it("carries calls and returns between pages without the run loop", () => {
    const [interp, jit] = both((m) => {
      m.vectors();
      m.mmuOn();
      calls(m, FUNC);
    });
    expect(interp.runToHvc(MAIN)).toBe(1);
    expect(jit.runToHvc(MAIN)).toBe(1);
    expect(jit.state()).toEqual(interp.state());
    const s = jit.core.jitStats();
    expect(s.dispatches).toBeGreaterThan(1000n);
    expect(s.lookups).toBeLessThan(1000n);
  });

  it("retires exactly the budget it is given", () => {
    const [interp, jit] = both((m) => {
      m.vectors();
      m.mmuOn();
      calls(m, FUNC);
    });
    for (const m of [interp, jit]) {
      m.core.pc = BigInt(MAIN);
      for (let i = 0; i < 7; i++) m.core.run(333);
    }
    expect(jit.state()).toEqual(interp.state());
    expect(jit.core.insnsRetired).toBe(7n * 333n);
    expect(jit.core.jitStats().dispatches).toBeGreaterThan(0n);
  });

  it("does not enter a translated block through a mapping that may not execute it", () => {
    const [interp, jit] = both((m) => {
      m.vectors();
      m.mmuOn();
      m.mapPage(FUNC_NX, FUNC, PXN);
      calls(m, FUNC);
    });
    for (const m of [interp, jit]) {
      expect(m.runToHvc(MAIN)).toBe(1);
      // The same physical page, now through the PXN mapping (read first, so that the TLB holds
      // it): an instruction abort at FUNC_NX.
      m.code(RAM_BASE, [...A.mov64(20, FUNC_NX), A.ldrx(3, 20), A.blr(20), A.hvc(2)]);
      expect(m.runToHvc(RAM_BASE)).toBe(0x104); // current EL with SPx, synchronous
      expect(m.core.sysregSlot(SR.ELR)).toBe(BigInt(FUNC_NX));
      expect(Number(m.core.sysregSlot(SR.ESR) >> 26n)).toBe(0x21); // instruction abort, same EL
    }
    expect(jit.state()).toEqual(interp.state());
  });
});
