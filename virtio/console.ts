// virtio-console (virtio 1.2 §5.3) with one port and no multiport, as kvmtool builds it for
// `--console virtio`: the guest's hvc0. Queue 0 (receiveq) carries host input to the guest,
// queue 1 (transmitq) the guest's output to the host. Config: 80 columns, 24 rows, one port;
// no feature bits (kvmtool offers only the legacy ANY_LAYOUT, which a modern device may not).
//
// Input is never lost: bytes typed on the host wait in a HostInputQueue and leave it only
// into a receive buffer the guest has posted; with none posted (no driver yet, or a guest
// that stopped reading) they stay queued, and the queue's backpressure tells the host to
// stop reading its terminal. kvmtool instead takes one byte per injection when a buffer is
// there; a buffer here takes as many bytes as fit.
//
// Posted buffers are not enough, though: Linux posts them (add_port's fill_queue) before it
// marks the port connected (init_port_console), and in_intr discards what arrives on a port
// not yet connected, so input piped in at boot vanished. The first thing the guest writes
// to hvc0 shows the port is connected (the console's writes only reach the device once it
// is), so input waits for that; a tty not yet opened then keeps it (hvc_open polls it in).
//
// The host's work per transmit chain is capped at CONSOLE_MAX_CHAIN_BYTES (descriptors may
// overlap, so a short chain can claim far more bytes than the guest has).

import { EventEmitter } from "eventemitter3";
import { HostInputQueue } from "../hw/host-input-queue.ts";
import {
  VIRTIO_ID_CONSOLE,
  type ActivateContext,
  type VirtioDevice,
  type VirtioLifecycle,
} from "./device.ts";
import type { DescriptorChain } from "./queue.ts";

export const CONSOLE_QUEUE_SIZE = 128;
export const CONSOLE_RX_QUEUE = 0;
export const CONSOLE_TX_QUEUE = 1;
export const CONSOLE_MAX_CHAIN_BYTES = 64 * 1024;
/** struct virtio_console_config: cols u16, rows u16, max_nr_ports u32, emerg_wr u32. */
export const CONSOLE_CONFIG_BYTES = 12;

export interface VirtioConsoleEvents {
  /** Bytes the guest wrote to hvc0 (a fresh array each time). */
  output: (bytes: Uint8Array) => void;
  /** The host input queue drained below its low mark after passing the high one. */
  inputRoom: () => void;
}

export interface VirtioConsoleOptions {
  log?: (line: string) => void;
}

export class VirtioConsole extends EventEmitter<VirtioConsoleEvents> implements VirtioDevice {
  readonly name = "virtio-console";
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly features = 0n;
  readonly queueSizesMax = [CONSOLE_QUEUE_SIZE, CONSOLE_QUEUE_SIZE];
  readonly config = new Uint8Array(CONSOLE_CONFIG_BYTES);
  readonly kernelConfig = "CONFIG_VIRTIO_CONSOLE";
  private lifecycle: VirtioLifecycle = { state: "inactive" };
  /** The guest has written to hvc0 since the driver set the device up (see the top). */
  private portConnected = false;
  private readonly hostInput = new HostInputQueue(() => this.emit("inputRoom"));
  private readonly log: (line: string) => void;
  private readonly logged = new Set<string>();

  constructor(opts: VirtioConsoleOptions = {}) {
    super();
    this.log = opts.log ?? (() => {});
    const dv = new DataView(this.config.buffer);
    dv.setUint16(0, 80, true);
    dv.setUint16(2, 24, true);
    dv.setUint32(4, 1, true);
  }

  /** Queues host input; it enters the guest as receive buffers are posted. */
  pushInput(bytes: Uint8Array | readonly number[]): void {
    this.hostInput.push(bytes);
    this.deliverInput();
  }

  /** Host bytes waiting for a receive buffer. */
  get queuedInputBytes(): number {
    return this.hostInput.length;
  }

  /** Whether the host should stop reading its input until "inputRoom". */
  get inputFull(): boolean {
    return this.hostInput.full;
  }

  activate(ctx: ActivateContext): void {
    this.lifecycle = { state: "active", ...ctx };
    this.deliverInput();
  }

  /** Queued input stays queued for the next driver. */
  reset(): void {
    this.lifecycle = { state: "inactive" };
    this.portConnected = false;
  }

  notify(queueIndex: number): void {
    if (queueIndex === CONSOLE_RX_QUEUE) this.deliverInput();
    else if (queueIndex === CONSOLE_TX_QUEUE) this.transmit();
  }

  /** Moves queued host input into the receive buffers the guest has posted. */
  private deliverInput(): void {
    const l = this.lifecycle;
    if (l.state !== "active" || !this.portConnected) return;
    const q = l.queues[CONSOLE_RX_QUEUE]!;
    if (!q.ready) return;
    let used = false;
    try {
      while (this.hostInput.length > 0 && q.hasAvailable(l.mem)) {
        const chain = q.pop(l.mem)!;
        q.pushUsed(l.mem, chain.head, this.fill(l, chain));
        used = true;
      }
    } finally {
      if (used && q.needsInterrupt(l.mem)) l.interrupt.usedBuffer(CONSOLE_RX_QUEUE);
    }
  }

  /** Writes queued input into the chain's device-writable buffers; returns the bytes written. */
  private fill(l: ActivateContext, chain: DescriptorChain): number {
    let written = 0;
    for (const d of chain.descriptors) {
      if (!d.writable) {
        this.complainOnce("rx-readable", "a receive buffer holds a device-readable descriptor; skipped");
        continue;
      }
      const bytes = this.hostInput.take(Math.min(d.lengthBytes, CONSOLE_MAX_CHAIN_BYTES - written));
      if (bytes.length === 0) break;
      l.mem.write(d.gpa, Uint8Array.from(bytes));
      written += bytes.length;
    }
    return written;
  }

  /** Emits what each transmit chain carries and returns it to the driver. */
  private transmit(): void {
    const l = this.lifecycle;
    if (l.state !== "active") return;
    const q = l.queues[CONSOLE_TX_QUEUE]!;
    try {
      for (let chain = q.pop(l.mem); chain !== null; chain = q.pop(l.mem)) {
        const parts: Uint8Array[] = [];
        let total = 0;
        for (const d of chain.descriptors) {
          if (d.writable) {
            this.complainOnce("tx-writable", "a transmit buffer holds a device-writable descriptor; skipped");
            continue;
          }
          const n = Math.min(d.lengthBytes, CONSOLE_MAX_CHAIN_BYTES - total);
          if (n < d.lengthBytes) this.complainOnce("tx-cap", `a transmit chain carries more than ${CONSOLE_MAX_CHAIN_BYTES} bytes; the rest is dropped`);
          if (n === 0) break;
          parts.push(l.mem.read(d.gpa, n));
          total += n;
        }
        q.pushUsed(l.mem, chain.head, 0);
        if (total > 0) this.emit("output", parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      }
    } finally {
      // Linux polls the used ring for transmitted buffers, but an interrupt it asked for is due.
      if (q.needsInterrupt(l.mem)) l.interrupt.usedBuffer(CONSOLE_TX_QUEUE);
    }
    if (!this.portConnected) {
      this.portConnected = true;
      this.deliverInput();
    }
  }

  private complainOnce(key: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log(`${this.name}: ${message}`);
  }
}
