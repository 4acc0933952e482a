// The virtio-mmio transport, version 2 ("modern", virtio 1.2 §4.2.2) or version 1 ("legacy",
// §4.2.4, kvmtool's --virtio-transport mmio-legacy): one 0x200-byte register window per device,
// one edge-triggered SPI, and the device model behind the VirtioDevice interface
// (virtio/device.ts). What every transport negotiates the same way (features, the status
// machine, queue gating, activation, failures) is virtio/transport.ts; this file maps the MMIO
// register block onto it.
//
// Version 1 has no QueueReady or 64-bit ring addresses: the driver writes GuestPageSize once
// (it survives resets, as Linux writes it only at probe), then per queue QueueNum, QueueAlign
// and QueuePFN, the page its rings start at in the legacy layout; 32 feature bits, no
// VERSION_1, and QueueSel past the last queue is refused (as kvmtool's mmio-legacy does).
//
// Interrupts: InterruptStatus bit 0 (used buffer) and bit 1 (configuration change), cleared by
// InterruptACK; each new cause pulses the SPI, which the DT describes as edge-rising, as
// kvmtool does. The guest's GIC driver programs GICD_ICFGR from that.
//
// Registers below 0x100 take 32-bit aligned accesses only (§4.2.2.2); others are ignored.
// The configuration space at 0x100 takes 1, 2, 4 and 8-byte accesses inside its size.

import type { TrapBus } from "../src/iotrap/bus.ts";
import type { IrqSink } from "../src/irq.ts";
import type { GuestMemory } from "../src/kvm/guest-memory.ts";
import { u64Cells, type FdtNode } from "../src/lib/fdt/tree.ts";
import { IRQ_TYPE, spiCells } from "../arm/machine/interrupt-specifier.ts";
import type { VirtioDevice } from "./device.ts";
import type { Virtqueue } from "./queue.ts";
import { VirtioTransport, type QueueField } from "./transport.ts";

export const VIRTIO_MMIO_MAGIC = 0x7472_6976; // "virt"
export const VIRTIO_MMIO_VERSION = 2;
export const VIRTIO_MMIO_LEGACY_VERSION = 1;
/** kvmtool's vendor ID: "LKVM" read as a little-endian u32. */
export const VIRTIO_MMIO_VENDOR_ID = 0x4d56_4b4c;
export const VIRTIO_MMIO_WINDOW_BYTES = 0x200;
export const VIRTIO_MMIO_CONFIG_OFFSET = 0x100;
/** SHMLen/SHMBase for a region that does not exist (§4.2.2: "a length of -1"). */
const NO_SHM_REGION = 0xffff_ffff;

export type VirtioMmioAccess = "r" | "w" | "rw";

export interface VirtioMmioRegister {
  readonly name: string;
  readonly offset: number;
  readonly access: VirtioMmioAccess;
}

const reg = <N extends string>(name: N, offset: number, access: VirtioMmioAccess) => ({ name, offset, access }) as const;

/** The registers both versions have at the same offsets: identification and features. */
const IDENTIFICATION_AND_FEATURES = [
  reg("MagicValue", 0x000, "r"),
  reg("Version", 0x004, "r"),
  reg("DeviceID", 0x008, "r"),
  reg("VendorID", 0x00c, "r"),
  reg("DeviceFeatures", 0x010, "r"),
  reg("DeviceFeaturesSel", 0x014, "w"),
  reg("DriverFeatures", 0x020, "w"),
  reg("DriverFeaturesSel", 0x024, "w"),
] as const;

/** ... and notification, interrupt status and device status. */
const NOTIFY_AND_STATUS = [
  reg("QueueNotify", 0x050, "w"),
  reg("InterruptStatus", 0x060, "r"),
  reg("InterruptACK", 0x064, "w"),
  reg("Status", 0x070, "rw"),
] as const;

