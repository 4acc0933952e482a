// Seeded randomness for differential tests: a xoshiro256** generator seeded through
// splitmix64, "interesting" integer and floating-point values, and random initial states
// whose pointer registers point into the DATA region.

import { type Case, type V128, DATA_SIZE, DATA_VA, FPCR, FPSR, MAX_INSNS, makeCase } from "./case.ts";

const M64 = (1n << 64n) - 1n;

/** splitmix64 step: returns [next state, output]. Used to expand seeds. */
export function splitmix64(state: bigint): [bigint, bigint] {
  const s = (state + 0x9e3779b97f4a7c15n) & M64;
  let z = s;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return [s, z ^ (z >> 31n)];
}

const rotl32 = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * xoshiro128** PRNG (32-bit state words, so it runs on plain JS numbers), seeded through
 * splitmix64. The same seed always gives the same sequence.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number | bigint | string) {
    let st = typeof seed === "string" ? hashString(seed) : BigInt.asUintN(64, BigInt(seed));
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      const [n, out] = splitmix64(st);
      st = n;
      words.push(Number(out & 0xffff_ffffn), Number(out >> 32n));
    }
    if (!words.some((w) => w !== 0)) words[0] = 1; // xoshiro must not start all-zero
    [this.s0, this.s1, this.s2, this.s3] = words;
  }

  /** Uniform unsigned 32-bit value. */
  u32(): number {
    const result = Math.imul(rotl32(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl32(this.s3, 11);
    return result;
  }

  /** Uniform unsigned 64-bit value. */
  next64(): bigint {
    const hi = this.u32();
    return (BigInt(hi) << 32n) | BigInt(this.u32());
  }

  /** Uniform integer in [0, n) for 0 < n <= 2^32. */
  below(n: number): number {
    if (!(n > 0) || n > 2 ** 32) throw new Error(`below(${n})`);
    return Math.floor((this.u32() / 2 ** 32) * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p = 0.5): boolean {
    return this.u32() < p * 2 ** 32;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let w = this.u32();
      for (let j = i; j < Math.min(n, i + 4); j++, w >>>= 8) out[j] = w & 0xff;
    }
    return out;
  }

  /** An independent generator derived from this one (e.g. one per case). */
  fork(): Rng {
    return new Rng(this.next64());
  }
}

function hashString(s: string): bigint {
  // FNV-1a 64
  let h = 0xcbf29ce484222325n;
  for (const ch of new TextEncoder().encode(s)) h = ((h ^ BigInt(ch)) * 0x100000001b3n) & M64;
  return h;
}

// ---- interesting integers ----

function buildInteresting64(): bigint[] {
  const v = new Set<bigint>();
  const add = (x: bigint) => v.add(x & M64);
  for (const x of [0n, 1n, 2n, 3n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn]) add(x);
  add(-1n);
  add(-2n);
  add((1n << 63n) - 1n); // INT64_MAX
  add(1n << 63n); // INT64_MIN
  add((1n << 63n) + 1n);
  add(0x7fff_ffffn); // INT32_MAX
  add(0x8000_0000n); // INT32_MIN as u32
  add(-0x8000_0000n); // INT32_MIN sign-extended
  add(-0x8000_0001n);
  add(0xffff_ffffn); // UINT32_MAX
  add(0x1_0000_0000n);
  add(0x1_ffff_ffffn);
  add(0xffff_ffff_0000_0000n);
  add(0x5555_5555_5555_5555n);
  add(0xaaaa_aaaa_aaaa_aaaan);
  add(0x0123_4567_89ab_cdefn);
  for (let k = 0n; k < 64n; k++) {
    add(1n << k);
    add((1n << k) - 1n);
    add((1n << k) + 1n);
    add(-(1n << k));
  }
  return [...v];
}

/** 0, ±1, INT64/INT32/UINT32 limits, powers of two ±1, bit patterns; all as unsigned u64. */
export const INTERESTING_64: readonly bigint[] = buildInteresting64();

/** An interesting value half the time, otherwise uniform random (sometimes a small int). */
export function interesting64(rng: Rng): bigint {
  const r = rng.below(8);
  if (r < 4) return rng.pick(INTERESTING_64);
  if (r === 4) return BigInt(rng.below(256));
  if (r === 5) return BigInt.asUintN(64, BigInt(rng.range(-4096, 4096)));
  if (r === 6) return BigInt(rng.u32()); // 32-bit value, zero-extended
  return rng.next64();
}

// ---- interesting floating-point bit patterns ----

/** Special values for a format with `e` exponent bits and `m` fraction bits. */
function fpSpecials(e: number, m: number): bigint[] {
  const E = BigInt(e);
  const M = BigInt(m);
  const sign = 1n << (E + M);
  const expMax = ((1n << E) - 1n) << M;
  const bias = (1n << (E - 1n)) - 1n;
  const one = bias << M;
  const out = [
    0n, // +0
    one, // 1.0
    one | (1n << (M - 1n)), // 1.5
    (bias + 1n) << M, // 2.0
    (bias - 1n) << M, // 0.5
    expMax, // +inf
    expMax | (1n << (M - 1n)), // default quiet NaN
    expMax | 1n, // signalling NaN
    expMax | ((1n << M) - 1n), // NaN, all fraction bits
    1n, // smallest subnormal
    (1n << M) - 1n, // largest subnormal
    1n << M, // smallest normal
    expMax - 1n, // largest finite
    one - 1n, // just below 1
    one + 1n, // just above 1
  ];
  // 2^M (integer/fraction boundary), 2^31 and 2^63 (conversion limits) where representable
  for (const k of [M, 31n, 63n]) if (bias + k < (1n << E) - 1n) out.push((bias + k) << M);
  return out.flatMap((x) => [x, x | sign]);
}

export const FP64_SPECIALS: readonly bigint[] = fpSpecials(11, 52);
export const FP32_SPECIALS: readonly bigint[] = fpSpecials(8, 23);
export const FP16_SPECIALS: readonly bigint[] = fpSpecials(5, 10);

/** A float bit pattern of the given width: a special value, a "nice" number, or random bits. */
export function randomFpBits(rng: Rng, width: 16 | 32 | 64): bigint {
  const specials = width === 64 ? FP64_SPECIALS : width === 32 ? FP32_SPECIALS : FP16_SPECIALS;
  const r = rng.below(4);
  if (r < 2) return rng.pick(specials);
  if (r === 2) {
    // a moderate value: small integer or simple fraction with random sign
    const x = (rng.range(-1000, 1000) / rng.pick([1, 2, 4, 3, 10, 1024])) * (rng.chance(0.1) ? 1e10 : 1);
    const dv = new DataView(new ArrayBuffer(8));
    if (width === 64) {
      dv.setFloat64(0, x, true);
      return dv.getBigUint64(0, true);
    }
    dv.setFloat32(0, x, true);
    const b32 = BigInt(dv.getUint32(0, true));
    if (width === 32) return b32;
    // half precision: random sign and fraction, exponent around 1.0
    return (BigInt(rng.below(2)) << 15n) | (BigInt(rng.range(8, 22)) << 10n) | BigInt(rng.below(1024));
  }
  return rng.next64() & ((1n << BigInt(width)) - 1n);
}

/** A 128-bit vector value: random bytes, lanes of FP specials, or interesting integers. */
export function randomV128(rng: Rng): V128 {
  switch (rng.below(5)) {
    case 0:
      return [rng.next64(), rng.next64()];
    case 1:
      return [lanes(rng, 64), lanes(rng, 64)];
    case 2:
      return [lanes(rng, 32), lanes(rng, 32)];
    case 3:
      return [lanes(rng, 16), lanes(rng, 16)];
    default:
      return [interesting64(rng), interesting64(rng)];
  }
}

function lanes(rng: Rng, width: 16 | 32 | 64): bigint {
  let w = 0n;
  for (let i = 0; i < 64 / width; i++) w |= randomFpBits(rng, width) << BigInt(i * width);
  return w;
}

/** Meaningful FPCR bits: AHP, DN, FZ, RMode, FZ16 (qemu keeps these; see reference.test). */
export const FPCR_VALID_MASK = FPCR.AHP | FPCR.DN | FPCR.FZ | FPCR.RMODE_MASK | FPCR.FZ16;
/** FPSR cumulative exception bits and QC. */
export const FPSR_VALID_MASK = FPSR.IOC | FPSR.DZC | FPSR.OFC | FPSR.UFC | FPSR.IXC | FPSR.IDC | FPSR.QC;

export function randomFpcr(rng: Rng): number {
  if (rng.chance(0.5)) return 0;
  return (rng.u32() & FPCR_VALID_MASK) >>> 0;
}

export function randomFpsr(rng: Rng): number {
  if (rng.chance(0.5)) return 0;
  return (rng.u32() & FPSR_VALID_MASK) >>> 0;
}

// ---- random initial state ----

export interface RandomStateOptions {
  /** Registers that will hold pointers into DATA (default: 4 random ones of X0..X30). */
  pointerRegs?: number[];
  /** Registers that will hold small offsets in [-256, 256] (default: 2 random other ones). */
  offsetRegs?: number[];
  /** How much of DATA is filled with random bytes (default 0x2000; the rest is zero). */
  memSize?: number;
  /** Probability that a pointer is unaligned (default 0.25). */
  unaligned?: number;
  /** Make SP a 16-byte aligned pointer into DATA (default true; else an interesting64). */
  spIntoData?: boolean;
  /** Include V registers and FPCR/FPSR randomness (default true; else all zero). */
  fp?: boolean;
}

/** The middle of the randomly filled part of DATA, where pointers aim. */
export function dataPointer(rng: Rng, memSize = 0x2000, unalignedP = 0.25, align = 16): bigint {
  // Leave room either side for immediate offsets and pre/post-index writeback.
  const lo = Math.min(0x400, memSize >> 2);
  const hi = Math.max(lo, memSize - 0x400);
  let off = rng.range(lo, hi);
  off = rng.chance(unalignedP) ? off : off & ~(align - 1);
  return DATA_VA + BigInt(off);
}

function distinctRegs(rng: Rng, n: number, exclude: Set<number>): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const r = rng.below(31);
    if (!exclude.has(r) && !out.includes(r)) out.push(r);
  }
  return out;
}

