// virtio-pci with MSI-X (the PCI host has an MSI controller, here a recording one), driven as
// Linux's vp_find_vqs_msix drives it: MSI-X enabled in the capability, table entries
// programmed through BAR2, config_msix_vector and each queue_msix_vector set, then used buffers
// and configuration changes arrive as messages instead of INTx.

import { describe, expect, it } from "vitest";
import { PCI_CAPABILITY_LIST, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE } from "../../hw/pci/config-space.ts";
import { PCI_CAP_ID_MSIX, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL } from "../../hw/pci/msix.ts";
import { VIRTIO_PCI_MSIX_BAR } from "../../virtio/pci.ts";
import { VIRTIO_MSI_NO_VECTOR } from "../../virtio/pci-registers.ts";
import { DriverQueue, RAM_BASE, VERSION_1 } from "../support/virtio-driver.ts";
import { legacyPciRig, msiRecorder, pciRig } from "../support/virtio-pci-driver.ts";
import { RecordingDevice } from "../support/recording-device.ts";

const DOORBELL = 0x8090_0040;

type Rig = ReturnType<typeof pciRig>;

/** Finds the MSI-X capability and programs vector `v` to send data 0x20 + v, unmasked. */
function msixDriver(r: Pick<Rig, "cpu" | "cfg" | "bar">) {
  const { cpu, cfg, bar } = r;
  let cap = 0;
  for (let at = cpu.read8(cfg(PCI_CAPABILITY_LIST)); at !== 0; at = cpu.read8(cfg(at + 1))) if (cpu.read8(cfg(at)) === PCI_CAP_ID_MSIX) cap = at;
  const table = bar(VIRTIO_PCI_MSIX_BAR);
  const control = (bits: number) => cpu.write16(cfg(cap + 2), bits);
  const program = (v: number) => {
    cpu.write32(table + 16 * v, DOORBELL);
    cpu.write32(table + 16 * v + 4, 0);
    cpu.write32(table + 16 * v + 8, 0x20 + v);
    cpu.write32(table + 16 * v + 12, 0);
  };
  const mask = (v: number, masked: boolean) => cpu.write32(table + 16 * v + 12, masked ? 1 : 0);
  const pba = () => cpu.read32(table + 0x210);
  return { cap, table, control, program, mask, pba };
}

function rig(slotsBefore = 0) {
  const device = new RecordingDevice();
  const { msi, messages } = msiRecorder();
  const r = pciRig(device, undefined, { msi, slotsBefore });
  const queues = [new DriverQueue(r.mem, 16), new DriverQueue(r.mem, 8, RAM_BASE + 0x4_0000, RAM_BASE + 0x5_0000, RAM_BASE + 0x6_0000)];
  const m = msixDriver(r);
  /** vp_find_vqs_msix with a vector per queue: config on 0, queue i on i + 1. */
  const bringUpWithVectors = () => {
    m.control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    m.control(PCI_MSIX_FLAGS_ENABLE);
    for (let v = 0; v <= queues.length; v++) m.program(v);
    r.wr("device_status", 0);
    r.wr("device_status", 1);
    r.wr("device_status", 3);
    r.acceptFeatures(VERSION_1);
    r.wr("device_status", 11);
    r.wr("config_msix_vector", 0);
    queues.forEach((q, i) => {
      r.setupQueue(i, q);
      r.wr("queue_msix_vector", i + 1);
    });
    r.wr("device_status", 15);
  };
  return { ...r, ...m, device, queues, messages, bringUpWithVectors };
}

describe("virtio-pci with an MSI controller: the MSI-X capability and vectors", () => {
  it("has MSI-X first in the capability list, then the vendor capabilities, and a 1 KiB BAR2", () => {
    const { cpu, cfg, cap, caps, host, transport } = rig();
    expect(cpu.read8(cfg(PCI_CAPABILITY_LIST))).toBe(cap);
    expect(cpu.read8(cfg(cap + 1))).toBe(caps[0]!.at);
    expect(host.barMapping(transport, VIRTIO_PCI_MSIX_BAR)).toEqual({ bus: "mmio", base: 0x5000_0400 });
  });

  it("keeps a vector the table has and answers NO_VECTOR for one past it", () => {
    const { wr, rd } = rig();
    expect(rd("config_msix_vector")).toBe(VIRTIO_MSI_NO_VECTOR);
    wr("config_msix_vector", 32);
    expect(rd("config_msix_vector")).toBe(32);
    wr("config_msix_vector", 33);
    expect(rd("config_msix_vector")).toBe(VIRTIO_MSI_NO_VECTOR);
    wr("queue_select", 1);
    wr("queue_msix_vector", 5);
    wr("queue_select", 0);
    expect(rd("queue_msix_vector")).toBe(VIRTIO_MSI_NO_VECTOR);
    wr("queue_select", 1);
    expect(rd("queue_msix_vector")).toBe(5);
  });

  it("without an MSI controller has no MSI-X and its vectors read NO_VECTOR whatever is written", () => {
    const r = pciRig(new RecordingDevice());
    r.wr("config_msix_vector", 0);
    expect(r.rd("config_msix_vector")).toBe(VIRTIO_MSI_NO_VECTOR);
    expect(r.cpu.read32(r.cfg(0x18))).toBe(0); // no BAR2
  });

  it("returns every vector to NO_VECTOR on reset", () => {
    const { bringUpWithVectors, wr, rd } = rig();
    bringUpWithVectors();
    wr("device_status", 0);
    expect(rd("config_msix_vector")).toBe(VIRTIO_MSI_NO_VECTOR);
    wr("queue_select", 1);
    expect(rd("queue_msix_vector")).toBe(VIRTIO_MSI_NO_VECTOR);
  });
});