/** The modern register block (virtio 1.2 §4.2.2, table "MMIO Device Register Layout"). */
export const VIRTIO_MMIO_REGISTERS = [
  ...IDENTIFICATION_AND_FEATURES,
  reg("QueueSel", 0x030, "w"),
  reg("QueueNumMax", 0x034, "r"),
  reg("QueueNum", 0x038, "w"),
  reg("QueueReady", 0x044, "rw"),
  ...NOTIFY_AND_STATUS,
  reg("QueueDescLow", 0x080, "rw"),
  reg("QueueDescHigh", 0x084, "rw"),
  reg("QueueDriverLow", 0x090, "rw"),
  reg("QueueDriverHigh", 0x094, "rw"),
  reg("QueueDeviceLow", 0x0a0, "rw"),
  reg("QueueDeviceHigh", 0x0a4, "rw"),
  reg("SHMSel", 0x0ac, "w"),
  reg("SHMLenLow", 0x0b0, "r"),
  reg("SHMLenHigh", 0x0b4, "r"),
  reg("SHMBaseLow", 0x0b8, "r"),
  reg("SHMBaseHigh", 0x0bc, "r"),
  reg("ConfigGeneration", 0x0fc, "r"),
] as const;

/**
 * The legacy register block (virtio 1.2 §4.2.4, "MMIO Device Legacy Register Layout"), with the
 * modern names where the register is the same (HostFeatures is DeviceFeatures, and so on).
 */
export const VIRTIO_MMIO_LEGACY_REGISTERS = [
  ...IDENTIFICATION_AND_FEATURES,
  reg("GuestPageSize", 0x028, "w"),
  reg("QueueSel", 0x030, "w"),
  reg("QueueNumMax", 0x034, "r"),
  reg("QueueNum", 0x038, "w"),
  reg("QueueAlign", 0x03c, "w"),
  reg("QueuePFN", 0x040, "rw"),
  ...NOTIFY_AND_STATUS,
] as const;

type AnyRegister = (typeof VIRTIO_MMIO_REGISTERS)[number] | (typeof VIRTIO_MMIO_LEGACY_REGISTERS)[number];
export type VirtioMmioRegisterName = AnyRegister["name"];

/** Offsets by name, for the handler and for tests acting as a driver. */
export const VIRTIO_MMIO = Object.fromEntries([...VIRTIO_MMIO_REGISTERS, ...VIRTIO_MMIO_LEGACY_REGISTERS].map((r) => [r.name, r.offset])) as Record<
  VirtioMmioRegisterName,
  number
>;

const BY_OFFSET = new Map<number, AnyRegister>(VIRTIO_MMIO_REGISTERS.map((r) => [r.offset, r]));
const LEGACY_BY_OFFSET = new Map<number, AnyRegister>(VIRTIO_MMIO_LEGACY_REGISTERS.map((r) => [r.offset, r]));

/** The register at an offset of the window, for tracers ("Config+0x8" in config space). */
export function virtioMmioRegisterName(offset: number, version: 1 | 2 = VIRTIO_MMIO_VERSION): string | undefined {
  if (offset >= VIRTIO_MMIO_CONFIG_OFFSET && offset < VIRTIO_MMIO_WINDOW_BYTES) {
    return `Config+0x${(offset - VIRTIO_MMIO_CONFIG_OFFSET).toString(16)}`;
  }
  return (version === VIRTIO_MMIO_LEGACY_VERSION ? LEGACY_BY_OFFSET : BY_OFFSET).get(offset)?.name;
}

/** GuestPageSize and QueueAlign: powers of two up to arm64's largest page. */
const LEGACY_MAX_PAGE_BYTES = 0x1_0000;
const isPowerOfTwoUpTo = (n: number, max: number): boolean => n > 0 && n <= max && (n & (n - 1)) === 0;

export interface VirtioMmioOptions {
  base: number;
  /** GIC INTID of the device's SPI. */
  intid: number;
  irq: IrqSink;
  mem: GuestMemory;
  device: VirtioDevice;
  /** Where complaints about the guest go (each kind once). */
  log?: (line: string) => void;
  /** --debug-mmio: also report accesses the register block ignores, by register name. */
  debugMmio?: boolean;
  /** 1 for the legacy interface (mmio-legacy); 2, the default, for the modern one. */
  version?: 1 | 2;
}

