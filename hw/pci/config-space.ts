// One PCI function's configuration space: a type-0 header (PCI Local Bus 3.0 §6.1) in the 4 KiB
// a PCIe function has behind ECAM, with a per-byte mask of what the guest may write. Reads
// return the bytes; writes change only the writable bits, so read-only fields (IDs, class,
// status, capability list) stay put without a case per register.
//
// BARs: each declared BAR's writable mask is ~(size - 1) above its flag bits, so the guest
// sizes a BAR the standard way (write all ones, read back the mask with the flags) and moves
// it by writing an address; unused BARs read 0 and ignore writes. What a BAR decodes, and
// whether, is the host's business (host.ts): it reads barAddress() and the command register
// after every write.

export const PCI_CONFIG_SPACE_BYTES = 0x1000;
/** The part the legacy ports (0xcf8/0xcfc) reach: registers 0-63. */
export const PCI_LEGACY_CONFIG_BYTES = 0x100;

// Header registers (type 0).
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09; // class code: prog-if, subclass, class (3 bytes)
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_BAR_COUNT = 6;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_PARITY = 0x40;
export const PCI_COMMAND_SERR = 0x100;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
/** The command bits kvmtool lets the guest change. */
const COMMAND_WRITABLE = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;

export const PCI_STATUS_INTERRUPT = 0x8;
export const PCI_STATUS_CAP_LIST = 0x10;

export const PCI_BASE_ADDRESS_SPACE_IO = 0x1;
/** Flag bits below a BAR's address: 2 for I/O, 4 for memory (type 32-bit, not prefetchable). */
const BAR_FLAG_BITS = { io: 0x3, mmio: 0xf } as const;

/** INTx pins as the Interrupt Pin register numbers them. */
export const PCI_INTERRUPT_PIN_INTA = 1;

export type PciBarKind = "io" | "mmio";

export interface PciBarDeclaration {
  kind: PciBarKind;
  /** A power of two: at least 16 bytes for memory, 4 for I/O. */
  sizeBytes: number;
}

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  revisionId: number;
  /** Class, subclass and prog-if as one 24-bit number (0x028000: network controller, other). */
  classCode: number;
  subsystemVendorId: number;
  subsystemId: number;
  /** 0 for no INTx, PCI_INTERRUPT_PIN_INTA for INTA. */
  interruptPin: number;
}

export class PciConfigSpace {
  readonly bytes = new Uint8Array(PCI_CONFIG_SPACE_BYTES);
  private readonly writable = new Uint8Array(PCI_CONFIG_SPACE_BYTES);
  private readonly view = new DataView(this.bytes.buffer);
  readonly bars: readonly (PciBarDeclaration | undefined)[];
  /** Where the next capability goes (capabilities are appended after the header). */
  private nextCapability = 0x40;
  private lastCapability = 0;

  constructor(identity: PciIdentity, bars: readonly (PciBarDeclaration | undefined)[] = []) {
    if (bars.length > PCI_BAR_COUNT) throw new RangeError(`a type-0 header has ${PCI_BAR_COUNT} BARs, not ${bars.length}`);
    this.bars = bars;
    const v = this.view;
    v.setUint16(PCI_VENDOR_ID, identity.vendorId, true);
    v.setUint16(PCI_DEVICE_ID, identity.deviceId, true);
    v.setUint8(PCI_REVISION_ID, identity.revisionId);
    v.setUint8(PCI_CLASS_PROG, identity.classCode & 0xff);
    v.setUint16(PCI_CLASS_PROG + 1, identity.classCode >>> 8, true);
    v.setUint16(PCI_SUBSYSTEM_VENDOR_ID, identity.subsystemVendorId, true);
    v.setUint16(PCI_SUBSYSTEM_ID, identity.subsystemId, true);
    v.setUint8(PCI_INTERRUPT_PIN, identity.interruptPin);
    this.setWritable(PCI_COMMAND, 2, COMMAND_WRITABLE);
    this.setWritable(PCI_CACHE_LINE_SIZE, 1, 0xff);
    this.setWritable(PCI_INTERRUPT_LINE, 1, 0xff);
    bars.forEach((bar, i) => {
      if (bar === undefined) return;
      const min = bar.kind === "io" ? 4 : 16;
      if (bar.sizeBytes < min || (bar.sizeBytes & (bar.sizeBytes - 1)) !== 0 || bar.sizeBytes > 2 ** 31) {
        throw new RangeError(`BAR${i}: ${bar.sizeBytes} bytes is not a power of two from ${min}`);
      }
      const at = PCI_BASE_ADDRESS_0 + 4 * i;
      v.setUint32(at, bar.kind === "io" ? PCI_BASE_ADDRESS_SPACE_IO : 0, true);
      this.setWritable(at, 4, ~(bar.sizeBytes - 1) >>> 0);
    });
  }

