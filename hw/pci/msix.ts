// MSI-X for a PCI function (PCI Local Bus 3.0 §6.8.2): the capability in config space, and
// the vector table and pending bit array (PBA) in one memory BAR, laid out as kvmtool's
// virtio-pci has them (virtio/pci.c): the table at offset 0, the PBA right after it.
//
// The guest programs each vector's message (a 64-bit address and 32-bit data) and its mask
// bit in the table, and turns the whole thing on and off with the capability's Enable and
// Function Mask bits. signal(vector) then sends the message to the MSI controller with the
// function's requester ID, or, while the vector or the function is masked, sets the vector's
// pending bit; the message goes out when it is unmasked (§6.8.2.9), and the bit clears.
//
// What the guest writes is checked before it is kept: the table takes aligned 4- and 8-byte
// accesses only (§6.8.2: "aligned full DWORD or aligned full QWORD"), the address's two low
// bits and the reserved vector-control bits stay 0, and the PBA is read-only. The message
// itself goes only to the MSI controller, which accepts it or drops it: lkvm never turns an
// MSI into a write to guest memory.

import type { MsiController } from "../../src/irq.ts";
import type { PciConfigSpace } from "./config-space.ts";

export const PCI_CAP_ID_MSIX = 0x11;
/** Message Control (the capability's bytes 2-3). */
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
/** Table and PBA offsets carry the BAR index (BIR) in their low 3 bits. */
const PCI_MSIX_BIR_MASK = 0x7;

/** One table entry: address low, address high, data, vector control. */
export const PCI_MSIX_ENTRY_BYTES = 16;
export const PCI_MSIX_ENTRY_ADDR_LO = 0x0;
export const PCI_MSIX_ENTRY_ADDR_HI = 0x4;
export const PCI_MSIX_ENTRY_DATA = 0x8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 0xc;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;
/** Message addresses are DWORD-aligned: bits 1:0 read as 0. */
const ADDR_LO_WRITABLE = 0xffff_fffc;

export interface MsixOptions {
  /** The function's config space: the capability is appended to its list. */
  config: PciConfigSpace;
  /** The memory BAR that holds the table (at offset 0) and the PBA. */
  bar: number;
  vectorCount: number;
  msi: MsiController;
  /** The function's requester ID, carried by every message. */
  requesterId: () => number;
}

/** The BAR bytes the table and PBA of `vectorCount` vectors take, a power of two. */
export function msixBarBytes(vectorCount: number): number {
  const used = vectorCount * PCI_MSIX_ENTRY_BYTES + pbaBytes(vectorCount);
  return 2 ** Math.ceil(Math.log2(used));
}

/** The PBA in whole QWORDs, one bit per vector. */
const pbaBytes = (vectorCount: number): number => 8 * Math.ceil(vectorCount / 64);

export class Msix {
  readonly vectorCount: number;
  /** Where the capability sits in config space. */
  readonly capabilityOffset: number;
  readonly pbaOffset: number;
  private readonly config: PciConfigSpace;
  private readonly msi: MsiController;
  private readonly requesterId: () => number;
  /** Four 32-bit words per vector, as the table reads. */
  private readonly table: Uint32Array;
  private readonly pending: Uint8Array;

