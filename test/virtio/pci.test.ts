// The virtio-pci (modern) transport, driven as Linux's virtio_pci_modern driver drives it:
// found through its capabilities in PCI config space, brought up through the common
// configuration, interrupting on INTx (level) that an ISR read lowers.

import { describe, expect, it } from "vitest";
import { PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER, PCI_STATUS, PCI_STATUS_INTERRUPT } from "../../hw/pci/config-space.ts";
import { VIRTIO_STATUS_DEVICE_NEEDS_RESET } from "../../virtio/device.ts";
import { VirtioRng } from "../../virtio/rng.ts";
import { DriverQueue, RAM_BASE, VERSION_1 } from "../support/virtio-driver.ts";
import { pciRig } from "../support/virtio-pci-driver.ts";
import { RecordingDevice } from "../support/recording-device.ts";

function rig() {
  const device = new RecordingDevice();
  const r = pciRig(device);
  const queues = [new DriverQueue(r.mem, 16), new DriverQueue(r.mem, 8, RAM_BASE + 0x4_0000, RAM_BASE + 0x5_0000, RAM_BASE + 0x6_0000)];
  return { ...r, device, queues };
}

describe("virtio-pci transport: identification and capabilities", () => {
  it("is a modern virtio function: vendor 0x1af4, device 0x1040 + the virtio ID, revision 1, kvmtool's class", () => {
    const { cpu, cfg } = pciRig(new VirtioRng());
    expect(cpu.read32(cfg(0x00))).toBe(0x1044_1af4);
    expect(cpu.read32(cfg(0x08))).toBe(0xff00_0001); // class ff0000, revision 1
    expect(cpu.read32(cfg(0x2c))).toBe(0x0044_1af4); // subsystem: vendor 0x1af4, 0x40 + the virtio ID (kvmtool)
    expect(cpu.read8(cfg(0x3d))).toBe(1); // INTA
  });

  it("points the driver at common, notify, ISR and device structures in BAR1, and a PCI_CFG window", () => {
    const { caps } = rig();
    expect(caps.map(({ cfgType, bar, offset, lengthBytes }) => [cfgType, bar, offset, lengthBytes])).toEqual([
      [1, 1, 0x00, 56],
      [2, 1, 0x38, 4],
      [3, 1, 0x3c, 4],
      [4, 1, 0x40, 12],
      [5, 1, 0, 0],
    ]);
    expect(caps[1]!.multiplier).toBe(0); // one doorbell for all queues
  });

  it("offers the device's features plus VERSION_1 and reads back what the driver accepted", () => {
    const { features, acceptFeatures, wr, rd } = rig();
    expect(features() & VERSION_1).toBe(VERSION_1);
    wr("device_status", 1);
    wr("device_status", 3);
    acceptFeatures(VERSION_1 | 8n);
    wr("driver_feature_select", 1);
    expect(rd("driver_feature")).toBe(1);
    wr("driver_feature_select", 0);
    expect(rd("driver_feature")).toBe(8);
  });
});

