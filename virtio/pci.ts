// The virtio-pci transport, modern (virtio 1.2 §4.1), laid out as kvmtool's virtio/pci-modern.c:
// a PCI function with vendor 0x1af4 and device ID 0x1040 + the virtio ID, revision 1, whose
// vendor-specific capabilities point the driver at four structures in BAR1 (memory, 0x100
// bytes; BAR0 is an I/O window with the same layout):
//
//   0x00  common configuration (56 bytes): features, status, queue select and set-up
//   0x38  notification: one doorbell for every queue (notify_off_multiplier 0); write the index
//   0x3c  ISR status: bit 0 used buffer, bit 1 configuration change; reading clears it
//   0x40  device-specific configuration, up to the end of the BAR
//
// What every transport does alike (negotiation, status machine, queue gating, activation) is
// virtio/transport.ts. Interrupts are INTx (INTA), level-triggered: the line is high while the
// ISR is non-zero and the command register's INTX_DISABLE is clear, and a read of the ISR
// lowers it (kvmtool 2108c86, fe21827, 353fa0d). There is no MSI-X: the machine has no MSI
// controller, so there is nothing for MSI-X to signal (Linux falls back to INTx).
//
// The function serves its queues (DMA into guest RAM) only while the command register's Bus
// Master bit is set; its BARs decode as the host places them (hw/pci/host.ts).
//
// Common-configuration fields take accesses of their own width only (§4.1.3.1); the 64-bit
// queue addresses also take two 32-bit halves, as Linux writes them. Other accesses are ignored.

import type { IrqSink } from "../src/irq.ts";
import type { GuestMemory } from "../src/kvm/guest-memory.ts";
import {
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_MASTER,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN_INTA,
  PciConfigSpace,
} from "../hw/pci/config-space.ts";
import type { PciDevice } from "../hw/pci/host.ts";
import { VIRTIO_ID_BLOCK, VIRTIO_ID_CONSOLE, VIRTIO_ID_NET, type VirtioDevice } from "./device.ts";
import type { Virtqueue } from "./queue.ts";
import { VirtioTransport, type QueueField } from "./transport.ts";

export const VIRTIO_PCI_VENDOR_ID = 0x1af4;
/** Modern device IDs are this plus the virtio device ID (§4.1.2.1). */
export const VIRTIO_PCI_MODERN_DEVICE_ID_BASE = 0x1040;
export const VIRTIO_PCI_MODERN_REVISION = 1;
export const VIRTIO_PCI_BAR_BYTES = 0x100;
/** BAR indices: an I/O window and a memory window with the same layout (kvmtool's). */
export const VIRTIO_PCI_IO_BAR = 0;
export const VIRTIO_PCI_MMIO_BAR = 1;

// Where the structures sit in each BAR.
export const VIRTIO_PCI_COMMON_OFFSET = 0x00;
export const VIRTIO_PCI_COMMON_BYTES = 0x38;
export const VIRTIO_PCI_NOTIFY_OFFSET = 0x38;
export const VIRTIO_PCI_NOTIFY_BYTES = 4;
export const VIRTIO_PCI_ISR_OFFSET = 0x3c;
export const VIRTIO_PCI_ISR_BYTES = 4;
export const VIRTIO_PCI_DEVICE_OFFSET = 0x40;

/** Vendor-specific capability types (struct virtio_pci_cap.cfg_type). */
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;
const PCI_CAP_ID_VNDR = 0x09;

/** config_msix_vector and queue_msix_vector read this: no MSI-X vector, INTx is used. */
const VIRTIO_MSI_NO_VECTOR = 0xffff;

/** The PCI class of each kind of device (kvmtool's PCI_CLASS_*); others are 0xff0000. */
const CLASS_BY_VIRTIO_ID: Record<number, number> = {
  [VIRTIO_ID_NET]: 0x020000,
  [VIRTIO_ID_BLOCK]: 0x018000,
  [VIRTIO_ID_CONSOLE]: 0x078000,
};
const CLASS_OTHER = 0xff0000;

