// A virtio device model that records what a transport asks of it, for transport tests (mmio,
// pci). Not a test file itself.

import type { GuestError } from "../../src/errors.ts";
import { ActivationError, VIRTIO_RING_F_EVENT_IDX, featureBit, type ActivateContext, type VirtioDevice } from "../../virtio/device.ts";

export class RecordingDevice implements VirtioDevice {
  readonly name = "virtio-fake";
  readonly deviceId = 42;
  readonly features = featureBit(VIRTIO_RING_F_EVENT_IDX) | featureBit(3);
  readonly queueSizesMax = [16, 8];
  readonly config = Uint8Array.from({ length: 12 }, (_, i) => 0x10 + i);
  readonly kernelConfig = "CONFIG_FAKE";
  activations: ActivateContext[] = [];
  notified: number[] = [];
  resets = 0;
  failActivation = false;
  failNotify?: GuestError;
  activate(ctx: ActivateContext): void {
    if (this.failActivation) throw new ActivationError("no");
    this.activations.push(ctx);
  }
  notify(q: number): void {
    if (this.failNotify) throw this.failNotify;
    this.notified.push(q);
  }
  reset(): void {
    this.resets++;
  }
}
