// A tree shaped like the one kvmtool generates for
// `lkvm run -k Image -c 2 -m 512 -i initrd --irqchip=gicv3` (docs/kvmtool.md §5), node for node.

import { FdtNode, u64Cells } from "../../src/lib/fdt/tree.ts";

export const RAM_BASE = 0x8000_0000;
export const RAM_SIZE = 0x2000_0000;
export const KASLR_SEED = 0x0123_4567_89ab_cdefn; // bytes no dtc would mistake for text
export const INITRD_START = 0x8fa0_0000n;
export const INITRD_END = 0x8fc1_2345n;
export const BOOTARGS = " console=ttyS0 root=/dev/vda rw ";
export const GIC_PHANDLE = 1;

const IRQ_TYPE_LEVEL_HIGH = 4;
const IRQ_TYPE_LEVEL_LOW = 8;
const GIC_SPI = 0;
const GIC_PPI = 1;

export function kvmtoolTree(): FdtNode {
  const root = new FdtNode("")
    .prop("interrupt-parent", [GIC_PHANDLE])
    .prop("compatible", "linux,dummy-virt")
    .prop("#address-cells", [2])
    .prop("#size-cells", [2]);

  root.child("chosen")
    .prop("bootargs", BOOTARGS)
    .prop("kaslr-seed", KASLR_SEED)
    .prop("stdout-path", "serial0")
    .prop("linux,initrd-start", INITRD_START)
    .prop("linux,initrd-end", INITRD_END);

  root.child("memory")
    .prop("device_type", "memory")
    .prop("reg", [...u64Cells(RAM_BASE), ...u64Cells(RAM_SIZE)]);

  const cpus = root.child("cpus").prop("#address-cells", [1]).prop("#size-cells", [0]);
  for (const mpidr of [0, 1]) {
    cpus.child(`cpu@${mpidr.toString(16)}`)
      .prop("device_type", "cpu")
      .prop("compatible", "arm,arm-v8")
      .prop("enable-method", "psci")
      .prop("reg", [mpidr]);
  }

  root.child("intc")
    .prop("compatible", "arm,gic-v3")
    .prop("#interrupt-cells", [3])
    .prop("interrupt-controller", null)
    .prop("reg", [...u64Cells(0x3fff_0000), ...u64Cells(0x1_0000), ...u64Cells(0x3ffb_0000), ...u64Cells(0x4_0000)])
    .prop("phandle", [GIC_PHANDLE])
    .prop("#address-cells", [2])
    .prop("#size-cells", [2]);

  // Secure physical, non-secure physical, virtual, hypervisor PPIs; GICv3 has no cpumask.
  root.child("timer")
    .prop("compatible", ["arm,armv8-timer", "arm,armv7-timer"])
    .prop("interrupts", [13, 14, 11, 10].flatMap((ppi) => [GIC_PPI, ppi, IRQ_TYPE_LEVEL_LOW]))
    .prop("always-on", null);

  root.child("U6_16550A@1000000")
    .prop("compatible", "ns16550a")
    .prop("reg", [...u64Cells(0x100_0000), ...u64Cells(8)])
    .prop("interrupts", [GIC_SPI, 0, IRQ_TYPE_LEVEL_HIGH])
    .prop("clock-frequency", [1_843_200]);

  root.child("psci")
    .prop("compatible", ["arm,psci-0.2", "arm,psci"])
    .prop("method", "hvc")
    .prop("cpu_suspend", [0xc400_0001])
    .prop("cpu_off", [0x8400_0002])
    .prop("cpu_on", [0xc400_0003])
    .prop("migrate", [0xc400_0005]);

  root.child("aliases").prop("serial0", "/U6_16550A@1000000");
  return root;
}
