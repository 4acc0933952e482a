// virtio-9p (virtio 1.2 §5.11): a host directory shared with the guest over 9P2000.L.
//
// One request queue of 128, as kvmtool. Offered: MOUNT_TAG (the config space is the tag's
// length, u16, then the tag, which `mount -t 9p TAG` names), and the ring features EVENT_IDX
// and INDIRECT_DESC. A request is a chain whose device-readable buffers hold one T-message and
// whose device-writable buffers take the R-message; as with blk, neither is assumed to be one
// descriptor (Linux's zero-copy reads and writes put the payload in pages of its own).
//
// The protocol is served by P9Server (server.ts), confined to the share by Share (share.ts).

import { ConfigError } from "../../src/errors.ts";
import type { GuestMemory } from "../../src/kvm/guest-memory.ts";
import {
  VIRTIO_ID_9P,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  featureBit,
  type ActivateContext,
  type VirtioDevice,
  type VirtioLifecycle,
} from "../device.ts";
import type { Descriptor, DescriptorChain } from "../queue.ts";
import { P9_MAX_MSIZE, P9Server } from "./server.ts";
import { Share } from "./share.ts";

export const VIRTIO_9P_F_MOUNT_TAG = 0;
export const P9_QUEUE_SIZE = 128;
/** kvmtool's MAX_TAG_LEN. */
export const P9_TAG_MAX_BYTES = 32;
export const P9_DEFAULT_TAG = "kvm_9p";

export interface VirtioP9Options {
  /** The host directory. */
  dir: string;
  tag: string;
  readOnly: boolean;
  log?: (line: string) => void;
}

export class VirtioP9 implements VirtioDevice {
  static readonly description = { name: "virtio-9p", level: "virtioDev" } as const;

  readonly name = "virtio-9p";
  readonly deviceId = VIRTIO_ID_9P;
  readonly features = featureBit(VIRTIO_9P_F_MOUNT_TAG) | featureBit(VIRTIO_RING_F_EVENT_IDX) | featureBit(VIRTIO_RING_F_INDIRECT_DESC);
  readonly queueSizesMax = [P9_QUEUE_SIZE];
  readonly config: Uint8Array;
  readonly kernelConfig = "CONFIG_NET_9P_VIRTIO";
  readonly tag: string;
  readonly server: P9Server;
  private lifecycle: VirtioLifecycle = { state: "inactive" };

  constructor(opts: VirtioP9Options) {
    const tag = Buffer.from(opts.tag, "utf8");
    if (tag.length === 0 || tag.length > P9_TAG_MAX_BYTES) {
      throw new ConfigError(`9p tag '${opts.tag}' must be 1 to ${P9_TAG_MAX_BYTES} bytes`);
    }
    this.tag = opts.tag;
    this.config = new Uint8Array(2 + tag.length);
    new DataView(this.config.buffer).setUint16(0, tag.length, true);
    this.config.set(tag, 2);
    const log = opts.log ?? (() => {});
    this.server = new P9Server({ share: new Share(opts.dir, opts.readOnly), log: (line) => log(`${line} (tag ${opts.tag})`) });
  }

  activate(ctx: ActivateContext): void {
    this.lifecycle = { state: "active", ...ctx };
  }

  reset(): void {
    this.lifecycle = { state: "inactive" };
    this.server.reset();
  }

  close(): void {
    this.server.reset();
  }

  notify(queueIndex: number): void {
    const l = this.lifecycle;
    if (l.state !== "active") return;
    const q = l.queues[queueIndex]!;
    try {
      for (let chain = q.pop(l.mem); chain !== null; chain = q.pop(l.mem)) {
        q.pushUsed(l.mem, chain.head, this.serve(l.mem, chain));
      }
    } finally {
      if (q.needsInterrupt(l.mem)) l.interrupt.usedBuffer(queueIndex);
    }
  }

  /** Serves one request chain; returns the bytes of the reply written into it. */
  private serve(mem: GuestMemory, chain: DescriptorChain): number {
    const readable = chain.descriptors.filter((d) => !d.writable);
    const writable = chain.descriptors.filter((d) => d.writable);
    const readableBytes = readable.reduce((n, d) => n + d.lengthBytes, 0);
    const writableBytes = writable.reduce((n, d) => n + d.lengthBytes, 0);
    // Take the message its size field claims, if the guest gave that much; otherwise what
    // there is (up to the largest msize), which the server answers as malformed.
    const limit = Math.min(readableBytes, P9_MAX_MSIZE);
    let want = limit;
    if (limit >= 4) {
      const size = gather(mem, readable, 4).readUInt32LE(0);
      if (size <= limit) want = size;
    }
    const reply = this.server.handle(gather(mem, readable, want), writableBytes);
    if (!reply) return 0;
    scatter(mem, writable, reply);
    return reply.length;
  }
}

/** The first `n` bytes of the buffers, as one. */
function gather(mem: GuestMemory, descs: readonly Descriptor[], n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  for (const d of descs) {
    if (at === n) break;
    const take = Math.min(d.lengthBytes, n - at);
    out.set(mem.view(d.gpa, take), at);
    at += take;
  }
  return out;
}

function scatter(mem: GuestMemory, descs: readonly Descriptor[], bytes: Uint8Array): void {
  let at = 0;
  for (const d of descs) {
    if (at === bytes.length) break;
    const n = Math.min(d.lengthBytes, bytes.length - at);
    mem.write(d.gpa, bytes.subarray(at, at + n));
    at += n;
  }
}
