// A GICv2 interrupt controller (IHI 0048B) as a KVM guest sees kvmtool's `--irqchip=gicv2`, and,
// with `msiFrame`, `--irqchip=gicv2m`: a Distributor at 0x3fff0000 and a memory-mapped CPU
// interface at 0x3ffd0000, banked per vCPU; no system-register interface (the core is told
// ID_AA64PFR0_EL1.GIC = 0 and makes ICC_* UNDEFINED). At most 8 vCPUs, the GICv2's limit.
//
// As KVM's vGICv2 behaves:
// - No Security Extensions: GICD_CTLR has a single Enable; every INTID resets to Group 0, and
//   the groups are the guest's to program (IGROUPR, KVM's IIDR revision 2).
// - 5 priority bits, as on the GICv3 model: priorities, PMR and the binary points share its
//   arithmetic (gicv3/shared.ts).
// - An SPI goes to the lowest-numbered CPU of its GICD_ITARGETSR list (vCPU 0 while it is empty),
//   not to whichever listed CPU acknowledges it first.
// - SGIs reset enabled; each one's pending state remembers its source CPUs, and GICC_IAR hands
//   them out one at a time, lowest CPU first, with the source in bits [12:10].
// - Only the first 4 KiB of the Distributor and 8 KiB of the CPU interface hold registers;
//   the rest of kvmtool's windows, and accesses of a size a register does not take, are RAZ/WI.
//
// Where lkvm differs: GICD_ICPIDR2 reads ArchRev 2 (0x2b) as the architecture describes it,
// where KVM leaves it RAZ; and a CPU write to the v2m frame's MSI_SETSPI_NS raises the SPI, as a
// real frame does, where kvmtool ignores it (gicv2/v2m-frame.ts).
//
// The parts are in gicv2/: the Distributor, the CPU interfaces, the state they share beyond the
// GICv3 model's, and the v2m MSI frame. This file is the device: options, bus regions and DT
// node; the SPI and PPI inputs are gic-inputs.ts, shared with the GICv3.

import { type FdtNode, u64Cells } from "../../src/lib/fdt/tree.ts";
import type { TrapBus } from "../../src/iotrap/bus.ts";
import { GicInputs } from "./gic-inputs.ts";
import {
  GIC_DIST_BASE, GIC_DIST_SIZE_BYTES, GICV2_CPU_BASE, GICV2_CPU_SIZE_BYTES, PHANDLE_GIC, SPI_BASE_INTID, mpidrOf,
} from "./memory-map.ts";
import { GIC_DEFAULT_SPI_COUNT } from "./gicv3/shared.ts";
import { Gicv2Context, checkGicv2VcpuCount } from "./gicv2/state.ts";
import { Gicv2Distributor } from "./gicv2/distributor.ts";
import { Gicv2CpuInterfaces } from "./gicv2/cpu-interface.ts";
import { GICV2M_SPI_COUNT, Gicv2mFrame } from "./gicv2/v2m-frame.ts";

/** The cpumask of PPI specifiers (GICv2 binding): bits [15:8], one per CPU. */
export const PPI_CPU_MASK_SHIFT = 8;

export interface Gicv2Options {
  /** Number of vCPUs: 1 to 8. */
  vcpuCount: number;
  /** Add kvmtool's v2m MSI frame (`--irqchip gicv2m`), keeping its 64 SPIs from INTID 32. */
  msiFrame?: boolean;
  /** The vCPU's IRQ input must follow `level`. Called only on changes. */
  onIrqLineChange: (vcpu: number, level: boolean) => void;
  /** The same for FIQ (Group 0 with GICC_CTLR.FIQEn; Linux never sets it). */
  onFiqLineChange?: (vcpu: number, level: boolean) => void;
  /** Where MSIs the v2m frame ignores are reported (--loglevel debug). */
  debugLog?: (line: string) => void;
}

export class Gicv2 extends GicInputs {
  static readonly description = {
    name: "gicv2",
    compatible: "arm,cortex-a15-gic",
  } as const;

