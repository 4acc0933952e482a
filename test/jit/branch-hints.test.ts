// Branch hints (arm/core/jit/branch-hints.ts): generated modules carry a
// `metadata.code.branch_hint` section marking each TLB probe's fast path likely, and in loop
// blocks the back-edge likely and branches out of the loop unlikely. The hints
// must name `if`s of the right functions (else V8 drops the section or mis-hints another
// branch), and a loop that runs through the hinted probes, missing the TLB on every new page
// and going on looping, must end as the interpreter does, long enough for V8's tier-up (the
// only compiler that reads the hints); so must a region's.

import { describe, expect, it } from "vitest";
import { A, COND, RAM_BASE, TestMachine, both } from "../support/jit-machine.ts";

const MAIN = RAM_BASE + 0x1000;
const DATA = RAM_BASE + 0x20_0000;
const PAGES = 32;

/** Unsigned LEB128 at p: [value, next position]. */
function leb(b: Uint8Array, p: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const x = b[p++]!;
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if ((x & 0x80) === 0) return [v, p];
  }
}

interface Hint { func: number; offset: number; value: number }

/** The module's branch hints, and where each function body (its locals first) starts. */
function parseModule(b: Uint8Array): { hints: Hint[]; importedFuncs: number; bodies: number[] } {
  const hints: Hint[] = [];
  const bodies: number[] = [];
  let importedFuncs = 0;
  let p = 8;
  while (p < b.length) {
    const id = b[p++]!;
    let size: number;
    [size, p] = leb(b, p);
    const end = p + size;
    if (id === 0) {
      let n: number;
      let q: number;
      [n, q] = leb(b, p);
      const name = new TextDecoder().decode(b.subarray(q, q + n));
      q += n;
      if (name === "metadata.code.branch_hint") {
        let funcs: number;
        [funcs, q] = leb(b, q);
        for (let f = 0; f < funcs; f++) {
          let func: number, count: number;
          [func, q] = leb(b, q);
          [count, q] = leb(b, q);
          for (let h = 0; h < count; h++) {
            let offset: number, length: number;
            [offset, q] = leb(b, q);
            [length, q] = leb(b, q);
            expect(length).toBe(1);
            hints.push({ func, offset, value: b[q++]! });
          }
        }
        expect(q).toBe(end);
      }
    } else if (id === 2) {
      let n: number;
      let q: number;
      [n, q] = leb(b, p);
      for (let i = 0; i < n; i++) {
        for (let s = 0; s < 2; s++) {
          let len: number;
          [len, q] = leb(b, q);
          q += len;
        }
        const kind = b[q++]!;
        if (kind === 0) { [, q] = leb(b, q); importedFuncs++; }
        else if (kind === 2) { const flags = b[q++]!; [, q] = leb(b, q); if (flags & 1) [, q] = leb(b, q); }
        else throw new Error(`import kind ${kind} not expected in a generated module`);
      }
    } else if (id === 10) {
      let n: number;
      let q: number;
      [n, q] = leb(b, p);
      for (let i = 0; i < n; i++) {
        let len: number;
        [len, q] = leb(b, q);
        bodies.push(q);
        q += len;
      }
    }
    p = end;
  }
  return { hints, importedFuncs, bodies };
}

/** Records the bytes of every module compiled while `run` runs. */
function modulesBuiltBy(run: () => void): Uint8Array[] {
  const seen: Uint8Array[] = [];
  const Original = WebAssembly.Module;
  WebAssembly.Module = class extends Original {
    constructor(bytes: BufferSource) {
      seen.push(new Uint8Array(bytes as ArrayBuffer | Uint8Array).slice());
      super(bytes);
    }
  } as typeof WebAssembly.Module;
  try {
    run();
  } finally {
    WebAssembly.Module = Original;
  }
  return seen;
}

/**
 * `passes` times: sums and rewrites every doubleword of PAGES pages (x0 the running sum, each
 * doubleword replaced by it), one loop block with a load and a store, whose probes miss once
 * per page per pass (the TLB entry for the page is filled by the miss path, mid-loop).
 */
function pagesLoop(passes: number): number[] {
  return [
    A.movz(0, 0),
    A.movz(4, passes),
    ...A.mov64(1, DATA), // outer:
    A.movz(2, (PAGES * 4096) / 8),
    A.ldrx(3, 1), // inner:
    A.addr(0, 0, 3),
    A.strx(0, 1),
    A.addi(1, 1, 8),
    A.subsi(2, 2, 1),
    A.bcond(COND.NE, -20),
    A.subsi(4, 4, 1),
    A.bcond(COND.NE, -(4 * (A.mov64(1, DATA).length + 8))),
    A.hvc(1),
  ];
}

