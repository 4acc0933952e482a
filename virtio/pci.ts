// The virtio-pci transport (virtio 1.2 §4.1) as kvmtool's virtio/pci.c builds it: a PCI
// function with vendor 0x1af4 whose BAR0 (I/O) and BAR1 (memory), 0x100 bytes each, hold the
// same registers, and BAR2 (memory) the MSI-X table and PBA. Two layouts:
//
// - modern (`pci`, kvmtool's default): device ID 0x1040 + the virtio ID, subsystem 0x40 + the
//   virtio ID, revision 1, vendor capabilities pointing at the structures (virtio/pci-modern.ts);
// - legacy (`pci-legacy`): a transitional device ID from kvmtool's table (0x1000 + ...,
//   subsystem = the virtio ID, which is what Linux's legacy driver matches on), revision 0,
//   the virtio 0.9.5 register block (virtio/pci-legacy.ts).
//
// What every transport does alike (negotiation, status machine, queue gating, activation) is
// virtio/transport.ts.
//
// Interrupts. INTx (INTA) is level-triggered: high while the ISR is non-zero, INTX_DISABLE is
// clear and MSI-X is off (a function with MSI-X enabled may not use INTx); a read of the ISR
// lowers it (kvmtool 2108c86, fe21827, 353fa0d). When the PCI host has an MSI controller
// (GICv2m, ITS), the function also has MSI-X (hw/pci/msix.ts) with kvmtool's 33 vectors (32
// queues + configuration): once the guest enables it, a cause whose vector (config_msix_vector
// or the queue's queue_msix_vector) is not VIRTIO_MSI_NO_VECTOR is sent as that vector's
// message, carrying the requester ID slot << 3 (kvmtool's devid). A vector number past the table
// reads back as NO_VECTOR, which tells the driver the mapping failed (§4.1.5.1.2). A reset
// returns every vector to NO_VECTOR. Without an MSI controller there is no MSI-X capability
// and no BAR2, and the vector registers read NO_VECTOR: Linux uses INTx.
//
// The function serves its queues (DMA into guest RAM) only while the command register's Bus
// Master bit is set; its BARs decode as the host places them (hw/pci/host.ts).

import type { IrqSink, MsiController } from "../src/irq.ts";
import type { GuestMemory } from "../src/kvm/guest-memory.ts";
import {
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_MASTER,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN_INTA,
  PciConfigSpace,
  type PciBarDeclaration,
} from "../hw/pci/config-space.ts";
import { pciRequesterId, type PciDevice } from "../hw/pci/host.ts";
import { Msix, msixBarBytes } from "../hw/pci/msix.ts";
import { VIRTIO_ID_9P, VIRTIO_ID_BLOCK, VIRTIO_ID_CONSOLE, VIRTIO_ID_NET, VIRTIO_ID_RNG, type VirtioDevice } from "./device.ts";
import type { Virtqueue } from "./queue.ts";
import { VirtioTransport, VIRTIO_INT_VRING } from "./transport.ts";
import { VIRTIO_MSI_NO_VECTOR, type VirtioPciFunction } from "./pci-registers.ts";
import { addModernCapabilities, modernAccess, VIRTIO_PCI_MODERN_BAR_BYTES } from "./pci-modern.ts";
import { legacyAccess, VIRTIO_PCI_LEGACY_BAR_BYTES } from "./pci-legacy.ts";

export const VIRTIO_PCI_VENDOR_ID = 0x1af4;
/** Modern device IDs are this plus the virtio device ID (§4.1.2.1). */
export const VIRTIO_PCI_MODERN_DEVICE_ID_BASE = 0x1040;
/** kvmtool's modern subsystem IDs are this plus the virtio device ID (pci-modern.c). */
export const VIRTIO_PCI_MODERN_SUBSYSTEM_ID_BASE = 0x40;
export const VIRTIO_PCI_MODERN_REVISION = 1;
export const VIRTIO_PCI_LEGACY_REVISION = 0;
/** BAR indices: an I/O window and a memory window with the same layout, and MSI-X (kvmtool's). */
export const VIRTIO_PCI_IO_BAR = 0;
export const VIRTIO_PCI_MMIO_BAR = 1;
export const VIRTIO_PCI_MSIX_BAR = 2;
/** kvmtool's VIRTIO_NR_MSIX: one vector per queue (up to 32) and one for configuration. */
export const VIRTIO_PCI_MSIX_VECTORS = 33;

