// What the two virtio-pci register layouts (virtio/pci-modern.ts, virtio/pci-legacy.ts) share:
// the function they map registers onto, and how a table of fixed-width registers takes an
// access (the guest's access must have the register's width; anything else is ignored).

import type { VirtioTransport } from "./transport.ts";

/** config_msix_vector / queue_msix_vector for "no vector" (virtio 1.2 §4.1.4.3, §4.1.5.1.2). */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;

/** The function behind a layout: the transport core, plus what only PCI has. */
export interface VirtioPciFunction {
  readonly core: VirtioTransport;
  /** The guest enabled MSI-X in the capability (the legacy layout then grows 4 bytes). */
  readonly msixEnabled: boolean;
  /** The vector for configuration changes, and for the selected queue (NO_VECTOR: none). */
  configVector: number;
  queueVector: number;
  /** A doorbell write for queue `index`. */
  notify(index: number): void;
  /** Reading the ISR: its bits, cleared, and INTx lowered. */
  takeIsr(): number;
  /** A write to the device status (0 also resets the vectors). */
  writeStatus(value: number): void;
}

export type RegisterAccess = "r" | "w" | "rw";

export interface PciRegister<N extends string = string> {
  readonly name: N;
  readonly offset: number;
  readonly widthBytes: 1 | 2 | 4;
  readonly access: RegisterAccess;
}

export const register = <N extends string>(name: N, offset: number, widthBytes: 1 | 2 | 4, access: RegisterAccess): PciRegister<N> => ({ name, offset, widthBytes, access });

/**
 * One access to a register of `byOffset`: a read fills `data` from read(name), a write passes
 * the value to write(name, value). An access of another width, to no register, or against
 * the register's direction goes to ignored() instead.
 */
export function registerAccess<N extends string>(
  byOffset: ReadonlyMap<number, PciRegister<N>>,
  offset: number,
  data: Uint8Array,
  lengthBytes: number,
  isWrite: boolean,
  handlers: { read(name: N): number; write(name: N, value: number): void; ignored(what: string): void },
): void {
  const r = byOffset.get(offset);
  if (r === undefined || lengthBytes !== r.widthBytes || !r.access.includes(isWrite ? "w" : "r")) {
    handlers.ignored(`${lengthBytes}-byte ${isWrite ? "write to" : "read of"} ${r?.name ?? `+0x${offset.toString(16)}`}`);
    return;
  }
  const view = new DataView(data.buffer, data.byteOffset, lengthBytes);
  if (isWrite) {
    const value = lengthBytes === 1 ? view.getUint8(0) : lengthBytes === 2 ? view.getUint16(0, true) : view.getUint32(0, true);
    handlers.write(r.name, value);
    return;
  }
  const value = handlers.read(r.name);
  if (lengthBytes === 1) view.setUint8(0, value);
  else if (lengthBytes === 2) view.setUint16(0, value, true);
  else view.setUint32(0, value >>> 0, true);
}
