import { describe, expect, it } from "vitest";
import {
  BALLOON_PAGE_BYTES,
  BALLOON_QUEUE_SIZE,
  VIRTIO_BALLOON_F_STATS_VQ,
  VirtioBalloon,
} from "../../virtio/balloon.ts";
import { VIRTIO_ID_BALLOON, featureBit } from "../../virtio/device.ts";
import { VIRTIO_MMIO_CONFIG_OFFSET } from "../../virtio/mmio.ts";
import { DriverQueue, MMIO_BASE, RAM_BASE, RAM_BYTES, VERSION_1, mmioRig } from "../support/virtio-driver.ts";

const PFN_BUF = RAM_BASE + 0x10_0000;
const STATS_BUF = RAM_BASE + 0x11_0000;
/** Pages the guest "gives up" in these tests, well away from the rings and buffers. */
const PAGE_A = RAM_BASE + 0x20_0000;
const PAGE_B = RAM_BASE + 0x20_1000;
const pfn = (gpa: number) => gpa / BALLOON_PAGE_BYTES;
const STATS_VQ = featureBit(VIRTIO_BALLOON_F_STATS_VQ);

/** A balloon brought up as Linux's virtio_balloon does: inflateq, deflateq, statsq. */
function rig(opts: { statsBeforeDriverOk?: number[][] } = {}) {
  const log: string[] = [];
  const device = new VirtioBalloon({ ramSizeBytes: RAM_BYTES, log: (l) => log.push(l) });
  const r = mmioRig(device);
  const queue = (i: number) => new DriverQueue(r.mem, BALLOON_QUEUE_SIZE, RAM_BASE + 0x1_0000 * (1 + 3 * i), RAM_BASE + 0x1_0000 * (2 + 3 * i), RAM_BASE + 0x1_0000 * (3 + 3 * i));
  const [inflate, deflate, stats] = [queue(0), queue(1), queue(2)];
  let statsHead: number | undefined;
  if (opts.statsBeforeDriverOk) statsHead = postStats(r.mem, stats, opts.statsBeforeDriverOk);
  r.bringUp([inflate, deflate, stats], VERSION_1 | STATS_VQ);
  const sendPfns = (q: DriverQueue, notifyIndex: number, pfns: number[]) => {
    pfns.forEach((p, i) => r.mem.setU32(PFN_BUF + 4 * i, p));
    const head = q.add([{ gpa: PFN_BUF, lengthBytes: 4 * pfns.length }]);
    r.wr("QueueNotify", notifyIndex);
    return head;
  };
  return { ...r, device, inflate, deflate, stats, statsHead, log, sendPfns };
}

/** Writes tagged u64 statistics and makes the buffer available (no kick). */
function postStats(mem: ReturnType<typeof mmioRig>["mem"], q: DriverQueue, entries: number[][]): number {
  const bytes = Buffer.alloc(10 * entries.length);
  entries.forEach(([tag, value], i) => {
    bytes.writeUInt16LE(tag!, 10 * i);
    bytes.writeBigUInt64LE(BigInt(value!), 10 * i + 2);
  });
  mem.write(STATS_BUF, bytes);
  return q.add([{ gpa: STATS_BUF, lengthBytes: bytes.length }]);
}

const configU32 = (r: ReturnType<typeof mmioRig>, offset: number) => r.cpu.read32(MMIO_BASE + VIRTIO_MMIO_CONFIG_OFFSET + offset);