  /** A little-endian read of 1, 2 or 4 bytes. */
  read(offset: number, lengthBytes: number): number {
    let value = 0;
    for (let i = lengthBytes - 1; i >= 0; i--) value = value * 256 + this.bytes[offset + i]!;
    return value;
  }

  /** A little-endian write of 1, 2 or 4 bytes; only writable bits change. */
  write(offset: number, lengthBytes: number, value: number): void {
    for (let i = 0; i < lengthBytes; i++) {
      const mask = this.writable[offset + i]!;
      const byte = Math.floor(value / 256 ** i) & 0xff;
      this.bytes[offset + i] = (this.bytes[offset + i]! & ~mask) | (byte & mask);
    }
  }

  get command(): number {
    return this.view.getUint16(PCI_COMMAND, true);
  }

  /** BAR i's address as programmed (flag bits cleared), or undefined if there is no BAR i. */
  barAddress(i: number): number | undefined {
    const bar = this.bars[i];
    if (bar === undefined) return undefined;
    return (this.view.getUint32(PCI_BASE_ADDRESS_0 + 4 * i, true) & ~BAR_FLAG_BITS[bar.kind]) >>> 0;
  }

  /** Sets BAR i's address (the host's initial assignment). */
  setBarAddress(i: number, address: number): void {
    const bar = this.bars[i];
    if (bar === undefined) throw new RangeError(`no BAR${i}`);
    const flags = bar.kind === "io" ? PCI_BASE_ADDRESS_SPACE_IO : 0;
    this.view.setUint32(PCI_BASE_ADDRESS_0 + 4 * i, (address | flags) >>> 0, true);
  }

  /** Sets command bits as reset state (kvmtool's devices start with decoding on). */
  setCommand(bits: number): void {
    this.view.setUint16(PCI_COMMAND, bits, true);
  }

  /** The Status register's Interrupt Status bit, set while the function asserts INTx. */
  setInterruptStatus(asserted: boolean): void {
    const status = this.view.getUint16(PCI_STATUS, true);
    this.view.setUint16(PCI_STATUS, asserted ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT, true);
  }

  /**
   * Appends a capability (its ID, then the body after the next pointer) to the list, and
   * returns its offset. Capabilities are read-only to the guest, except the bits set in
   * `writableBody` (a mask over `body`, such as MSI-X's enable and mask bits).
   */
  addCapability(id: number, body: Uint8Array, writableBody?: Uint8Array): number {
    const at = this.nextCapability;
    const lengthBytes = 2 + body.length;
    if (at + lengthBytes > PCI_LEGACY_CONFIG_BYTES) throw new RangeError("capabilities overflow the legacy config space");
    this.bytes[at] = id;
    this.bytes[at + 1] = 0;
    this.bytes.set(body, at + 2);
    if (writableBody !== undefined) this.writable.set(writableBody.subarray(0, body.length), at + 2);
    if (this.lastCapability === 0) this.bytes[PCI_CAPABILITY_LIST] = at;
    else this.bytes[this.lastCapability + 1] = at;
    this.lastCapability = at;
    this.nextCapability = (at + lengthBytes + 3) & ~3;
    this.view.setUint16(PCI_STATUS, this.view.getUint16(PCI_STATUS, true) | PCI_STATUS_CAP_LIST, true);
    return at;
  }

  private setWritable(offset: number, lengthBytes: number, mask: number): void {
    for (let i = 0; i < lengthBytes; i++) this.writable[offset + i] = Math.floor(mask / 256 ** i) & 0xff;
  }
}
