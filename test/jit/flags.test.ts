// Lazy flags in translated code (docs/jit.md, "Flags"): a flag-setter followed by conditions
// read straight from its operands, by NZCV read whole, and by a block exit must give what the
// interpreter gives, for every condition, both widths and the edge values of each operation.

import { describe, expect, it } from "vitest";
import { A, RAM_BASE, both } from "../support/jit-machine.ts";

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

describe("lazy flags around a loop", () => {
  for (const sf of [0, 1]) {
    it(`a loop block reads the flags its previous iteration left pending (${sf ? "X" : "W"})`, () => {
      // loop: x7 += NZCV; x9 += HI; x10 += GE; a load (its first run takes the slow path, with
      // the flags still the previous iteration's); adds x3, x3, x4; x2 -= 1; cbnz x2, loop.
      const adds = u(0x2b040063 | (sf << 31));
      const body = [
        mrsNzcv(6), A.addr(7, 7, 6),
        cset(8, 8), A.addr(9, 9, 8),
        cset(8, 10), A.addr(10, 10, 8),
        A.ldrx(11, 12),
        adds,
        A.subi(2, 2, 1),
      ];
      const program = [...A.mov64(12, OUT), A.movz(2, 200), ...body, A.cbnz(2, -4 * body.length), A.hvc(1)];
      const machines = both((m) => {
        m.code(CODE, program);
        m.core.setX(3, 0x7fff_fff0_0000_0000n);
        m.core.setX(4, 0x0000_0003_8000_0001n);
      });
      const states = machines.map((m) => {
        expect(m.runToHvc(CODE)).toBe(1);
        return m.state();
      });
      expect(states[1]).toEqual(states[0]);
      expect(machines[1].core.jitStats().insnsJit).toBeGreaterThan(1000n);
    });
  }
});
