// Bytes typed on the host, waiting for a guest console to take them (the 8250's receive FIFO,
// virtio-console's receive buffers). Nothing is dropped: the queue grows as needed, and tells
// the host side when to stop and start reading its source again (backpressure): past
// HOST_INPUT_HIGH_BYTES the host should pause, and once the guest has taken enough for the
// queue to fall below the low mark, `onRoom` runs and it may resume.

/** Host bytes queued above which the host should stop reading input, and below which resume. */
export const HOST_INPUT_HIGH_BYTES = 16 * 1024;
const HOST_INPUT_LOW_BYTES = 4 * 1024;

export class HostInputQueue {
  private bytes: number[] = [];
  /** The queue passed HOST_INPUT_HIGH_BYTES and has not yet drained below the low mark. */
  private backedUp = false;

  constructor(private readonly onRoom: () => void) {}

  push(bytes: Uint8Array | readonly number[]): void {
    for (const b of bytes) this.bytes.push(b & 0xff);
    if (this.bytes.length > HOST_INPUT_HIGH_BYTES) this.backedUp = true;
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Whether the host should stop reading until onRoom. */
  get full(): boolean {
    return this.bytes.length > HOST_INPUT_HIGH_BYTES;
  }

  /** Removes and returns up to `max` bytes from the front. */
  take(max: number): number[] {
    const taken = this.bytes.splice(0, max);
    if (this.backedUp && this.bytes.length < HOST_INPUT_LOW_BYTES) {
      this.backedUp = false;
      this.onRoom();
    }
    return taken;
  }
}