/** Random register/flag/FP/memory state (everything of a Case except the instructions). */
export function randomState(rng: Rng, opts: RandomStateOptions = {}): Omit<Case, "insns"> {
  const memSize = Math.min(opts.memSize ?? 0x2000, DATA_SIZE);
  const unaligned = opts.unaligned ?? 0.25;
  const x: bigint[] = [];
  for (let i = 0; i < 31; i++) x.push(interesting64(rng));
  const ptrs = opts.pointerRegs ?? distinctRegs(rng, 4, new Set());
  for (const r of ptrs) x[r] = dataPointer(rng, memSize, unaligned);
  const offs = opts.offsetRegs ?? distinctRegs(rng, 2, new Set(ptrs));
  for (const r of offs) x[r] = BigInt.asUintN(64, BigInt(rng.range(-256, 256)));
  const sp = opts.spIntoData === false ? interesting64(rng) : dataPointer(rng, memSize, 0, 16);
  const fp = opts.fp ?? true;
  const v: V128[] = [];
  for (let i = 0; i < 32; i++) v.push(fp ? randomV128(rng) : [0n, 0n]);
  return {
    x,
    sp,
    nzcv: (rng.below(16) << 28) >>> 0,
    v,
    fpcr: fp ? randomFpcr(rng) : 0,
    fpsr: fp ? randomFpsr(rng) : 0,
    mem: rng.bytes(memSize),
  };
}

/** A case with the given instructions and a random initial state. */
export function randomCase(rng: Rng, insns: number[], opts: RandomStateOptions = {}): Case {
  if (insns.length < 1 || insns.length > MAX_INSNS) throw new Error(`1..${MAX_INSNS} instructions`);
  return makeCase(insns, randomState(rng, opts));
}
