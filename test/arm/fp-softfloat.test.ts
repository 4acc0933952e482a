// The soft-float core's fused multiply-add rounds once: checked on our core alone (no qemu)
// with FMADD D0, D1, D2, D3, against hand-worked cases where rounding the product first
// would give another answer, and against an exact BigInt model for random normal operands.

import { describe, expect, it } from "vitest";
import { FPSR, makeCase, type V128 } from "../support/diff/case.ts";
import { runOnCore } from "../support/diff/core-runner.ts";
import { Rng } from "../support/diff/random.ts";

const FMADD_D0_D1_D2_D3 = 0x1f420c20; // fmadd d0, d1, d2, d3  (d1 * d2 + d3)
const M64 = (1n << 64n) - 1n;

function fmadd(n: bigint, m: bigint, a: bigint, fpcr = 0): { d0: bigint; fpsr: number } {
  const v: V128[] = Array.from({ length: 32 }, () => [0n, 0n] as V128);
  v[1] = [n, 0n];
  v[2] = [m, 0n];
  v[3] = [a, 0n];
  const r = runOnCore(makeCase([FMADD_D0_D1_D2_D3], { v, fpcr }));
  expect(r.signal).toBe(0);
  return { d0: r.v[0]![0], fpsr: r.fpsr };
}

/** A finite double as sign * mant * 2^exp with an integer mantissa. */
function decompose(bits: bigint): { mant: bigint; exp: bigint } {
  const sign = bits >> 63n ? -1n : 1n;
  const e = (bits >> 52n) & 0x7ffn;
  const f = bits & ((1n << 52n) - 1n);
  if (e === 0n) return { mant: sign * f, exp: -1074n };
  return { mant: sign * (f | (1n << 52n)), exp: e - 1075n };
}

/** Round-to-nearest-even of mant * 2^exp to a normal double, or undefined if it isn't one. */
function roundToDouble(mant: bigint, exp: bigint): bigint | undefined {
  if (mant === 0n) return undefined;
  const sign = mant < 0n ? 1n : 0n;
  let m = mant < 0n ? -mant : mant;
  let e = exp;
  const bitsOf = (x: bigint) => x.toString(2).length;
  let extra = BigInt(bitsOf(m) - 53);
  if (extra > 0n) {
    const rem = m & ((1n << extra) - 1n);
    const half = 1n << (extra - 1n);
    m >>= extra;
    e += extra;
    if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
    if (m === 1n << 53n) {
      m >>= 1n;
      e += 1n;
    }
  } else {
    m <<= -extra;
    e += extra;
  }
  const biased = e + 1075n;
  if (biased < 1n || biased > 2046n) return undefined;
  return (sign << 63n) | (biased << 52n) | (m & ((1n << 52n) - 1n));
}

describe("the soft-float FMA rounds once", () => {
  it("keeps the low product bits that a rounded product would lose", () => {
    // (1 + 2^-52)^2 = 1 + 2^-51 + 2^-104. Rounding the product first gives 1 + 2^-51, and
    // adding -(1 + 2^-51) would give +0; fused, the answer is exactly 2^-104.
    const onePlusUlp = 0x3ff0000000000001n;
    const r = fmadd(onePlusUlp, onePlusUlp, 0xbff0000000000002n);
    expect(r.d0.toString(16)).toBe(0x3970000000000000n.toString(16));
    expect(r.fpsr).toBe(0); // exact: no Inexact
  });

  it("rounds a tie that the addend breaks", () => {
    // (1 + 2^-52) * (1 - 2^-53) = 1 + 2^-53 - 2^-105: just below the midpoint between 1 and
    // 1 + 2^-52, so it rounds to 1.0 (the rounded product is 1.0, too). With the addend
    // 2^-105 the exact sum is the midpoint 1 + 2^-53, a tie that goes to even: 1.0; with
    // 2^-104 it is above the midpoint: 1 + 2^-52. A double-rounding FMA gets the second wrong.
    const a = 0x3ff0000000000001n;
    const b = 0x3fefffffffffffffn; // 1 - 2^-53
    expect(fmadd(a, b, 0x3960000000000000n).d0.toString(16)).toBe("3ff0000000000000");
    const r = fmadd(a, b, 0x3970000000000000n);
    expect(r.d0.toString(16)).toBe("3ff0000000000001");
    expect(r.fpsr).toBe(FPSR.IXC);
  });

  it("matches an exact BigInt model on random normal operands (round to nearest)", () => {
    const rng = new Rng("fma-model");
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      const rnd = (expLo: number, expHi: number) =>
        (BigInt(rng.below(2)) << 63n) | (BigInt(rng.range(expLo, expHi)) << 52n) | (rng.next64() & ((1n << 52n) - 1n));
      const n = rnd(1000, 1046);
      const m = rnd(1000, 1046);
      // An addend near the product so that cancellation happens often.
      const pe = Number(((n >> 52n) & 0x7ffn) + ((m >> 52n) & 0x7ffn)) - 1023;
      const a = rnd(pe - rng.range(0, 60), pe + rng.range(0, 3));
      const dn = decompose(n), dm = decompose(m), da = decompose(a);
      const pm = dn.mant * dm.mant;
      const pexp = dn.exp + dm.exp;
      const lo = pexp < da.exp ? pexp : da.exp;
      const sum = (pm << (pexp - lo)) + (da.mant << (da.exp - lo));
      const want = roundToDouble(sum, lo);
      if (want === undefined) continue;
      checked++;
      const got = fmadd(n, m, a).d0 & M64;
      if (got !== want) expect(`${n.toString(16)} * ${m.toString(16)} + ${a.toString(16)} = ${got.toString(16)}`).toBe(want.toString(16));
    }
    expect(checked).toBeGreaterThan(2500);
  });
});
