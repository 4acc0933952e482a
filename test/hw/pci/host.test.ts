// The PCI host bridge through the trap bus, as a guest reaches it: ECAM and the legacy ports,
// BARs placed by the host, moved and switched by the guest, and the /pci node as dtc reads it.

import { describe, expect, it } from "vitest";
import { TrapBus } from "../../../src/iotrap/bus.ts";
import { FdtNode } from "../../../src/lib/fdt/tree.ts";
import { writeFdt } from "../../../src/lib/fdt/writer.ts";
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PciConfigSpace, type PciBarDeclaration } from "../../../hw/pci/config-space.ts";
import { PciHost, type PciDevice } from "../../../hw/pci/host.ts";
import { GuestCpu } from "../../support/guest-cpu.ts";
import { dtbToDts } from "../../support/dtc.ts";
import { hasTool } from "../../support/tools.ts";

const ECAM = 0x4000_0000;
const ecam = (slot: number, register: number, fn = 0, bus = 0) => ECAM + (bus << 20) + (slot << 15) + (fn << 12) + register;
const BAR = (i: number) => PCI_BASE_ADDRESS_0 + 4 * i;

/** A device whose BAR accesses are recorded, and whose every BAR reads 0x5a. */
class TestDevice implements PciDevice {
  readonly config: PciConfigSpace;
  readonly accesses: string[] = [];
  constructor(readonly name: string, bars: PciBarDeclaration[], readonly intxIntid?: number) {
    this.config = new PciConfigSpace({ vendorId: 0x1af4, deviceId: 0x1044, revisionId: 1, classCode: 0xff0000, subsystemVendorId: 0x1af4, subsystemId: 4, interruptPin: intxIntid === undefined ? 0 : 1 }, bars);
  }
  barAccess(bar: number, offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    this.accesses.push(`${isWrite ? "W" : "R"} BAR${bar}+0x${offset.toString(16)}/${lengthBytes}`);
    if (!isWrite) data.fill(0x5a, 0, lengthBytes);
  }
}

function machine(...devices: TestDevice[]) {
  const bus = new TrapBus();
  const log: string[] = [];
  const host = new PciHost((l) => log.push(l));
  host.register(bus);
  const slots = devices.map((d) => host.addDevice(d));
  return { bus, host, cpu: new GuestCpu(bus), slots, log };
}

describe("PCI configuration access", () => {
  it("ECAM: the device in slot 0 answers, empty slots, other functions and buses read all ones", () => {
    const { cpu } = machine(new TestDevice("dev0", []));
    expect(cpu.read32(ecam(0, 0))).toBe(0x1044_1af4);
    expect(cpu.read16(ecam(0, 2))).toBe(0x1044);
    expect(cpu.read8(ecam(0, 0x0b))).toBe(0xff); // class
    expect(cpu.read32(ecam(1, 0))).toBe(0xffff_ffff);
    expect(cpu.read32(ecam(0, 0, 1))).toBe(0xffff_ffff);
    expect(cpu.read32(ecam(0, 0, 0, 1))).toBe(0xffff_ffff);
  });

  it("ECAM: an access that crosses a 4-byte register is dropped", () => {
    const { cpu } = machine(new TestDevice("dev0", []));
    expect(cpu.read32(ecam(0, 2))).toBe(0xffff_ffff);
    cpu.write16(ecam(0, PCI_COMMAND + 3), 0xffff);
    expect(cpu.read16(ecam(0, PCI_COMMAND))).toBe(0x0003); // as addDevice left it
  });

  it("legacy mechanism #1: CONFIG_ADDRESS at 0xcf8 selects, 0xcfc-0xcff carry the data", () => {
    const { cpu } = machine(new TestDevice("dev0", []), new TestDevice("dev1", []));
    cpu.write32(0xcf8, 0x8000_0000 | (1 << 11) | 0x00);
    expect(cpu.read32(0xcf8)).toBe(0x8000_0800);
    expect(cpu.read32(0xcfc)).toBe(0x1044_1af4);
    expect(cpu.read16(0xcfe)).toBe(0x1044);
    cpu.write32(0xcf8, 0x8000_0000 | (1 << 11) | PCI_COMMAND);
    cpu.write16(0xcfc, 0x0000);
    expect(cpu.read16(ecam(1, PCI_COMMAND))).toBe(0);
    cpu.write32(0xcf8, 0x0000_0800); // enable bit clear
    expect(cpu.read32(0xcfc)).toBe(0xffff_ffff);
  });
});

