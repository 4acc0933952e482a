// A GICv3 interrupt controller (IHI 0069) as a KVM guest sees kvmtool's `--irqchip=gicv3`:
// one Distributor, one Redistributor per vCPU, and the CPU interface's ICC_* system registers.
// No ITS, no LPIs, no extended INTID ranges.
//
// Configuration, as the guest observes it:
// - A single Security state: GICD_CTLR.DS reads 1 and affinity routing is always on
//   (GICD_CTLR.ARE is RAO/WI; Linux's irq-gic-v3 refuses to run without it). With DS = 1 the
//   interrupt groups are Group 0 and Group 1; GICD_IGRPMODR, GICR_IGRPMODR0 and the NSACRs are
//   RAZ/WI, and the GICv2-compatible registers (ITARGETSR, SGIR, C/SPENDSGIR) are RAZ/WI
//   because ARE is set.
// - 5 priority bits (32 levels): every priority field keeps bits [7:3]; the low 3 bits read 0.
//   So ICC_CTLR_EL1.PRIbits = 4, BPR0 has minimum 2, BPR1 minimum 3, and only ICC_AP0R0_EL1
//   and ICC_AP1R0_EL1 exist (the AP<n>R1-3 registers are UNDEFINED with 5 preemption bits).
// - Group 1 interrupts are signalled as IRQ, Group 0 as FIQ (a PE with no EL3).
// - Writes take effect at once, so GICD_CTLR.RWP and GICR_CTLR.RWP always read 0.
//
// Choices where the architecture leaves room (IMPLEMENTATION DEFINED or UNKNOWN):
// - Every INTID resets to Group 1 (as KVM's vGICv3 does), disabled, inactive, priority 0.
//   SPIs reset level-sensitive; SGIs are always edge; PPI configuration is programmable.
// - 1 of N SPI routing (GICD_IROUTER.IRM = 1) is supported: the SPI is offered to every vCPU
//   whose CPU interface has its group enabled, and the first to acknowledge it takes it.
// - GICR_WAKER implements the ProcessorSleep / ChildrenAsleep handshake (ChildrenAsleep
//   follows ProcessorSleep at once), but a sleeping Redistributor still forwards interrupts:
//   there is no power controller to wake, and kvm-unit-tests never clears ProcessorSleep
//   (KVM itself makes GICR_WAKER RAZ/WI).
// - The CPU interface only considers interrupts of groups it has enabled (ICC_IGRPEN<n>)
//   when it picks the highest priority pending interrupt, as the Redistributor would when
//   told the interface's group enables.
// - A write to ICC_EOIR<n>_EL1 whose group is not that of the highest active priority is
//   ignored (the architecture makes it UNPREDICTABLE). ICC_ASGI1R_EL1 generates nothing:
//   with one Security state there is no "other" state to send to.
//
// Output: after every change the IRQ and FIQ level of each vCPU is recomputed from state in
// one place (`updateLines`) and reported through the callbacks only when it changes.
//
// The parts, as the architecture divides them, are in gicv3/: the Distributor, the
// Redistributors, the CPU interfaces, the register frames the first two share, and the state
// all of them share. This file is the device: its options, bus regions and DT node (the inputs
// are gic-inputs.ts, shared with the GICv2).

import { ConfigError } from "../../src/errors.ts";
import { type FdtNode, u64Cells } from "../../src/lib/fdt/tree.ts";
import type { TrapBus } from "../../src/iotrap/bus.ts";
import { GicInputs } from "./gic-inputs.ts";
import { GIC_DIST_BASE, GIC_DIST_SIZE_BYTES, GIC_REDIST_SIZE_BYTES, PHANDLE_GIC, mpidrOf } from "./memory-map.ts";
import { GIC_DEFAULT_SPI_COUNT, GIC_MAX_SPI_COUNT, GicContext } from "./gicv3/shared.ts";
import { GicDistributor } from "./gicv3/distributor.ts";
import { GicRedistributors } from "./gicv3/redistributor.ts";
import { GicCpuInterfaces } from "./gicv3/cpu-interface.ts";

/** The limit of this model (the brief of the machine), not of the architecture. */
export const GIC_MAX_VCPUS = 64;

/** The Redistributors sit directly below the Distributor, one 128 KiB block per vCPU. */
export function gicRedistBase(vcpuCount: number, distBase = GIC_DIST_BASE): number {
  return distBase - vcpuCount * GIC_REDIST_SIZE_BYTES;
}

