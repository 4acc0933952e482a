// virtio-net (virtio 1.2 §5.1): one receive and one transmit queue, the MAC and link status
// in config space, and a backend that takes the guest's frames and hands it frames to receive
// (src/net/user-network.ts for -n mode=user).
//
// Features: MAC, STATUS (link up), MRG_RXBUF (a frame may span several receive buffers),
// CSUM (the guest leaves checksums to us: completed here before the backend sees the frame),
// GUEST_CSUM (frames we deliver carry DATA_VALID: lkvm's stack computes every checksum, so the
// guest need not check them), GUEST_TSO4 (with MRG_RXBUF: lkvm hands the guest TCP segments of
// up to 64 KiB marked as GSO, one frame where a 1500-byte MTU needs 44, which is most of the
// guest's receive work), HOST_TSO4 (the guest may send one TCP segment of up to 64 KiB:
// lkvm's stack terminates TCP, so a big segment is just more bytes), and the ring features
// EVENT_IDX and INDIRECT_DESC.
//
// Receive: frames for the guest wait in a queue until the driver posts buffers; nothing is
// lost while the queue is under RX_PENDING_MAX_BYTES (hasRoom() tells TCP to hold back long
// before that). Only a guest that stops taking frames while a backend floods it loses frames,
// and they are counted. A guest-controlled chain is checked before use: a receive chain must be
// device-writable, a transmit chain device-readable and at most a 64 KiB frame.

import { GuestError } from "../../src/errors.ts";
import type { Mac } from "../../src/net/addresses.ts";
import { ETH_HEADER_BYTES, MAX_FRAME_BYTES } from "../../src/net/ethernet.ts";
import type { GuestLink } from "../../src/net/user-network.ts";
import {
  VIRTIO_ID_NET,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  featureBit,
  hasFeature,
  type ActivateContext,
  type VirtioDevice,
  type VirtioLifecycle,
} from "../device.ts";
import type { Descriptor, DescriptorChain } from "../queue.ts";
import {
  VIRTIO_NET_HDR_BYTES,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  completeChecksum,
  readNetHeader,
  rxNetHeader,
  rxTcpGsoHeader,
} from "./header.ts";

export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
export const VIRTIO_NET_F_HOST_TSO4 = 11;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_S_LINK_UP = 1;

export const NET_QUEUE_SIZE = 256;
export const NET_RX_QUEUE = 0;
export const NET_TX_QUEUE = 1;
/** Frames for the guest held while it posts no buffers; beyond this they are dropped. */
export const RX_PENDING_MAX_BYTES = 4 * 1024 * 1024;
/** Below this the backend may send more (TCP holds back above it). */
export const RX_ROOM_BYTES = 256 * 1024;
/** An IPv4 packet's 65535 bytes less a 20-byte IP and a 20-byte TCP header. */
export const GSO_MAX_TCP_SEGMENT_BYTES = 65535 - 40;

/** What a NIC is plugged into. */
export interface NetBackend {
  attach(link: GuestLink): void;
  /** A frame the guest sent; `checksumsTrusted` when the device computed them. */
  receive(frame: Uint8Array, checksumsTrusted: boolean): void;
  /** The NIC has room for frames again. */
  retry(): void;
  close(): void;
}

export interface VirtioNetOptions {
  mac: Mac;
  backend: NetBackend;
  log?: (line: string) => void;
}

interface PostedBuffer {
  chain: DescriptorChain;
  capacityBytes: number;
}

export class VirtioNet implements VirtioDevice, GuestLink {
  static readonly description = { name: "virtio-net", level: "virtioDev" } as const;

  readonly name = "virtio-net";
  readonly deviceId = VIRTIO_ID_NET;
  readonly features =
    featureBit(VIRTIO_NET_F_CSUM) | featureBit(VIRTIO_NET_F_GUEST_CSUM) | featureBit(VIRTIO_NET_F_MAC) |
    featureBit(VIRTIO_NET_F_GUEST_TSO4) | featureBit(VIRTIO_NET_F_HOST_TSO4) | featureBit(VIRTIO_NET_F_MRG_RXBUF) | featureBit(VIRTIO_NET_F_STATUS) |
    featureBit(VIRTIO_RING_F_EVENT_IDX) | featureBit(VIRTIO_RING_F_INDIRECT_DESC);
  readonly queueSizesMax = [NET_QUEUE_SIZE, NET_QUEUE_SIZE];
  /** mac[6], status u16, max_virtqueue_pairs u16. */
  readonly config = new Uint8Array(10);
  readonly kernelConfig = "CONFIG_VIRTIO_NET";
  /** Frames dropped, by reason (the guest's mistakes and a full receive queue). */
  readonly drops = new Map<string, number>();
  private lifecycle: VirtioLifecycle = { state: "inactive" };
  private readonly backend: NetBackend;
  private readonly log: (line: string) => void;
  private readonly logged = new Set<string>();
  private pending: { frame: Uint8Array; gsoSize?: number }[] = [];
  private pendingBytes = 0;
  private posted: PostedBuffer[] = [];
  private waitingForRoom = false;
  /** The rings broke a rule outside a notify (no transport to mark NEEDS_RESET): stop until reset. */
  private broken = false;

