// The device tree lkvm hands the guest, node for node as kvmtool's arm/fdt.c builds it for
// arm64 (docs/kvmtool.md §5): chosen, memory, cpus, intc, timer, pmu (with --pmu), the MMIO
// devices (each writes its own node), the PCI host bridge (/pci, always present), psci, aliases.

import { FdtNode, u64Cells } from "../../src/lib/fdt/tree.ts";
import { writeFdt } from "../../src/lib/fdt/writer.ts";
import { PHANDLE_GIC, PMU_PPI, TIMER_PPI } from "./memory-map.ts";
import { IRQ_TYPE, ppiCells } from "./interrupt-specifier.ts";
import { PSCI } from "./psci.ts";


/** A device that describes itself under the root node. */
export interface FdtDevice {
  fdtNode(parent: FdtNode): FdtNode;
}

/** A device that may describe itself under the root node (some have no node there). */
export interface MaybeFdtDevice {
  fdtNode?(parent: FdtNode): FdtNode;
}

export interface DeviceTreeInputs {
  cpus: number;
  /** MPIDR affinity of each vCPU, as the `reg` of its cpu node. */
  mpidr: (vcpu: number) => number;
  ramBase: number;
  ramSizeBytes: number;
  bootargs: string;
  kaslrSeed: bigint;
  initrd?: { start: number; end: number };
  /** The irqchip; a GICv2's PPI specifiers carry its ppiCpuMask. */
  intc: FdtDevice & { readonly ppiCpuMask?: number };
  /** --pmu: a PMUv3 per vCPU, described by a /pmu node (kvmtool's arm/aarch64/pmu.c). */
  pmu?: boolean;
  /** MMIO devices in registration order; the first UART is stdout. */
  devices: readonly MaybeFdtDevice[];
  /** The PCI host bridge, whose /pci node follows the devices' (kvmtool always writes one). */
  pciHost?: { hostBridgeNode(parent: FdtNode): FdtNode };
  stdoutPath: string;
}

export function buildDeviceTree(d: DeviceTreeInputs): FdtNode {
  const root = new FdtNode("")
    .prop("interrupt-parent", [PHANDLE_GIC])
    .prop("compatible", "linux,dummy-virt")
    .prop("#address-cells", [2])
    .prop("#size-cells", [2]);

  const chosen = root.child("chosen");
  if (d.bootargs !== "") chosen.prop("bootargs", d.bootargs);
  chosen.prop("kaslr-seed", d.kaslrSeed).prop("stdout-path", "serial0");
  if (d.initrd) {
    chosen.prop("linux,initrd-start", BigInt(d.initrd.start)).prop("linux,initrd-end", BigInt(d.initrd.end));
  }

  root.child("memory")
    .prop("device_type", "memory")
    .prop("reg", [...u64Cells(d.ramBase), ...u64Cells(d.ramSizeBytes)]);

  const cpus = root.child("cpus").prop("#address-cells", [1]).prop("#size-cells", [0]);
  for (let i = 0; i < d.cpus; i++) {
    const mpidr = d.mpidr(i);
    const cpu = cpus.child(`cpu@${mpidr.toString(16)}`)
      .prop("device_type", "cpu")
      .prop("compatible", "arm,arm-v8");
    if (d.cpus > 1) cpu.prop("enable-method", "psci");
    cpu.prop("reg", [mpidr]);
  }

  d.intc.fdtNode(root);

  // Timer PPIs in binding order: secure, non-secure physical, virtual, hypervisor; level-low,
  // with the cpumask on a GICv2 (kvmtool's gic__get_fdt_irq_cpumask).
  const ppi = (intid: number) => ppiCells(intid, IRQ_TYPE.levelLow, d.intc.ppiCpuMask ?? 0);
  root.child("timer")
    .prop("compatible", ["arm,armv8-timer", "arm,armv7-timer"])
    .prop("interrupts", [...ppi(TIMER_PPI.secure), ...ppi(TIMER_PPI.nonSecure), ...ppi(TIMER_PPI.virtual), ...ppi(TIMER_PPI.hyp)])
    .prop("always-on", null);

  if (d.pmu) {
    root.child("pmu")
      .prop("compatible", "arm,armv8-pmuv3")
      .prop("interrupts", ppiCells(PMU_PPI, IRQ_TYPE.levelHigh, d.intc.ppiCpuMask ?? 0));
  }

  for (const dev of d.devices) dev.fdtNode?.(root);
  d.pciHost?.hostBridgeNode(root);

  root.child("psci")
    .prop("compatible", ["arm,psci-0.2", "arm,psci"])
    .prop("method", "hvc")
    .prop("cpu_suspend", [PSCI.CPU_SUSPEND_64])
    .prop("cpu_off", [PSCI.CPU_OFF])
    .prop("cpu_on", [PSCI.CPU_ON_64])
    .prop("migrate", [PSCI.MIGRATE_64]);

  root.child("aliases").prop("serial0", d.stdoutPath);
  return root;
}

export function deviceTreeBlob(d: DeviceTreeInputs): Uint8Array {
  return writeFdt(buildDeviceTree(d));
}
