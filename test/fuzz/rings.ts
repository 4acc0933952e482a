// Split-ring contents as a hostile driver writes them, for the virtio fuzz targets: descriptor
// tables whose chains loop, run off the table, nest indirect tables, and name buffers of zero
// or 4 GiB at and across the ends of RAM. Generated as data, then laid into guest RAM.

import fc from "fast-check";
import type { GuestMemory } from "../../src/kvm/guest-memory.ts";
import {
  VRING_DESC_BYTES,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  availRingBytes,
  descTableBytes,
  usedRingBytes,
} from "../../virtio/queue.ts";
import { RAM_BASE } from "./harness.ts";

/** Guest RAM of the virtio targets: small, so its ends are easy to hit. */
export const VIRTIO_RAM_BYTES = 32 * 1024;
const RAM_END = RAM_BASE + VIRTIO_RAM_BYTES;

/** Where a well-behaved driver puts its rings (room for a queue of 256). */
export const SANE_DESC = RAM_BASE;
export const SANE_AVAIL = RAM_BASE + 0x1000;
export const SANE_USED = RAM_BASE + 0x1400;
/** Buffers live above the rings. */
export const BUFFER_AREA = RAM_BASE + 0x2000;
/** Spots where generated indirect tables are written; descriptors often point at them. */
export const INDIRECT_SPOTS = [RAM_BASE + 0x2000, RAM_BASE + 0x2400, RAM_END - 0x40] as const;

export interface RingLayout {
  size: number;
  desc: number;
  avail: number;
  used: number;
}

export interface RawDescriptor {
  /** u64 as the guest writes it. */
  addr: bigint;
  len: number;
  flags: number;
  next: number;
}

export interface RingContents {
  /** Written from slot 0 of the descriptor table; slots past the end are left as they were. */
  table: RawDescriptor[];
  /** Heads written into the avail ring from the device's next slot. */
  heads: number[];
  /** How far avail->idx moves: usually heads.length, sometimes anything. */
  availAdvance: number;
  availFlags: number;
  usedEvent: number;
  /** Indirect tables, written at INDIRECT_SPOTS in order. */
  indirect: RawDescriptor[][];
}

const big = (n: number): bigint => BigInt(n);

/** Guest-physical addresses a hostile driver likes: inside, at and across both ends of RAM, and far away. */
export const gpaArb: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: BUFFER_AREA, max: RAM_END - 1 }).map(big) },
  { weight: 2, arbitrary: fc.constantFrom(...INDIRECT_SPOTS).map(big) },
  { weight: 1, arbitrary: fc.integer({ min: RAM_BASE, max: RAM_END }).map(big) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.integer({ min: RAM_END - 64, max: RAM_END + 16 }).map(big),
      fc.constantFrom(0n, big(RAM_BASE - 1), big(RAM_BASE - 16), 1n << 32n, (1n << 52n) - 1n, 1n << 53n, (1n << 64n) - 1n, (1n << 64n) - 16n),
    ),
  },
);

/** Buffer lengths: empty, tiny, sector-sized, table-sized, RAM-sized, and 4 GiB. */
const lenArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 15, 16, 17, 32, 48, 128, 512, 513, VIRTIO_RAM_BYTES, 0x8000_0000, 0xffff_ffff) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 0x600 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff_ffff }) },
);

const flagsArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);

function descriptorArb(maxIndex: number): fc.Arbitrary<RawDescriptor> {
  const next = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: maxIndex + 1 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) });
  // Most descriptors are sound, so chains get long enough to reach the rules deep in a walk.
  const sound = fc.record({
    addr: fc.integer({ min: BUFFER_AREA, max: RAM_END - 0x200 }).map(big),
    len: fc.integer({ min: 0, max: 0x200 }),
    flags: fc.constantFrom(0, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE),
    next: fc.integer({ min: 0, max: maxIndex - 1 }),
  });
  const indirect = fc.record({
    addr: fc.constantFrom(...INDIRECT_SPOTS).map(big),
    len: fc.integer({ min: 0, max: 4 }).map((n) => VRING_DESC_BYTES * n),
    flags: fc.constant(VRING_DESC_F_INDIRECT),
    next,
  });
  const hostile = fc.record({ addr: gpaArb, len: lenArb, flags: flagsArb, next });
  return fc.oneof({ weight: 6, arbitrary: sound }, { weight: 1, arbitrary: indirect }, { weight: 2, arbitrary: hostile });
}