export interface Gicv3Options {
  /** Number of vCPUs, hence of Redistributors: 1 to 64. */
  vcpuCount: number;
  /** Number of SPIs (INTIDs 32 upward); a multiple of 32, at most 960. Default 224. */
  spiCount?: number;
  /** Guest-physical base of the Distributor; the Redistributors sit below it. */
  distBase?: number;
  /**
   * Each vCPU's MPIDR_EL1 (a number is fine: bits above the affinity fields are ignored);
   * defaults to KVM's assignment (`mpidrOf`).
   */
  mpidr?: (vcpu: number) => bigint | number;
  /** The vCPU's IRQ input (IRQ_LINES bit 0) must follow `level`. Called only on changes. */
  onIrqLineChange: (vcpu: number, level: boolean) => void;
  /** The same for FIQ (Group 0 interrupts; Linux never uses them). */
  onFiqLineChange?: (vcpu: number, level: boolean) => void;
}

export class Gicv3 extends GicInputs {
  static readonly description = {
    name: "gicv3",
    compatible: "arm,gic-v3",
  } as const;

  readonly kind = "gicv3";
  /** Every SPI is for devices (no MSI frame takes any). */
  readonly reservedSpiCount = 0;
  /** The GICv3 binding has no CPU mask in PPI specifiers. */
  readonly ppiCpuMask = 0;
  /** The CPU interface is the ICC_* system registers. */
  readonly systemRegisterInterface = true;
  readonly vcpuCount: number;
  readonly spiCount: number;
  readonly distBase: number;
  readonly redistBase: number;
  protected readonly gic: GicContext;
  private readonly dist: GicDistributor;
  private readonly redists: GicRedistributors;
  private readonly cpus: GicCpuInterfaces;

  constructor(options: Gicv3Options) {
    super();
    const { vcpuCount } = options;
    const spiCount = options.spiCount ?? GIC_DEFAULT_SPI_COUNT;
    if (!Number.isInteger(vcpuCount) || vcpuCount < 1 || vcpuCount > GIC_MAX_VCPUS) {
      throw new ConfigError(`the GICv3 supports 1 to ${GIC_MAX_VCPUS} vCPUs, not ${vcpuCount}`);
    }
    if (!Number.isInteger(spiCount) || spiCount < 0 || spiCount > GIC_MAX_SPI_COUNT || spiCount % 32) {
      throw new RangeError(`GICv3 SPI count ${spiCount} is not a multiple of 32 up to ${GIC_MAX_SPI_COUNT}`);
    }
    this.vcpuCount = vcpuCount;
    this.spiCount = spiCount;
    this.distBase = options.distBase ?? GIC_DIST_BASE;
    this.redistBase = gicRedistBase(vcpuCount, this.distBase);
    this.gic = new GicContext(vcpuCount, spiCount, options.mpidr ?? mpidrOf);
    this.dist = new GicDistributor(this.gic);
    this.redists = new GicRedistributors(this.gic, this.dist);
    this.cpus = new GicCpuInterfaces(this.gic, this.redists, options.onIrqLineChange, options.onFiqLineChange);
  }

  /** Claims the Distributor and the Redistributors on the trap bus. */
  register(bus: TrapBus): void {
    bus.register({
      bus: "mmio",
      base: this.distBase,
      sizeBytes: GIC_DIST_SIZE_BYTES,
      name: `gicv3-dist@0x${this.distBase.toString(16)}`,
      only32Bit: true,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => {
        if (this.dist.access(offset, data, lengthBytes, isWrite)) this.cpus.updateLines();
      },
    });
    bus.register({
      bus: "mmio",
      base: this.redistBase,
      sizeBytes: this.vcpuCount * GIC_REDIST_SIZE_BYTES,
      name: `gicv3-redist@0x${this.redistBase.toString(16)}`,
      only32Bit: true,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => {
        if (this.redists.access(offset, data, lengthBytes, isWrite)) this.cpus.updateLines();
      },
    });
  }

  /** kvmtool's `intc` node (arm/gic.c): compatible, cells, reg <dist, redistributors>. */
  fdtNode(parent: FdtNode): FdtNode {
    return parent
      .child("intc")
      .prop("compatible", Gicv3.description.compatible)
      .prop("#interrupt-cells", [3])
      .prop("interrupt-controller", null)
      .prop("reg", [
        ...u64Cells(this.distBase),
        ...u64Cells(GIC_DIST_SIZE_BYTES),
        ...u64Cells(this.redistBase),
        ...u64Cells(this.vcpuCount * GIC_REDIST_SIZE_BYTES),
      ])
      .prop("phandle", [PHANDLE_GIC])
      .prop("#address-cells", [2])
      .prop("#size-cells", [2]);
  }

  protected updateLines(): void {
    this.cpus.updateLines();
  }

  // ---- the CPU interface (CoreHost.sysreg) ----

  /**
   * An ICC_* access by a vCPU: `encoding` is op0<<14|op1<<11|CRn<<7|CRm<<3|op2. Returns the
   * value read (0n for a write), or undefined when the access is UNDEFINED.
   */
  sysreg(vcpu: number, encoding: number, isWrite: boolean, value: bigint): bigint | undefined {
    this.checkVcpu(vcpu);
    return this.cpus.sysreg(vcpu, encoding, isWrite, value);
  }
}