/**
 * Checks every hint of the modules; returns how many mark a probe's `if` likely and how many a
 * `br_if`.
 */
function checkHints(modules: Uint8Array[]): { probes: number; backEdges: number } {
  let probes = 0;
  let backEdges = 0;
  for (const bytes of modules) {
    const { hints, importedFuncs, bodies } = parseModule(bytes);
    for (let i = 0; i < hints.length; i++) {
      const h = hints[i]!;
      const prev = hints[i - 1];
      // Functions ascending, offsets ascending within one (else V8 drops the section).
      if (prev) expect(h.func > prev.func || (h.func === prev.func && h.offset > prev.offset)).toBe(true);
      // V8 counts the offset from the body's start (its local declarations) to an `if` with
      // no result or a `br_if`; 1 says it usually takes its then-arm or branches, 0 not.
      const at = bodies[h.func - importedFuncs]! + h.offset;
      expect(bytes[at] === 0x0d || (bytes[at] === 0x04 && bytes[at + 1] === 0x40)).toBe(true);
      expect([0, 1]).toContain(h.value);
      if (bytes[at] === 0x04 && h.value === 1) probes++;
      if (bytes[at] === 0x0d) backEdges++;
    }
  }
  return { probes, backEdges };
}

describe("branch hints in generated modules", () => {
  it("name `if`s and `br_if`s of the functions that hold them: every TLB probe, loop back-edges", () => {
    const ms = both((m) => {
      m.mmuOn();
      m.code(MAIN, pagesLoop(2));
    });
    const modules = modulesBuiltBy(() => ms[1].runToHvc(MAIN));
    const { probes, backEdges } = checkHints(modules);
    expect(probes).toBeGreaterThanOrEqual(2); // the inner loop's load and store at least
    expect(backEdges).toBeGreaterThanOrEqual(1); // its back-edge
  });

  it("leave a loop whose probes miss on every new page as the interpreter does, after tier-up", () => {
    // 40 passes of 32 pages: about 3 M instructions, long enough for V8's dynamic tiering to
    // take the loop to TurboFan, the one compiler that reads the hints (the block returns to
    // the run loop every few thousand instructions, so later calls run what tier-up built).
    const ms = both((m) => {
      m.mmuOn();
      for (let i = 0; i < (PAGES * 4096) / 8; i++) m.setU64(DATA + i * 8, BigInt(i));
      m.code(MAIN, pagesLoop(40));
    });
    const [a, b] = ms;
    expect(a.runToHvc(MAIN, 10_000_000)).toBe(1);
    expect(b.runToHvc(MAIN, 10_000_000)).toBe(1);
    expect(b.state()).toEqual(a.state());
    for (let i = 0; i < (PAGES * 4096) / 8; i++) expect(b.u64(DATA + i * 8)).toBe(a.u64(DATA + i * 8));
    expect(b.core.jitStats().insnsJit).toBeGreaterThan(2_000_000n);
  });

  it("mark the probes of a region's members too, and the region runs as interpreted", () => {
    // A loop through two blocks of one page (a region: regions.test.ts), a load in one and a
    // store in the other:
    //   A: ldr x3, [x9]; add x0, x0, x3; subs x1, x1, #1; b B
    //      hvc #9
    //   B: str x0, [x9, #8]; b.ne A; hvc #1
    const program = [
      ...A.mov64(9, DATA), A.movz(1, 1000), A.movz(0, 0),
      A.ldrx(3, 9), A.addr(0, 0, 3), A.subsi(1, 1, 1), A.b(8),
      A.hvc(9),
      A.strx(0, 9, 8), A.bcond(COND.NE, -24), A.hvc(1),
    ];
    const interp = new TestMachine(false);
    const jit = new TestMachine(true, { enabled: true, threshold: 0, eager: true, regions: true });
    for (const m of [interp, jit]) {
      m.setU64(DATA, 7n);
      m.code(MAIN, program);
    }
    expect(interp.runToHvc(MAIN)).toBe(1);
    const modules = modulesBuiltBy(() => expect(jit.runToHvc(MAIN)).toBe(1));
    expect(jit.state()).toEqual(interp.state());
    expect(jit.u64(DATA + 8)).toBe(7000n);
    expect(jit.core.jitStats().regions).toBeGreaterThan(0);
    expect(checkHints(modules).probes).toBeGreaterThanOrEqual(2);
  });
});
