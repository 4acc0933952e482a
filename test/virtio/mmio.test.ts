import { describe, expect, it } from "vitest";
import { GuestError } from "../../src/errors.ts";
import { FdtNode } from "../../src/lib/fdt/tree.ts";
import {
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_STATUS_ACKNOWLEDGE as ACK,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET as NEEDS_RESET,
  VIRTIO_STATUS_DRIVER as DRIVER,
  VIRTIO_STATUS_DRIVER_OK as DRIVER_OK,
  VIRTIO_STATUS_FAILED as FAILED,
  VIRTIO_STATUS_FEATURES_OK as FEATURES_OK,
  featureBit,
} from "../../virtio/device.ts";
import { VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_VENDOR_ID, virtioMmioRegisterName } from "../../virtio/mmio.ts";
import { VirtioRng } from "../../virtio/rng.ts";
import { DriverQueue, INTID, MMIO_BASE, RAM_BASE, VERSION_1, mmioRig } from "../support/virtio-driver.ts";
import { RecordingDevice } from "../support/recording-device.ts";

const BUF = RAM_BASE + 0x10_0000;
const RUNNING = ACK | DRIVER | FEATURES_OK | DRIVER_OK;

function rig() {
  const device = new RecordingDevice();
  const r = mmioRig(device);
  const queues = [new DriverQueue(r.mem, 16), new DriverQueue(r.mem, 8, RAM_BASE + 0x4_0000, RAM_BASE + 0x5_0000, RAM_BASE + 0x6_0000)];
  return { ...r, device, queues };
}

describe("virtio-mmio transport: identification and features", () => {
  it("identifies itself as a version 2 device from vendor LKVM", () => {
    const { rd } = rig();
    expect(rd("MagicValue")).toBe(VIRTIO_MMIO_MAGIC);
    expect(rd("Version")).toBe(2);
    expect(rd("DeviceID")).toBe(42);
    expect(rd("VendorID")).toBe(VIRTIO_MMIO_VENDOR_ID);
  });

  it("offers the device's features plus VIRTIO_F_VERSION_1, by 32-bit page", () => {
    const { features, wr, rd } = rig();
    expect(features()).toBe(featureBit(VIRTIO_RING_F_EVENT_IDX) | featureBit(3) | VERSION_1);
    wr("DeviceFeaturesSel", 2);
    expect(rd("DeviceFeatures")).toBe(0);
  });

  it("refuses FEATURES_OK when the driver accepts a feature that was not offered", () => {
    const { wr, rd, acceptFeatures, log } = rig();
    wr("Status", ACK);
    wr("Status", ACK | DRIVER);
    acceptFeatures(VERSION_1 | featureBit(7));
    wr("Status", ACK | DRIVER | FEATURES_OK);
    expect(rd("Status")).toBe(ACK | DRIVER);
    expect(log.join("\n")).toMatch(/not offered/);
  });

  it("refuses FEATURES_OK when a legacy driver leaves out VIRTIO_F_VERSION_1", () => {
    const { wr, rd, acceptFeatures } = rig();
    wr("Status", ACK);
    wr("Status", ACK | DRIVER);
    acceptFeatures(featureBit(3));
    wr("Status", ACK | DRIVER | FEATURES_OK);
    expect(rd("Status")).toBe(ACK | DRIVER);
  });

  it("ignores driver features written after FEATURES_OK", () => {
    const { wr, device, queues, acceptFeatures, setupQueue } = rig();
    wr("Status", ACK);
    wr("Status", ACK | DRIVER);
    acceptFeatures(VERSION_1);
    wr("Status", ACK | DRIVER | FEATURES_OK);
    acceptFeatures(VERSION_1 | featureBit(3));
    setupQueue(0, queues[0]!);
    wr("Status", RUNNING);
    expect(device.activations[0]!.features).toBe(VERSION_1);
  });
});