  readonly kind: "gicv2" | "gicv2m";
  /** gicv2m's frame takes the first 64 SPIs; devices are numbered above them. */
  readonly reservedSpiCount: number;
  readonly msi?: Gicv2mFrame;
  /** The GICv2 binding's cpumask for PPI specifiers: one bit per vCPU. */
  readonly ppiCpuMask: number;
  /** The CPU interface is memory-mapped. */
  readonly systemRegisterInterface = false;
  readonly vcpuCount: number;
  protected readonly gic: Gicv2Context;
  private readonly dist: Gicv2Distributor;
  private readonly cpus: Gicv2CpuInterfaces;

  constructor(options: Gicv2Options) {
    super();
    const { vcpuCount } = options;
    this.kind = options.msiFrame ? "gicv2m" : "gicv2";
    checkGicv2VcpuCount(this.kind, vcpuCount);
    this.vcpuCount = vcpuCount;
    this.ppiCpuMask = ((1 << vcpuCount) - 1) << PPI_CPU_MASK_SHIFT;
    this.gic = new Gicv2Context(vcpuCount, GIC_DEFAULT_SPI_COUNT, mpidrOf);
    this.dist = new Gicv2Distributor(this.gic);
    this.cpus = new Gicv2CpuInterfaces(this.gic, this.dist, options.onIrqLineChange, options.onFiqLineChange);
    this.reservedSpiCount = options.msiFrame ? GICV2M_SPI_COUNT : 0;
    if (options.msiFrame) {
      this.msi = new Gicv2mFrame({
        firstSpi: SPI_BASE_INTID,
        pulseSpi: (intid) => {
          this.setLevel(intid, true);
          this.setLevel(intid, false);
        },
        debugLog: options.debugLog,
      });
    }
  }

  /** Claims the Distributor, the CPU interface and the v2m frame on the trap bus. */
  register(bus: TrapBus): void {
    bus.register({
      bus: "mmio",
      base: GIC_DIST_BASE,
      sizeBytes: GIC_DIST_SIZE_BYTES,
      name: `gicv2-dist@0x${GIC_DIST_BASE.toString(16)}`,
      only32Bit: true,
      handler: (vcpu, offset, data, lengthBytes, isWrite) => {
        if (this.dist.access(vcpu, offset, data, lengthBytes, isWrite)) this.cpus.updateLines();
      },
    });
    bus.register({
      bus: "mmio",
      base: GICV2_CPU_BASE,
      sizeBytes: GICV2_CPU_SIZE_BYTES,
      name: `gicv2-cpu@0x${GICV2_CPU_BASE.toString(16)}`,
      only32Bit: true,
      handler: (vcpu, offset, data, lengthBytes, isWrite) => {
        if (this.cpus.access(vcpu, offset, data, lengthBytes, isWrite)) this.cpus.updateLines();
      },
    });
    this.msi?.register(bus);
  }

  /**
   * kvmtool's `intc` node (arm/gic.c): compatible, cells, reg <dist, cpu interface>; with the
   * v2m frame, an empty `ranges` and a child `msic`.
   */
  fdtNode(parent: FdtNode): FdtNode {
    const intc = parent
      .child("intc")
      .prop("compatible", Gicv2.description.compatible)
      .prop("#interrupt-cells", [3])
      .prop("interrupt-controller", null)
      .prop("reg", [
        ...u64Cells(GIC_DIST_BASE),
        ...u64Cells(GIC_DIST_SIZE_BYTES),
        ...u64Cells(GICV2_CPU_BASE),
        ...u64Cells(GICV2_CPU_SIZE_BYTES),
      ])
      .prop("phandle", [PHANDLE_GIC])
      .prop("#address-cells", [2])
      .prop("#size-cells", [2]);
    if (this.msi) {
      intc.prop("ranges", null);
      intc
        .child("msic")
        .prop("compatible", "arm,gic-v2m-frame")
        .prop("msi-controller", null)
        .prop("phandle", [this.msi.phandle])
        .prop("reg", [...u64Cells(this.msi.base), ...u64Cells(this.msi.sizeBytes)]);
    }
    return intc;
  }

  protected updateLines(): void {
    this.cpus.updateLines();
  }

  /** A GICv2 has no system-register interface: every ICC_* access is UNDEFINED. */
  sysreg(_vcpu: number, _encoding: number, _isWrite: boolean, _value: bigint): bigint | undefined {
    return undefined;
  }

}
