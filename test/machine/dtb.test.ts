// The device tree lkvm generates, end to end: `lkvm run --dump-dtb` for -c 2 -m 256 with an
// initrd, decompiled by dtc and checked against kvmtool's (docs/kvmtool.md §4.2, §5); and the
// same tree as a guest finds it in x0 (test/guests/fdt.c).

import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { expectPassed, guestPath, runGuest } from "../support/run-guest.ts";

const dir = mkdtempSync(join(tmpdir(), "lkvm-dtb-"));
const initrdPath = join(dir, "initrd.img");
const initrd = Buffer.concat([Buffer.from("lkvm-initrd-test-0123456789"), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 13 + 5) & 0xff))]);
writeFileSync(initrdPath, initrd);
const BOOTARGS = "console=ttyS0 lkvm=dtb-test";
// docs/kvmtool.md §4.2: DTB at ALIGN_UP(RAM base + 256 MiB - 1 - (64 KiB + 2 MiB), 2 MiB);
// the initrd right below it at ALIGN_UP(dtb - (size + 4), 4), and initrd-end exclusive.
const DTB = 0x8fe0_0000;
const INITRD_START = ((DTB - (initrd.length + 4) + 3) & ~3) >>> 0;
const INITRD_END = INITRD_START + initrd.length;
const hex = (n: number) => `0x${n.toString(16)}`;

