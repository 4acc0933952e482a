// The machine's device table (src/kvm/machine-devices.ts): what numbers the devices get from
// their order, and that a VM whose third device fails to open leaves nothing open.

import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/cli/config.ts";
import { FileError } from "../../src/errors.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { GuestMemory } from "../../src/kvm/guest-memory.ts";
import { closeDevices, createDevices } from "../../src/kvm/device-registry.ts";
import { MACHINE_DEVICES, machineResources, onVirtioTransport, type IrqchipResources } from "../../src/kvm/machine-devices.ts";
import { Vm } from "../../src/kvm/vm.ts";
import { Serial8250 } from "../../hw/serial8250.ts";
import { VirtioMmioTransport } from "../../virtio/mmio.ts";
import { VirtioPciTransport } from "../../virtio/pci.ts";
import { VirtioRng } from "../../virtio/rng.ts";
import { guestPath } from "../support/run-guest.ts";
import { imageFolder, openFdCount as openFds } from "../support/host-files.ts";

const { dir, image } = imageFolder("lkvm-machine-");

/** The devices of the table for these `lkvm run` options (with -k hello), and the PCI host. */
function machine(options: Record<string, unknown>, irqchip?: IrqchipResources) {
  const cfg = validateConfig({ kernel: guestPath("hello"), ...options });
  const memory = new GuestMemory({ bytes: new Uint8Array(4096), ramBase: cfg.ramBase, onWrite: () => {} });
  const resources = machineResources(() => {}, irqchip);
  const ctx = { cfg, bus: new TrapBus(), irq: { setLevel() {} }, memory, log: () => {}, ...resources };
  const devices = createDevices(MACHINE_DEVICES, ctx);
  return { devices, pci: resources.pci, ctx };
}

