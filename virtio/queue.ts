// Split virtqueues (virtio 1.2 §2.7), read and written in guest memory by a device that does
// not trust the driver.
//
// Layout, for a queue of `size` entries (all little-endian):
//
//   descriptor table  16 × size      { addr u64, len u32, flags u16, next u16 }    align 16
//   driver area       6 + 2 × size   { flags u16, idx u16, ring[size] u16,         align 2
//    (avail ring)                      used_event u16 }
//   device area       6 + 8 × size   { flags u16, idx u16, ring[size] { id u32,    align 4
//    (used ring)                        len u32 }, avail_event u16 }
//
// What the guest may get wrong, and what we do (each a GuestError named for it):
// - at QueueReady: a size that is zero, too large or not a power of two; misaligned rings; rings
//   outside RAM;
// - at each pop: an avail index more than `size` ahead of us; a head or `next` past the table;
//   a chain longer than the queue (a `next` loop ends here); an indirect table that is empty,
//   ragged, too long, nested, or used without negotiation; any buffer outside RAM.
// Every buffer of a chain is checked against guest RAM before the device touches any of it.

import { GuestError } from "../src/errors.ts";
import { AddressOutOfRange, type GuestMemory } from "../src/kvm/guest-memory.ts";

export const VRING_DESC_F_NEXT = 1;
export const VRING_DESC_F_WRITE = 2;
export const VRING_DESC_F_INDIRECT = 4;
export const VRING_AVAIL_F_NO_INTERRUPT = 1;

export const VRING_DESC_BYTES = 16;
export const VRING_USED_ELEM_BYTES = 8;
/** The largest queue the split layout allows (virtio 1.2 §2.7: Queue Size ≤ 32768). */
export const VIRTQUEUE_MAX_SIZE = 32768;

/** Alignment of each part (virtio 1.2 §2.7, table "Virtqueue Part Alignment"). */
export const DESC_TABLE_ALIGN = 16;
export const AVAIL_RING_ALIGN = 2;
export const USED_RING_ALIGN = 4;

export const descTableBytes = (size: number): number => VRING_DESC_BYTES * size;
export const availRingBytes = (size: number): number => 6 + 2 * size;
export const usedRingBytes = (size: number): number => 6 + VRING_USED_ELEM_BYTES * size;

const hex = (n: number): string => "0x" + n.toString(16);

// ---- what the guest did wrong ----

export class QueueSizeInvalid extends GuestError {
  override name = "QueueSizeInvalid";
  constructor(readonly size: number, readonly maxSize: number) {
    super(`queue size ${size} is not a power of two between 1 and ${maxSize}`);
  }
}

export class RingMisaligned extends GuestError {
  override name = "RingMisaligned";
  constructor(readonly part: string, readonly gpa: number, readonly align: number) {
    super(`${part} at ${hex(gpa)} is not ${align}-byte aligned`);
  }
}

export class AvailIndexOverrun extends GuestError {
  override name = "AvailIndexOverrun";
  constructor(readonly availIdx: number, readonly nextAvail: number, readonly size: number) {
    super(`avail index ${availIdx} is ${(availIdx - nextAvail) & 0xffff} entries ahead of the device, more than the queue's ${size}`);
  }
}

export class DescriptorIndexOutOfRange extends GuestError {
  override name = "DescriptorIndexOutOfRange";
  constructor(readonly index: number, readonly tableEntries: number) {
    super(`descriptor index ${index} is past the end of a ${tableEntries}-entry table`);
  }
}

export class DescriptorChainTooLong extends GuestError {
  override name = "DescriptorChainTooLong";
  constructor(readonly limit: number) {
    super(`descriptor chain is longer than ${limit} descriptors (a loop in 'next'?)`);
  }
}

export class IndirectTableInvalid extends GuestError {
  override name = "IndirectTableInvalid";
  constructor(readonly lengthBytes: number, why: string) {
    super(`indirect descriptor table of ${lengthBytes} bytes: ${why}`);
  }
}

export class NestedIndirectDescriptor extends GuestError {
  override name = "NestedIndirectDescriptor";
  constructor() {
    super("an indirect table points to another indirect table");
  }
}

