// The virtio-mmio transport, version 2 ("modern", virtio 1.2 §4.2.2): one 0x200-byte register
// window per device, one edge-triggered SPI, and the device model behind the VirtioDevice
// interface (virtio/device.ts). The transport owns everything the driver negotiates:
//
// - features: 64 bits through the *FeaturesSel windows; VIRTIO_F_VERSION_1 is always offered.
//   The driver may only accept what was offered, and must accept VERSION_1: otherwise the
//   device refuses FEATURES_OK (the driver reads the status back and gives up, §3.1.1).
// - status: only the transitions in STATUS_TRANSITIONS; any other write is logged once and
//   ignored. 0 resets the device; FAILED may be added at any time.
// - queues: configurable only between FEATURES_OK and DRIVER_OK; QueueReady = 1 validates the
//   queue (virtio/queue.ts) and a bad one marks the device DEVICE_NEEDS_RESET.
// - DRIVER_OK activates the model; a failed activation sets DEVICE_NEEDS_RESET and raises a
//   configuration interrupt (§2.1.2).
// - interrupts: InterruptStatus bit 0 (used buffer) and bit 1 (configuration change), cleared
//   by InterruptACK; each new cause pulses the SPI, which the DT describes as edge-rising, as
//   kvmtool does. The guest's GIC driver programs GICD_ICFGR from that.
//
// Registers below 0x100 take 32-bit aligned accesses only (§4.2.2.2); others are ignored.
// The configuration space at 0x100 takes 1, 2, 4 and 8-byte accesses inside its size.
//
// A GuestError from a queue or the model is caught here: the device is marked
// DEVICE_NEEDS_RESET and stops serving notifications until the driver resets it. Each kind of
// complaint is logged once.

import type { TrapBus } from "../src/iotrap/bus.ts";
import type { IrqSink } from "../src/irq.ts";
import { GuestError } from "../src/errors.ts";
import type { GuestMemory } from "../src/kvm/guest-memory.ts";
import { u64Cells, type FdtNode } from "../src/lib/fdt/tree.ts";
import { IRQ_TYPE, spiCells } from "../arm/machine/interrupt-specifier.ts";
import {
  VIRTIO_F_VERSION_1,
  VIRTIO_STATUS_ACKNOWLEDGE as ACK,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET as NEEDS_RESET,
  VIRTIO_STATUS_DRIVER as DRIVER,
  VIRTIO_STATUS_DRIVER_OK as DRIVER_OK,
  VIRTIO_STATUS_FAILED as FAILED,
  VIRTIO_STATUS_FEATURES_OK as FEATURES_OK,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  featureBit,
  hasFeature,
  type VirtioDevice,
  type VirtioInterrupt,
} from "./device.ts";
import { Virtqueue } from "./queue.ts";

export const VIRTIO_MMIO_MAGIC = 0x7472_6976; // "virt"
export const VIRTIO_MMIO_VERSION = 2;
/** kvmtool's vendor ID: "LKVM" read as a little-endian u32. */
export const VIRTIO_MMIO_VENDOR_ID = 0x4d56_4b4c;
export const VIRTIO_MMIO_WINDOW_BYTES = 0x200;
export const VIRTIO_MMIO_CONFIG_OFFSET = 0x100;
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;
/** SHMLen/SHMBase for a region that does not exist (§4.2.2: "a length of -1"). */
const NO_SHM_REGION = 0xffff_ffff;

export type VirtioMmioAccess = "r" | "w" | "rw";

export interface VirtioMmioRegister {
  readonly name: string;
  readonly offset: number;
  readonly access: VirtioMmioAccess;
}

const reg = <N extends string>(name: N, offset: number, access: VirtioMmioAccess) => ({ name, offset, access }) as const;