/**
 * kvmtool's transitional device IDs (include/kvm/virtio-pci-dev.h). They differ from the spec's
 * table for rng (0x1005 there); Linux's legacy driver takes any ID in 0x1000-0x103f and reads
 * the device type from the subsystem ID.
 */
const LEGACY_DEVICE_ID_BY_VIRTIO_ID: Record<number, number> = {
  [VIRTIO_ID_NET]: 0x1000,
  [VIRTIO_ID_BLOCK]: 0x1001,
  [VIRTIO_ID_CONSOLE]: 0x1003,
  [VIRTIO_ID_RNG]: 0x1004,
  5: 0x1005, // balloon
  8: 0x1008, // scsi
  [VIRTIO_ID_9P]: 0x1009,
  19: 0x1012, // vsock
};

/** The PCI class of each kind of device (kvmtool's PCI_CLASS_*); others are 0xff0000. */
const CLASS_BY_VIRTIO_ID: Record<number, number> = {
  [VIRTIO_ID_NET]: 0x020000,
  [VIRTIO_ID_BLOCK]: 0x018000,
  [VIRTIO_ID_CONSOLE]: 0x078000,
};
const CLASS_OTHER = 0xff0000;

export interface VirtioPciOptions {
  /** GIC INTID of the SPI its INTA drives. */
  intid: number;
  irq: IrqSink;
  mem: GuestMemory;
  device: VirtioDevice;
  /** The legacy interface (pci-legacy) instead of the modern one. */
  legacy?: boolean;
  /** The PCI host's MSI controller, if it has one: the function then has MSI-X. */
  msi?: MsiController;
  log?: (line: string) => void;
  /** --debug-mmio: also report accesses the structures ignore. */
  debug?: boolean;
}

export class VirtioPciTransport implements PciDevice, VirtioPciFunction {
  readonly name: string;
  readonly intxIntid: number;
  readonly config: PciConfigSpace;
  readonly legacy: boolean;
  /** The transport-independent half: negotiation, status, queues, activation. */
  readonly core: VirtioTransport;
  /** MSI-X, when the host has an MSI controller. */
  readonly msix?: Msix;
  private readonly irq: IrqSink;
  /** The level last driven on the INTx line. */
  private intxLevel = false;
  private slot = 0;
  private configVectorValue = VIRTIO_MSI_NO_VECTOR;
  private readonly queueVectors: number[];

  constructor(opts: VirtioPciOptions) {
    const { device } = opts;
    this.legacy = opts.legacy ?? false;
    this.name = `${device.name}-pci`;
    this.intxIntid = opts.intid;
    this.irq = opts.irq;
    this.core = new VirtioTransport({
      device,
      mem: opts.mem,
      name: this.name,
      log: opts.log,
      debug: opts.debug,
      legacy: this.legacy,
      onInterrupt: (cause, queueIndex) => this.interrupt(cause, queueIndex),
    });
    this.queueVectors = this.core.queues.map(() => VIRTIO_MSI_NO_VECTOR);
    const barBytes = this.legacy ? VIRTIO_PCI_LEGACY_BAR_BYTES : VIRTIO_PCI_MODERN_BAR_BYTES;
    const bars: PciBarDeclaration[] = [
      { kind: "io", sizeBytes: barBytes },
      { kind: "mmio", sizeBytes: barBytes },
    ];
    if (opts.msi !== undefined) bars.push({ kind: "mmio", sizeBytes: msixBarBytes(VIRTIO_PCI_MSIX_VECTORS) });
    this.config = new PciConfigSpace(
      {
        vendorId: VIRTIO_PCI_VENDOR_ID,
        deviceId: this.legacy ? (LEGACY_DEVICE_ID_BY_VIRTIO_ID[device.deviceId] ?? 0x1000 + device.deviceId - 1) : VIRTIO_PCI_MODERN_DEVICE_ID_BASE + device.deviceId,
        revisionId: this.legacy ? VIRTIO_PCI_LEGACY_REVISION : VIRTIO_PCI_MODERN_REVISION,
        classCode: CLASS_BY_VIRTIO_ID[device.deviceId] ?? CLASS_OTHER,
        subsystemVendorId: VIRTIO_PCI_VENDOR_ID,
        subsystemId: this.legacy ? device.deviceId : VIRTIO_PCI_MODERN_SUBSYSTEM_ID_BASE + device.deviceId,
        interruptPin: PCI_INTERRUPT_PIN_INTA,
      },
      bars,
    );
    // kvmtool puts the line in Interrupt Line; nothing reads it on arm64 but it is the truth.
    this.config.write(PCI_INTERRUPT_LINE, 1, opts.intid);
    // kvmtool's capability chain starts with MSI-X.
    if (opts.msi !== undefined) {
      this.msix = new Msix({ config: this.config, bar: VIRTIO_PCI_MSIX_BAR, vectorCount: VIRTIO_PCI_MSIX_VECTORS, msi: opts.msi, requesterId: () => pciRequesterId(this.slot) });
    }
    if (!this.legacy) addModernCapabilities(this.config, device.config.length);
  }