describe("virtio-mmio transport: the status machine", () => {
  it("activates the device at DRIVER_OK with the features the driver accepted", () => {
    const { rd, device, queues, bringUp } = rig();
    bringUp(queues, VERSION_1 | featureBit(VIRTIO_RING_F_EVENT_IDX));
    expect(rd("Status")).toBe(RUNNING);
    expect(device.activations).toHaveLength(1);
    const ctx = device.activations[0]!;
    expect(ctx.features).toBe(VERSION_1 | featureBit(VIRTIO_RING_F_EVENT_IDX));
    expect(ctx.queues.map((q) => q.ready)).toEqual([true, true]);
    expect(ctx.queues[0]!.eventIdx).toBe(true);
  });

  it("ignores DRIVER_OK written before FEATURES_OK, and logs it once", () => {
    const { wr, rd, device, log } = rig();
    wr("Status", ACK);
    wr("Status", ACK | DRIVER | DRIVER_OK);
    wr("Status", ACK | DRIVER | DRIVER_OK);
    expect(rd("Status")).toBe(ACK);
    expect(device.activations).toHaveLength(0);
    expect(log.filter((l) => /invalid status transition/.test(l))).toHaveLength(1);
  });

  it("ignores a driver that clears bits without resetting", () => {
    const { wr, rd, queues, bringUp } = rig();
    bringUp(queues, VERSION_1);
    wr("Status", ACK | DRIVER);
    expect(rd("Status")).toBe(RUNNING);
  });

  it("lets the driver add FAILED at any point", () => {
    const { wr, rd } = rig();
    wr("Status", ACK);
    wr("Status", ACK | DRIVER);
    wr("Status", ACK | DRIVER | FAILED);
    expect(rd("Status")).toBe(ACK | DRIVER | FAILED);
  });

  it("resets everything when the driver writes 0: status, queues, interrupt status, the model", () => {
    const { wr, rd, device, queues, bringUp, transport } = rig();
    bringUp(queues, VERSION_1);
    wr("QueueNotify", 0);
    wr("Status", 0);
    expect(rd("Status")).toBe(0);
    expect(device.resets).toBe(1);
    wr("QueueSel", 0);
    expect(rd("QueueReady")).toBe(0);
    expect(transport.queues[0]!.size).toBe(16);
    expect(rd("InterruptStatus")).toBe(0);
    // And it can be brought up again.
    bringUp(queues, VERSION_1);
    expect(device.activations).toHaveLength(2);
  });

  it("sets DEVICE_NEEDS_RESET and raises a configuration interrupt when activation fails", () => {
    const { rd, device, queues, bringUp, edges } = rig();
    device.failActivation = true;
    bringUp(queues, VERSION_1);
    expect(rd("Status")).toBe(RUNNING | NEEDS_RESET);
    expect(rd("InterruptStatus")).toBe(2);
    expect(edges()).toBe(1);
  });
});

describe("virtio-mmio transport: queue configuration", () => {
  it("shows QueueNumMax per queue, and 0 for a queue the device does not have", () => {
    const { wr, rd } = rig();
    wr("QueueSel", 1);
    expect(rd("QueueNumMax")).toBe(8);
    wr("QueueSel", 2);
    expect(rd("QueueNumMax")).toBe(0);
  });

  it("ignores queue writes before FEATURES_OK", () => {
    const { wr, rd, transport } = rig();
    wr("Status", ACK);
    wr("Status", ACK | DRIVER);
    wr("QueueSel", 0);
    wr("QueueNum", 4);
    wr("QueueDescLow", RAM_BASE);
    expect(transport.queues[0]!.size).toBe(16);
    expect(rd("QueueDescLow")).toBe(0);
  });

  it("ignores queue writes after DRIVER_OK", () => {
    const { wr, rd, queues, bringUp, transport } = rig();
    bringUp(queues, VERSION_1);
    wr("QueueSel", 0);
    wr("QueueNum", 4);
    wr("QueueDescLow", RAM_BASE + 0x7_0000);
    wr("QueueReady", 0);
    expect(transport.queues[0]!.size).toBe(16);
    expect(rd("QueueDescLow")).toBe(queues[0]!.descTable % 2 ** 32);
    expect(rd("QueueReady")).toBe(1);
  });

  it("reads back the 64-bit ring addresses the driver wrote", () => {
    const { wr, rd } = rig();
    wr("Status", ACK);
    wr("Status", ACK | DRIVER);
    wr("DriverFeaturesSel", 1);
    wr("DriverFeatures", 1);
    wr("Status", ACK | DRIVER | FEATURES_OK);
    wr("QueueDeviceLow", 0x1234_5000);
    wr("QueueDeviceHigh", 0x12);
    expect([rd("QueueDeviceLow"), rd("QueueDeviceHigh")]).toEqual([0x1234_5000, 0x12]);
  });

  it("marks the device NEEDS_RESET when the driver readies a misaligned ring, leaving the queue not ready", () => {
    const { wr, rd, queues, bringUp, log } = rig();
    const bad = new DriverQueue(queues[0]!.mem, 16, RAM_BASE + 0x1_0008);
    bringUp([bad, queues[1]!], VERSION_1);
    expect(rd("Status") & NEEDS_RESET).toBe(NEEDS_RESET);
    wr("QueueSel", 0);
    expect(rd("QueueReady")).toBe(0);
    expect(log.join("\n")).toMatch(/RingMisaligned|not 16-byte aligned/);
  });

  it("takes a driver clearing QueueReady after a reset (Linux's del_vq) silently", () => {
    const { wr, rd, queues, bringUp, log } = rig();
    bringUp(queues, VERSION_1);
    wr("Status", 0);
    wr("QueueSel", 0);
    wr("QueueReady", 0);
    expect(rd("QueueReady")).toBe(0);
    expect(log).toEqual([]);
  });

  it("ignores QueueNotify for a queue the driver did not set up", () => {
    const { wr, device, queues, bringUp } = rig();
    bringUp([queues[0]!], VERSION_1);
    wr("QueueNotify", 1);
    wr("QueueNotify", 7);
    wr("QueueNotify", 0);
    expect(device.notified).toEqual([0]);
  });
});