// -n mode=none: no NIC, so no PCI device (kvmtool's default NIC would be one).
describe("the device tree for -c 2 -m 256 with an initrd, dumped with --dump-dtb", () => {
  let dts = "";
  beforeAll(async () => {
    const file = join(dir, "lkvm.dtb");
    const s = GuestSession.start(["-k", guestPath("hello"), "-c", "2", "-m", "256", "-i", initrdPath, "--nodefaults", "-n", "mode=none", "-p", BOOTARGS, "--dump-dtb", file]);
    const exit = await s.exited(20_000);
    expect(exit.code, exit.output).toBe(0);
    dts = execFileSync("dtc", ["-q", "-I", "dtb", "-O", "dts", file], { encoding: "utf8" });
  });

  /** The body of a node, up to its closing brace (nodes here nest at most one level). */
  const node = (name: string): string => {
    const m = new RegExp(`\\n\\t*${name.replace(/[@.]/g, "\\$&")} \\{\\n([\\s\\S]*?)\\n\\t*\\};`).exec(dts);
    expect(m, `no node ${name} in\n${dts}`).not.toBeNull();
    return m![1]!;
  };

  it("has kvmtool's top-level nodes in kvmtool's order", () => {
    const top = [...dts.matchAll(/^\t([\w@,.-]+) \{$/gm)].map((m) => m[1]);
    expect(top).toEqual(["chosen", "memory", "cpus", "intc", "timer", "U6_16550A@1000000", "U6_16550A@1001000", "U6_16550A@1002000", "U6_16550A@1003000", "rtc", "pci", "psci", "aliases"]);
    expect(dts).toMatch(/\tinterrupt-parent = <0x01>;\n\tcompatible = "linux,dummy-virt";\n\t#address-cells = <0x02>;\n\t#size-cells = <0x02>;/);
  });

  it("/chosen: -p verbatim, the KASLR seed, stdout-path, and the initrd right below the DTB", () => {
    const chosen = node("chosen");
    expect(chosen).toContain(`bootargs = "${BOOTARGS}";`);
    expect(chosen).toContain("kaslr-seed = <0x00 0x00>;");
    expect(chosen).toContain('stdout-path = "serial0";');
    expect(chosen).toContain(`linux,initrd-start = <0x00 ${hex(INITRD_START)}>;`);
    expect(chosen).toContain(`linux,initrd-end = <0x00 ${hex(INITRD_END)}>;`);
  });

  it("/memory: 256 MiB at 0x80000000", () => {
    expect(node("memory")).toMatch(/device_type = "memory";\s*reg = <0x00 0x80000000 0x00 0x10000000>;/);
  });

  it("/cpus: cpu@0 and cpu@1, arm,arm-v8, enable-method psci (more than one vCPU)", () => {
    const cpus = dts.slice(dts.indexOf("\tcpus {"), dts.indexOf("\tintc {"));
    expect(cpus).toMatch(/#address-cells = <0x01>;\s*#size-cells = <0x00>;/);
    for (const n of [0, 1]) {
      expect(cpus).toMatch(new RegExp(`cpu@${n} \\{\\s*device_type = "cpu";\\s*compatible = "arm,arm-v8";\\s*enable-method = "psci";\\s*reg = <0x0${n}>;`));
    }
    expect(cpus).not.toContain("cpu@2");
  });

  it("/intc: GICv3, distributor at 0x3fff0000, two redistributors (0x40000) right below it", () => {
    const intc = node("intc");
    expect(intc).toContain('compatible = "arm,gic-v3";');
    expect(intc).toContain("#interrupt-cells = <0x03>;");
    expect(intc).toContain("interrupt-controller;");
    expect(intc).toContain("reg = <0x00 0x3fff0000 0x00 0x10000 0x00 0x3ffb0000 0x00 0x40000>;");
    expect(intc).toContain("phandle = <0x01>;");
    expect(intc).toContain("#address-cells = <0x02>;");
    expect(intc).toContain("#size-cells = <0x02>;");
    expect(intc).not.toContain("#redistributor-regions");
  });

  it("/timer: the four PPIs 13, 14, 11, 10, level-low, cpumask 0 for GICv3; always-on", () => {
    const timer = node("timer");
    expect(timer).toContain('compatible = "arm,armv8-timer\\0arm,armv7-timer";');
    expect(timer).toContain("interrupts = <0x01 0x0d 0x08 0x01 0x0e 0x08 0x01 0x0b 0x08 0x01 0x0a 0x08>;");
    expect(timer).toContain("always-on;");
    expect(timer).not.toContain("clock-frequency");
  });

  it("four U6_16550A UARTs on SPIs 0-3, 8 byte-wide registers, 1.8432 MHz; the RTC", () => {
    for (let n = 0; n < 4; n++) {
      const u = node(`U6_16550A@${(0x1000000 + n * 0x1000).toString(16)}`);
      expect(u).toMatch(new RegExp(`compatible = "ns16550a";\\s*reg = <0x00 ${hex(0x1000000 + n * 0x1000)} 0x00 0x08>;\\s*interrupts = <0x00 0x0${n} 0x04>;\\s*clock-frequency = <0x1c2000>;`));
      expect(u).not.toMatch(/reg-shift|reg-io-width/);
    }
    expect(node("rtc")).toMatch(/compatible = "motorola,mc146818";\s*reg = <0x00 0x1010000 0x00 0x02>;/);
    expect(node("rtc")).not.toContain("interrupts");
  });

  it("/psci: PSCI 0.2 over HVC with the SMC64 IDs; /aliases points serial0 at ttyS0", () => {
    expect(node("psci")).toMatch(/compatible = "arm,psci-0.2\\0arm,psci";\s*method = "hvc";\s*cpu_suspend = <0xc4000001>;\s*cpu_off = <0x84000002>;\s*cpu_on = <0xc4000003>;\s*migrate = <0xc4000005>;/);
    expect(node("aliases")).toContain('serial0 = "/U6_16550A@1000000";');
  });

  it("has no flash node without -F, and no memreserve entries", () => {
    expect(dts).not.toMatch(/flash|memreserve/);
  });

  // kvmtool always emits /pci (arm/pci.c), after the MMIO devices; with no PCI device it has
  // an empty interrupt-map and no mask.
  it("/pci: kvmtool's ECAM host bridge at 0x40000000, I/O at port 0, 32-bit memory from 0x50000000", () => {
    const pci = node("pci");
    expect(pci).toMatch(/device_type = "pci";\s*#address-cells = <0x03>;\s*#size-cells = <0x02>;\s*#interrupt-cells = <0x01>;\s*compatible = "pci-host-ecam-generic";\s*dma-coherent;\s*bus-range = <0x00 0x00>;\s*reg = <0x00 0x40000000 0x00 0x10000000>;/);
    expect(pci).toContain("ranges = <0x1000000 0x00 0x00 0x00 0x00 0x00 0x10000 0x2000000 0x00 0x50000000 0x00 0x50000000 0x00 0x30000000>;");
    expect(pci).toContain("interrupt-map;");
    expect(pci).not.toContain("interrupt-map-mask");
    expect(pci).not.toContain("msi-parent");
  });

  it("with --irqchip gicv3-its: /intc has an empty ranges and kvmtool's msic child, and /pci its msi-parent", async () => {
    const file = join(dir, "its.dtb");
    const s = GuestSession.start(["-k", guestPath("hello"), "-c", "2", "-m", "64", "--nodefaults", "--irqchip", "gicv3-its", "--dump-dtb", file]);
    const exit = await s.exited(20_000);
    expect(exit.code, exit.output).toBe(0);
    const withIts = execFileSync("dtc", ["-q", "-I", "dtb", "-O", "dts", file], { encoding: "utf8" });
    // The ITS is the 128 KiB below the two redistributors (0x3ffb0000).
    expect(withIts).toMatch(
      /\tintc \{[^}]*#size-cells = <0x02>;\n\t\tranges;\n\n\t\tmsic \{\n\t\t\tcompatible = "arm,gic-v3-its";\n\t\t\tmsi-controller;\n\t\t\tphandle = <0x02>;\n\t\t\treg = <0x00 0x3ff90000 0x00 0x20000>;\n\t\t\};/,
    );
    expect(/\n\tpci \{\n([\s\S]*?)\n\t\};/.exec(withIts)![1]).toContain("msi-parent = <0x02>;");
    expect(dts).not.toContain("msi-parent"); // the plain gicv3 has no MSI controller
  });

  it("describes the flash with -F: cfi-flash, bank-width 4, size rounded down to a power of two", async () => {
    const flash = join(dir, "flash.img");
    writeFileSync(flash, Buffer.alloc(3 << 20, 0xff)); // 3 MiB -> 2 MiB
    const file = join(dir, "flash.dtb");
    const s = GuestSession.start(["-k", guestPath("hello"), "-c", "1", "-m", "64", "--nodefaults", "-F", flash, "--dump-dtb", file]);
    const exit = await s.exited(20_000);
    expect(exit.code, exit.output).toBe(0);
    const withFlash = execFileSync("dtc", ["-q", "-I", "dtb", "-O", "dts", file], { encoding: "utf8" });
    const m = /\n\tflash \{\n([\s\S]*?)\n\t\};/.exec(withFlash);
    expect(m, withFlash).not.toBeNull();
    expect(m![1]).toContain("bank-width = <0x04>;");
    expect(m![1]).toContain('compatible = "cfi-flash";');
    expect(m![1]).toContain('label = "System-firmware";');
    expect(m![1]).toContain("reg = <0x00 0x2000000 0x00 0x200000>;");
    // The flash is the first MMIO device, before the UARTs.
    expect(withFlash.indexOf("\tflash {")).toBeLessThan(withFlash.indexOf("\tU6_16550A@1000000 {"));
  });

  it("describes the PMU with --pmu: /pmu after /timer, arm,armv8-pmuv3 on PPI 7 (INTID 23), level-high", async () => {
    const file = join(dir, "pmu.dtb");
    const s = GuestSession.start(["-k", guestPath("hello"), "-c", "2", "-m", "64", "--nodefaults", "--pmu", "--dump-dtb", file]);
    const exit = await s.exited(20_000);
    expect(exit.code, exit.output).toBe(0);
    const withPmu = execFileSync("dtc", ["-q", "-I", "dtb", "-O", "dts", file], { encoding: "utf8" });
    expect(withPmu).toContain('\n\tpmu {\n\t\tcompatible = "arm,armv8-pmuv3";\n\t\tinterrupts = <0x01 0x07 0x04>;\n\t};');
    const top = [...withPmu.matchAll(/^\t([\w@,.-]+) \{$/gm)].map((m) => m[1]);
    expect(top.slice(0, 6)).toEqual(["chosen", "memory", "cpus", "intc", "timer", "pmu"]);
  });
});

describe("virtio devices in the device tree, by transport", () => {
  /** The DT for an rng and a disk on `transport` (undefined: lkvm's default); no NIC. */
  const dump = async (transport?: string): Promise<string> => {
    const disk = join(dir, "disk.img");
    writeFileSync(disk, Buffer.alloc(1 << 20));
    const file = join(dir, `${transport ?? "default"}.dtb`);
    const choice = transport === undefined ? [] : ["--virtio-transport", transport];
    const s = GuestSession.start(["-k", guestPath("hello"), "-c", "1", "-m", "64", "--nodefaults", "-n", "mode=none", "--rng", "-d", disk, ...choice, "--dump-dtb", file]);
    const exit = await s.exited(20_000);
    expect(exit.code, exit.output).toBe(0);
    return execFileSync("dtc", ["-q", "-I", "dtb", "-O", "dts", file], { encoding: "utf8" });
  };

  it("pci: no virtio@ nodes; /pci maps slot 0 (rng) and slot 1 (blk) INTA to SPIs 4 and 5, level-high", async () => {
    const dts = await dump("pci");
    expect(dts).not.toContain("virtio@");
    expect(dts).toContain("interrupt-map = <0x00 0x00 0x00 0x01 0x01 0x00 0x00 0x00 0x04 0x04 0x800 0x00 0x00 0x01 0x01 0x00 0x00 0x00 0x05 0x04>;");
    expect(dts).toContain("interrupt-map-mask = <0xf800 0x00 0x00 0x07>;");
  });

  it("with no --virtio-transport the devices are on PCI, kvmtool's default", async () => {
    expect(await dump()).toBe(await dump("pci"));
  });

  // kvmtool writes the same nodes for a legacy transport as for its modern twin.
  it("pci-legacy and mmio-legacy: the same tree as pci and mmio", async () => {
    expect(await dump("pci-legacy")).toBe(await dump("pci"));
    expect(await dump("mmio-legacy")).toBe(await dump("mmio"));
  });

  it("mmio: virtio@3000000 (rng) and virtio@3000200 (blk) on SPIs 4 and 5, edge-rising; /pci has no entries", async () => {
    const dts = await dump("mmio");
    expect(dts).toMatch(/virtio@3000000 \{\s*compatible = "virtio,mmio";\s*reg = <0x00 0x3000000 0x00 0x200>;\s*dma-coherent;\s*interrupts = <0x00 0x04 0x01>;/);
    expect(dts).toMatch(/virtio@3000200 \{[^}]*interrupts = <0x00 0x05 0x01>;/);
    expect(dts).toMatch(/interrupt-map;/);
  });
});

describe("the device tree with a GICv2 (--irqchip gicv2, gicv2m), as kvmtool's arm/gic.c writes it", () => {
  const dump = async (irqchip: string, cpus: number): Promise<string> => {
    const disk = join(dir, "disk.img");
    writeFileSync(disk, Buffer.alloc(1 << 20));
    const file = join(dir, `${irqchip}-${cpus}.dtb`);
    const s = GuestSession.start(["-k", guestPath("hello"), "-c", String(cpus), "-m", "64", "--nodefaults", "-n", "mode=none", "-d", disk, "--irqchip", irqchip, "--dump-dtb", file]);
    const exit = await s.exited(20_000);
    expect(exit.code, exit.output).toBe(0);
    return execFileSync("dtc", ["-q", "-I", "dtb", "-O", "dts", file], { encoding: "utf8" });
  };
  const GICV2_REG = "reg = <0x00 0x3fff0000 0x00 0x10000 0x00 0x3ffd0000 0x00 0x20000>;";

  it("gicv2, 3 vCPUs: arm,cortex-a15-gic with the distributor and the CPU interface; timer PPIs with cpumask 0x7", async () => {
    const dts = await dump("gicv2", 3);
    expect(dts).toMatch(new RegExp(`intc \\{\\s*compatible = "arm,cortex-a15-gic";\\s*#interrupt-cells = <0x03>;\\s*interrupt-controller;\\s*${GICV2_REG.replace(/[()<>]/g, "\\$&")}\\s*phandle = <0x01>;\\s*#address-cells = <0x02>;\\s*#size-cells = <0x02>;\\s*\\};`));
    // ((1 << 3) - 1) << 8 | IRQ_TYPE_LEVEL_LOW
    expect(dts).toContain("interrupts = <0x01 0x0d 0x708 0x01 0x0e 0x708 0x01 0x0b 0x708 0x01 0x0a 0x708>;");
    expect(dts).not.toContain("msic");
    expect(dts).not.toContain("msi-parent");
    expect(dts).toMatch(/U6_16550A@1000000 \{[^}]*interrupts = <0x00 0x00 0x04>;/);
  });

  it("gicv2m, 1 vCPU: an empty ranges and the msic child at 0x3ffcf000; /pci's msi-parent; devices 64 SPIs up", async () => {
    const dts = await dump("gicv2m", 1);
    expect(dts).toContain(GICV2_REG);
    expect(dts).toMatch(/#size-cells = <0x02>;\s*ranges;\s*msic \{\s*compatible = "arm,gic-v2m-frame";\s*msi-controller;\s*phandle = <0x02>;\s*reg = <0x00 0x3ffcf000 0x00 0x1000>;\s*\};/);
    expect(dts).toContain("interrupts = <0x01 0x0d 0x108 0x01 0x0e 0x108 0x01 0x0b 0x108 0x01 0x0a 0x108>;");
    expect(dts).toContain("msi-parent = <0x02>;");
    // kvmtool's gicv2m keeps SPIs 0-63 (INTIDs 32-95): the UARTs get 64-67, the disk's INTA 68.
    expect(dts).toMatch(/U6_16550A@1000000 \{[^}]*interrupts = <0x00 0x40 0x04>;/);
    expect(dts).toMatch(/U6_16550A@1003000 \{[^}]*interrupts = <0x00 0x43 0x04>;/);
    expect(dts).toContain("interrupt-map = <0x00 0x00 0x00 0x01 0x01 0x00 0x00 0x00 0x44 0x04>;");
  });
});

describe("the device tree a guest receives in x0", () => {
  it("is at kvmtool's address and says what lkvm was told (-m, -c, -p, -i)", async () => {
    const run = await runGuest("fdt", { cpus: 2, mem: 256, extra: ["-i", initrdPath, "-p", BOOTARGS] });
    expectPassed(run, ["FDT magic", "the initrd ends right below the DTB", "the console's node has reg = 0x1000000 (the UART this guest prints on)"]);
    expect(run.output).toContain(`fdt: dtb at ${hex(DTB)}`);
    expect(run.output).toContain("fdt: memory 0x80000000 0x10000000");
    expect(run.output).toContain("fdt: cpus 2");
    expect(run.output).toContain(`fdt: bootargs "${BOOTARGS}"`);
    const sum = initrd.reduce((a, b) => a + b, 0);
    expect(run.output).toContain(`fdt: initrd ${hex(INITRD_START)} ${hex(INITRD_END)} sum ${sum} head "lkvm-initrd-test-0123456789"`);
  });
});
