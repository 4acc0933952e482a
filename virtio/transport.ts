// What every virtio transport does the same way, whatever its register layout (virtio 1.2 §2,
// §3): feature negotiation, the device status machine, queue configuration and its gating,
// activation of the model, notifications, the interrupt status, the device configuration
// space, and what happens when the guest breaks a rule. virtio/mmio.ts and virtio/pci.ts only
// map their registers onto this.
//
// - features: 64 bits in 32-bit pages; VIRTIO_F_VERSION_1 is always offered. The driver may
//   only accept what was offered, and must accept VERSION_1: otherwise the device refuses
//   FEATURES_OK (the driver reads the status back and gives up, §3.1.1).
// - status: only the transitions in STATUS_TRANSITIONS; any other write is logged once and
//   ignored. 0 resets the device; FAILED may be added at any time.
// - queues: configurable only between FEATURES_OK and DRIVER_OK; enabling one validates it
//   (virtio/queue.ts) and a bad one marks the device DEVICE_NEEDS_RESET.
// - DRIVER_OK activates the model; a failed activation sets DEVICE_NEEDS_RESET and raises a
//   configuration interrupt (§2.1.2).
// - interrupts: bit 0 (used buffer) and bit 1 (configuration change) of the interrupt status,
//   the same two bits in virtio-mmio's InterruptStatus and virtio-pci's ISR. Each cause goes to
//   the transport (`onInterrupt`), which latches it there and drives its line, or sends an
//   MSI-X message instead.
//
// A GuestError from a queue or the model is caught here: the device is marked
// DEVICE_NEEDS_RESET and stops serving notifications until the driver resets it. Each kind of
// complaint is logged once.
//
// A legacy transport (virtio 1.2 §4.1.4.8, §4.2.4: virtio-pci with the I/O BAR layout,
// virtio-mmio version 1) differs only in the negotiation: 32 feature bits and no VERSION_1, no
// FEATURES_OK (the driver goes from DRIVER straight to DRIVER_OK), queues set up while DRIVER
// is set, and a queue placed by one page frame number in the legacy ring layout
// (setLegacyQueuePfn). Rings are little-endian: every guest lkvm runs is.

import { GuestError } from "../src/errors.ts";
import type { GuestMemory } from "../src/kvm/guest-memory.ts";
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
import { Virtqueue, availRingBytes, descTableBytes } from "./queue.ts";

/** Interrupt status bits (virtio-mmio InterruptStatus, virtio-pci ISR). */
export const VIRTIO_INT_VRING = 1;
export const VIRTIO_INT_CONFIG = 2;

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

/** A legacy driver has no FEATURES_OK step (virtio 1.2 §3.1.2): these come on top. */
export const LEGACY_STATUS_TRANSITIONS: readonly (readonly [number, number])[] = [
  ...STATUS_TRANSITIONS,
  [ACK | DRIVER, ACK | DRIVER | DRIVER_OK],
];

/** Legacy rings are placed by a page frame number: the vring_size() layout (§2.7.2 legacy). */
export interface LegacyRingGeometry {
  pageSizeBytes: number;
  alignBytes: number;
}

/** A field of the selected queue's configuration. */
export type QueueField = "size" | "ready" | "descLow" | "descHigh" | "driverLow" | "driverHigh" | "deviceLow" | "deviceHigh";

/** Everything the driver can observe through any transport, as plain data. */
export interface VirtioTransportState {
  status: number;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  /** Features the driver wrote, as two 32-bit pages. */
  driverFeatures: [number, number];
  queueSel: number;
  interruptStatus: number;
  configGeneration: number;
}

function resetState(): VirtioTransportState {
  return {
    status: 0,
    deviceFeaturesSel: 0,
    driverFeaturesSel: 0,
    driverFeatures: [0, 0],
    queueSel: 0,
    interruptStatus: 0,
    configGeneration: 0,
  };
}