  constructor(opts: VirtioNetOptions) {
    this.backend = opts.backend;
    this.log = opts.log ?? (() => {});
    this.config.set(opts.mac, 0);
    this.config[6] = VIRTIO_NET_S_LINK_UP;
    this.config[8] = 1;
    this.backend.attach(this);
  }

  activate(ctx: ActivateContext): void {
    this.lifecycle = { state: "active", ...ctx };
    this.broken = false;
    this.pump();
  }

  reset(): void {
    this.lifecycle = { state: "inactive" };
    this.posted = []; // they belonged to the old rings
  }

  close(): void {
    this.backend.close();
  }

  notify(queueIndex: number): void {
    if (this.lifecycle.state !== "active") return;
    if (queueIndex === NET_TX_QUEUE) this.transmit(this.lifecycle);
    else if (queueIndex === NET_RX_QUEUE) this.pump(true);
  }

  // ---- guest → backend ----

  private transmit(l: ActivateContext): void {
    const q = l.queues[NET_TX_QUEUE]!;
    try {
      for (let chain = q.pop(l.mem); chain !== null; chain = q.pop(l.mem)) {
        const frame = this.gather(l, chain.descriptors);
        q.pushUsed(l.mem, chain.head, 0);
        if (frame) this.backendReceive(frame);
      }
    } finally {
      if (q.needsInterrupt(l.mem)) l.interrupt.usedBuffer(NET_TX_QUEUE);
    }
  }

  /** The frame in a transmit chain (after its header), or null when the chain is unusable. */
  private gather(l: ActivateContext, descriptors: Descriptor[]): { frame: Uint8Array; trusted: boolean } | null {
    let total = 0;
    for (const d of descriptors) {
      if (d.writable) return this.dropped("tx-writable", "a transmit chain holds a device-writable buffer");
      total += d.lengthBytes;
      if (total > VIRTIO_NET_HDR_BYTES + MAX_FRAME_BYTES) return this.dropped("tx-too-long", `a transmit chain is longer than ${MAX_FRAME_BYTES} bytes`);
    }
    if (total < VIRTIO_NET_HDR_BYTES + ETH_HEADER_BYTES) return this.dropped("tx-short", "a transmit chain is shorter than a header and an Ethernet header");
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const d of descriptors) {
      bytes.set(l.mem.view(d.gpa, d.lengthBytes), at);
      at += d.lengthBytes;
    }
    const hdr = readNetHeader(bytes);
    const frame = bytes.subarray(VIRTIO_NET_HDR_BYTES);
    const needsCsum = (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;
    if (needsCsum && !completeChecksum(frame, hdr.csumStart, hdr.csumOffset)) {
      return this.dropped("tx-csum-offset", `checksum offsets ${hdr.csumStart}+${hdr.csumOffset} are outside a ${frame.length}-byte frame`);
    }
    return { frame, trusted: needsCsum };
  }

  private backendReceive(f: { frame: Uint8Array; trusted: boolean }): void {
    try {
      this.backend.receive(f.frame, f.trusted);
    } catch (e) {
      // A frame must never take the VMM down; a throw here is a bug in the stack, logged once.
      this.dropped("backend-error", `the network stack failed on a frame: ${(e as Error).message}`);
    }
  }

  // ---- backend → guest ----

  deliver(frame: Uint8Array, gsoSize?: number): void {
    if (this.pendingBytes + frame.length > RX_PENDING_MAX_BYTES) {
      this.dropped("rx-queue-full", `the guest is not taking frames: ${RX_PENDING_MAX_BYTES >> 20} MiB queued; dropping`);
      return;
    }
    this.pending.push({ frame, gsoSize });
    this.pendingBytes += frame.length;
    this.pump();
  }

  /** With GUEST_TSO4 (and mergeable buffers to hold it) a TCP segment may fill an IPv4 packet. */
  maxTcpSegmentBytes(): number {
    const l = this.lifecycle;
    if (l.state !== "active" || !hasFeature(l.features, VIRTIO_NET_F_GUEST_TSO4) || !hasFeature(l.features, VIRTIO_NET_F_MRG_RXBUF)) return 0;
    return GSO_MAX_TCP_SEGMENT_BYTES;
  }