  constructor(opts: MsixOptions) {
    if (opts.vectorCount < 1 || opts.vectorCount > 2048) throw new RangeError(`MSI-X has 1 to 2048 vectors, not ${opts.vectorCount}`);
    this.vectorCount = opts.vectorCount;
    this.config = opts.config;
    this.msi = opts.msi;
    this.requesterId = opts.requesterId;
    this.table = new Uint32Array(4 * opts.vectorCount);
    this.pending = new Uint8Array(opts.vectorCount);
    this.pbaOffset = opts.vectorCount * PCI_MSIX_ENTRY_BYTES;
    // Every vector starts masked (§6.8.2.9).
    for (let v = 0; v < opts.vectorCount; v++) this.table[4 * v + 3] = PCI_MSIX_ENTRY_CTRL_MASKBIT;

    const body = new Uint8Array(10);
    const view = new DataView(body.buffer);
    view.setUint16(0, opts.vectorCount - 1, true); // Table Size is N - 1
    view.setUint32(2, (0 | opts.bar) >>> 0, true);
    view.setUint32(6, (this.pbaOffset | opts.bar) >>> 0, true);
    const writable = new Uint8Array(10);
    writable[1] = (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >>> 8;
    this.capabilityOffset = opts.config.addCapability(PCI_CAP_ID_MSIX, body, writable);
    if ((this.pbaOffset & PCI_MSIX_BIR_MASK) !== 0) throw new RangeError("the PBA offset must leave the BIR bits clear");
  }

  private get messageControl(): number {
    return this.config.read(this.capabilityOffset + 2, 2);
  }

  /** The guest turned MSI-X on: the function signals by message, not INTx. */
  get enabled(): boolean {
    return (this.messageControl & PCI_MSIX_FLAGS_ENABLE) !== 0;
  }

  get functionMasked(): boolean {
    return (this.messageControl & PCI_MSIX_FLAGS_MASKALL) !== 0;
  }

  vectorMasked(vector: number): boolean {
    return (this.table[4 * vector + 3]! & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
  }

  isPending(vector: number): boolean {
    return this.pending[vector] === 1;
  }

  /** The function wants to interrupt on `vector` (which the caller checked is in range). */
  signal(vector: number): void {
    if (this.functionMasked || this.vectorMasked(vector)) {
      this.pending[vector] = 1;
      return;
    }
    this.send(vector);
  }

  /** Config space was written: Enable or Function Mask may have changed, releasing messages. */
  configWritten(): void {
    for (let v = 0; v < this.vectorCount; v++) this.releaseIfUnmasked(v);
  }

  /** An access to the BAR holding the table and PBA, at `offset` from its base. */
  barAccess(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    const aligned = (lengthBytes === 4 || lengthBytes === 8) && offset % lengthBytes === 0;
    if (!aligned) return;
    const view = new DataView(data.buffer, data.byteOffset, lengthBytes);
    for (let i = 0; i < lengthBytes; i += 4) {
      const at = offset + i;
      if (isWrite) this.writeDword(at, view.getUint32(i, true));
      else view.setUint32(i, this.readDword(at), true);
    }
  }

  private readDword(offset: number): number {
    if (offset < this.pbaOffset) return this.table[offset >>> 2]!;
    const firstVector = (offset - this.pbaOffset) * 8;
    let bits = 0;
    for (let b = 0; b < 32 && firstVector + b < this.vectorCount; b++) bits |= this.pending[firstVector + b]! << b;
    return bits >>> 0;
  }

  private writeDword(offset: number, value: number): void {
    if (offset >= this.pbaOffset) return; // the PBA is read-only
    const vector = Math.floor(offset / PCI_MSIX_ENTRY_BYTES);
    switch (offset % PCI_MSIX_ENTRY_BYTES) {
      case PCI_MSIX_ENTRY_ADDR_LO:
        this.table[offset >>> 2] = (value & ADDR_LO_WRITABLE) >>> 0;
        return;
      case PCI_MSIX_ENTRY_VECTOR_CTRL:
        this.table[offset >>> 2] = value & PCI_MSIX_ENTRY_CTRL_MASKBIT;
        this.releaseIfUnmasked(vector);
        return;
      default:
        this.table[offset >>> 2] = value >>> 0;
    }
  }

  /** A pending message goes out once neither its vector nor the function is masked. */
  private releaseIfUnmasked(vector: number): void {
    if (!this.isPending(vector) || !this.enabled || this.functionMasked || this.vectorMasked(vector)) return;
    this.send(vector);
  }

  private send(vector: number): void {
    this.pending[vector] = 0;
    const t = this.table;
    const address = (BigInt(t[4 * vector + 1]!) << 32n) | BigInt(t[4 * vector]!);
    this.msi.signalMsi(address, t[4 * vector + 2]!, this.requesterId());
  }
}
