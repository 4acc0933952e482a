// virtio-rng (virtio 1.2 §5.4): one queue of device-writable buffers, each filled with bytes
// from the host's CSPRNG (node:crypto, as kvmtool reads /dev/urandom).
//
// The host's work per request is capped at RNG_MAX_REQUEST_BYTES, as Firecracker caps it:
// descriptors may overlap, so a short chain can claim far more bytes than the guest has. A
// request with any writable space always gets at least one byte; a device-readable buffer in a
// request is the guest's mistake, answered with an empty used entry.

import { randomFillSync } from "node:crypto";
import { GuestError } from "../src/errors.ts";
import {
  VIRTIO_ID_RNG,
  type ActivateContext,
  type VirtioDevice,
  type VirtioLifecycle,
} from "./device.ts";
import type { DescriptorChain } from "./queue.ts";

export const RNG_QUEUE_SIZE = 128;
export const RNG_MAX_REQUEST_BYTES = 64 * 1024;

/** The request has a buffer the device can only read: rng buffers are all device-writable. */
export class UnexpectedReadOnlyDescriptor extends GuestError {
  override name = "UnexpectedReadOnlyDescriptor";
  constructor() {
    super("a virtio-rng request holds a device-readable buffer");
  }
}

export interface VirtioRngOptions {
  log?: (line: string) => void;
  /** Source of random bytes; tests may replace it. */
  fill?: (view: Uint8Array) => void;
}

export class VirtioRng implements VirtioDevice {
  static readonly description = { name: "virtio-rng", level: "virtioDev" } as const;

  readonly name = "virtio-rng";
  readonly deviceId = VIRTIO_ID_RNG;
  readonly features = 0n;
  readonly queueSizesMax = [RNG_QUEUE_SIZE];
  readonly config = new Uint8Array(0);
  readonly kernelConfig = "CONFIG_HW_RANDOM_VIRTIO";
  private lifecycle: VirtioLifecycle = { state: "inactive" };
  private readonly log: (line: string) => void;
  private readonly fill: (view: Uint8Array) => void;
  private readonly logged = new Set<string>();

  constructor(opts: VirtioRngOptions = {}) {
    this.log = opts.log ?? (() => {});
    this.fill = opts.fill ?? ((view) => randomFillSync(view));
  }

  activate(ctx: ActivateContext): void {
    this.lifecycle = { state: "active", ...ctx };
  }

  reset(): void {
    this.lifecycle = { state: "inactive" };
  }

  notify(queueIndex: number): void {
    const l = this.lifecycle;
    if (l.state !== "active") return;
    const q = l.queues[queueIndex]!;
    try {
      for (let chain = q.pop(l.mem); chain !== null; chain = q.pop(l.mem)) {
        q.pushUsed(l.mem, chain.head, this.serve(l, chain));
      }
    } finally {
      // Requests served before a broken chain still get their interrupt.
      if (q.needsInterrupt(l.mem)) l.interrupt.usedBuffer(queueIndex);
    }
  }

  /** Fills the chain's writable buffers, up to the cap; returns the bytes written. */
  private serve(l: ActivateContext, chain: DescriptorChain): number {
    if (chain.descriptors.some((d) => !d.writable)) {
      const e = new UnexpectedReadOnlyDescriptor();
      if (!this.logged.has(e.name)) {
        this.logged.add(e.name);
        this.log(`${this.name}: ${e.message}; answered with no bytes`);
      }
      return 0;
    }
    let written = 0;
    for (const d of chain.descriptors) {
      const n = Math.min(d.lengthBytes, RNG_MAX_REQUEST_BYTES - written);
      if (n === 0) continue;
      l.mem.fill(d.gpa, n, this.fill);
      written += n;
      if (written === RNG_MAX_REQUEST_BYTES) break;
    }
    return written;
  }
}