  get device(): VirtioDevice {
    return this.core.device;
  }

  get queues(): readonly Virtqueue[] {
    return this.core.queues;
  }

  pluggedIn(slot: number): void {
    this.slot = slot;
  }

  barAccess(bar: number, offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    if (bar === VIRTIO_PCI_MSIX_BAR) this.msix?.barAccess(offset, data, lengthBytes, isWrite);
    else if (this.legacy) legacyAccess(this, offset, data, lengthBytes, isWrite);
    else modernAccess(this, offset, data, lengthBytes, isWrite);
  }

  /** The host tells us the guest wrote our config space: INTX_DISABLE or MSI-X may have changed. */
  configWritten(): void {
    this.msix?.configWritten();
    this.updateIntx();
  }

  /** The VM is exiting. */
  close(): void {
    this.core.close();
  }

  /** kvmtool's exit hint for a device the guest never set up. */
  exitHint(): string | undefined {
    return this.core.exitHint("CONFIG_VIRTIO_PCI");
  }

  // ---- what the register layouts reach (VirtioPciFunction) ----

  get msixEnabled(): boolean {
    return this.msix?.enabled ?? false;
  }

  get configVector(): number {
    return this.configVectorValue;
  }

  set configVector(value: number) {
    this.configVectorValue = this.acceptedVector(value);
  }

  /** The selected queue's vector (the selection is always a queue that exists). */
  get queueVector(): number {
    return this.queueVectors[this.core.queueSel] ?? VIRTIO_MSI_NO_VECTOR;
  }

  set queueVector(value: number) {
    if (this.core.queueSel < this.queueVectors.length) this.queueVectors[this.core.queueSel] = this.acceptedVector(value);
  }

  notify(index: number): void {
    // Serving a queue is DMA, which a function may do only while Bus Master is enabled
    // (Linux's virtio_pci_probe sets it before any driver runs).
    if ((this.config.command & PCI_COMMAND_MASTER) === 0) {
      this.core.complain("no-bus-master", "notification while Bus Master is disabled in the command register; ignored");
      return;
    }
    this.core.queueNotify(index);
  }

  takeIsr(): number {
    const bits = this.core.takeInterruptStatus();
    this.updateIntx();
    return bits;
  }

  writeStatus(value: number): void {
    this.core.writeStatus(value);
    if (value === 0) {
      this.configVectorValue = VIRTIO_MSI_NO_VECTOR;
      this.queueVectors.fill(VIRTIO_MSI_NO_VECTOR);
    }
    // A reset clears the ISR, so the line may fall.
    this.updateIntx();
  }

  // ---- interrupts ----

  /** A vector the table has, or NO_VECTOR (also without MSI-X: there is no table). */
  private acceptedVector(value: number): number {
    if (this.msix === undefined || value >= this.msix.vectorCount) return VIRTIO_MSI_NO_VECTOR;
    return value;
  }

  /** A cause from the model: its MSI-X message when it has a vector, else the ISR and INTx. */
  private interrupt(cause: number, queueIndex?: number): void {
    const vector = cause === VIRTIO_INT_VRING ? (this.queueVectors[queueIndex ?? -1] ?? VIRTIO_MSI_NO_VECTOR) : this.configVectorValue;
    if (this.msix !== undefined && this.msix.enabled && vector !== VIRTIO_MSI_NO_VECTOR) {
      this.msix.signal(vector);
      return;
    }
    this.core.latchInterruptStatus(cause);
    this.updateIntx();
  }

  /** INTx follows the ISR: asserted while it has bits, INTX_DISABLE is clear and MSI-X is off. */
  private updateIntx(): void {
    const pending = this.core.interruptStatus !== 0;
    this.config.setInterruptStatus(pending);
    const level = pending && (this.config.command & PCI_COMMAND_INTX_DISABLE) === 0 && !this.msixEnabled;
    if (level === this.intxLevel) return;
    this.intxLevel = level;
    this.irq.setLevel(this.intxIntid, level);
  }
}