export class IndirectNotNegotiated extends GuestError {
  override name = "IndirectNotNegotiated";
  constructor() {
    super("indirect descriptor used without VIRTIO_RING_F_INDIRECT_DESC");
  }
}

export class IndirectWithNext extends GuestError {
  override name = "IndirectWithNext";
  constructor() {
    super("a descriptor has both INDIRECT and NEXT set");
  }
}

// ---- chains ----

/** One buffer of a chain, already checked to lie inside guest RAM. */
export interface Descriptor {
  gpa: number;
  lengthBytes: number;
  /** Device-writable (VRING_DESC_F_WRITE); otherwise device-readable. */
  writable: boolean;
}

export interface DescriptorChain {
  /** The head index: what goes back in the used ring. */
  head: number;
  descriptors: Descriptor[];
}

/** The driver's side of a queue's configuration, as the transport registers set it. */
export interface VirtqueueConfig {
  size: number;
  ready: boolean;
  descTable: number;
  availRing: number;
  usedRing: number;
}

export class Virtqueue {
  readonly maxSize: number;
  // Configuration (written by the transport between FEATURES_OK and DRIVER_OK).
  size: number;
  ready = false;
  descTable = 0;
  availRing = 0;
  usedRing = 0;
  // Negotiated at activation.
  eventIdx = false;
  indirect = false;
  // Progress.
  /** Next avail ring entry the device will take (free-running u16). */
  nextAvail = 0;
  /** Next used ring entry the device will fill (free-running u16); mirrors used->idx. */
  nextUsed = 0;
  /** used->idx when the device last decided whether to interrupt (for EVENT_IDX). */
  private signalledUsed = 0;

  constructor(maxSize: number) {
    if (!isPowerOfTwo(maxSize) || maxSize > VIRTQUEUE_MAX_SIZE) throw new RangeError(`bad QueueNumMax ${maxSize}`);
    this.maxSize = maxSize;
    this.size = maxSize;
  }

  reset(): void {
    this.size = this.maxSize;
    this.ready = false;
    this.descTable = this.availRing = this.usedRing = 0;
    this.eventIdx = this.indirect = false;
    this.nextAvail = this.nextUsed = this.signalledUsed = 0;
  }

  /**
   * The checks made when the driver sets QueueReady: size, alignment, and the three areas
   * inside RAM. Throws the GuestError for the first rule broken.
   */
  validate(mem: GuestMemory): void {
    if (!isPowerOfTwo(this.size) || this.size > this.maxSize) throw new QueueSizeInvalid(this.size, this.maxSize);
    const parts: [string, number, number, number][] = [
      ["descriptor table", this.descTable, DESC_TABLE_ALIGN, descTableBytes(this.size)],
      ["driver area (avail ring)", this.availRing, AVAIL_RING_ALIGN, availRingBytes(this.size)],
      ["device area (used ring)", this.usedRing, USED_RING_ALIGN, usedRingBytes(this.size)],
    ];
    for (const [part, gpa, align, bytes] of parts) {
      if (gpa % align !== 0) throw new RingMisaligned(part, gpa, align);
      mem.check(gpa, bytes, part);
    }
  }

  /**
   * The next chain the driver made available, or null if there is none. With EVENT_IDX it
   * also asks the driver to notify at the next new entry (avail_event = nextAvail).
   */
  pop(mem: GuestMemory): DescriptorChain | null {
    const availIdx = mem.u16(this.availRing + 2);
    const pending = (availIdx - this.nextAvail) & 0xffff;
    if (pending > this.size) throw new AvailIndexOverrun(availIdx, this.nextAvail, this.size);
    if (pending === 0) {
      if (this.eventIdx) this.setAvailEvent(mem);
      return null;
    }
    const head = mem.u16(this.availRing + 4 + 2 * (this.nextAvail % this.size));
    this.nextAvail = (this.nextAvail + 1) & 0xffff;
    if (this.eventIdx) this.setAvailEvent(mem);
    return { head, descriptors: this.walk(mem, head) };
  }

  /**
   * Whether the driver has made a chain available that pop() would return, without taking it
   * (a device that can only fill buffers when it has data: virtio-console's receive queue).
   */
  hasAvailable(mem: GuestMemory): boolean {
    const pending = (mem.u16(this.availRing + 2) - this.nextAvail) & 0xffff;
    if (pending > this.size) throw new AvailIndexOverrun(mem.u16(this.availRing + 2), this.nextAvail, this.size);
    return pending !== 0;
  }

