// What the 64-bit "table base" registers share (GICR_PROPBASER, GICR_PENDBASER, GITS_CBASER,
// GITS_BASER<n>): 32-bit halves written one at a time, and the memory attribute fields KVM
// narrows to what it honours (no Outer Shareable, no Inner Non-cacheable, outer only
// "same as inner" or Non-cacheable), so that a guest reading back sees what it got.

const SHAREABILITY_SHIFT = 10n; // [11:10] in all four registers
const OUTER_SHAREABLE = 2n;
const INNER_SHAREABLE = 1n;
const CACHE_NCNB = 0n;
const CACHE_NC = 1n;
/** Read-allocate, write-back: what KVM puts in place of an inner non-cacheable request. */
export const CACHE_RAWB = 3n;
const CACHE_SAME_AS_INNER = 0n;

export interface CacheFieldShifts {
  inner: bigint;
  outer: bigint;
}
/** GITS_CBASER and GITS_BASER<n>: InnerCache [61:59], OuterCache [55:53]. */
export const ITS_CACHE_FIELDS: CacheFieldShifts = { inner: 59n, outer: 53n };
/** GICR_PROPBASER and GICR_PENDBASER: InnerCache [9:7], OuterCache [58:56]. */
export const REDIST_CACHE_FIELDS: CacheFieldShifts = { inner: 7n, outer: 56n };

function field(reg: bigint, shift: bigint, mask: bigint): bigint {
  return (reg >> shift) & mask;
}

function setField(reg: bigint, shift: bigint, mask: bigint, value: bigint): bigint {
  return (reg & ~(mask << shift)) | ((value & mask) << shift);
}

/** KVM's vgic_sanitise_{shareability,inner_cacheability,outer_cacheability}. */
export function sanitiseAttributes(reg: bigint, shifts: CacheFieldShifts): bigint {
  if (field(reg, SHAREABILITY_SHIFT, 3n) === OUTER_SHAREABLE) reg = setField(reg, SHAREABILITY_SHIFT, 3n, INNER_SHAREABLE);
  const inner = field(reg, shifts.inner, 7n);
  if (inner === CACHE_NCNB || inner === CACHE_NC) reg = setField(reg, shifts.inner, 7n, CACHE_RAWB);
  const outer = field(reg, shifts.outer, 7n);
  if (outer !== CACHE_SAME_AS_INNER && outer !== CACHE_NC) reg = setField(reg, shifts.outer, 7n, CACHE_SAME_AS_INNER);
  return reg;
}

/** The attributes KVM gives these registers at reset: Inner Shareable, inner RaWb. */
export function initialAttributes(shifts: CacheFieldShifts): bigint {
  return (INNER_SHAREABLE << SHAREABILITY_SHIFT) | (CACHE_RAWB << shifts.inner);
}

/** A 32-bit write to the half of a 64-bit register at byte offset `offset` (0 or 4 mod 8). */
export function writeHalf(reg: bigint, offset: number, value: number): bigint {
  const shift = offset % 8 === 4 ? 32n : 0n;
  return (reg & ~(0xffff_ffffn << shift)) | (BigInt(value >>> 0) << shift);
}

/** The half of a 64-bit register a 32-bit read at `offset` sees. */
export function readHalf(reg: bigint, offset: number): number {
  return Number((offset % 8 === 4 ? reg >> 32n : reg) & 0xffff_ffffn);
}
