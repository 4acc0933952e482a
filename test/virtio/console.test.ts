import { describe, expect, it } from "vitest";
import { CONSOLE_QUEUE_SIZE, VirtioConsole } from "../../virtio/console.ts";
import { VIRTIO_ID_CONSOLE } from "../../virtio/device.ts";
import { HOST_INPUT_HIGH_BYTES } from "../../hw/host-input-queue.ts";
import { VIRTIO_MMIO_CONFIG_OFFSET } from "../../virtio/mmio.ts";
import { DriverQueue, MMIO_BASE, RAM_BASE, VERSION_1, mmioRig } from "../support/virtio-driver.ts";

const BUF = RAM_BASE + 0x10_0000;

/** A console brought up as Linux's virtio_console does with multiport off: receiveq, transmitq. */
function rig(device = new VirtioConsole()) {
  const r = mmioRig(device);
  const rx = new DriverQueue(r.mem, CONSOLE_QUEUE_SIZE);
  const tx = new DriverQueue(r.mem, CONSOLE_QUEUE_SIZE, RAM_BASE + 0x4_0000, RAM_BASE + 0x5_0000, RAM_BASE + 0x6_0000);
  const output: string[] = [];
  device.on("output", (b) => output.push(Buffer.from(b).toString("latin1")));
  r.bringUp([rx, tx], VERSION_1);
  /** What Linux does once the port is connected: write to it (here, one byte). */
  const connect = () => {
    r.mem.write(RAM_BASE + 0x30_0000, Uint8Array.of(0x2e));
    tx.add([{ gpa: RAM_BASE + 0x30_0000, lengthBytes: 1 }]);
    r.wr("QueueNotify", 1);
    output.length = 0;
  };
  return { ...r, device, rx, tx, output, connect };
}

describe("virtio-console", () => {
  it("is device 3 with two queues of 128, no features of its own, and kvmtool's config (80x24, one port)", () => {
    const r = mmioRig(new VirtioConsole());
    expect(r.rd("DeviceID")).toBe(VIRTIO_ID_CONSOLE);
    expect(r.features()).toBe(VERSION_1);
    r.wr("QueueSel", 1);
    expect(r.rd("QueueNumMax")).toBe(128);
    const config = r.cpu.read32(MMIO_BASE + VIRTIO_MMIO_CONFIG_OFFSET);
    expect([config & 0xffff, config >>> 16]).toEqual([80, 24]);
    expect(r.cpu.read32(MMIO_BASE + VIRTIO_MMIO_CONFIG_OFFSET + 4)).toBe(1);
  });

  it("emits what the guest transmits and returns the buffers", () => {
    const { tx, wr, mem, output } = rig();
    mem.write(BUF, Buffer.from("hello, "));
    mem.write(BUF + 64, Buffer.from("hvc0\n"));
    const head = tx.add([{ gpa: BUF, lengthBytes: 7 }, { gpa: BUF + 64, lengthBytes: 5 }]);
    wr("QueueNotify", 1);
    expect(output).toEqual(["hello, hvc0\n"]);
    expect(tx.takeUsed()).toEqual([{ id: head, len: 0 }]);
  });

  it("holds host input until the guest has posted receive buffers and written to the port, and loses none of it", () => {
    const { device, rx, wr, rd, mem, connect } = rig();
    device.pushInput(Buffer.from("typed early\n"));
    expect(device.queuedInputBytes).toBe(12);
    // Two 8-byte buffers: the first fills, the second takes the rest; but only once Linux
    // has connected the port (it discards what arrives before).
    const a = rx.add([{ gpa: BUF, lengthBytes: 8, writable: true }]);
    const b = rx.add([{ gpa: BUF + 64, lengthBytes: 8, writable: true }]);
    wr("QueueNotify", 0);
    expect(rx.takeUsed()).toEqual([]);
    connect();
    expect(rx.takeUsed()).toEqual([{ id: a, len: 8 }, { id: b, len: 4 }]);
    expect(Buffer.from(mem.read(BUF, 8)).toString() + Buffer.from(mem.read(BUF + 64, 4)).toString()).toBe("typed early\n");
    expect(device.queuedInputBytes).toBe(0);
    expect(rd("InterruptStatus") & 1).toBe(1);
  });

  it("fills a posted buffer as soon as input arrives, and leaves buffers alone without input", () => {
    const { device, rx, wr, mem, connect } = rig();
    connect();
    const head = rx.add([{ gpa: BUF, lengthBytes: 4096, writable: true }]);
    wr("QueueNotify", 0);
    expect(rx.takeUsed()).toEqual([]);
    device.pushInput(Buffer.from("ls\n"));
    expect(rx.takeUsed()).toEqual([{ id: head, len: 3 }]);
    expect(Buffer.from(mem.read(BUF, 3)).toString()).toBe("ls\n");
  });

  it("tells the host to stop reading past the high mark and when to resume", () => {
    const { device, rx, wr, connect } = rig();
    connect();
    let room = 0;
    device.on("inputRoom", () => room++);
    device.pushInput(new Uint8Array(HOST_INPUT_HIGH_BYTES + 1000));
    expect(device.inputFull).toBe(true);
    for (let i = 0; i < 3; i++) rx.add([{ gpa: BUF + i * 4096, lengthBytes: 4096, writable: true }]);
    wr("QueueNotify", 0);
    expect(device.queuedInputBytes).toBe(HOST_INPUT_HIGH_BYTES + 1000 - 3 * 4096);
    expect(room).toBe(0); // still above the low mark
    rx.add([{ gpa: BUF + 3 * 4096, lengthBytes: 4096, writable: true }]);
    wr("QueueNotify", 0);
    expect(device.queuedInputBytes).toBe(1000);
    expect(device.inputFull).toBe(false);
    expect(room).toBe(1);
  });

  it("keeps queued input across a driver reset", () => {
    const { device, wr } = rig();
    wr("Status", 0);
    device.pushInput(Buffer.from("x"));
    expect(device.queuedInputBytes).toBe(1);
  });

  it("skips a device-readable descriptor in a receive chain, and a writable one in a transmit chain", () => {
    const logs: string[] = [];
    const { device, rx, tx, wr, output, rd, connect } = rig(new VirtioConsole({ log: (l) => logs.push(l) }));
    connect();
    device.pushInput(Buffer.from("ab"));
    rx.add([{ gpa: BUF, lengthBytes: 8 }, { gpa: BUF + 64, lengthBytes: 8, writable: true }]);
    wr("QueueNotify", 0);
    expect(rx.takeUsed()[0]!.len).toBe(2);
    tx.add([{ gpa: BUF + 128, lengthBytes: 8, writable: true }]);
    wr("QueueNotify", 1);
    expect(output).toEqual([]);
    expect(rd("Status") & 64).toBe(0);
    expect(logs).toEqual([expect.stringMatching(/receive buffer holds a device-readable/), expect.stringMatching(/transmit buffer holds a device-writable/)]);
  });
});
