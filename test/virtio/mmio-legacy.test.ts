// virtio-mmio version 1 (mmio-legacy), driven as Linux's virtio_mmio.c drives a version 1
// device: GuestPageSize once at probe, then per queue QueueNum, QueueAlign and QueuePFN, with
// 32 feature bits and no FEATURES_OK.

import { describe, expect, it } from "vitest";
import { VIRTIO_STATUS_ACKNOWLEDGE as ACK, VIRTIO_STATUS_DRIVER as DRIVER, VIRTIO_STATUS_DRIVER_OK as DRIVER_OK, featureBit, type VirtioDevice } from "../../virtio/device.ts";
import { VIRTIO_MMIO, virtioMmioRegisterName } from "../../virtio/mmio.ts";
import { RNG_QUEUE_SIZE, VirtioRng } from "../../virtio/rng.ts";
import { DriverQueue, MMIO_BASE, RAM_BASE, mmioRig } from "../support/virtio-driver.ts";
import { RecordingDevice } from "../support/recording-device.ts";

const PAGE = 4096;
const PFN = RAM_BASE / PAGE + 0x10;
const BUF = RAM_BASE + 0x20_0000;

function legacyRig<D extends VirtioDevice = RecordingDevice>(device: D = new RecordingDevice() as unknown as D) {
  const r = mmioRig(device, undefined, 1);
  /** virtio_mmio's probe and setup_vq for version 1. */
  const bringUp = (queues: { size: number; pfn: number }[], accept = r.rd("DeviceFeatures"), pageSize = PAGE) => {
    r.wr("GuestPageSize", pageSize);
    r.wr("Status", 0);
    r.wr("Status", ACK);
    r.wr("Status", ACK | DRIVER);
    r.wr("DriverFeaturesSel", 0);
    r.wr("DriverFeatures", accept);
    queues.forEach(({ size, pfn }, i) => {
      r.wr("QueueSel", i);
      r.wr("QueueNum", size);
      r.wr("QueueAlign", pageSize);
      r.wr("QueuePFN", pfn);
    });
    r.wr("Status", ACK | DRIVER | DRIVER_OK);
  };
  return { ...r, device, bringUp };
}

describe("virtio-mmio version 1", () => {
  it("identifies itself as version 1 and offers 32 feature bits, without VIRTIO_F_VERSION_1", () => {
    const { rd, wr } = legacyRig();
    expect(rd("Version")).toBe(1);
    expect(rd("DeviceFeatures")).toBe(Number(featureBit(29) | featureBit(3)));
    wr("DeviceFeaturesSel", 1);
    expect(rd("DeviceFeatures")).toBe(0);
  });

  it("names its own registers for tracers", () => {
    expect(virtioMmioRegisterName(0x40, 1)).toBe("QueuePFN");
    expect(virtioMmioRegisterName(0x40, 2)).toBeUndefined();
    expect(virtioMmioRegisterName(0x44, 1)).toBeUndefined();
  });

  it("serves an rng request through rings laid out from QueuePFN with QueueAlign, and pulses its SPI", () => {
    const device = new VirtioRng({ fill: (view) => view.fill(0x3c) });
    const { bringUp, wr, rd, mem, edges } = legacyRig(device);
    const size = RNG_QUEUE_SIZE / 2; // version 1 lets the driver choose a smaller queue
    bringUp([{ size, pfn: PFN }]);
    expect(rd("Status")).toBe(ACK | DRIVER | DRIVER_OK);
    const desc = PFN * PAGE;
    const avail = desc + 16 * size;
    const q = new DriverQueue(mem, size, desc, avail, Math.ceil((avail + 6 + 2 * size) / PAGE) * PAGE);
    const head = q.add([{ gpa: BUF, lengthBytes: 8, writable: true }]);
    wr("QueueNotify", 0);
    expect(q.takeUsed()).toEqual([{ id: head, len: 8 }]);
    expect([...mem.read(BUF, 8)]).toEqual(Array(8).fill(0x3c));
    expect(rd("InterruptStatus")).toBe(1);
    expect(edges()).toBe(1);
  });

  it("reads QueuePFN back (0 for a queue not set up), and keeps GuestPageSize across a reset", () => {
    const { bringUp, wr, rd, device } = legacyRig();
    bringUp([{ size: 16, pfn: PFN }, { size: 8, pfn: PFN + 8 }]);
    wr("QueueSel", 1);
    expect(rd("QueuePFN")).toBe(PFN + 8);
    wr("Status", 0);
    expect(rd("QueuePFN")).toBe(0);
    expect(device.resets).toBe(1);
    // Linux writes GuestPageSize only at probe: after the reset a queue still goes up.
    wr("Status", ACK);
    wr("Status", ACK | DRIVER);
    wr("QueueSel", 0);
    wr("QueueNum", 16);
    wr("QueueAlign", PAGE);
    wr("QueuePFN", PFN);
    expect(rd("QueuePFN")).toBe(PFN);
  });

  it("refuses QueuePFN before GuestPageSize and QueueAlign, and geometry that is not a power of two", () => {
    const { wr, rd, log } = legacyRig();
    wr("Status", ACK);
    wr("Status", ACK | DRIVER);
    wr("QueuePFN", PFN);
    expect(rd("QueuePFN")).toBe(0);
    wr("GuestPageSize", 3000);
    wr("QueueAlign", 0);
    expect(log.join("\n")).toMatch(/before GuestPageSize[\s\S]*GuestPageSize 3000 is not a power of two[\s\S]*QueueAlign 0/);
  });

  it("refuses QueueSel past the last queue, as kvmtool's mmio-legacy does", () => {
    const { wr, rd, log } = legacyRig();
    wr("QueueSel", 1);
    wr("QueueSel", 7);
    expect(rd("QueueNumMax")).toBe(8);
    expect(log.join("\n")).toMatch(/QueueSel 7/);
  });

  it("has no QueueReady or 64-bit ring address registers", () => {
    const { cpu, bringUp, device } = legacyRig();
    bringUp([{ size: 16, pfn: PFN }, { size: 8, pfn: PFN + 8 }]);
    expect(device.activations).toHaveLength(1);
    cpu.write32(MMIO_BASE + VIRTIO_MMIO.QueueDescLow, 0x1234);
    expect(cpu.read32(MMIO_BASE + VIRTIO_MMIO.QueueReady)).toBe(0);
    expect(device.activations[0]!.queues[0]!.descTable).toBe(PFN * PAGE);
  });
});
