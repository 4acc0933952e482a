import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deviceTreeBlob } from "../../arm/machine/device-tree.ts";
import { Serial8250 } from "../../hw/serial8250.ts";
import { Mc146818Rtc } from "../../hw/rtc.ts";
import { FdtNode, u64Cells } from "../../src/lib/fdt/tree.ts";

const noIrq = { setLevel() {} };
const intc = {
  fdtNode: (p: FdtNode) => p.child("intc").prop("compatible", "arm,gic-v3").prop("phandle", [1]).prop("reg", [...u64Cells(0x3fff0000), ...u64Cells(0x10000)]),
};

function decompile(blob: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "lkvm-fdt-"));
  const file = join(dir, "machine.dtb");
  writeFileSync(file, blob);
  return execFileSync("dtc", ["-q", "-I", "dtb", "-O", "dts", file], { encoding: "utf8" });
}

describe("the machine's device tree, as dtc reads it", () => {
  const blob = deviceTreeBlob({
    cpus: 2,
    mpidr: (i) => i,
    ramBase: 0x8000_0000,
    ramSizeBytes: 512 << 20,
    bootargs: " console=ttyS0 root=/dev/vda rw ",
    kaslrSeed: 0x1234n,
    initrd: { start: 0x8fc0_0000, end: 0x8fd0_0000 },
    intc,
    devices: [
      new Serial8250({ base: 0x100_0000, intid: 32, irq: noIrq }),
      new Serial8250({ base: 0x100_1000, intid: 33, irq: noIrq }),
      new Mc146818Rtc({ base: 0x101_0000 }),
    ],
    stdoutPath: "/U6_16550A@1000000",
  });
  const dts = decompile(blob);

  it("has kvmtool's root properties", () => {
    expect(dts).toMatch(/compatible = "linux,dummy-virt";/);
    expect(dts).toMatch(/interrupt-parent = <0x01>;/);
  });

  it("passes bootargs, the KASLR seed, stdout and the initrd in /chosen", () => {
    expect(dts).toMatch(/bootargs = " console=ttyS0 root=\/dev\/vda rw ";/);
    expect(dts).toMatch(/kaslr-seed = <0x00 0x1234>;/);
    expect(dts).toMatch(/stdout-path = "serial0";/);
    expect(dts).toMatch(/linux,initrd-start = <0x00 0x8fc00000>;/);
    expect(dts).toMatch(/linux,initrd-end = <0x00 0x8fd00000>;/);
  });

  it("describes RAM and both vCPUs with PSCI as their enable method", () => {
    expect(dts).toMatch(/memory \{\s*device_type = "memory";\s*reg = <0x00 0x80000000 0x00 0x20000000>;/);
    expect(dts).toMatch(/cpu@1 \{\s*device_type = "cpu";\s*compatible = "arm,arm-v8";\s*enable-method = "psci";\s*reg = <0x01>;/);
  });

  it("gives the timer's four PPIs in binding order, level-low", () => {
    expect(dts).toMatch(/interrupts = <0x01 0x0d 0x08 0x01 0x0e 0x08 0x01 0x0b 0x08 0x01 0x0a 0x08>;/);
    expect(dts).toMatch(/always-on;/);
  });

  it("describes the UARTs as kvmtool's U6_16550A nodes with their SPIs", () => {
    expect(dts).toMatch(/U6_16550A@1000000 \{\s*compatible = "ns16550a";\s*reg = <0x00 0x1000000 0x00 0x08>;\s*interrupts = <0x00 0x00 0x04>;\s*clock-frequency = <0x1c2000>;/);
    expect(dts).toMatch(/U6_16550A@1001000 \{[^}]*interrupts = <0x00 0x01 0x04>;/);
    expect(dts).toMatch(/rtc \{\s*compatible = "motorola,mc146818";\s*reg = <0x00 0x1010000 0x00 0x02>;/);
  });

  it("offers PSCI 0.2 over HVC with the SMC64 function IDs", () => {
    expect(dts).toMatch(/psci \{\s*compatible = "arm,psci-0.2\\0arm,psci";\s*method = "hvc";\s*cpu_suspend = <0xc4000001>;\s*cpu_off = <0x84000002>;\s*cpu_on = <0xc4000003>;\s*migrate = <0xc4000005>;/);
    expect(dts).toMatch(/aliases \{\s*serial0 = "\/U6_16550A@1000000";/);
  });
});
