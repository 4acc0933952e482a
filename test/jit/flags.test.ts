// Lazy flags in translated code (docs/jit.md, "Flags"): a flag-setter followed by conditions
// read straight from its operands, by NZCV read whole, and by a block exit must give what the
// interpreter gives, for every condition, both widths and the edge values of each operation.

import { describe, expect, it } from "vitest";
import { A, RAM_BASE, both } from "./machine.ts";

const CODE = RAM_BASE + 0x1000;
const OUT = RAM_BASE + 0x10_0000;

const u = (x: number) => x >>> 0;
// Rd = Rn op Rm, 64-bit (sf) or 32-bit.
const SETTERS = {
  adds: (sf: number) => u(0x2b000000 | (sf << 31) | (1 << 16) | (0 << 5) | 2),
  subs: (sf: number) => u(0x6b000000 | (sf << 31) | (1 << 16) | (0 << 5) | 2),
  ands: (sf: number) => u(0x6a000000 | (sf << 31) | (1 << 16) | (0 << 5) | 2),
};
/** CSET Xd, cond (CSINC Xd, XZR, XZR, invert(cond)). */
const cset = (rd: number, cond: number) => u(0x9a9f07e0 | ((cond ^ 1) << 12) | rd);
/** CSEL Wd, Wn, Wm, cond. */
const cselW = (rd: number, rn: number, rm: number, cond: number) => u(0x1a800000 | (rm << 16) | (cond << 12) | (rn << 5) | rd);
const mrsNzcv = (rt: number) => A.mrs(rt, 3, 4, 2, 0);

const EDGES = [0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x1_0000_0000n, 0x7fffffff_ffffffffn, 0x80000000_00000000n, 0xffffffff_ffffffffn];

/**
 * setter; MRS SP_EL0; then for each condition: CSET x3 (through a pending or a materialized NZCV), stored
 * to OUT; CSEL of the condition on W registers; NZCV read whole; and the block ends with the
 * flags still pending (HVC), so the state area's NZCV is the materialized one.
 */
function program(setter: number): number[] {
  // MRS SP_EL0 is translated as an `if` with the handler on one arm: pending flags must
  // survive it on the other.
  const words = [...A.mov64(10, OUT), setter, A.mrs(6, 0, 4, 1, 0)];
  for (let cond = 0; cond < 16; cond++) words.push(cset(3, cond), A.strx(3, 10, cond * 8));
  words.push(cselW(4, 0, 1, 11), A.strx(4, 10, 128), mrsNzcv(5), A.strx(5, 10, 136));
  words.push(setter, A.hvc(1)); // pending at the exit
  return words;
}

describe("lazy flags", () => {
  for (const [name, setter] of Object.entries(SETTERS)) {
    for (const sf of [0, 1]) {
      it(`${name} (${sf ? "X" : "W"}) with every condition agrees with the interpreter`, () => {
        const machines = both((m) => m.code(CODE, program(setter(sf))));
        for (const a of EDGES) {
          for (const b of EDGES) {
            const results = machines.map((m) => {
              m.core.setX(0, a);
              m.core.setX(1, b);
              expect(m.runToHvc(CODE)).toBe(1);
              return [...Array(18).keys()].map((i) => m.u64(OUT + i * 8)).concat([BigInt(m.core.nzcv)]);
            });
            expect(results[1], `${name} ${a} ${b}`).toEqual(results[0]);
          }
        }
        expect(machines[1].core.jitStats().insnsJit).toBeGreaterThan(0n);
      });
    }
  }
});