export interface VirtioTransportOptions {
  device: VirtioDevice;
  mem: GuestMemory;
  /** "virtio-blk@0x3000000": the prefix of every log line. */
  name: string;
  /**
   * The model raised an interrupt: `cause` is VIRTIO_INT_VRING (for queue `queueIndex`) or
   * VIRTIO_INT_CONFIG. The transport delivers it: by latchInterruptStatus() and its line, or by
   * a message.
   */
  onInterrupt: (cause: number, queueIndex?: number) => void;
  /** A legacy interface (see the top of this file). */
  legacy?: boolean;
  /** Where complaints about the guest go (each kind once). */
  log?: (line: string) => void;
  /** Also report accesses that are ignored (--debug-mmio). */
  debug?: boolean;
}

const hex = (n: number): string => "0x" + n.toString(16);

export class VirtioTransport {
  readonly device: VirtioDevice;
  readonly name: string;
  readonly queues: Virtqueue[];
  readonly legacy: boolean;
  /** Whether the driver ever reached DRIVER_OK (for kvmtool's exit hint). */
  everActivated = false;
  private state: VirtioTransportState = resetState();
  private active = false;
  private readonly mem: GuestMemory;
  private readonly onInterrupt: (cause: number, queueIndex?: number) => void;
  private readonly log: (line: string) => void;
  private readonly debugOn: boolean;
  private readonly logged = new Set<string>();
  private readonly offered: bigint;
  private readonly interrupt: VirtioInterrupt = {
    usedBuffer: (queueIndex) => this.onInterrupt(VIRTIO_INT_VRING, queueIndex),
    configChanged: () => {
      // A driver reading a multi-byte field twice around a change sees that it changed (§2.5.1).
      this.state.configGeneration = (this.state.configGeneration + 1) & 0xff;
      this.onInterrupt(VIRTIO_INT_CONFIG);
    },
  };

  constructor(opts: VirtioTransportOptions) {
    this.device = opts.device;
    this.mem = opts.mem;
    this.name = opts.name;
    this.onInterrupt = opts.onInterrupt;
    this.log = opts.log ?? (() => {});
    this.debugOn = opts.debug ?? false;
    this.legacy = opts.legacy ?? false;
    // A legacy device has one 32-bit page of features, without VERSION_1.
    this.offered = this.legacy ? opts.device.features & 0xffff_ffffn : opts.device.features | featureBit(VIRTIO_F_VERSION_1);
    this.queues = opts.device.queueSizesMax.map((max) => new Virtqueue(max));
  }

  getState(): VirtioTransportState {
    return structuredClone(this.state);
  }

  /** The status register as the driver reads it. */
  get status(): number {
    return this.state.status;
  }

  get interruptStatus(): number {
    return this.state.interruptStatus;
  }

  get configGeneration(): number {
    return this.state.configGeneration;
  }

  get queueSel(): number {
    return this.state.queueSel;
  }

  /** The queue the driver selected, if the device has it. */
  get selectedQueue(): Virtqueue | undefined {
    return this.queues[this.state.queueSel];
  }

  // ---- features ----

  set deviceFeaturesSel(value: number) {
    this.state.deviceFeaturesSel = value;
  }

  get deviceFeaturesSel(): number {
    return this.state.deviceFeaturesSel;
  }

  set driverFeaturesSel(value: number) {
    this.state.driverFeaturesSel = value;
  }

  get driverFeaturesSel(): number {
    return this.state.driverFeaturesSel;
  }

  /** The selected 32-bit page of the offered features; pages past the second read 0. */
  deviceFeaturesPage(): number {
    const sel = this.state.deviceFeaturesSel;
    return sel > 1 ? 0 : Number((this.offered >> BigInt(32 * sel)) & 0xffff_ffffn);
  }

  /** The selected page of what the driver accepted. */
  driverFeaturesPage(): number {
    const sel = this.state.driverFeaturesSel;
    return sel > 1 ? 0 : this.state.driverFeatures[sel]!;
  }

  writeDriverFeatures(value: number, register: string): void {
    const s = this.state;
    if ((s.status & (DRIVER | FEATURES_OK | DRIVER_OK)) !== DRIVER) {
      this.complain("features", `${register} written outside feature negotiation (DRIVER set, FEATURES_OK and DRIVER_OK clear); ignored`);
      return;
    }
    if (s.driverFeaturesSel > (this.legacy ? 0 : 1)) {
      if (value !== 0) this.complain("features-page", `${register} page ${s.driverFeaturesSel} does not exist; ignored`);
      return;
    }
    if (this.legacy) {
      // No FEATURES_OK to refuse: bits that were not offered are dropped.
      const extra = value & ~Number(this.offered);
      if (extra !== 0) this.complain("features-extra", `driver accepted features ${hex(extra >>> 0)} that were not offered; dropped`);
      value &= Number(this.offered);
    }
    s.driverFeatures[s.driverFeaturesSel] = value >>> 0;
  }