describe("virtio-mmio transport: interrupts", () => {
  it("sets InterruptStatus bit 0 and pulses the SPI for used buffers; InterruptACK clears it", () => {
    const { wr, rd, queues, bringUp, device, levels } = rig();
    bringUp(queues, VERSION_1);
    device.activations[0]!.interrupt.usedBuffer(0);
    expect(rd("InterruptStatus")).toBe(1);
    expect(levels).toEqual([true, false]); // an edge: the GIC latches it
    device.activations[0]!.interrupt.configChanged();
    expect(rd("InterruptStatus")).toBe(3);
    wr("InterruptACK", 1);
    expect(rd("InterruptStatus")).toBe(2);
    wr("InterruptACK", 2);
    expect(rd("InterruptStatus")).toBe(0);
  });
});

describe("virtio-mmio transport: guest errors", () => {
  it("marks the device NEEDS_RESET when a descriptor points outside RAM, and stops serving it", () => {
    const device = new VirtioRng();
    const r = mmioRig(device);
    const q = new DriverQueue(r.mem, 16);
    r.bringUp([q], VERSION_1);
    q.add([{ gpa: 0x4000_0000, lengthBytes: 64, writable: true }]);
    r.wr("QueueNotify", 0);
    expect(r.rd("Status")).toBe(RUNNING | NEEDS_RESET);
    expect(r.rd("InterruptStatus")).toBe(2); // a configuration change interrupt
    expect(r.log.join("\n")).toMatch(/AddressOutOfRange|not inside guest RAM/);
    // Later buffers are not served until the driver resets the device.
    q.add([{ gpa: BUF, lengthBytes: 64, writable: true }]);
    r.wr("QueueNotify", 0);
    expect(q.usedIdx).toBe(0);
    // After a reset and a fresh set-up, it works again.
    const q2 = new DriverQueue(r.mem, 16, RAM_BASE + 0x4_0000, RAM_BASE + 0x5_0000, RAM_BASE + 0x6_0000);
    r.bringUp([q2], VERSION_1);
    q2.add([{ gpa: BUF, lengthBytes: 64, writable: true }]);
    r.wr("QueueNotify", 0);
    expect(r.rd("Status")).toBe(RUNNING);
    expect(q2.takeUsed()).toEqual([{ id: 0, len: 64 }]);
  });

  it("lets a host bug (not a GuestError) through instead of blaming the guest", () => {
    const { wr, queues, bringUp, device } = rig();
    bringUp(queues, VERSION_1);
    device.failNotify = new RangeError("our bug") as unknown as GuestError;
    expect(() => wr("QueueNotify", 0)).toThrow(RangeError);
  });
});

describe("virtio-mmio transport: access widths and config space", () => {
  it("ignores register accesses that are not 32 bits wide", () => {
    const { cpu, rd } = rig();
    expect(cpu.read8(MMIO_BASE)).toBe(0);
    expect(cpu.read16(MMIO_BASE)).toBe(0);
    cpu.write8(MMIO_BASE + 0x70, ACK);
    expect(rd("Status")).toBe(0);
  });

  it("reads config space at 0x100 with 1, 2, 4 and 8-byte accesses inside its size", () => {
    const { cpu } = rig();
    const cfg = MMIO_BASE + 0x100;
    expect(cpu.read8(cfg + 1)).toBe(0x11);
    expect(cpu.read16(cfg + 2)).toBe(0x1312);
    expect(cpu.read32(cfg + 4)).toBe(0x17161514);
    expect(cpu.read64(cfg + 4)).toBe(0x1b1a1918_17161514n);
    // Past the end of the 12 bytes: ignored (reads 0).
    expect(cpu.read64(cfg + 8)).toBe(0n);
    expect(cpu.read8(cfg + 12)).toBe(0);
  });

  it("names its registers for tracers", () => {
    expect(virtioMmioRegisterName(0x70)).toBe("Status");
    expect(virtioMmioRegisterName(0x50)).toBe("QueueNotify");
    expect(virtioMmioRegisterName(0x108)).toBe("Config+0x8");
    expect(virtioMmioRegisterName(0x3)).toBeUndefined();
  });

  it("describes itself in the device tree as kvmtool does", () => {
    const { transport } = rig();
    const root = new FdtNode("");
    const node = transport.fdtNode(root);
    expect(node.name).toBe(`virtio@${MMIO_BASE.toString(16)}`);
    expect([...node.props.keys()]).toEqual(["compatible", "reg", "dma-coherent", "interrupts"]);
    expect(node.getCells("interrupts")).toEqual([0, INTID - 32, 1]);
    expect(node.getCells("reg")).toEqual([0, MMIO_BASE, 0, 0x200]);
  });
});
