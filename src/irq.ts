// What a device needs from the interrupt controller: drive one level-sensitive line, or send
// a message-signalled interrupt. The GIC implements them; tests pass recorders. `intid` is the
// GIC INTID (SPIs start at 32), not an SPI index.

export interface IrqSink {
  setLevel(intid: number, level: boolean): void;
}

/**
 * An MSI controller (GICv2m's frame, GICv3's ITS): what a PCI function's MSI/MSI-X write
 * reaches. A PCI device does not know which one it has; it writes `data` to `address` as the
 * guest programmed them, and the write carries the requester ID (the function's bus/device/
 * function number, as kvmtool passes it in KVM_SIGNAL_MSI's devid).
 */
export interface MsiController {
  /** Its device-tree phandle, for the PCI host's `msi-parent`. */
  readonly phandle: number;
  /** A 32-bit MSI write of `data` to guest-physical `address` by `requesterId`. */
  signalMsi(address: bigint, data: number, requesterId: number): void;
}
