// A virtio driver for tests: guest RAM with split rings laid out in it as Linux's virtio_ring
// lays them out, and the register sequence virtio_mmio.c writes to bring a device up. Tests
// use it to act as a guest would (and to misbehave on purpose).

import { GuestMemory } from "../../src/kvm/guest-memory.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import type { IrqSink } from "../../src/irq.ts";
import {
  VIRTIO_F_VERSION_1,
  VIRTIO_STATUS_ACKNOWLEDGE,
  VIRTIO_STATUS_DRIVER,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK,
  featureBit,
  type VirtioDevice,
} from "../../virtio/device.ts";
import { VIRTIO_MMIO, VirtioMmioTransport } from "../../virtio/mmio.ts";
import {
  VRING_DESC_BYTES,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  VRING_USED_ELEM_BYTES,
} from "../../virtio/queue.ts";
import { GuestCpu } from "./guest-cpu.ts";

export const RAM_BASE = 0x8000_0000;
export const RAM_BYTES = 4 * 1024 * 1024;
export const MMIO_BASE = 0x300_0000;
export const INTID = 36;

/** Guest RAM plus a record of every range devices wrote (what the JIT would be told). */
export function guestRam(sizeBytes = RAM_BYTES) {
  const writes: [number, number][] = [];
  const bytes = new Uint8Array(sizeBytes);
  const mem = new GuestMemory({ bytes, ramBase: RAM_BASE, onWrite: (gpa, n) => writes.push([gpa, n]) });
  return { mem, bytes, writes };
}

export interface Buffer {
  gpa: number;
  lengthBytes: number;
  writable?: boolean;
}

/** The driver's side of one split queue at fixed addresses in guest RAM. */
export class DriverQueue {
  /** Next free descriptor slot in the table (no recycling: tests use few). */
  private nextDesc = 0;
  availIdx = 0;
  lastUsed = 0;

  constructor(
    readonly mem: GuestMemory,
    readonly size: number,
    readonly descTable = RAM_BASE + 0x1_0000,
    readonly availRing = RAM_BASE + 0x2_0000,
    readonly usedRing = RAM_BASE + 0x3_0000,
  ) {}

  /** Writes one raw descriptor into table slot `index` of `table`. */
  writeDesc(index: number, d: { gpa: number | bigint; lengthBytes: number; flags: number; next?: number }, table = this.descTable): void {
    const at = table + VRING_DESC_BYTES * index;
    const gpa = BigInt(d.gpa);
    this.mem.setU32(at, Number(gpa & 0xffff_ffffn));
    this.mem.setU32(at + 4, Number(gpa >> 32n));
    this.mem.setU32(at + 8, d.lengthBytes);
    this.mem.setU16(at + 12, d.flags);
    this.mem.setU16(at + 14, d.next ?? 0);
  }

  /** Lays a chain out in consecutive descriptors; returns its head (not yet made available). */
  chain(buffers: Buffer[]): number {
    const head = this.nextDesc;
    buffers.forEach((b, i) => {
      const last = i === buffers.length - 1;
      this.writeDesc(head + i, {
        gpa: b.gpa,
        lengthBytes: b.lengthBytes,
        flags: (b.writable ? VRING_DESC_F_WRITE : 0) | (last ? 0 : VRING_DESC_F_NEXT),
        next: last ? 0 : head + i + 1,
      });
    });
    this.nextDesc += buffers.length;
    return head;
  }

  /** One descriptor pointing to an indirect table at `tableGpa` holding the buffers. */
  indirectChain(tableGpa: number, buffers: Buffer[]): number {
    buffers.forEach((b, i) => {
      const last = i === buffers.length - 1;
      this.writeDesc(i, {
        gpa: b.gpa,
        lengthBytes: b.lengthBytes,
        flags: (b.writable ? VRING_DESC_F_WRITE : 0) | (last ? 0 : VRING_DESC_F_NEXT),
        next: last ? 0 : i + 1,
      }, tableGpa);
    });
    const head = this.nextDesc++;
    this.writeDesc(head, { gpa: tableGpa, lengthBytes: VRING_DESC_BYTES * buffers.length, flags: VRING_DESC_F_INDIRECT });
    return head;
  }