type Access = "r" | "rw";
const field = <N extends string>(name: N, offset: number, widthBytes: 1 | 2 | 4, access: Access) => ({ name, offset, widthBytes, access }) as const;

/** struct virtio_pci_common_cfg (§4.1.4.3), the 64-bit addresses as 32-bit halves. */
export const VIRTIO_PCI_COMMON_FIELDS = [
  field("device_feature_select", 0x00, 4, "rw"),
  field("device_feature", 0x04, 4, "r"),
  field("driver_feature_select", 0x08, 4, "rw"),
  field("driver_feature", 0x0c, 4, "rw"),
  field("config_msix_vector", 0x10, 2, "rw"),
  field("num_queues", 0x12, 2, "r"),
  field("device_status", 0x14, 1, "rw"),
  field("config_generation", 0x15, 1, "r"),
  field("queue_select", 0x16, 2, "rw"),
  field("queue_size", 0x18, 2, "rw"),
  field("queue_msix_vector", 0x1a, 2, "rw"),
  field("queue_enable", 0x1c, 2, "rw"),
  field("queue_notify_off", 0x1e, 2, "r"),
  field("queue_desc_lo", 0x20, 4, "rw"),
  field("queue_desc_hi", 0x24, 4, "rw"),
  field("queue_driver_lo", 0x28, 4, "rw"),
  field("queue_driver_hi", 0x2c, 4, "rw"),
  field("queue_device_lo", 0x30, 4, "rw"),
  field("queue_device_hi", 0x34, 4, "rw"),
] as const;

export type VirtioPciCommonField = (typeof VIRTIO_PCI_COMMON_FIELDS)[number]["name"];

/** Offsets by name, for tests acting as a driver. */
export const VIRTIO_PCI_COMMON = Object.fromEntries(VIRTIO_PCI_COMMON_FIELDS.map((f) => [f.name, f.offset])) as Record<VirtioPciCommonField, number>;

const BY_OFFSET = new Map<number, (typeof VIRTIO_PCI_COMMON_FIELDS)[number]>(VIRTIO_PCI_COMMON_FIELDS.map((f) => [f.offset, f]));

/** The queue fields and what of the selected queue each reads or writes (queue_size reads 0
 * for a queue that does not exist, telling the driver so). */
const QUEUE_FIELDS: Partial<Record<VirtioPciCommonField, QueueField>> = {
  queue_size: "size",
  queue_enable: "ready",
  queue_desc_lo: "descLow",
  queue_desc_hi: "descHigh",
  queue_driver_lo: "driverLow",
  queue_driver_hi: "driverHigh",
  queue_device_lo: "deviceLow",
  queue_device_hi: "deviceHigh",
};

/** A struct virtio_pci_cap after its ID and next pointer, with `extra` bytes after it. */
function vendorCapability(cfgType: number, offset: number, lengthBytes: number, extra: number[] = []): Uint8Array {
  const body = new Uint8Array(14 + extra.length);
  const v = new DataView(body.buffer);
  body[0] = 2 + body.length; // cap_len, counting cap_vndr and cap_next
  body[1] = cfgType;
  body[2] = VIRTIO_PCI_MMIO_BAR;
  v.setUint32(6, offset, true);
  v.setUint32(10, lengthBytes, true);
  body.set(extra, 14);
  return body;
}

export interface VirtioPciOptions {
  /** GIC INTID of the SPI its INTA drives. */
  intid: number;
  irq: IrqSink;
  mem: GuestMemory;
  device: VirtioDevice;
  log?: (line: string) => void;
  /** --debug-mmio: also report accesses the structures ignore. */
  debug?: boolean;
}

const hex = (n: number): string => "0x" + n.toString(16);

export class VirtioPciTransport implements PciDevice {
  readonly name: string;
  readonly intxIntid: number;
  readonly config: PciConfigSpace;
  /** The transport-independent half: negotiation, status, queues, activation. */
  readonly core: VirtioTransport;
  private readonly irq: IrqSink;
  /** The level last driven on the INTx line. */
  private intxLevel = false;