describe("BARs", () => {
  it("are first placed as kvmtool places them: memory from 0x50000000, I/O from port 0x6200, decoding on", () => {
    const dev = new TestDevice("dev0", [{ kind: "io", sizeBytes: 0x100 }, { kind: "mmio", sizeBytes: 0x100 }, { kind: "mmio", sizeBytes: 0x1000 }]);
    const { cpu } = machine(dev);
    expect(cpu.read32(ecam(0, BAR(0)))).toBe(0x6201);
    expect(cpu.read32(ecam(0, BAR(1)))).toBe(0x5000_0000);
    expect(cpu.read32(ecam(0, BAR(2)))).toBe(0x5000_1000);
    expect(cpu.read8(0x6210)).toBe(0x5a);
    expect(cpu.read32(0x5000_1008)).toBe(0x5a5a_5a5a);
    expect(dev.accesses).toEqual(["R BAR0+0x10/1", "R BAR2+0x8/4"]);
  });

  it("follow the guest: sized with decoding off, moved, and decoding again only where they now are", () => {
    const dev = new TestDevice("dev0", [{ kind: "mmio", sizeBytes: 0x4000 }]);
    const { cpu } = machine(dev);
    cpu.write16(ecam(0, PCI_COMMAND), 0);
    expect(cpu.read32(0x5000_0000)).toBe(0); // unclaimed MMIO reads 0
    cpu.write32(ecam(0, BAR(0)), 0xffff_ffff);
    expect(cpu.read32(ecam(0, BAR(0)))).toBe(0xffff_c000);
    cpu.write32(ecam(0, BAR(0)), 0x5010_0000);
    cpu.write16(ecam(0, PCI_COMMAND), 0x0002);
    expect(cpu.read32(0x5010_0004)).toBe(0x5a5a_5a5a);
    expect(cpu.read32(0x5000_0004)).toBe(0);
    expect(dev.accesses).toEqual(["R BAR0+0x4/4"]);
  });

  it("honour the command register's I/O and memory enables separately", () => {
    const dev = new TestDevice("dev0", [{ kind: "io", sizeBytes: 0x100 }, { kind: "mmio", sizeBytes: 0x100 }]);
    const { cpu } = machine(dev);
    cpu.write16(ecam(0, PCI_COMMAND), 0x0002); // memory only
    expect(cpu.read8(0x6200)).toBe(0xff); // unclaimed port reads all ones
    expect(cpu.read8(0x5000_0000)).toBe(0x5a);
    cpu.write16(ecam(0, PCI_COMMAND), 0x0001); // I/O only
    expect(cpu.read8(0x6200)).toBe(0x5a);
    expect(cpu.read8(0x5000_0000)).toBe(0);
  });

  it("can swap places between two devices in one write each", () => {
    const a = new TestDevice("a", [{ kind: "mmio", sizeBytes: 0x1000 }]);
    const b = new TestDevice("b", [{ kind: "mmio", sizeBytes: 0x1000 }]);
    const { cpu, host, log } = machine(a, b);
    cpu.write32(ecam(0, BAR(0)), 0x5000_1000); // a onto b: a stops decoding until b moves
    expect(host.barMapping(a, 0)).toBeUndefined();
    cpu.write32(ecam(1, BAR(0)), 0x5000_0000);
    expect(host.barMapping(a, 0)).toEqual({ bus: "mmio", base: 0x5000_1000 });
    expect(host.barMapping(b, 0)).toEqual({ bus: "mmio", base: 0x5000_0000 });
    cpu.read8(0x5000_1000);
    cpu.read8(0x5000_0000);
    expect([...a.accesses, ...b.accesses]).toEqual(["R BAR0+0x0/1", "R BAR0+0x0/1"]);
    expect(log).toEqual(["a: BAR0 placed at 0x50001000 over another region; it does not decode there"]);
  });

  it("outside their window they do not decode", () => {
    const dev = new TestDevice("dev0", [{ kind: "mmio", sizeBytes: 0x1000 }]);
    const { cpu, host } = machine(dev);
    cpu.write32(ecam(0, BAR(0)), 0x3000_0000); // below the MMIO window (virtio-mmio's area)
    expect(host.barMapping(dev, 0)).toBeUndefined();
  });
});

describe.skipIf(!hasTool("dtc"))("the /pci node, as dtc reads it", () => {
  const dts = (host: PciHost) => {
    const root = new FdtNode("");
    root.prop("#address-cells", [2]).prop("#size-cells", [2]);
    root.child("intc").prop("#interrupt-cells", [3]).prop("interrupt-controller", null).prop("#address-cells", [2]).prop("phandle", [1]);
    host.hostBridgeNode(root);
    return dtbToDts(writeFdt(root)).dts;
  };

  it("is kvmtool's pci-host-ecam-generic with its I/O and 32-bit memory ranges; no entries, no mask", () => {
    const { host } = machine();
    expect(dts(host)).toContain(
      [
        "\tpci {",
        '\t\tdevice_type = "pci";',
        "\t\t#address-cells = <0x03>;",
        "\t\t#size-cells = <0x02>;",
        "\t\t#interrupt-cells = <0x01>;",
        '\t\tcompatible = "pci-host-ecam-generic";',
        "\t\tdma-coherent;",
        "\t\tbus-range = <0x00 0x00>;",
        "\t\treg = <0x00 0x40000000 0x00 0x10000000>;",
        "\t\tranges = <0x1000000 0x00 0x00 0x00 0x00 0x00 0x10000 0x2000000 0x00 0x50000000 0x00 0x50000000 0x00 0x30000000>;",
        "\t\tinterrupt-map;",
        "\t};",
      ].join("\n"),
    );
  });

  it("maps each INTx device's INTA to its SPI, level-high, and masks device and pin", () => {
    const { host } = machine(new TestDevice("a", [], 36), new TestDevice("no-intx", []), new TestDevice("c", [], 38));
    const text = dts(host);
    expect(text).toContain("interrupt-map = <0x00 0x00 0x00 0x01 0x01 0x00 0x00 0x00 0x04 0x04 0x1000 0x00 0x00 0x01 0x01 0x00 0x00 0x00 0x06 0x04>;");
    expect(text).toContain("interrupt-map-mask = <0xf800 0x00 0x00 0x07>;");
  });
});
