// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
// big-endian words. Sums are kept unfolded in a double (exact up to 2^53, far beyond a frame)
// and folded once at the end.

/** Adds [start, end) of `data` as big-endian 16-bit words to `acc`; an odd last byte is padded. */
export function sum16(data: Uint8Array, start = 0, end = data.length, acc = 0): number {
  let s = acc;
  let i = start;
  for (; i + 1 < end; i += 2) s += (data[i]! << 8) | data[i + 1]!;
  if (i < end) s += data[i]! << 8;
  return s;
}

/** The sum folded to 16 bits (end-around carry). */
export function fold16(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field's value for data whose unfolded sum is `sum`. */
export const finishChecksum = (sum: number): number => ~fold16(sum) & 0xffff;

/** The TCP/UDP pseudo-header: source, destination, protocol and the segment's length. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, lengthBytes: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + lengthBytes;
}