/** The modern register block (virtio 1.2 §4.2.2, table "MMIO Device Register Layout"). */
export const VIRTIO_MMIO_REGISTERS = [
  reg("MagicValue", 0x000, "r"),
  reg("Version", 0x004, "r"),
  reg("DeviceID", 0x008, "r"),
  reg("VendorID", 0x00c, "r"),
  reg("DeviceFeatures", 0x010, "r"),
  reg("DeviceFeaturesSel", 0x014, "w"),
  reg("DriverFeatures", 0x020, "w"),
  reg("DriverFeaturesSel", 0x024, "w"),
  reg("QueueSel", 0x030, "w"),
  reg("QueueNumMax", 0x034, "r"),
  reg("QueueNum", 0x038, "w"),
  reg("QueueReady", 0x044, "rw"),
  reg("QueueNotify", 0x050, "w"),
  reg("InterruptStatus", 0x060, "r"),
  reg("InterruptACK", 0x064, "w"),
  reg("Status", 0x070, "rw"),
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

export type VirtioMmioRegisterName = (typeof VIRTIO_MMIO_REGISTERS)[number]["name"];

/** Offsets by name, for the handler and for tests acting as a driver. */
export const VIRTIO_MMIO = Object.fromEntries(VIRTIO_MMIO_REGISTERS.map((r) => [r.name, r.offset])) as Record<
  VirtioMmioRegisterName,
  number
>;

const BY_OFFSET = new Map<number, (typeof VIRTIO_MMIO_REGISTERS)[number]>(VIRTIO_MMIO_REGISTERS.map((r) => [r.offset, r]));

/** The register at an offset of the window, for tracers ("Config+0x8" in config space). */
export function virtioMmioRegisterName(offset: number): string | undefined {
  if (offset >= VIRTIO_MMIO_CONFIG_OFFSET && offset < VIRTIO_MMIO_WINDOW_BYTES) {
    return `Config+0x${(offset - VIRTIO_MMIO_CONFIG_OFFSET).toString(16)}`;
  }
  return BY_OFFSET.get(offset)?.name;
}

/**
 * The status transitions a driver may make (virtio 1.2 §3.1.1), as (from, to) pairs of the
 * driver-owned bits. Besides these: writing 0 resets, writing the current value changes
 * nothing, and FAILED may be added to any status.
 */
export const STATUS_TRANSITIONS: readonly (readonly [number, number])[] = [
  [0, ACK],
  [ACK, ACK | DRIVER],
  [ACK | DRIVER, ACK | DRIVER | FEATURES_OK],
  [ACK | DRIVER | FEATURES_OK, ACK | DRIVER | FEATURES_OK | DRIVER_OK],
];

/** Everything the driver can observe of the transport, as plain data. */
export interface VirtioMmioState {
  status: number;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  /** Features the driver wrote, as two 32-bit pages. */
  driverFeatures: [number, number];
  queueSel: number;
  shmSel: number;
  interruptStatus: number;
  configGeneration: number;
}

function resetState(): VirtioMmioState {
  return {
    status: 0,
    deviceFeaturesSel: 0,
    driverFeaturesSel: 0,
    driverFeatures: [0, 0],
    queueSel: 0,
    shmSel: 0,
    interruptStatus: 0,
    configGeneration: 0,
  };
}

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
}

const hex = (n: number): string => "0x" + n.toString(16);

export class VirtioMmioTransport {
  readonly base: number;
  readonly intid: number;
  readonly name: string;
  readonly device: VirtioDevice;
  readonly queues: Virtqueue[];
  /** Whether the driver ever reached DRIVER_OK (for kvmtool's exit hint). */
  everActivated = false;
  private state: VirtioMmioState = resetState();
  private active = false;
  private readonly irq: IrqSink;
  private readonly mem: GuestMemory;
  private readonly log: (line: string) => void;
  private readonly debugMmio: boolean;
  private readonly logged = new Set<string>();
  private readonly offered: bigint;
  private readonly interrupt: VirtioInterrupt = {
    usedBuffer: () => this.raise(VIRTIO_MMIO_INT_VRING),
    configChanged: () => this.raise(VIRTIO_MMIO_INT_CONFIG),
  };

