// What a virtio device model is, apart from any transport (virtio 1.2 §2, §3).
//
// A model (virtio/blk.ts, virtio/rng.ts) states what it offers (its ID, feature bits, queue
// sizes, config bytes) and handles its queues once activated. It never sees a register
// offset: the transport (virtio/mmio.ts) owns feature negotiation, the status machine and
// queue configuration, and calls activate() when the driver sets DRIVER_OK, notify() when the
// driver kicks a queue, and reset() when the driver writes 0 to the status.
//
// The lifecycle is a tagged union, so a model cannot touch guest memory before it has some.

import type { GuestMemory } from "../src/kvm/guest-memory.ts";
import { GuestError } from "../src/errors.ts";
import type { Virtqueue } from "./queue.ts";

/** Device IDs (virtio 1.2 §5). */
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_RNG = 4;
export const VIRTIO_ID_BALLOON = 5;
export const VIRTIO_ID_9P = 9;

/** Device status bits (virtio 1.2 §2.1). */
export const VIRTIO_STATUS_ACKNOWLEDGE = 1;
export const VIRTIO_STATUS_DRIVER = 2;
export const VIRTIO_STATUS_DRIVER_OK = 4;
export const VIRTIO_STATUS_FEATURES_OK = 8;
export const VIRTIO_STATUS_DEVICE_NEEDS_RESET = 64;
export const VIRTIO_STATUS_FAILED = 128;

/** Feature bits shared by every device type (virtio 1.2 §6), as bit numbers. */
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
export const VIRTIO_RING_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;

export const featureBit = (bit: number): bigint => 1n << BigInt(bit);
export const hasFeature = (features: bigint, bit: number): boolean => (features & featureBit(bit)) !== 0n;

/** How a model raises its interrupt; the transport sets InterruptStatus and pulses the line. */
export interface VirtioInterrupt {
  /** Used buffers were returned on a queue (InterruptStatus bit 0). */
  usedBuffer(queueIndex: number): void;
  /** The configuration space changed (InterruptStatus bit 1). */
  configChanged(): void;
}

export interface ActivateContext {
  mem: GuestMemory;
  interrupt: VirtioInterrupt;
  /** One per queue the model declared; `ready` says which ones the driver set up. */
  queues: readonly Virtqueue[];
  /** The features the driver accepted (a subset of what was offered). */
  features: bigint;
}

export type VirtioLifecycle =
  | { state: "inactive" }
  | ({ state: "active" } & ActivateContext);

export interface VirtioDevice {
  /** "virtio-blk", "virtio-rng": used in logs and the exit hint. */
  readonly name: string;
  readonly deviceId: number;
  /** Device-type feature bits offered; the transport adds VIRTIO_F_VERSION_1. */
  readonly features: bigint;
  /** QueueNumMax of each queue; the length is the number of queues. */
  readonly queueSizesMax: readonly number[];
  /** The device-specific configuration space, as the driver reads it (little-endian fields). */
  readonly config: Uint8Array;
  /** The guest kernel option that drives this device, for the exit hint ("CONFIG_VIRTIO_BLK"). */
  readonly kernelConfig: string;
  /** DRIVER_OK. Throws ActivationError (or a GuestError) if the device cannot start. */
  activate(ctx: ActivateContext): void;
  /**
   * The driver notified a queue. A GuestError thrown here means the guest broke the queue's
   * rules; the transport then marks the device DEVICE_NEEDS_RESET.
   */
  notify(queueIndex: number): void;
  /** Back to inactive (the driver wrote 0 to the status). */
  reset(): void;
  /** A config space write, already bounds-checked; absent means the space is read-only. */
  writeConfig?(offset: number, data: Uint8Array): void;
  /** The VM is exiting: release host resources. */
  close?(): void;
}

/** The device cannot start with what the driver set up. */
export class ActivationError extends GuestError {
  override name = "ActivationError";
}