describe("virtio-pci with an MSI controller: delivery", () => {
  it("sends a used buffer as its queue's message and a configuration change as the config vector's, not INTx", () => {
    const { bringUpWithVectors, device, messages, levels, readIsr } = rig();
    bringUpWithVectors();
    device.activations[0]!.interrupt.usedBuffer(1);
    device.activations[0]!.interrupt.configChanged();
    device.activations[0]!.interrupt.usedBuffer(0);
    expect(messages).toEqual([
      { address: BigInt(DOORBELL), data: 0x22, requesterId: 0 },
      { address: BigInt(DOORBELL), data: 0x20, requesterId: 0 },
      { address: BigInt(DOORBELL), data: 0x21, requesterId: 0 },
    ]);
    expect(levels).toEqual([]);
    expect(readIsr()).toBe(0);
  });

  it("carries the requester ID of its slot (slot << 3)", () => {
    const { bringUpWithVectors, device, messages, slot } = rig(2);
    expect(slot).toBe(2);
    bringUpWithVectors();
    device.activations[0]!.interrupt.usedBuffer(0);
    expect(messages[0]!.requesterId).toBe(0x10);
  });

  it("sets the pending bit for a masked vector and sends the message when the driver unmasks it", () => {
    const { bringUpWithVectors, device, messages, mask, pba } = rig();
    bringUpWithVectors();
    mask(2, true);
    device.activations[0]!.interrupt.usedBuffer(1);
    expect(messages).toEqual([]);
    expect(pba()).toBe(1 << 2);
    mask(2, false);
    expect(messages.map((m) => m.data)).toEqual([0x22]);
    expect(pba()).toBe(0);
  });

  it("sends nothing for a queue whose vector is NO_VECTOR while MSI-X is on (no INTx either)", () => {
    const { bringUpWithVectors, device, messages, levels, wr } = rig();
    bringUpWithVectors();
    wr("queue_select", 0);
    wr("queue_msix_vector", VIRTIO_MSI_NO_VECTOR);
    device.activations[0]!.interrupt.usedBuffer(0);
    expect(messages).toEqual([]);
    expect(levels).toEqual([]);
  });

  it("falls back to INTx when the driver turns MSI-X off", () => {
    const { bringUpWithVectors, device, messages, levels, control, readIsr } = rig();
    bringUpWithVectors();
    control(0);
    device.activations[0]!.interrupt.usedBuffer(0);
    expect(messages).toEqual([]);
    expect(levels).toEqual([true]);
    expect(readIsr()).toBe(1);
    expect(levels).toEqual([true, false]);
  });

  it("asserts INTx for an ISR latched under MSI-X (a NO_VECTOR queue) once MSI-X is turned off", () => {
    const { bringUpWithVectors, device, levels, control, wr, cpu, cfg } = rig();
    bringUpWithVectors();
    wr("queue_select", 0);
    wr("queue_msix_vector", VIRTIO_MSI_NO_VECTOR);
    device.activations[0]!.interrupt.usedBuffer(0);
    expect(levels).toEqual([]);
    cpu.write16(cfg(PCI_COMMAND), cpu.read16(cfg(PCI_COMMAND)) & ~PCI_COMMAND_INTX_DISABLE);
    control(0);
    expect(levels).toEqual([true]);
  });
});

describe("legacy virtio-pci with MSI-X", () => {
  it("grows the vector registers at 0x14 and moves the device configuration to 0x18 once MSI-X is on", () => {
    const { msi, messages } = msiRecorder();
    const device = new RecordingDevice();
    const r = legacyPciRig(device, { msi });
    const m = msixDriver(r);
    expect(r.cpu.read32(r.io + 0x14)).toBe(0x1312_1110);
    m.control(PCI_MSIX_FLAGS_ENABLE);
    expect(r.cpu.read32(r.io + 0x18)).toBe(0x1312_1110);
    m.program(0);
    m.program(1);
    r.bringUp([RAM_BASE / 4096 + 0x10, RAM_BASE / 4096 + 0x20], undefined, { config: 0, queues: [1, 1] });
    expect(r.rd("config_vector")).toBe(0);
    device.activations[0]!.interrupt.usedBuffer(1);
    expect(messages.map((x) => x.data)).toEqual([0x21]);
    expect(r.levels).toEqual([]);
  });
});
