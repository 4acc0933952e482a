// What devices are given as they are created: interrupt lines, address windows and PCI slots,
// handed out first come, first served, as kvmtool's irq__alloc_line, its virtio-mmio address
// counter and its PCI BAR allocator do (and Firecracker's ResourceAllocator). Devices never
// compute an address or an INTID from another device's; they ask, in creation order, so the
// order of the device table decides the numbers.

import { ConfigError } from "../errors.ts";

/** Consecutive numbers (SPI INTIDs, PCI device slots), one at a time, from first to last inclusive. */
export class NumberAllocator {
  private next: number;

  constructor(
    readonly what: string,
    readonly first: number,
    readonly last: number,
  ) {
    this.next = first;
  }

  allocate(): number {
    if (this.next > this.last) throw new ConfigError(`out of ${this.what}: all of ${this.first}-${this.last} are taken`);
    return this.next++;
  }

  /** How many have been handed out. */
  get used(): number {
    return this.next - this.first;
  }
}

/** Address ranges from a window, upward, each aligned to its own alignment (BARs: their size). */
export class AddressAllocator {
  private next: number;

  constructor(
    readonly what: string,
    readonly base: number,
    readonly sizeBytes: number,
  ) {
    this.next = base;
  }

  allocate(sizeBytes: number, alignBytes = sizeBytes): number {
    if (sizeBytes <= 0 || alignBytes <= 0 || (alignBytes & (alignBytes - 1)) !== 0) {
      throw new RangeError(`cannot allocate ${sizeBytes} bytes aligned to ${alignBytes} from ${this.what}`);
    }
    const start = Math.ceil(this.next / alignBytes) * alignBytes;
    if (start + sizeBytes > this.base + this.sizeBytes) {
      throw new ConfigError(`out of ${this.what}: no room for 0x${sizeBytes.toString(16)} more bytes`);
    }
    this.next = start + sizeBytes;
    return start;
  }
}