describe("the machine's device table", () => {
  it("creates the PCI host first (devBase), gives the UARTs SPIs 32-35, then each virtio-mmio device the next SPI and 0x200 window (rng, the implicit NIC, blk)", () => {
    const { devices } = machine({ rng: true, disk: [image("a.img", 1 << 20), image("b.img", 1 << 20)], "virtio-transport": "mmio" });
    try {
      const uarts = devices.filter((d) => d instanceof Serial8250);
      expect(uarts.map((u) => [u.base, u.intid])).toEqual([[0x100_0000, 32], [0x100_1000, 33], [0x100_2000, 34], [0x100_3000, 35]]);
      const virtio = devices.filter((d) => d instanceof VirtioMmioTransport);
      expect(virtio.map((t) => [t.device.name, t.base, t.intid])).toEqual([
        ["virtio-rng", 0x300_0000, 36],
        ["virtio-net", 0x300_0200, 37],
        ["virtio-blk", 0x300_0400, 38],
        ["virtio-blk", 0x300_0600, 39],
      ]);
      expect(devices.map((d) => d.name.split("@")[0])).toEqual(["pci-host", "serial8250", "serial8250", "serial8250", "serial8250", "rtc", "virtio-rng", "virtio-net", "virtio-blk", "virtio-blk"]);
    } finally {
      closeDevices(devices);
    }
  });

  it("puts virtio devices on PCI by default, as kvmtool does: slots 0, 1, … in the same order, one SPI each for INTA", () => {
    for (const options of [{}, { "force-pci": true }, { "virtio-transport": "pci" }]) {
      const { devices, pci } = machine({ rng: true, disk: [image("f.img", 1 << 20)], ...options });
      try {
        expect(devices.some((d) => d instanceof VirtioMmioTransport)).toBe(false);
        const virtio = devices.filter((d) => d instanceof VirtioPciTransport);
        expect(virtio.map((t) => [t.device.name, t.intxIntid])).toEqual([["virtio-rng", 36], ["virtio-net", 37], ["virtio-blk", 38]]);
        expect([pci.device(0), pci.device(1), pci.device(2), pci.device(3)]).toEqual([virtio[0], virtio[1], virtio[2], undefined]);
      } finally {
        closeDevices(devices);
      }
    }
  });

  it("takes the legacy transports: pci-legacy (also kvmtool's deprecated --virtio-legacy) and mmio-legacy", () => {
    for (const options of [{ "virtio-transport": "pci-legacy" }, { "virtio-legacy": true }]) {
      const { devices } = machine({ rng: true, network: ["mode=none"], ...options });
      const virtio = devices.filter((d) => d instanceof VirtioPciTransport);
      expect(virtio.map((t) => [t.device.name, t.legacy, t.intxIntid])).toEqual([["virtio-rng", true, 36]]);
      closeDevices(devices);
    }
    const { devices } = machine({ rng: true, network: ["mode=none"], "virtio-transport": "mmio-legacy" });
    const virtio = devices.filter((d) => d instanceof VirtioMmioTransport);
    expect(virtio.map((t) => [t.device.name, t.version, t.base])).toEqual([["virtio-rng", 1, 0x300_0000]]);
    closeDevices(devices);
  });

  it("gives virtio-pci functions MSI-X when the irqchip has an MSI controller, and none without", () => {
    const msi = { phandle: 2, signalMsi() {} };
    const withMsi = machine({ rng: true, network: ["mode=none"] }, { reservedSpiCount: 0, msi });
    expect(withMsi.devices.filter((d) => d instanceof VirtioPciTransport).map((t) => t.msix?.vectorCount)).toEqual([33]);
    closeDevices(withMsi.devices);
    const without = machine({ rng: true, network: ["mode=none"] });
    expect(without.devices.filter((d) => d instanceof VirtioPciTransport).map((t) => t.msix)).toEqual([undefined]);
    closeDevices(without.devices);
  });

  it("lets a device choose its own transport over --virtio-transport (virtio-net's -n trans=)", () => {
    const { devices, ctx } = machine({ "virtio-transport": "pci" });
    const own = onVirtioTransport(ctx, () => new VirtioRng(), "mmio");
    const global = onVirtioTransport(ctx, () => new VirtioRng());
    expect([own instanceof VirtioMmioTransport, global instanceof VirtioPciTransport]).toEqual([true, true]);
    closeDevices([...devices, own, global]);
  });

  it("-n mode=none leaves the NIC out; -n trans=mmio puts the NIC on virtio-mmio while the rest stay on PCI", () => {
    const none = machine({ rng: true, network: ["mode=none"] });
    try {
      expect(none.devices.some((d) => d.name.startsWith("virtio-net"))).toBe(false);
    } finally {
      closeDevices(none.devices);
    }
    const { devices } = machine({ rng: true, network: ["mode=user,trans=mmio"] });
    try {
      const mmio = devices.filter((d) => d instanceof VirtioMmioTransport);
      expect(mmio.map((t) => [t.device.name, t.base, t.intid])).toEqual([["virtio-net", 0x300_0000, 37]]);
      expect(devices.filter((d) => d instanceof VirtioPciTransport).map((t) => t.device.name)).toEqual(["virtio-rng"]);
    } finally {
      closeDevices(devices);
    }
  });

  it("a VM whose second disk vanished before it opened leaves the flash and the first disk closed", () => {
    const cfg = validateConfig({ kernel: guestPath("hello"), mem: "64", flash: image("flash.img", 1 << 20), disk: [image("c.img", 1 << 20), image("d.img", 1 << 20)] });
    rmSync(cfg.disks[1]!.path);
    const before = openFds();
    expect(() => new Vm(cfg)).toThrow(FileError);
    expect(openFds()).toBe(before);
  });

  it("a VM whose kernel vanished after its devices opened their files closes them again", () => {
    const kernel = join(dir, "Image");
    writeFileSync(kernel, new Uint8Array(4096));
    const cfg = validateConfig({ kernel, mem: "64", flash: image("flash2.img", 1 << 20), disk: [image("e.img", 1 << 20)] });
    rmSync(kernel);
    const before = openFds();
    expect(() => new Vm(cfg)).toThrow(/cannot read kernel/);
    expect(openFds()).toBe(before);
  });
});
