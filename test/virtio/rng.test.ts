import { describe, expect, it } from "vitest";
import { RNG_MAX_REQUEST_BYTES, RNG_QUEUE_SIZE, VirtioRng } from "../../virtio/rng.ts";
import { VIRTIO_ID_RNG } from "../../virtio/device.ts";
import { DriverQueue, RAM_BASE, VERSION_1, mmioRig } from "../support/virtio-driver.ts";

const BUF = RAM_BASE + 0x10_0000;

function rig() {
  const deviceLog: string[] = [];
  const device = new VirtioRng({ fill: (view) => view.fill(0xa5), log: (l) => deviceLog.push(l) });
  const r = mmioRig(device);
  const q = new DriverQueue(r.mem, RNG_QUEUE_SIZE);
  r.bringUp([q], VERSION_1);
  return { ...r, q, deviceLog };
}

describe("virtio-rng", () => {
  it("is device 4 with one queue of 128 and no features of its own", () => {
    const r = mmioRig(new VirtioRng());
    expect(r.rd("DeviceID")).toBe(VIRTIO_ID_RNG);
    expect(r.features()).toBe(VERSION_1);
    expect(r.rd("QueueNumMax")).toBe(128);
  });

  it("fills the buffer the driver offers and returns its length, with an interrupt", () => {
    const { q, wr, rd, mem, edges } = rig();
    const head = q.add([{ gpa: BUF, lengthBytes: 32, writable: true }]);
    wr("QueueNotify", 0);
    expect(q.takeUsed()).toEqual([{ id: head, len: 32 }]);
    expect([...mem.read(BUF, 33)]).toEqual([...Array(32).fill(0xa5), 0]);
    expect(rd("InterruptStatus")).toBe(1);
    expect(edges()).toBe(1);
  });

  it("serves real random bytes from node:crypto", () => {
    const r = mmioRig(new VirtioRng());
    const q = new DriverQueue(r.mem, RNG_QUEUE_SIZE);
    r.bringUp([q], VERSION_1);
    q.add([{ gpa: BUF, lengthBytes: 64, writable: true }]);
    r.wr("QueueNotify", 0);
    expect(q.takeUsed()[0]!.len).toBe(64);
    expect(r.mem.read(BUF, 64).some((b) => b !== 0)).toBe(true);
  });

  it("caps a request whose descriptors overlap at 64 KiB", () => {
    const { q, wr } = rig();
    // 64 descriptors of 4 KiB over the same page: 256 KiB claimed, 4 KiB of guest memory.
    q.add(Array.from({ length: 64 }, () => ({ gpa: BUF, lengthBytes: 4096, writable: true })));
    wr("QueueNotify", 0);
    expect(q.takeUsed()[0]!.len).toBe(RNG_MAX_REQUEST_BYTES);
  });

  it("answers a request with a device-readable buffer with no bytes, and goes on", () => {
    const { q, wr, rd, deviceLog } = rig();
    q.add([{ gpa: BUF, lengthBytes: 16 }, { gpa: BUF + 64, lengthBytes: 16, writable: true }]);
    q.add([{ gpa: BUF + 128, lengthBytes: 8, writable: true }]);
    wr("QueueNotify", 0);
    expect(q.takeUsed().map((u) => u.len)).toEqual([0, 8]);
    expect(rd("Status") & 64).toBe(0);
    expect(deviceLog.join("\n")).toMatch(/device-readable/);
  });

  it("still interrupts for the requests it served before a broken chain", () => {
    const { q, wr, rd } = rig();
    q.add([{ gpa: BUF, lengthBytes: 8, writable: true }]);
    q.add([{ gpa: 0x10_0000, lengthBytes: 8, writable: true }]); // not RAM
    wr("QueueNotify", 0);
    expect(q.takeUsed()).toEqual([{ id: 0, len: 8 }]);
    expect(rd("InterruptStatus")).toBe(3); // used buffer, and the configuration change (NEEDS_RESET)
    expect(rd("Status") & 64).toBe(64);
  });

  it("serves several requests with one notification", () => {
    const { q, wr, edges } = rig();
    for (let i = 0; i < 5; i++) q.add([{ gpa: BUF + i * 16, lengthBytes: 1 + i, writable: true }]);
    wr("QueueNotify", 0);
    expect(q.takeUsed().map((u) => u.len)).toEqual([1, 2, 3, 4, 5]);
    expect(edges()).toBe(1);
  });
});