const hex = (n: number): string => "0x" + n.toString(16);

/** The queue registers and the field of the selected queue each one reads or writes. */
const QUEUE_FIELDS: Partial<Record<VirtioMmioRegisterName, QueueField>> = {
  QueueNum: "size",
  QueueReady: "ready",
  QueueDescLow: "descLow",
  QueueDescHigh: "descHigh",
  QueueDriverLow: "driverLow",
  QueueDriverHigh: "driverHigh",
  QueueDeviceLow: "deviceLow",
  QueueDeviceHigh: "deviceHigh",
};

export class VirtioMmioTransport {
  readonly base: number;
  readonly intid: number;
  readonly name: string;
  /** The transport-independent half: negotiation, status, queues, activation. */
  readonly core: VirtioTransport;
  readonly version: 1 | 2;
  private readonly irq: IrqSink;
  private readonly registers: ReadonlyMap<number, AnyRegister>;
  /** Version 1's GuestPageSize and QueueAlign, in bytes (0 until the driver writes them). */
  private legacyRings = { pageSizeBytes: 0, alignBytes: 0 };

  constructor(opts: VirtioMmioOptions) {
    this.base = opts.base;
    this.version = opts.version ?? VIRTIO_MMIO_VERSION;
    this.registers = this.version === VIRTIO_MMIO_LEGACY_VERSION ? LEGACY_BY_OFFSET : BY_OFFSET;
    this.intid = opts.intid;
    this.irq = opts.irq;
    this.name = `${opts.device.name}@${hex(opts.base)}`;
    this.core = new VirtioTransport({
      device: opts.device,
      mem: opts.mem,
      name: this.name,
      log: opts.log,
      debug: opts.debugMmio,
      legacy: this.version === VIRTIO_MMIO_LEGACY_VERSION,
      // Each new cause pulses the edge-triggered SPI.
      onInterrupt: (cause) => {
        this.core.latchInterruptStatus(cause);
        this.irq.setLevel(this.intid, true);
        this.irq.setLevel(this.intid, false);
      },
    });
  }

  get device(): VirtioDevice {
    return this.core.device;
  }

  get queues(): readonly Virtqueue[] {
    return this.core.queues;
  }

  get everActivated(): boolean {
    return this.core.everActivated;
  }

  /** The status register as the driver reads it. */
  get status(): number {
    return this.core.status;
  }

  /** kvmtool's node: `virtio@<addr>`, "virtio,mmio", dma-coherent, an edge-rising SPI. */
  fdtNode(parent: FdtNode): FdtNode {
    return parent
      .child(`virtio@${this.base.toString(16)}`)
      .prop("compatible", "virtio,mmio")
      .prop("reg", [...u64Cells(this.base), ...u64Cells(VIRTIO_MMIO_WINDOW_BYTES)])
      .prop("dma-coherent", null)
      .prop("interrupts", spiCells(this.intid, IRQ_TYPE.edgeRising));
  }

  register(bus: TrapBus): void {
    bus.register({
      bus: "mmio",
      base: this.base,
      sizeBytes: VIRTIO_MMIO_WINDOW_BYTES,
      name: this.name,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => this.access(offset, data, lengthBytes, isWrite),
    });
  }

  /** One access to the window; `data` is little-endian, zeroed by the bus before a read. */
  access(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    if (offset >= VIRTIO_MMIO_CONFIG_OFFSET) {
      this.core.configAccess(offset - VIRTIO_MMIO_CONFIG_OFFSET, data, lengthBytes, isWrite);
      return;
    }
    const r = this.registers.get(offset);
    if (lengthBytes !== 4 || r === undefined || !r.access.includes(isWrite ? "w" : "r")) {
      this.core.debug(`ignored ${lengthBytes}-byte ${isWrite ? "write to" : "read of"} ${r?.name ?? `offset ${hex(offset)}`}`);
      return;
    }
    const view = new DataView(data.buffer, data.byteOffset, 4);
    if (isWrite) this.writeRegister(r.name, view.getUint32(0, true));
    else view.setUint32(0, this.readRegister(r.name), true);
  }

