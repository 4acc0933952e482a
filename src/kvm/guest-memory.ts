// Guest RAM as devices see it: bounds-checked, little-endian accesses by guest physical
// address (gpa). This is how a device does DMA.
//
// Every write a device makes into guest memory (virtio buffers, used rings) goes through the
// write methods here, and each ends in one call of `onWrite(gpa, lengthBytes)`. That callback
// is the VM's `guestMemoryWritten`: the single place where the JIT must drop translated code
// in the written range (docs/jit.md, "Invalidation"). Do not write into `bytes` directly.

import { GuestError } from "../errors.ts";

const hex = (n: number): string => "0x" + n.toString(16);

/** The guest named memory that is not (all) guest RAM. */
export class AddressOutOfRange extends GuestError {
  override name = "AddressOutOfRange";
  constructor(
    readonly gpa: number,
    readonly lengthBytes: number,
    what = "buffer",
  ) {
    super(`${what} [${hex(gpa)}, +${hex(lengthBytes)}) is not inside guest RAM`);
  }
}

export interface GuestMemoryOptions {
  /** Guest RAM: index 0 is guest physical address ramBase (Core.ram()). */
  bytes: Uint8Array;
  ramBase: number;
  /** Called after every write, with the range written. */
  onWrite?: (gpa: number, lengthBytes: number) => void;
}

export class GuestMemory {
  readonly ramBase: number;
  readonly sizeBytes: number;
  private readonly bytes: Uint8Array;
  private readonly dv: DataView;
  private readonly onWrite: (gpa: number, lengthBytes: number) => void;

  constructor({ bytes, ramBase, onWrite }: GuestMemoryOptions) {
    this.bytes = bytes;
    this.ramBase = ramBase;
    this.sizeBytes = bytes.length;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.onWrite = onWrite ?? (() => {});
  }

  /** Whether [gpa, gpa + lengthBytes) lies inside RAM (a zero-length range at any RAM address does). */
  contains(gpa: number, lengthBytes: number): boolean {
    const off = gpa - this.ramBase;
    return (
      Number.isSafeInteger(gpa) &&
      Number.isSafeInteger(lengthBytes) &&
      lengthBytes >= 0 &&
      off >= 0 &&
      off <= this.sizeBytes &&
      lengthBytes <= this.sizeBytes - off
    );
  }

  /** Throws AddressOutOfRange unless the range is inside RAM; returns its offset in `bytes`. */
  check(gpa: number, lengthBytes: number, what?: string): number {
    if (!this.contains(gpa, lengthBytes)) throw new AddressOutOfRange(gpa, lengthBytes, what);
    return gpa - this.ramBase;
  }

  /**
   * A read-only look at guest bytes without copying (e.g. to write them to a file). The view
   * aliases guest RAM: use it before the guest runs again, and never write through it.
   */
  view(gpa: number, lengthBytes: number): Uint8Array {
    const off = this.check(gpa, lengthBytes);
    return this.bytes.subarray(off, off + lengthBytes);
  }

  /** A copy of guest bytes. */
  read(gpa: number, lengthBytes: number): Uint8Array {
    return this.view(gpa, lengthBytes).slice();
  }

  u16(gpa: number): number {
    return this.dv.getUint16(this.check(gpa, 2), true);
  }

  u32(gpa: number): number {
    return this.dv.getUint32(this.check(gpa, 4), true);
  }

  /** A u64 as a number; values at or above 2^53 come back inexact, but far outside any RAM. */
  u64(gpa: number): number {
    const off = this.check(gpa, 8);
    return this.dv.getUint32(off + 4, true) * 2 ** 32 + this.dv.getUint32(off, true);
  }

  u64Big(gpa: number): bigint {
    return this.dv.getBigUint64(this.check(gpa, 8), true);
  }

  write(gpa: number, data: Uint8Array): void {
    const off = this.check(gpa, data.length);
    this.bytes.set(data, off);
    this.onWrite(gpa, data.length);
  }

  /**
   * Lets `produce` fill [gpa, gpa + lengthBytes) in place (a file read, random bytes), then
   * reports the whole range written.
   */
  fill(gpa: number, lengthBytes: number, produce: (view: Uint8Array) => void): void {
    const off = this.check(gpa, lengthBytes);
    try {
      produce(this.bytes.subarray(off, off + lengthBytes));
    } finally {
      this.onWrite(gpa, lengthBytes);
    }
  }

  setU16(gpa: number, value: number): void {
    this.dv.setUint16(this.check(gpa, 2), value, true);
    this.onWrite(gpa, 2);
  }

  setU32(gpa: number, value: number): void {
    this.dv.setUint32(this.check(gpa, 4), value >>> 0, true);
    this.onWrite(gpa, 4);
  }
}