describe("virtio-pci transport: queues and notifications", () => {
  it("brings the device up as virtio_pci_modern does, and a doorbell write notifies the queue it names", () => {
    const { device, queues, bringUp, notify, rd } = rig();
    bringUp(queues, VERSION_1);
    expect(device.activations).toHaveLength(1);
    expect(rd("num_queues")).toBe(2);
    notify(1);
    notify(0);
    expect(device.notified).toEqual([1, 0]);
  });

  it("serves no queue while the command register's Bus Master bit is clear (no DMA)", () => {
    const { device, queues, bringUp, notify, cpu, cfg, log } = rig();
    bringUp(queues, VERSION_1);
    cpu.write16(cfg(PCI_COMMAND), cpu.read16(cfg(PCI_COMMAND)) & ~PCI_COMMAND_MASTER);
    notify(0);
    expect(device.notified).toEqual([]);
    expect(log.join("\n")).toMatch(/Bus Master/);
    cpu.write16(cfg(PCI_COMMAND), cpu.read16(cfg(PCI_COMMAND)) | PCI_COMMAND_MASTER);
    notify(0);
    expect(device.notified).toEqual([0]);
  });

  it("shows queue_size as the maximum until the driver lowers it, and 0 for a queue selected past the last", () => {
    const { wr, rd, log } = rig();
    wr("queue_select", 1);
    expect(rd("queue_size")).toBe(8);
    wr("queue_select", 2);
    expect(rd("queue_select")).toBe(1);
    expect(log.join("\n")).toMatch(/queue_select 2/);
  });

  it("takes the 64-bit ring addresses as 32-bit halves or whole", () => {
    const { wr, rd, cpu, common } = rig();
    wr("device_status", 1);
    wr("device_status", 3);
    wr("driver_feature_select", 1);
    wr("driver_feature", 1);
    wr("device_status", 11);
    wr("queue_desc_lo", 0x8001_0000);
    wr("queue_desc_hi", 0x1);
    expect([rd("queue_desc_lo"), rd("queue_desc_hi")]).toEqual([0x8001_0000, 1]);
    cpu.write64(common + 0x28, 0x2_8002_0000n);
    expect(cpu.read64(common + 0x28)).toBe(0x2_8002_0000n);
  });

  it("ignores a common-configuration access of the wrong width", () => {
    const { cpu, common, rd } = rig();
    cpu.write32(common + 0x14, 1); // device_status is one byte
    expect(rd("device_status")).toBe(0);
  });

  it("reads the device configuration space at offset 0x40 of BAR1", () => {
    const { cpu, deviceConfig } = rig();
    expect(cpu.read32(deviceConfig())).toBe(0x1312_1110);
    expect(cpu.read8(deviceConfig() + 11)).toBe(0x1b);
  });
});

describe("virtio-pci transport: INTx", () => {
  it("raises INTA level-high for a used buffer; reading the ISR returns bit 0 and lowers the line", () => {
    const { device, queues, bringUp, readIsr, levels } = rig();
    bringUp(queues, VERSION_1);
    device.activations[0]!.interrupt.usedBuffer(0);
    device.activations[0]!.interrupt.usedBuffer(0);
    expect(levels).toEqual([true]);
    expect(readIsr()).toBe(1);
    expect(levels).toEqual([true, false]);
    expect(readIsr()).toBe(0);
  });

  it("reports a configuration change as ISR bit 1, also level", () => {
    const { device, queues, bringUp, readIsr, levels } = rig();
    bringUp(queues, VERSION_1);
    device.activations[0]!.interrupt.configChanged();
    expect(levels).toEqual([true]);
    expect(readIsr()).toBe(2);
    expect(levels).toEqual([true, false]);
  });

  it("keeps the line low while the command register's INTX_DISABLE is set, with the status showing it pending", () => {
    const { device, queues, bringUp, cpu, cfg, levels } = rig();
    bringUp(queues, VERSION_1);
    cpu.write16(cfg(PCI_COMMAND), cpu.read16(cfg(PCI_COMMAND)) | PCI_COMMAND_INTX_DISABLE);
    device.activations[0]!.interrupt.usedBuffer(0);
    expect(levels).toEqual([]);
    expect(cpu.read16(cfg(PCI_STATUS)) & PCI_STATUS_INTERRUPT).toBe(PCI_STATUS_INTERRUPT);
    cpu.write16(cfg(PCI_COMMAND), cpu.read16(cfg(PCI_COMMAND)) & ~PCI_COMMAND_INTX_DISABLE);
    expect(levels).toEqual([true]);
  });

  it("a reset (status 0) clears the ISR and lowers the line", () => {
    const { device, queues, bringUp, wr, readIsr, levels } = rig();
    bringUp(queues, VERSION_1);
    device.activations[0]!.interrupt.usedBuffer(0);
    wr("device_status", 0);
    expect(levels).toEqual([true, false]);
    expect(readIsr()).toBe(0);
    expect(device.resets).toBe(1);
  });

  it("marks the device NEEDS_RESET and interrupts when activation fails", () => {
    const { device, queues, bringUp, rd, readIsr } = rig();
    device.failActivation = true;
    bringUp(queues, VERSION_1);
    expect(rd("device_status") & VIRTIO_STATUS_DEVICE_NEEDS_RESET).toBe(VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    expect(readIsr()).toBe(2);
  });

  it("hints at CONFIG_VIRTIO_PCI at exit if the guest never set it up", () => {
    const { transport, queues, bringUp } = rig();
    expect(transport.exitHint()).toMatch(/CONFIG_FAKE \(and CONFIG_VIRTIO_PCI\)/);
    bringUp(queues, VERSION_1);
    expect(transport.exitHint()).toBeUndefined();
  });
});