  private readRegister(name: VirtioMmioRegisterName): number {
    const c = this.core;
    const field = QUEUE_FIELDS[name];
    if (field !== undefined) return c.readQueueField(field);
    switch (name) {
      case "MagicValue":
        return VIRTIO_MMIO_MAGIC;
      case "Version":
        return this.version;
      case "DeviceID":
        return c.device.deviceId;
      case "VendorID":
        return VIRTIO_MMIO_VENDOR_ID;
      case "DeviceFeatures":
        return c.deviceFeaturesPage();
      case "QueueNumMax":
        // 0 tells the driver the queue does not exist.
        return c.selectedQueue?.maxSize ?? 0;
      case "InterruptStatus":
        return c.interruptStatus;
      case "Status":
        return c.status;
      case "SHMLenLow":
      case "SHMLenHigh":
      case "SHMBaseLow":
      case "SHMBaseHigh":
        return NO_SHM_REGION;
      case "ConfigGeneration":
        return c.configGeneration;
      case "QueuePFN":
        return this.legacyRings.pageSizeBytes === 0 ? 0 : c.legacyQueuePfn(this.legacyRings.pageSizeBytes);
      default:
        return 0; // write-only registers are filtered out before this
    }
  }

  private writeRegister(name: VirtioMmioRegisterName, value: number): void {
    const c = this.core;
    const field = QUEUE_FIELDS[name];
    if (field !== undefined) {
      c.writeQueueField(field, value, name);
      return;
    }
    switch (name) {
      case "DeviceFeaturesSel":
        c.deviceFeaturesSel = value;
        return;
      case "DriverFeaturesSel":
        c.driverFeaturesSel = value;
        return;
      case "DriverFeatures":
        c.writeDriverFeatures(value, name);
        return;
      case "QueueSel":
        // Version 2 keeps any value (QueueNumMax then reads 0); version 1 refuses it, as kvmtool.
        if (this.version === VIRTIO_MMIO_LEGACY_VERSION && value >= c.queues.length) {
          c.complain(`queue-select-${value}`, `QueueSel ${value}: the device has ${c.queues.length} queues; ignored`);
          return;
        }
        c.selectQueue(value);
        return;
      case "GuestPageSize":
      case "QueueAlign":
        this.writeLegacyGeometry(name, value);
        return;
      case "QueuePFN":
        this.writeQueuePfn(value);
        return;
      case "QueueNotify":
        c.queueNotify(value);
        return;
      case "InterruptACK":
        c.acknowledgeInterrupt(value);
        return;
      case "Status":
        c.writeStatus(value);
        return;
      case "SHMSel":
        return; // no shared memory regions, whichever is selected
    }
  }

  private writeLegacyGeometry(name: "GuestPageSize" | "QueueAlign", value: number): void {
    if (!isPowerOfTwoUpTo(value, LEGACY_MAX_PAGE_BYTES)) {
      this.core.complain(`legacy-${name}`, `${name} ${value} is not a power of two up to ${LEGACY_MAX_PAGE_BYTES}; ignored`);
      return;
    }
    if (name === "GuestPageSize") this.legacyRings.pageSizeBytes = value;
    else this.legacyRings.alignBytes = value;
  }

  private writeQueuePfn(pfn: number): void {
    const { pageSizeBytes, alignBytes } = this.legacyRings;
    if (pfn !== 0 && (pageSizeBytes === 0 || alignBytes === 0)) {
      this.core.complain("legacy-geometry", "QueuePFN written before GuestPageSize and QueueAlign; ignored");
      return;
    }
    this.core.setLegacyQueuePfn(pfn, { pageSizeBytes, alignBytes }, "QueuePFN");
  }

  /** Status 0: everything back to reset values, the model inactive. */
  reset(): void {
    this.core.reset();
  }

  /** The VM is exiting. */
  close(): void {
    this.core.close();
  }

  /** kvmtool's exit hint for a device the guest never set up. */
  exitHint(): string | undefined {
    return this.core.exitHint("CONFIG_VIRTIO_MMIO");
  }
}
