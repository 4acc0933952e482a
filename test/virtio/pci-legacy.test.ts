// The legacy virtio-pci transport (pci-legacy), driven as Linux's virtio_pci_legacy drives it:
// the 0.9.5 registers in BAR0's I/O ports, 32 feature bits, queues placed by page frame number
// in the legacy ring layout, INTx lowered by reading the ISR.

import { describe, expect, it } from "vitest";
import { PCI_CAPABILITY_LIST, PCI_STATUS, PCI_STATUS_CAP_LIST } from "../../hw/pci/config-space.ts";
import { PCI_CAP_ID_MSIX } from "../../hw/pci/msix.ts";
import { VIRTIO_STATUS_ACKNOWLEDGE as ACK, VIRTIO_STATUS_DRIVER as DRIVER, VIRTIO_STATUS_DRIVER_OK as DRIVER_OK, featureBit } from "../../virtio/device.ts";
import { VIRTIO_PCI_LEGACY } from "../../virtio/pci-legacy.ts";
import { RNG_QUEUE_SIZE, VirtioRng } from "../../virtio/rng.ts";
import { DriverQueue, RAM_BASE } from "../support/virtio-driver.ts";
import { legacyPciRig, msiRecorder } from "../support/virtio-pci-driver.ts";
import { RecordingDevice } from "../support/recording-device.ts";

const PAGE = 4096;
const PFN = RAM_BASE / PAGE + 0x10;
const BUF = RAM_BASE + 0x20_0000;

/** The rings of a `size`-entry queue at page `pfn` in the legacy layout (4 KiB alignment). */
function legacyQueue(mem: ReturnType<typeof legacyPciRig>["mem"], size: number, pfn: number): DriverQueue {
  const desc = pfn * PAGE;
  const avail = desc + 16 * size;
  const used = Math.ceil((avail + 6 + 2 * size) / PAGE) * PAGE;
  return new DriverQueue(mem, size, desc, avail, used);
}

describe("virtio-pci legacy: identification", () => {
  it("is a transitional function: kvmtool's device ID, revision 0, subsystem = the virtio ID", () => {
    const { cpu, cfg } = legacyPciRig(new VirtioRng());
    expect(cpu.read32(cfg(0x00))).toBe(0x1004_1af4); // kvmtool's PCI_DEVICE_ID_VIRTIO_RNG
    expect(cpu.read32(cfg(0x08))).toBe(0xff00_0000); // class ff0000, revision 0
    expect(cpu.read32(cfg(0x2c))).toBe(0x0004_1af4);
    expect(cpu.read8(cfg(0x3d))).toBe(1); // INTA
  });

  it("has no capabilities without an MSI controller, an I/O BAR0 and a memory BAR1 of 0x100 bytes", () => {
    const { cpu, cfg, io, bar } = legacyPciRig(new VirtioRng());
    expect(cpu.read16(cfg(PCI_STATUS)) & PCI_STATUS_CAP_LIST).toBe(0);
    expect(cpu.read8(cfg(PCI_CAPABILITY_LIST))).toBe(0);
    expect(io).toBe(0x6200); // kvmtool's first I/O block
    expect(bar(1)).toBe(0x5000_0000);
    expect(cpu.read32(cfg(0x18))).toBe(0); // no BAR2
  });

  it("offers 32 feature bits, without VIRTIO_F_VERSION_1", () => {
    const { rd } = legacyPciRig(new RecordingDevice());
    expect(rd("host_features")).toBe(Number(featureBit(29) | featureBit(3)));
  });

  it("with an MSI controller, puts MSI-X first in the capability list", () => {
    const { cpu, cfg } = legacyPciRig(new VirtioRng(), { msi: msiRecorder().msi });
    const at = cpu.read8(cfg(PCI_CAPABILITY_LIST));
    expect(cpu.read8(cfg(at))).toBe(PCI_CAP_ID_MSIX);
    expect(cpu.read8(cfg(at + 1))).toBe(0);
  });
});