  /** What the driver accepted, as one 64-bit value. */
  private get acceptedFeatures(): bigint {
    return (BigInt(this.state.driverFeatures[1]) << 32n) | BigInt(this.state.driverFeatures[0]);
  }

  // ---- queues ----

  selectQueue(index: number): void {
    this.state.queueSel = index;
  }

  /** A field of the selected queue as the driver reads it back; 0 for a queue that does not exist. */
  readQueueField(field: QueueField): number {
    const q = this.queues[this.state.queueSel];
    if (q === undefined) return 0;
    switch (field) {
      case "size":
        return q.size;
      case "ready":
        return q.ready ? 1 : 0;
      case "descLow":
        return low(q.descTable);
      case "descHigh":
        return high(q.descTable);
      case "driverLow":
        return low(q.availRing);
      case "driverHigh":
        return high(q.availRing);
      case "deviceLow":
        return low(q.usedRing);
      case "deviceHigh":
        return high(q.usedRing);
    }
  }

  /** A write to a field of the selected queue; `register` names it in complaints. */
  writeQueueField(field: QueueField, value: number, register: string): void {
    const s = this.state;
    const q = this.queues[s.queueSel];
    if (q === undefined) {
      this.complain(`queue-sel`, `${register} written for queue ${s.queueSel}, which does not exist; ignored`);
      return;
    }
    // Linux's del_vq clears QueueReady after a reset: a no-op, whatever the status.
    if (field === "ready" && value === 0 && !q.ready) return;
    if (!this.queueSetupOpen(register)) return;
    if (q.ready && field !== "ready") {
      this.complain(`queue-ready-${register}`, `${register} written while queue ${s.queueSel} is ready; ignored`);
      return;
    }
    switch (field) {
      case "size":
        q.size = value;
        return;
      case "descLow":
        q.descTable = withLow(q.descTable, value);
        return;
      case "descHigh":
        q.descTable = withHigh(q.descTable, value);
        return;
      case "driverLow":
        q.availRing = withLow(q.availRing, value);
        return;
      case "driverHigh":
        q.availRing = withHigh(q.availRing, value);
        return;
      case "deviceLow":
        q.usedRing = withLow(q.usedRing, value);
        return;
      case "deviceHigh":
        q.usedRing = withHigh(q.usedRing, value);
        return;
      case "ready":
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

  /**
   * Queues are set up between FEATURES_OK and DRIVER_OK (virtio 1.2 §3.1.1 step 7), or on a
   * legacy interface between DRIVER and DRIVER_OK (§3.1.2).
   */
  private queueSetupOpen(register: string): boolean {
    const s = this.state;
    const [gate, phase] = this.legacy ? [DRIVER, "DRIVER"] : [FEATURES_OK, "FEATURES_OK"];
    if ((s.status & (gate | DRIVER_OK | FAILED)) === gate) return true;
    this.complain(`queue-${register}`, `${register} written while the status is ${hex(s.status)} (queues are set up between ${phase} and DRIVER_OK); ignored`);
    return false;
  }

  /**
   * A legacy queue address (QueuePFN): the selected queue's rings laid out from page `pfn` as
   * the legacy vring_size() does (descriptors, then the avail ring, then the used ring at the
   * next `alignBytes` boundary), validated and made ready; 0 takes the queue down.
   */
  setLegacyQueuePfn(pfn: number, geometry: LegacyRingGeometry, register: string): void {
    const s = this.state;
    const q = this.queues[s.queueSel];
    if (q === undefined) {
      this.complain(`queue-sel`, `${register} written for queue ${s.queueSel}, which does not exist; ignored`);
      return;
    }
    if (pfn === 0) {
      this.writeQueueField("ready", 0, register);
      return;
    }
    if (!this.queueSetupOpen(register)) return;
    if (q.ready) {
      this.complain(`queue-ready-${register}`, `${register} written while queue ${s.queueSel} is set up; ignored`);
      return;
    }
    const { pageSizeBytes, alignBytes } = geometry;
    q.descTable = (pfn >>> 0) * pageSizeBytes;
    q.availRing = q.descTable + descTableBytes(q.size);
    q.usedRing = Math.ceil((q.availRing + availRingBytes(q.size)) / alignBytes) * alignBytes;
    this.writeQueueField("ready", 1, register);
  }

  /** What QueuePFN reads: the page the selected queue starts at, 0 when it is not set up. */
  legacyQueuePfn(pageSizeBytes: number): number {
    const q = this.queues[this.state.queueSel];
    return q?.ready ? q.descTable / pageSizeBytes : 0;
  }

  /** The driver kicked queue `index`. */
  queueNotify(index: number): void {
    const s = this.state;
    if (!this.active || (s.status & NEEDS_RESET) !== 0) {
      this.debug(`notify(${index}) while the device is not running (status ${hex(s.status)}); ignored`);
      return;
    }
    const q = this.queues[index];
    if (q === undefined || !q.ready) {
      this.complain(`notify-${index}`, `notify for queue ${index}, which is not set up; ignored`);
      return;
    }
    try {
      this.device.notify(index);
    } catch (e) {
      this.fail(e, `queue ${index}`);
    }
  }

  // ---- status ----

  writeStatus(value: number): void {
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
    const transitions = this.legacy ? LEGACY_STATUS_TRANSITIONS : STATUS_TRANSITIONS;
    if (!transitions.some(([a, b]) => a === from && b === to)) {
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
    if (!this.legacy && !hasFeature(accepted, VIRTIO_F_VERSION_1)) {
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

  /** kvmtool's exit hint for a device the guest never set up; `transportConfig` is its driver. */
  exitHint(transportConfig: string): string | undefined {
    if (this.everActivated) return undefined;
    return `${this.device.name}: not initialized by the guest; is ${this.device.kernelConfig} (and ${transportConfig}) enabled in its kernel?`;
  }

  // ---- interrupts ----

  /** virtio-mmio's InterruptACK: the driver clears the bits it has seen. */
  acknowledgeInterrupt(bits: number): void {
    this.state.interruptStatus &= ~bits;
  }

  /** virtio-pci's ISR read: the bits, cleared by reading them. */
  takeInterruptStatus(): number {
    const bits = this.state.interruptStatus;
    this.state.interruptStatus = 0;
    return bits;
  }

  /** The transport delivers `cause` through the interrupt status (and its line). */
  latchInterruptStatus(cause: number): void {
    this.state.interruptStatus |= cause;
  }

  // ---- device configuration space ----

  /** An access at `offset` in the device's configuration space: 1, 2, 4 or 8 bytes inside it. */
  configAccess(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
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

  // ---- the guest broke a rule ----

  /**
   * The guest broke a rule the device cannot work around: DEVICE_NEEDS_RESET, a configuration
   * interrupt (§2.1.2), and one log line per kind of failure. Our own bugs pass through.
   */
  private fail(e: unknown, where: string): void {
    if (!(e instanceof GuestError)) throw e;
    this.complain(`fail-${e.name}`, `${where}: ${e.message}; device needs reset`);
    if ((this.state.status & NEEDS_RESET) !== 0) return;
    this.state.status |= NEEDS_RESET;
    if ((this.state.status & DRIVER_OK) !== 0) this.onInterrupt(VIRTIO_INT_CONFIG);
  }

  /** A guest mistake worth one line in the log, the first time it happens. */
  complain(key: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log(`${this.name}: ${message}`);
  }

  /** A line only --debug-mmio wants. */
  debug(message: string): void {
    if (this.debugOn) this.log(`${this.name}: ${message}`);
  }
}

const low = (v: number): number => v % 2 ** 32;
const high = (v: number): number => Math.floor(v / 2 ** 32);
const withLow = (v: number, lo: number): number => high(v) * 2 ** 32 + (lo >>> 0);
const withHigh = (v: number, hi: number): number => (hi >>> 0) * 2 ** 32 + low(v);