/**
 * What a driver writes into a queue of `size` entries. The table fills the first slots (at
 * most 24), and heads and `next` mostly name those, so most chains start somewhere written.
 */
export function ringContentsArb(size: number): fc.Arbitrary<RingContents> {
  const written = Math.min(size, 24);
  const head = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: written - 1 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) });
  return fc
    .record({
      table: fc.array(descriptorArb(written), { minLength: written, maxLength: written }),
      heads: fc.array(head, { maxLength: Math.min(size, 6) }),
      wild: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
      availFlags: fc.constantFrom(0, 1),
      usedEvent: fc.integer({ min: 0, max: 0xffff }),
      indirect: fc.array(fc.array(descriptorArb(8), { minLength: 1, maxLength: 8 }), { maxLength: INDIRECT_SPOTS.length }),
    })
    .map(({ wild, ...r }) => ({ ...r, availAdvance: wild ?? r.heads.length }));
}

/** Ring placements: mostly sane, sometimes misaligned, overlapping, or off the ends of RAM. */
export function layoutArb(size: fc.Arbitrary<number>): fc.Arbitrary<RingLayout> {
  const addr = (sane: number): fc.Arbitrary<number> =>
    fc.oneof(
      { weight: 16, arbitrary: fc.constant(sane) },
      { weight: 1, arbitrary: fc.integer({ min: RAM_BASE - 8, max: RAM_END + 8 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, RAM_END - 16, RAM_END - 6, RAM_END, 2 ** 32 + RAM_BASE, 2 ** 64 - 4096) },
    );
  return fc.record({ size, desc: addr(SANE_DESC), avail: addr(SANE_AVAIL), used: addr(SANE_USED) });
}

function writeDescriptor(mem: GuestMemory, at: number, d: RawDescriptor): void {
  if (!mem.contains(at, VRING_DESC_BYTES)) return; // a table off the end of RAM: the driver's writes go nowhere
  mem.setU32(at, Number(d.addr & 0xffff_ffffn));
  mem.setU32(at + 4, Number((d.addr >> 32n) & 0xffff_ffffn));
  mem.setU32(at + 8, d.len);
  mem.setU16(at + 12, d.flags);
  mem.setU16(at + 14, d.next);
}

/**
 * Lays `contents` into guest RAM as the driver would, starting at avail slot `nextAvail`
 * (the device's position) and moving avail->idx from `availIdx`. Returns the new avail->idx.
 * Writes that would fall outside RAM are dropped: a driver with rings there has no RAM to write.
 */
export function layRing(mem: GuestMemory, layout: RingLayout, contents: RingContents, availIdx: number): number {
  const { size } = layout;
  contents.table.forEach((d, i) => writeDescriptor(mem, layout.desc + VRING_DESC_BYTES * i, d));
  contents.indirect.forEach((table, t) => table.forEach((d, i) => writeDescriptor(mem, INDIRECT_SPOTS[t]! + VRING_DESC_BYTES * i, d)));
  const put16 = (gpa: number, v: number): void => {
    if (mem.contains(gpa, 2)) mem.setU16(gpa, v);
  };
  const slots = size > 0 ? size : 1;
  contents.heads.forEach((h, i) => put16(layout.avail + 4 + 2 * ((availIdx + i) % slots), h));
  const newIdx = (availIdx + contents.availAdvance) & 0xffff;
  put16(layout.avail, contents.availFlags);
  put16(layout.avail + 2, newIdx);
  put16(layout.avail + 4 + 2 * slots, contents.usedEvent);
  return newIdx;
}

/** The bytes the device may write for a queue: its used ring (with avail_event). */
export function usedArea(layout: RingLayout): [number, number] {
  return [layout.used, layout.used + usedRingBytes(layout.size)];
}

/** Whether the three areas sit where a driver may put them without overlapping. */
export function ringsDisjoint(l: RingLayout): boolean {
  const parts: [number, number][] = [
    [l.desc, l.desc + descTableBytes(l.size)],
    [l.avail, l.avail + availRingBytes(l.size)],
    [l.used, l.used + usedRingBytes(l.size)],
  ];
  return parts.every(([a, b], i) => parts.every(([c, d], j) => i === j || b <= c || d <= a));
}