  /** Puts a head in the avail ring and publishes the new avail index. */
  makeAvailable(head: number): void {
    this.mem.setU16(this.availRing + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.mem.setU16(this.availRing + 2, this.availIdx);
  }

  /** Adds a chain and makes it available in one go. */
  add(buffers: Buffer[]): number {
    const head = this.chain(buffers);
    this.makeAvailable(head);
    return head;
  }

  setAvailIdx(idx: number): void {
    this.availIdx = idx & 0xffff;
    this.mem.setU16(this.availRing + 2, this.availIdx);
  }

  setAvailFlags(flags: number): void {
    this.mem.setU16(this.availRing, flags);
  }

  setUsedEvent(idx: number): void {
    this.mem.setU16(this.availRing + 4 + 2 * this.size, idx);
  }

  get usedIdx(): number {
    return this.mem.u16(this.usedRing + 2);
  }

  get availEvent(): number {
    return this.mem.u16(this.usedRing + 4 + VRING_USED_ELEM_BYTES * this.size);
  }

  usedElem(i: number): { id: number; len: number } {
    const at = this.usedRing + 4 + VRING_USED_ELEM_BYTES * (i % this.size);
    return { id: this.mem.u32(at), len: this.mem.u32(at + 4) };
  }

  /** The used entries the device added since the last call. */
  takeUsed(): { id: number; len: number }[] {
    const out = [];
    while (this.lastUsed !== this.usedIdx) {
      out.push(this.usedElem(this.lastUsed));
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }
}

/** An IrqSink that records every level driven. */
export function irqRecorder() {
  const levels: boolean[] = [];
  const irq: IrqSink = { setLevel: (_intid, level) => levels.push(level) };
  /** Rising edges seen so far. */
  const edges = () => levels.filter((l, i) => l && (i === 0 || !levels[i - 1])).length;
  return { irq, levels, edges };
}

/** The registers a driver's bring-up uses, by what they do, whatever the transport calls them. */
export type DriverRole =
  | "status" | "deviceFeaturesSel" | "deviceFeatures" | "driverFeaturesSel" | "driverFeatures"
  | "queueSel" | "queueSize" | "queueReady" | "descLow" | "descHigh" | "driverLow" | "driverHigh" | "deviceLow" | "deviceHigh";

/** The sequences every virtio driver runs, over one transport's registers. */
export function driverSequences(regs: { read(role: DriverRole): number; write(role: DriverRole, value: number): void }) {
  const { read: rd, write: wr } = regs;
  const features = (): bigint => {
    wr("deviceFeaturesSel", 1);
    const hi = rd("deviceFeatures");
    wr("deviceFeaturesSel", 0);
    return (BigInt(hi) << 32n) | BigInt(rd("deviceFeatures"));
  };
  const acceptFeatures = (f: bigint): void => {
    wr("driverFeaturesSel", 1);
    wr("driverFeatures", Number(f >> 32n));
    wr("driverFeaturesSel", 0);
    wr("driverFeatures", Number(f & 0xffff_ffffn));
  };
  const setupQueue = (index: number, q: DriverQueue): void => {
    wr("queueSel", index);
    wr("queueSize", q.size);
    wr("descLow", q.descTable);
    wr("descHigh", 0);
    wr("driverLow", q.availRing);
    wr("driverHigh", 0);
    wr("deviceLow", q.usedRing);
    wr("deviceHigh", 0);
    wr("queueReady", 1);
  };
  /** Linux's probe: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK. */
  const bringUp = (queues: DriverQueue[], accept = features()): void => {
    wr("status", 0);
    wr("status", VIRTIO_STATUS_ACKNOWLEDGE);
    wr("status", VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    acceptFeatures(accept);
    wr("status", VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    queues.forEach((q, i) => setupQueue(i, q));
    wr("status", VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
  };
  return { features, acceptFeatures, setupQueue, bringUp };
}

const MMIO_REGISTER_BY_ROLE: Record<DriverRole, keyof typeof VIRTIO_MMIO> = {
  status: "Status", deviceFeaturesSel: "DeviceFeaturesSel", deviceFeatures: "DeviceFeatures",
  driverFeaturesSel: "DriverFeaturesSel", driverFeatures: "DriverFeatures", queueSel: "QueueSel",
  queueSize: "QueueNum", queueReady: "QueueReady", descLow: "QueueDescLow", descHigh: "QueueDescHigh",
  driverLow: "QueueDriverLow", driverHigh: "QueueDriverHigh", deviceLow: "QueueDeviceLow", deviceHigh: "QueueDeviceHigh",
};

/** A transport on a trap bus, driven by MMIO accesses as the guest's virtio_mmio.c makes them. */
export function mmioRig(device: VirtioDevice, mem = guestRam().mem, version: 1 | 2 = 2) {
  const bus = new TrapBus();
  const { irq, levels, edges } = irqRecorder();
  const log: string[] = [];
  const transport = new VirtioMmioTransport({ base: MMIO_BASE, intid: INTID, irq, mem, device, log: (l) => log.push(l), version });
  transport.register(bus);
  const cpu = new GuestCpu(bus);
  const rd = (name: keyof typeof VIRTIO_MMIO): number => cpu.read32(MMIO_BASE + VIRTIO_MMIO[name]);
  const wr = (name: keyof typeof VIRTIO_MMIO, value: number): void => cpu.write32(MMIO_BASE + VIRTIO_MMIO[name], value);
  const driver = driverSequences({
    read: (role) => rd(MMIO_REGISTER_BY_ROLE[role]),
    write: (role, value) => wr(MMIO_REGISTER_BY_ROLE[role], value),
  });
  return { bus, cpu, transport, mem, levels, edges, log, rd, wr, ...driver };
}

export const VERSION_1 = featureBit(VIRTIO_F_VERSION_1);