  constructor(opts: VirtioPciOptions) {
    const { device } = opts;
    this.name = `${device.name}-pci`;
    this.intxIntid = opts.intid;
    this.irq = opts.irq;
    this.core = new VirtioTransport({ device, mem: opts.mem, name: this.name, log: opts.log, debug: opts.debug, onInterrupt: () => this.updateIntx() });
    this.config = new PciConfigSpace(
      {
        vendorId: VIRTIO_PCI_VENDOR_ID,
        deviceId: VIRTIO_PCI_MODERN_DEVICE_ID_BASE + device.deviceId,
        revisionId: VIRTIO_PCI_MODERN_REVISION,
        classCode: CLASS_BY_VIRTIO_ID[device.deviceId] ?? CLASS_OTHER,
        subsystemVendorId: VIRTIO_PCI_VENDOR_ID,
        subsystemId: device.deviceId,
        interruptPin: PCI_INTERRUPT_PIN_INTA,
      },
      [
        { kind: "io", sizeBytes: VIRTIO_PCI_BAR_BYTES },
        { kind: "mmio", sizeBytes: VIRTIO_PCI_BAR_BYTES },
      ],
    );
    // kvmtool puts the line in Interrupt Line; nothing reads it on arm64 but it is the truth.
    this.config.write(PCI_INTERRUPT_LINE, 1, opts.intid);
    const deviceCfgBytes = Math.min(device.config.length, VIRTIO_PCI_BAR_BYTES - VIRTIO_PCI_DEVICE_OFFSET);
    this.config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET, VIRTIO_PCI_COMMON_BYTES));
    this.config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET, VIRTIO_PCI_NOTIFY_BYTES, [0, 0, 0, 0]));
    this.config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET, VIRTIO_PCI_ISR_BYTES));
    if (deviceCfgBytes > 0) {
      this.config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFFSET, deviceCfgBytes));
    }
    // The spec requires a PCI-configuration access capability; like kvmtool, lkvm advertises
    // it and its window does nothing (no driver lkvm boots uses it).
    this.config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_PCI_CFG, 0, 0, [0, 0, 0, 0]));
  }

  get device(): VirtioDevice {
    return this.core.device;
  }

  get queues(): readonly Virtqueue[] {
    return this.core.queues;
  }

  /** BAR0 and BAR1 have the same layout. */
  barAccess(_bar: number, offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    if (offset < VIRTIO_PCI_COMMON_BYTES) this.commonAccess(offset, data, lengthBytes, isWrite);
    else if (offset < VIRTIO_PCI_ISR_OFFSET) this.notifyAccess(data, lengthBytes, isWrite);
    else if (offset < VIRTIO_PCI_DEVICE_OFFSET) this.isrAccess(offset, data, isWrite);
    else this.core.configAccess(offset - VIRTIO_PCI_DEVICE_OFFSET, data, lengthBytes, isWrite);
  }

  /** The host tells us the guest wrote our config space: INTX_DISABLE may have changed. */
  configWritten(): void {
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

  private commonAccess(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    // A 64-bit access to a queue address is its two 32-bit halves.
    if (lengthBytes === 8 && BY_OFFSET.get(offset)?.name.endsWith("_lo")) {
      this.commonAccess(offset, data.subarray(0, 4), 4, isWrite);
      this.commonAccess(offset + 4, data.subarray(4, 8), 4, isWrite);
      return;
    }
    const f = BY_OFFSET.get(offset);
    if (f === undefined || lengthBytes !== f.widthBytes || (isWrite && f.access === "r")) {
      this.core.debug(`ignored ${lengthBytes}-byte ${isWrite ? "write to" : "read of"} ${f?.name ?? `common config +${hex(offset)}`}`);
      return;
    }
    const view = new DataView(data.buffer, data.byteOffset, lengthBytes);
    if (isWrite) {
      const value = lengthBytes === 1 ? view.getUint8(0) : lengthBytes === 2 ? view.getUint16(0, true) : view.getUint32(0, true);
      this.writeCommon(f.name, value);
      return;
    }
    const value = this.readCommon(f.name);
    if (lengthBytes === 1) view.setUint8(0, value);
    else if (lengthBytes === 2) view.setUint16(0, value, true);
    else view.setUint32(0, value, true);
  }

  private readCommon(name: VirtioPciCommonField): number {
    const c = this.core;
    const queueField = QUEUE_FIELDS[name];
    if (queueField !== undefined) return c.readQueueField(queueField);
    switch (name) {
      case "device_feature_select":
        return c.deviceFeaturesSel;
      case "device_feature":
        return c.deviceFeaturesPage();
      case "driver_feature_select":
        return c.driverFeaturesSel;
      case "driver_feature":
        return c.driverFeaturesPage();
      case "config_msix_vector":
      case "queue_msix_vector":
        return VIRTIO_MSI_NO_VECTOR;
      case "num_queues":
        return c.queues.length;
      case "device_status":
        return c.status;
      case "config_generation":
        return c.configGeneration;
      case "queue_select":
        return c.queueSel;
      case "queue_notify_off":
        return 0; // one doorbell for every queue
      default:
        return 0; // the queue fields are read above
    }
  }

  private writeCommon(name: VirtioPciCommonField, value: number): void {
    const c = this.core;
    const queueField = QUEUE_FIELDS[name];
    if (queueField !== undefined) {
      c.writeQueueField(queueField, value, name);
      return;
    }
    switch (name) {
      case "device_feature_select":
        c.deviceFeaturesSel = value;
        return;
      case "driver_feature_select":
        c.driverFeaturesSel = value;
        return;
      case "driver_feature":
        c.writeDriverFeatures(value, name);
        return;
      case "queue_select":
        // An out-of-range select is refused, as kvmtool's modern PCI does.
        if (value < c.queues.length) c.selectQueue(value);
        else c.complain(`queue-select-${value}`, `queue_select ${value}: the device has ${c.queues.length} queues; ignored`);
        return;
      case "device_status":
        c.writeStatus(value);
        // A reset clears the ISR, so the line may fall.
        this.updateIntx();
        return;
      case "config_msix_vector":
      case "queue_msix_vector":
        return; // no MSI-X: the vector stays VIRTIO_MSI_NO_VECTOR
    }
  }

  private notifyAccess(data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    if (!isWrite) return;
    if (lengthBytes !== 2 && lengthBytes !== 4) {
      this.core.debug(`ignored ${lengthBytes}-byte notification`);
      return;
    }
    // Serving a queue is DMA, which a function may do only while Bus Master is enabled
    // (Linux's virtio_pci_probe sets it before any driver runs).
    if ((this.config.command & PCI_COMMAND_MASTER) === 0) {
      this.core.complain("no-bus-master", "notification while Bus Master is disabled in the command register; ignored");
      return;
    }
    this.core.queueNotify(data[0]! | (data[1]! << 8));
  }

  /** Reading the ISR returns its bits and clears them, lowering INTx. */
  private isrAccess(offset: number, data: Uint8Array, isWrite: boolean): void {
    if (isWrite || offset !== VIRTIO_PCI_ISR_OFFSET) return;
    data[0] = this.core.takeInterruptStatus();
    this.updateIntx();
  }

  /** INTx follows the ISR: asserted while it has bits and INTX_DISABLE is clear. */
  private updateIntx(): void {
    const pending = this.core.interruptStatus !== 0;
    this.config.setInterruptStatus(pending);
    const level = pending && (this.config.command & PCI_COMMAND_INTX_DISABLE) === 0;
    if (level === this.intxLevel) return;
    this.intxLevel = level;
    this.irq.setLevel(this.intxIntid, level);
  }
}