  constructor(opts: VirtioMmioOptions) {
    this.base = opts.base;
    this.intid = opts.intid;
    this.irq = opts.irq;
    this.mem = opts.mem;
    this.device = opts.device;
    this.log = opts.log ?? (() => {});
    this.debugMmio = opts.debugMmio ?? false;
    this.name = `${opts.device.name}@${hex(opts.base)}`;
    this.offered = opts.device.features | featureBit(VIRTIO_F_VERSION_1);
    this.queues = opts.device.queueSizesMax.map((max) => new Virtqueue(max));
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

  getState(): VirtioMmioState {
    return structuredClone(this.state);
  }

  /** The status register as the driver reads it. */
  get status(): number {
    return this.state.status;
  }

  /** One access to the window; `data` is little-endian, zeroed by the bus before a read. */
  access(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    if (offset >= VIRTIO_MMIO_CONFIG_OFFSET) {
      this.configAccess(offset - VIRTIO_MMIO_CONFIG_OFFSET, data, lengthBytes, isWrite);
      return;
    }
    const r = BY_OFFSET.get(offset);
    if (lengthBytes !== 4 || r === undefined || !r.access.includes(isWrite ? "w" : "r")) {
      this.debug(`ignored ${lengthBytes}-byte ${isWrite ? "write to" : "read of"} ${r?.name ?? `offset ${hex(offset)}`}`);
      return;
    }
    const view = new DataView(data.buffer, data.byteOffset, 4);
    if (isWrite) this.writeRegister(r.name, view.getUint32(0, true));
    else view.setUint32(0, this.readRegister(r.name), true);
  }

  private readRegister(name: VirtioMmioRegisterName): number {
    const s = this.state;
    const q = this.queues[s.queueSel];
    switch (name) {
      case "MagicValue":
        return VIRTIO_MMIO_MAGIC;
      case "Version":
        return VIRTIO_MMIO_VERSION;
      case "DeviceID":
        return this.device.deviceId;
      case "VendorID":
        return VIRTIO_MMIO_VENDOR_ID;
      case "DeviceFeatures":
        return s.deviceFeaturesSel > 1 ? 0 : Number((this.offered >> BigInt(32 * s.deviceFeaturesSel)) & 0xffff_ffffn);
      case "QueueNumMax":
        // 0 tells the driver the queue does not exist.
        return q?.maxSize ?? 0;
      case "QueueReady":
        return q?.ready ? 1 : 0;
      case "InterruptStatus":
        return s.interruptStatus;
      case "Status":
        return s.status;
      case "QueueDescLow":
        return low(q?.descTable);
      case "QueueDescHigh":
        return high(q?.descTable);
      case "QueueDriverLow":
        return low(q?.availRing);
      case "QueueDriverHigh":
        return high(q?.availRing);
      case "QueueDeviceLow":
        return low(q?.usedRing);
      case "QueueDeviceHigh":
        return high(q?.usedRing);
      case "SHMLenLow":
      case "SHMLenHigh":
      case "SHMBaseLow":
      case "SHMBaseHigh":
        return NO_SHM_REGION;
      case "ConfigGeneration":
        return s.configGeneration;
      default:
        return 0; // write-only registers are filtered out before this
    }
  }

  private writeRegister(name: VirtioMmioRegisterName, value: number): void {
    const s = this.state;
    switch (name) {
      case "DeviceFeaturesSel":
        s.deviceFeaturesSel = value;
        return;
      case "DriverFeaturesSel":
        s.driverFeaturesSel = value;
        return;
      case "DriverFeatures":
        this.writeDriverFeatures(value);
        return;
      case "QueueSel":
        s.queueSel = value;
        return;
      case "QueueNum":
      case "QueueReady":
      case "QueueDescLow":
      case "QueueDescHigh":
      case "QueueDriverLow":
      case "QueueDriverHigh":
      case "QueueDeviceLow":
      case "QueueDeviceHigh":
        this.writeQueueField(name, value);
        return;
      case "QueueNotify":
        this.queueNotify(value);
        return;
      case "InterruptACK":
        s.interruptStatus &= ~value;
        return;
      case "Status":
        this.writeStatus(value);
        return;
      case "SHMSel":
        s.shmSel = value;
        return;
    }
  }

  private writeDriverFeatures(value: number): void {
    const s = this.state;
    if ((s.status & (DRIVER | FEATURES_OK)) !== DRIVER) {
      this.complain("features", "DriverFeatures written outside feature negotiation (DRIVER set, FEATURES_OK clear); ignored");
      return;
    }
    if (s.driverFeaturesSel > 1) {
      if (value !== 0) this.complain("features-page", `DriverFeatures page ${s.driverFeaturesSel} does not exist; ignored`);
      return;
    }
    s.driverFeatures[s.driverFeaturesSel] = value >>> 0;
  }

  /** What the driver accepted, as one 64-bit value. */
  private get acceptedFeatures(): bigint {
    return (BigInt(this.state.driverFeatures[1]) << 32n) | BigInt(this.state.driverFeatures[0]);
  }

  private writeQueueField(name: VirtioMmioRegisterName, value: number): void {
    const s = this.state;
    const q = this.queues[s.queueSel];
    if (q === undefined) {
      this.complain(`queue-sel`, `${name} written for queue ${s.queueSel}, which does not exist; ignored`);
      return;
    }
    // Linux's del_vq clears QueueReady after a reset: a no-op, whatever the status.
    if (name === "QueueReady" && value === 0 && !q.ready) return;
    // Between FEATURES_OK and DRIVER_OK only (virtio 1.2 §3.1.1 step 7).
    if ((s.status & (FEATURES_OK | DRIVER_OK | FAILED)) !== FEATURES_OK) {
      this.complain(`queue-${name}`, `${name} written while the status is ${hex(s.status)} (queues are set up between FEATURES_OK and DRIVER_OK); ignored`);
      return;
    }
    if (q.ready && name !== "QueueReady") {
      this.complain(`queue-ready-${name}`, `${name} written while queue ${s.queueSel} is ready; ignored`);
      return;
    }
    switch (name) {
      case "QueueNum":
        q.size = value;
        return;
      case "QueueDescLow":
        q.descTable = withLow(q.descTable, value);
        return;
      case "QueueDescHigh":
        q.descTable = withHigh(q.descTable, value);
        return;
      case "QueueDriverLow":
        q.availRing = withLow(q.availRing, value);
        return;
      case "QueueDriverHigh":
        q.availRing = withHigh(q.availRing, value);
        return;
      case "QueueDeviceLow":
        q.usedRing = withLow(q.usedRing, value);
        return;
      case "QueueDeviceHigh":
        q.usedRing = withHigh(q.usedRing, value);
        return;
      case "QueueReady":
        if (value === 0) {
          q.ready = false;
          return;
        }
        try {
          q.validate(this.mem);
          q.ready = true;
        } catch (e) {
          this.fail(e, `queue ${s.queueSel}`);
        }
        return;
    }
  }

  private writeStatus(value: number): void {
    const s = this.state;
    if (value === 0) {
      this.reset();
      return;
    }
    // DEVICE_NEEDS_RESET belongs to the device: the driver's copy of it is ignored.
    const from = s.status & ~NEEDS_RESET;
    const to = value & ~NEEDS_RESET & 0xff;
    const keep = s.status & NEEDS_RESET;
    if (to === from) return;
    if ((to & FAILED) !== 0 && (to | from) === to) {
      s.status = to | keep;
      return;
    }
    if (!STATUS_TRANSITIONS.some(([a, b]) => a === from && b === to)) {
      this.complain(`status-${from}-${to}`, `invalid status transition ${hex(from)} -> ${hex(value)}; ignored`);
      return;
    }
    const added = to & ~from;
    if (added === FEATURES_OK && !this.featuresAcceptable()) return;
    s.status = to | keep;
    if (added === DRIVER_OK) this.activate();
  }

  /** The device's answer to FEATURES_OK: only offered bits, and VERSION_1 among them. */
  private featuresAcceptable(): boolean {
    const accepted = this.acceptedFeatures;
    const extra = accepted & ~this.offered;
    if (extra !== 0n) {
      this.complain("features-extra", `driver accepted features 0x${extra.toString(16)} that were not offered; FEATURES_OK refused`);
      return false;
    }
    if (!hasFeature(accepted, VIRTIO_F_VERSION_1)) {
      this.complain("features-v1", "driver did not accept VIRTIO_F_VERSION_1 (a legacy driver?); FEATURES_OK refused");
      return false;
    }
    return true;
  }

  private activate(): void {
    this.everActivated = true;
    // A queue the driver set up badly has already put the device in NEEDS_RESET.
    if ((this.state.status & NEEDS_RESET) !== 0) return;
    const features = this.acceptedFeatures;
    for (const q of this.queues) {
      q.eventIdx = hasFeature(features, VIRTIO_RING_F_EVENT_IDX);
      q.indirect = hasFeature(features, VIRTIO_RING_F_INDIRECT_DESC);
    }
    try {
      this.device.activate({ mem: this.mem, interrupt: this.interrupt, queues: this.queues, features });
      this.active = true;
    } catch (e) {
      this.fail(e, "activation");
    }
  }

  private queueNotify(value: number): void {
    const s = this.state;
    if (!this.active || (s.status & NEEDS_RESET) !== 0) {
      this.debug(`QueueNotify(${value}) while the device is not running (status ${hex(s.status)}); ignored`);
      return;
    }
    const q = this.queues[value];
    if (q === undefined || !q.ready) {
      this.complain(`notify-${value}`, `QueueNotify for queue ${value}, which is not set up; ignored`);
      return;
    }
    try {
      this.device.notify(value);
    } catch (e) {
      this.fail(e, `queue ${value}`);
    }
  }

  /** Status 0: everything back to reset values, the model inactive. */
  reset(): void {
    if (this.active) this.device.reset();
    this.active = false;
    for (const q of this.queues) q.reset();
    const generation = this.state.configGeneration;
    this.state = resetState();
    this.state.configGeneration = generation;
  }

  /** The VM is exiting. */
  close(): void {
    this.device.close?.();
  }

  /** kvmtool's exit hint for a device the guest never set up. */
  exitHint(): string | undefined {
    if (this.everActivated) return undefined;
    return `${this.device.name}: not initialized by the guest; is ${this.device.kernelConfig} (and CONFIG_VIRTIO_MMIO) enabled in its kernel?`;
  }

  /**
   * The guest broke a rule the device cannot work around: DEVICE_NEEDS_RESET, a configuration
   * interrupt (§2.1.2), and one log line per kind of failure. Our own bugs pass through.
   */
  private fail(e: unknown, where: string): void {
    if (!(e instanceof GuestError)) throw e;
    this.complain(`fail-${e.name}`, `${where}: ${e.message}; device needs reset`);
    if ((this.state.status & NEEDS_RESET) !== 0) return;
    this.state.status |= NEEDS_RESET;
    if ((this.state.status & DRIVER_OK) !== 0) this.raise(VIRTIO_MMIO_INT_CONFIG);
  }

  /** Sets an InterruptStatus cause and pulses the edge-triggered SPI. */
  private raise(cause: number): void {
    this.state.interruptStatus |= cause;
    this.irq.setLevel(this.intid, true);
    this.irq.setLevel(this.intid, false);
  }

  private configAccess(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    const config = this.device.config;
    const okWidth = lengthBytes === 1 || lengthBytes === 2 || lengthBytes === 4 || lengthBytes === 8;
    if (!okWidth || offset + lengthBytes > config.length) {
      this.debug(`ignored ${lengthBytes}-byte config ${isWrite ? "write" : "read"} at +${hex(offset)} (config space is ${config.length} bytes)`);
      return;
    }
    if (!isWrite) {
      data.set(config.subarray(offset, offset + lengthBytes));
    } else if (this.device.writeConfig) {
      this.device.writeConfig(offset, data.slice(0, lengthBytes));
    } else {
      this.debug(`ignored write to read-only config space at +${hex(offset)}`);
    }
  }

  /** A guest mistake worth one line in the log, the first time it happens. */
  private complain(key: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log(`${this.name}: ${message}`);
  }

  private debug(message: string): void {
    if (this.debugMmio) this.log(`${this.name}: ${message}`);
  }
}

const low = (v: number | undefined): number => (v ?? 0) % 2 ** 32;
const high = (v: number | undefined): number => Math.floor((v ?? 0) / 2 ** 32);
const withLow = (v: number, lo: number): number => high(v) * 2 ** 32 + (lo >>> 0);
const withHigh = (v: number, hi: number): number => (hi >>> 0) * 2 ** 32 + low(v);