  hasRoom(): boolean {
    const room = this.pendingBytes < RX_ROOM_BYTES;
    if (!room) this.waitingForRoom = true;
    return room;
  }

  /** Puts waiting frames in the buffers the driver posted. */
  private pump(kicked = false): void {
    const l = this.lifecycle;
    if (l.state !== "active" || this.broken) return;
    const q = l.queues[NET_RX_QUEUE]!;
    if (!q.ready) return;
    const mergeable = hasFeature(l.features, VIRTIO_NET_F_MRG_RXBUF);
    const flags = hasFeature(l.features, VIRTIO_NET_F_GUEST_CSUM) ? VIRTIO_NET_HDR_F_DATA_VALID : 0;
    let delivered = false;
    try {
      if (kicked || this.pending.length > 0) this.takePosted(l, 0);
      while (this.pending.length > 0) {
        const { frame, gsoSize } = this.pending[0]!;
        const need = VIRTIO_NET_HDR_BYTES + frame.length;
        let count: number;
        if (mergeable) {
          if (!this.takePosted(l, need)) break;
          count = 0;
          for (let have = 0; have < need; count++) have += this.posted[count]!.capacityBytes;
        } else {
          if (this.posted.length === 0 && !this.takePosted(l, 1)) break;
          count = 1;
        }
        this.pending.shift();
        this.pendingBytes -= frame.length;
        const buffers = this.posted.splice(0, count);
        if (!mergeable && buffers[0]!.capacityBytes < need) {
          q.pushUsed(l.mem, buffers[0]!.chain.head, 0);
          this.dropped("rx-buffer-small", `a ${buffers[0]!.capacityBytes}-byte receive buffer is too small for a ${frame.length}-byte frame`);
        } else {
          this.scatter(l, q, buffers, gsoSize === undefined ? rxNetHeader(flags, count) : rxTcpGsoHeader(gsoSize, count), frame);
        }
        delivered = true;
      }
    } catch (e) {
      if (!(e instanceof GuestError)) throw e;
      this.broken = true;
      this.dropped(`rx-${e.name}`, `receive queue: ${e.message}; receive stopped until the driver resets the device`);
    } finally {
      if (delivered && q.needsInterrupt(l.mem)) l.interrupt.usedBuffer(NET_RX_QUEUE);
    }
    if (this.waitingForRoom && this.pendingBytes < RX_ROOM_BYTES) {
      this.waitingForRoom = false;
      this.backend.retry();
    }
  }

  /** Pops posted receive buffers until they hold `needBytes` (or the ring is empty); true if they do. */
  private takePosted(l: ActivateContext, needBytes: number): boolean {
    const q = l.queues[NET_RX_QUEUE]!;
    let have = this.posted.reduce((n, b) => n + b.capacityBytes, 0);
    while (have < needBytes || needBytes === 0) {
      const chain = q.pop(l.mem);
      if (chain === null) break;
      if (chain.descriptors.some((d) => !d.writable)) {
        q.pushUsed(l.mem, chain.head, 0);
        this.dropped("rx-readonly", "a receive chain holds a device-readable buffer");
        continue;
      }
      const capacityBytes = chain.descriptors.reduce((n, d) => n + d.lengthBytes, 0);
      this.posted.push({ chain, capacityBytes });
      have += capacityBytes;
    }
    return have >= needBytes;
  }

  /** Writes header and frame across `buffers`, and returns each to the driver. */
  private scatter(l: ActivateContext, q: ActivateContext["queues"][number], buffers: PostedBuffer[], header: Uint8Array, frame: Uint8Array): void {
    const parts = [header, frame];
    let part = 0;
    let partAt = 0;
    for (const b of buffers) {
      let written = 0;
      for (const d of b.chain.descriptors) {
        let room = d.lengthBytes;
        let gpa = d.gpa;
        while (room > 0 && part < parts.length) {
          const src = parts[part]!;
          const n = Math.min(room, src.length - partAt);
          l.mem.write(gpa, src.subarray(partAt, partAt + n));
          gpa += n;
          room -= n;
          written += n;
          partAt += n;
          if (partAt === src.length) {
            part++;
            partAt = 0;
          }
        }
      }
      q.pushUsed(l.mem, b.chain.head, written);
    }
  }

  private dropped(reason: string, message: string): null {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    if (!this.logged.has(reason)) {
      this.logged.add(reason);
      this.log(`${this.name}: ${message}`);
    }
    return null;
  }
}