  /** Returns a chain to the driver: `writtenBytes` is how much the device wrote into it. */
  pushUsed(mem: GuestMemory, head: number, writtenBytes: number): void {
    const elem = this.usedRing + 4 + VRING_USED_ELEM_BYTES * (this.nextUsed % this.size);
    mem.setU32(elem, head);
    mem.setU32(elem + 4, writtenBytes);
    this.nextUsed = (this.nextUsed + 1) & 0xffff;
    mem.setU16(this.usedRing + 2, this.nextUsed);
  }

  /**
   * Whether the driver wants an interrupt for the used entries pushed since the last call:
   * with EVENT_IDX, when used->idx has moved past used_event; otherwise unless the driver set
   * VRING_AVAIL_F_NO_INTERRUPT.
   */
  needsInterrupt(mem: GuestMemory): boolean {
    const now = this.nextUsed;
    const before = this.signalledUsed;
    this.signalledUsed = now;
    if (now === before) return false;
    if (this.eventIdx) {
      const usedEvent = mem.u16(this.availRing + 4 + 2 * this.size);
      // vring_need_event: used_event lies in [before, now).
      return ((now - usedEvent - 1) & 0xffff) < ((now - before) & 0xffff);
    }
    return (mem.u16(this.availRing) & VRING_AVAIL_F_NO_INTERRUPT) === 0;
  }

  getConfig(): VirtqueueConfig {
    return { size: this.size, ready: this.ready, descTable: this.descTable, availRing: this.availRing, usedRing: this.usedRing };
  }

  private setAvailEvent(mem: GuestMemory): void {
    mem.setU16(this.usedRing + 4 + VRING_USED_ELEM_BYTES * this.size, this.nextAvail);
  }

  /**
   * Follows a chain from `head`, through at most one indirect table. The direct part may
   * hold at most `size` descriptors and an indirect table at most `maxSize` (virtio 1.2
   * §2.7.5.3: a chain is no longer than the queue), so every walk ends.
   */
  private walk(mem: GuestMemory, head: number): Descriptor[] {
    const out: Descriptor[] = [];
    let table = this.descTable;
    let entries = this.size;
    let budget = this.size;
    let inIndirect = false;
    let i = head;
    if (i >= entries) throw new DescriptorIndexOutOfRange(i, entries);
    for (;;) {
      if (budget-- === 0) throw new DescriptorChainTooLong(inIndirect ? entries : this.size);
      const at = table + VRING_DESC_BYTES * i;
      const gpa = mem.u64(at);
      const lengthBytes = mem.u32(at + 8);
      const flags = mem.u16(at + 12);
      const next = mem.u16(at + 14);
      if ((flags & VRING_DESC_F_INDIRECT) !== 0) {
        if (inIndirect) throw new NestedIndirectDescriptor();
        if (!this.indirect) throw new IndirectNotNegotiated();
        if ((flags & VRING_DESC_F_NEXT) !== 0) throw new IndirectWithNext();
        if (lengthBytes === 0 || lengthBytes % VRING_DESC_BYTES !== 0) {
          throw new IndirectTableInvalid(lengthBytes, `not a non-zero multiple of ${VRING_DESC_BYTES}`);
        }
        const n = lengthBytes / VRING_DESC_BYTES;
        if (n > this.maxSize) throw new IndirectTableInvalid(lengthBytes, `more than ${this.maxSize} descriptors`);
        if (!mem.contains(gpa, lengthBytes)) throw new AddressOutOfRange(gpa, lengthBytes, "indirect table");
        table = gpa;
        entries = budget = n;
        inIndirect = true;
        i = 0;
        continue;
      }
      if (!mem.contains(gpa, lengthBytes)) throw new AddressOutOfRange(gpa, lengthBytes);
      out.push({ gpa, lengthBytes, writable: (flags & VRING_DESC_F_WRITE) !== 0 });
      if ((flags & VRING_DESC_F_NEXT) === 0) return out;
      if (next >= entries) throw new DescriptorIndexOutOfRange(next, entries);
      i = next;
    }
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