describe("virtio-balloon", () => {
  it("is device 5 with three queues of 128, offering STATS_VQ, with a 16-byte config of zeros", () => {
    const r = mmioRig(new VirtioBalloon({ ramSizeBytes: RAM_BYTES }));
    expect(r.rd("DeviceID")).toBe(VIRTIO_ID_BALLOON);
    expect(r.features()).toBe(VERSION_1 | STATS_VQ);
    r.wr("QueueSel", 2);
    expect(r.rd("QueueNumMax")).toBe(128);
    expect([0, 4, 8, 12].map((o) => configU32(r, o))).toEqual([0, 0, 0, 0]);
  });

  it("moves num_pages by 256 a MB with a configuration interrupt, ignores a deflate below zero, stops at guest RAM", () => {
    const r = rig();
    const generation = r.rd("ConfigGeneration");
    expect(r.device.changeTarget(2)).toMatch(/target 2 MB, was 0 MB/);
    expect(configU32(r, 0)).toBe(512);
    expect(r.rd("InterruptStatus") & 2).toBe(2);
    expect(r.rd("ConfigGeneration")).not.toBe(generation);
    expect(r.device.changeTarget(-3)).toMatch(/cannot deflate by 3 MB.*ignored/);
    expect(configU32(r, 0)).toBe(512);
    expect(r.device.changeTarget(-2)).toMatch(/target 0 MB/);
    expect(r.device.changeTarget(1000)).toMatch(/all of guest RAM/);
    expect(r.device.targetPages).toBe(RAM_BYTES / BALLOON_PAGE_BYTES);
  });

  it("takes inflated pages (zeroing them), counts each once, gives them back on deflate, skips PFNs outside RAM", () => {
    const r = rig();
    r.mem.write(PAGE_A + 100, Uint8Array.of(1, 2, 3));
    const head = r.sendPfns(r.inflate, 0, [pfn(PAGE_A), pfn(PAGE_B), pfn(PAGE_A), 0x10, pfn(RAM_BASE + RAM_BYTES)]);
    expect(r.inflate.takeUsed()).toEqual([{ id: head, len: 0 }]);
    expect(r.device.inflatedPages).toBe(2);
    expect(r.mem.read(PAGE_A, BALLOON_PAGE_BYTES).every((b) => b === 0)).toBe(true);
    expect(r.log.filter((l) => /not a page of guest RAM/.test(l))).toHaveLength(1);
    expect(r.rd("InterruptStatus") & 1).toBe(1);

    r.sendPfns(r.deflate, 1, [pfn(PAGE_A), pfn(PAGE_A + 0x8000)]);
    expect(r.device.inflatedPages).toBe(1);
    expect(r.rd("Status") & 64).toBe(0);
  });

  it("lets the driver write 'actual' and nothing else", () => {
    const r = rig();
    r.cpu.write32(MMIO_BASE + VIRTIO_MMIO_CONFIG_OFFSET + 4, 77);
    r.cpu.write32(MMIO_BASE + VIRTIO_MMIO_CONFIG_OFFSET + 0, 99);
    expect([configU32(r, 0), configU32(r, 4)]).toEqual([0, 77]);
    expect(r.device.actualPages).toBe(77);
    expect(r.log.join("\n")).toMatch(/outside 'actual'/);
  });

  it("holds the stats buffer posted before DRIVER_OK, returns it on request, and answers with the refill", async () => {
    const r = rig({ statsBeforeDriverOk: [[4, 1000], [5, 2000]] });
    expect(r.device.lastStats).toEqual([{ tag: 4, value: 1000n }, { tag: 5, value: 2000n }]);
    expect(r.stats.takeUsed()).toEqual([]);
    const answer = r.device.requestStats();
    expect(r.stats.takeUsed()).toEqual([{ id: r.statsHead, len: 0 }]);
    expect(r.rd("InterruptStatus") & 1).toBe(1);
    // The driver's stats_handle_request: fresh numbers, the buffer posted again, a kick.
    postStats(r.mem, r.stats, [[0, 1], [4, 3000], [5, 4000], [0xabc, 5]]);
    r.wr("QueueNotify", 2);
    expect(await answer).toEqual([{ tag: 0, value: 1n }, { tag: 4, value: 3000n }, { tag: 5, value: 4000n }, { tag: 0xabc, value: 5n }]);
    expect(r.stats.takeUsed()).toEqual([]); // held again
  });

  it("has no statistics without a driver, and gives every page back when the driver resets", async () => {
    const device = new VirtioBalloon({ ramSizeBytes: RAM_BYTES });
    expect(await device.requestStats()).toBeUndefined();
    const r = rig({ statsBeforeDriverOk: [[4, 1]] });
    r.sendPfns(r.inflate, 0, [pfn(PAGE_A)]);
    r.cpu.write32(MMIO_BASE + VIRTIO_MMIO_CONFIG_OFFSET + 4, 1);
    const pending = r.device.requestStats();
    r.wr("Status", 0);
    expect(await pending).toBeUndefined();
    expect(r.device.inflatedPages).toBe(0);
    expect(r.device.actualPages).toBe(0);
  });
});
