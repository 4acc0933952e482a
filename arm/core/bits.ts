// Bit-manipulation helpers shared by the handlers and by derived decode fields.

/** Sign-extends the low `bits` bits of v to 64 bits. */
@inline export function sx64(v: u64, bits: i32): i64 {
  const s = 64 - bits;
  return (<i64>(v << s)) >> s;
}

/** Sign-extends the low `bits` bits of v to 32 bits. */
@inline export function sx32(v: u32, bits: i32): i32 {
  const s = 32 - bits;
  return (<i32>(v << s)) >> s;
}

/** A mask of the low n bits (n in 0..64). */
@inline export function ones64(n: u32): u64 {
  return n >= 64 ? <u64>-1 : (<u64>1 << n) - 1;
}

/** Rotates the low `width` (32 or 64) bits of v right by r. */
@inline export function ror(v: u64, r: u32, width: u32): u64 {
  if (width == 64) return rotr<u64>(v, <u64>r);
  return <u64>rotr<u32>(<u32>v, r);
}

/** Replicates the low `esize` bits of v across 64 bits. */
export function replicate(v: u64, esize: u32): u64 {
  let out = v & ones64(esize);
  for (let n = esize; n < 64; n <<= 1) out |= out << n;
  return out;
}
