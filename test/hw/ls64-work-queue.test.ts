// The LS64 work queue (hw/ls64-work-queue.ts) through the trap bus, as the core hands it
// 64-byte accesses (TrapBus.access64), and its device-tree node checked by dtc.

import { describe, expect, it } from "vitest";
import {
  Ls64WorkQueue, WQ_DEPTH, WQ_DEPTH_REG, WQ_PENDING, WQ_RETRIES, WQ_STATUS_ACCEPTED, WQ_STATUS_RETRY, WQ_SUBMITTED,
} from "../../hw/ls64-work-queue.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { deviceTreeBlob } from "../../arm/machine/device-tree.ts";
import { Gicv3 } from "../../arm/machine/gicv3.ts";
import { dtbToDts } from "../support/dtc.ts";
import { hasTool } from "../support/tools.ts";

const BASE = 0x103_0000;

function setup() {
  const bus = new TrapBus();
  const wq = new Ls64WorkQueue({ base: BASE });
  wq.register(bus);
  /** A 64-byte store of `fill`: the status the store with return gets back. */
  const store64 = (gpa: number, fill: number): bigint => {
    const data = new Uint8Array(72).fill(fill, 0, 64).fill(0xee, 64);
    expect(bus.access64(0, gpa, data, true)).toBe(true);
    return new DataView(data.buffer).getBigUint64(64, true);
  };
  const load64 = (gpa: number): Uint8Array => {
    const data = new Uint8Array(72).fill(0xcc);
    expect(bus.access64(0, gpa, data, false)).toBe(true);
    return data.subarray(0, 64);
  };
  const read32 = (offset: number): number => {
    const data = new Uint8Array(8);
    bus.access(0, BASE + offset, data, 4, false);
    return new DataView(data.buffer).getUint32(0, true);
  };
  return { bus, wq, store64, load64, read32 };
}

describe("the LS64 work queue", () => {
  it("queues each 64-byte store to the portal as one descriptor and answers accepted", () => {
    const { wq, store64, read32 } = setup();
    expect(store64(BASE, 0xa1)).toBe(WQ_STATUS_ACCEPTED);
    expect(store64(BASE, 0xa2)).toBe(WQ_STATUS_ACCEPTED);
    expect(wq.pending().map((d) => [d.length, d[0], d[63]])).toEqual([[64, 0xa1, 0xa1], [64, 0xa2, 0xa2]]);
    expect(read32(WQ_PENDING)).toBe(2);
    expect(read32(WQ_SUBMITTED)).toBe(2);
    expect(read32(WQ_DEPTH_REG)).toBe(WQ_DEPTH);
  });

  it("answers retry and drops the descriptor when the queue is full", () => {
    const { wq, store64, read32 } = setup();
    for (let i = 0; i < WQ_DEPTH; i++) expect(store64(BASE, i)).toBe(WQ_STATUS_ACCEPTED);
    expect(store64(BASE, 0xff)).toBe(WQ_STATUS_RETRY);
    expect(wq.pending()).toHaveLength(WQ_DEPTH);
    expect(wq.pending().some((d) => d[0] === 0xff)).toBe(false);
    expect(read32(WQ_RETRIES)).toBe(1);
  });

  it("a 64-byte load from the portal dequeues the oldest descriptor, then reads zeros", () => {
    const { store64, load64, read32 } = setup();
    store64(BASE, 0x11);
    store64(BASE, 0x22);
    expect(Array.from(load64(BASE))).toEqual(Array(64).fill(0x11));
    expect(Array.from(load64(BASE))).toEqual(Array(64).fill(0x22));
    expect(Array.from(load64(BASE))).toEqual(Array(64).fill(0));
    expect(read32(WQ_PENDING)).toBe(0);
  });

  it("ignores byte and word writes to the portal: a descriptor only arrives whole", () => {
    const { bus, wq } = setup();
    const data = new Uint8Array(8).fill(0x55);
    bus.access(0, BASE, data, 8, true);
    bus.access(0, BASE + 8, data, 4, true);
    expect(wq.pending()).toEqual([]);
  });

  it("the bus refuses 64-byte accesses to regions that do not declare them, touching nothing", () => {
    const bus = new TrapBus();
    const calls: number[] = [];
    bus.register({ bus: "mmio", base: 0x100_0000, sizeBytes: 0x1000, name: "uart", handler: (_v, _o, _d, len) => calls.push(len) });
    const data = new Uint8Array(72);
    expect(bus.access64(0, 0x100_0000, data, true)).toBe(false);
    expect(bus.access64(0, 0x900_0000, data, false)).toBe(false); // unclaimed
    expect(calls).toEqual([]);
    expect(() => bus.access(0, 0x100_0000, data, 64, true)).toThrow(RangeError);
  });

  it.skipIf(!hasTool("dtc"))("describes itself in the device tree: compatible and reg", () => {
    const wq = new Ls64WorkQueue({ base: BASE });
    const gic = new Gicv3({ vcpuCount: 1, mpidr: () => 0, onIrqLineChange: () => {}, onFiqLineChange: () => {} });
    const blob = deviceTreeBlob({
      cpus: 1, mpidr: () => 0, ramBase: 0x8000_0000, ramSizeBytes: 64 << 20, bootargs: "", kaslrSeed: 0n, intc: gic, devices: [wq],
      stdoutPath: "/U6_16550A@1000000",
    });
    const { dts } = dtbToDts(blob);
    expect(dts).toMatch(/ls64-work-queue@1030000 \{\s*compatible = "lkvm,ls64-work-queue";\s*reg = <0x00 0x1030000 0x00 0x1000>;/);
  });
});