describe("virtio-pci legacy: queues by page frame number", () => {
  it("serves an rng request through rings laid out from the PFN, and interrupts on INTx", () => {
    const device = new VirtioRng({ fill: (view) => view.fill(0x5a) });
    const { bringUp, wr, rd, mem, levels, transport } = legacyPciRig(device);
    const q = legacyQueue(mem, RNG_QUEUE_SIZE, PFN);
    expect(rd("queue_num")).toBe(RNG_QUEUE_SIZE);
    bringUp([PFN]);
    expect(rd("status")).toBe(ACK | DRIVER | DRIVER_OK);
    expect(transport.core.everActivated).toBe(true);
    const head = q.add([{ gpa: BUF, lengthBytes: 16, writable: true }]);
    wr("queue_notify", 0);
    expect(q.takeUsed()).toEqual([{ id: head, len: 16 }]);
    expect([...mem.read(BUF, 16)]).toEqual(Array(16).fill(0x5a));
    expect(levels).toEqual([true]);
    expect(rd("isr")).toBe(1);
    expect(levels).toEqual([true, false]);
  });

  it("reads the PFN back, and 0 once the device is reset", () => {
    const { bringUp, wr, rd } = legacyPciRig(new VirtioRng());
    bringUp([PFN]);
    wr("queue_sel", 0);
    expect(rd("queue_pfn")).toBe(PFN);
    wr("status", 0);
    expect(rd("queue_pfn")).toBe(0);
    wr("queue_pfn", 0); // Linux's del_vq after the reset: nothing to do
    expect(rd("queue_pfn")).toBe(0);
  });

  it("takes a queue only while DRIVER is set and DRIVER_OK is not", () => {
    const { wr, rd, log } = legacyPciRig(new VirtioRng());
    wr("status", ACK);
    wr("queue_pfn", PFN);
    expect(rd("queue_pfn")).toBe(0);
    expect(log.join("\n")).toMatch(/queue_pfn written while the status is 0x1/);
  });

  it("marks the device NEEDS_RESET for rings outside guest RAM", () => {
    const { wr, rd } = legacyPciRig(new VirtioRng());
    wr("status", ACK);
    wr("status", ACK | DRIVER);
    wr("queue_pfn", 0x100); // 1 MiB: not RAM
    expect(rd("status") & 64).toBe(64);
  });

  it("keeps the queue size read-only and refuses a queue past the last", () => {
    const { wr, rd, log } = legacyPciRig(new RecordingDevice());
    wr("queue_sel", 1);
    expect(rd("queue_num")).toBe(8);
    wr("queue_sel", 2);
    expect(rd("queue_sel")).toBe(1);
    expect(log.join("\n")).toMatch(/queue_sel 2/);
  });
});

describe("virtio-pci legacy: features, configuration, widths", () => {
  it("drops accepted feature bits that were not offered, and activates without VERSION_1", () => {
    const device = new RecordingDevice();
    const { bringUp, rd, log } = legacyPciRig(device);
    bringUp([PFN, PFN + 4], 0x8000_0008);
    expect(rd("guest_features")).toBe(8);
    expect(log.join("\n")).toMatch(/not offered; dropped/);
    expect(device.activations).toHaveLength(1);
    expect(device.activations[0]!.features).toBe(8n);
  });

  it("puts the device configuration at 0x14 while MSI-X is off", () => {
    const { cpu, io } = legacyPciRig(new RecordingDevice());
    expect(cpu.read32(io + 0x14)).toBe(0x1312_1110);
    expect(cpu.read8(io + 0x14 + 11)).toBe(0x1b);
  });

  it("ignores a register access of the wrong width", () => {
    const { cpu, io, rd } = legacyPciRig(new RecordingDevice());
    cpu.write32(io + VIRTIO_PCI_LEGACY.status, 1);
    expect(rd("status")).toBe(0);
  });

  it("has the same registers in BAR1 (memory)", () => {
    const { cpu, bar } = legacyPciRig(new VirtioRng());
    expect(cpu.read16(bar(1) + VIRTIO_PCI_LEGACY.queue_num)).toBe(RNG_QUEUE_SIZE);
  });
});
