// A work queue fed through a 64-byte portal: the kind of device FEAT_LS64 exists for (an
// accelerator's shared work queue, where one ST64BV hands over a whole descriptor and its
// status says whether the device took it). lkvm only, created by --ls64-work-queue.
//
//   0x000  PORTAL     64-byte accesses only (the trap bus delivers each as one call):
//                     ST64B/ST64BV/ST64BV0 enqueue the 64 bytes as one descriptor; the store's
//                     status (ST64BV, ST64BV0) is WQ_STATUS_ACCEPTED, or WQ_STATUS_RETRY when
//                     the queue is full and the descriptor was dropped. LD64B dequeues the
//                     oldest descriptor (64 zero bytes when empty), so a guest can see what
//                     arrived. Smaller accesses to the portal read 0 and are ignored.
//   0x040  PENDING    u32, RO: descriptors queued
//   0x044  DEPTH      u32, RO: queue capacity (WQ_DEPTH)
//   0x048  SUBMITTED  u32, RO: descriptors accepted since reset
//   0x04c  RETRIES    u32, RO: descriptors refused for lack of room
//
// No interrupt: the guest polls PENDING. Its device-tree node is "lkvm,ls64-work-queue".

import type { TrapBus } from "../src/iotrap/bus.ts";
import { u64Cells, type FdtNode } from "../src/lib/fdt/tree.ts";

export const WQ_PORTAL = 0x000;
export const WQ_DESCRIPTOR_BYTES = 64;
export const WQ_PENDING = 0x040;
export const WQ_DEPTH_REG = 0x044;
export const WQ_SUBMITTED = 0x048;
export const WQ_RETRIES = 0x04c;
export const WQ_WINDOW_BYTES = 0x1000;

export const WQ_DEPTH = 8;
export const WQ_STATUS_ACCEPTED = 0n;
export const WQ_STATUS_RETRY = 1n;

export interface Ls64WorkQueueState {
  /** Queued descriptors, oldest first, each 64 bytes. */
  queue: number[][];
  submitted: number;
  retries: number;
}

export interface Ls64WorkQueueOptions {
  /** Guest-physical base of the 4 KiB window (64-byte aligned). */
  base: number;
  name?: string;
}

export class Ls64WorkQueue {
  static readonly description = {
    name: "ls64-work-queue",
    level: "dev",
    compatible: "lkvm,ls64-work-queue",
    windowBytes: WQ_WINDOW_BYTES,
  } as const;

  readonly base: number;
  readonly name: string;
  private state: Ls64WorkQueueState = { queue: [], submitted: 0, retries: 0 };

  constructor({ base, name }: Ls64WorkQueueOptions) {
    if (base % WQ_DESCRIPTOR_BYTES !== 0) throw new RangeError(`work queue base 0x${base.toString(16)} is not 64-byte aligned`);
    this.base = base;
    this.name = name ?? `ls64-work-queue@0x${base.toString(16)}`;
  }

  fdtNode(parent: FdtNode): FdtNode {
    return parent
      .child(`ls64-work-queue@${this.base.toString(16)}`)
      .prop("compatible", Ls64WorkQueue.description.compatible)
      .prop("reg", [...u64Cells(this.base), ...u64Cells(WQ_WINDOW_BYTES)]);
  }

  register(bus: TrapBus): void {
    bus.register({
      bus: "mmio",
      base: this.base,
      sizeBytes: WQ_WINDOW_BYTES,
      name: this.name,
      accepts64ByteAccess: true,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => {
        if (lengthBytes === WQ_DESCRIPTOR_BYTES) {
          if (offset !== WQ_PORTAL) return; // 64-byte accesses elsewhere: ignored, status 0
          if (isWrite) this.submit(data);
          else this.dequeue(data);
          return;
        }
        if (isWrite || lengthBytes !== 4) return;
        const value = this.register32(offset);
        for (let i = 0; i < 4; i++) data[i] = (value >>> (8 * i)) & 0xff;
      },
    });
  }

  /** Descriptors waiting, oldest first (for the VMM and tests). */
  pending(): Uint8Array[] {
    return this.state.queue.map((d) => Uint8Array.from(d));
  }

  getState(): Ls64WorkQueueState {
    return structuredClone(this.state);
  }

  setState(state: Ls64WorkQueueState): void {
    this.state = structuredClone(state);
  }

  /** A 64-byte store to the portal; leaves the status word in data[64..72). */
  private submit(data: Uint8Array): void {
    const s = this.state;
    let status = WQ_STATUS_ACCEPTED;
    if (s.queue.length < WQ_DEPTH) {
      s.queue.push(Array.from(data.subarray(0, WQ_DESCRIPTOR_BYTES)));
      s.submitted++;
    } else {
      s.retries++;
      status = WQ_STATUS_RETRY;
    }
    new DataView(data.buffer, data.byteOffset).setBigUint64(WQ_DESCRIPTOR_BYTES, status, true);
  }

  private dequeue(data: Uint8Array): void {
    const oldest = this.state.queue.shift();
    data.fill(0, 0, WQ_DESCRIPTOR_BYTES);
    if (oldest !== undefined) data.set(oldest, 0);
  }

  private register32(offset: number): number {
    switch (offset) {
      case WQ_PENDING:
        return this.state.queue.length;
      case WQ_DEPTH_REG:
        return WQ_DEPTH;
      case WQ_SUBMITTED:
        return this.state.submitted;
      case WQ_RETRIES:
        return this.state.retries;
      default:
        return 0;
    }
  }
}
