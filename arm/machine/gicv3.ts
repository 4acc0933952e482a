// A GICv3 interrupt controller (IHI 0069) as a KVM guest sees kvmtool's `--irqchip=gicv3`:
// one Distributor, one Redistributor per vCPU, and the CPU interface's ICC_* system registers.
// With `its` (kvmtool's `--irqchip=gicv3-its`) it also has LPIs and an ITS below the
// Redistributors (gicv3/lpi.ts, gicv3/its.ts). No extended INTID ranges.
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
import type { GuestMemory } from "../../src/kvm/guest-memory.ts";
import { GicInputs } from "./gic-inputs.ts";
import {
  GIC_DIST_BASE, GIC_DIST_SIZE_BYTES, GIC_REDIST_SIZE_BYTES, PHANDLE_GIC, PHANDLE_MSI, mpidrOf,
} from "./memory-map.ts";
import { GIC_DEFAULT_SPI_COUNT, GIC_MAX_SPI_COUNT, GicContext } from "./gicv3/shared.ts";
import { GicDistributor } from "./gicv3/distributor.ts";
import { GicRedistributors } from "./gicv3/redistributor.ts";
import { GicCpuInterfaces } from "./gicv3/cpu-interface.ts";
import { GicLpis } from "./gicv3/lpi.ts";
import { GIC_ITS_SIZE_BYTES, GicIts } from "./gicv3/its.ts";
import { REDIST_CACHE_FIELDS, initialAttributes } from "./gicv3/table-registers.ts";

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
  /**
   * An ITS and LPIs (`--irqchip=gicv3-its`): their tables are in guest memory, reached
   * through `memory`; `log` hears of dropped ITS commands.
   */
  its?: { memory: GuestMemory; log?: (line: string) => void };
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

  readonly kind: "gicv3" | "gicv3-its";
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
  /** The ITS, the irqchip's MSI controller, with `its`; at redistBase - 128 KiB as kvmtool puts it. */
  readonly msi?: GicIts;
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
    const lpis = options.its && new GicLpis(vcpuCount, options.its.memory, initialAttributes(REDIST_CACHE_FIELDS));
    this.kind = lpis ? "gicv3-its" : "gicv3";
    this.dist = new GicDistributor(this.gic, lpis !== undefined);
    this.redists = new GicRedistributors(this.gic, this.dist, lpis);
    this.cpus = new GicCpuInterfaces(this.gic, this.redists, options.onIrqLineChange, options.onFiqLineChange);
    if (lpis) {
      const base = this.redistBase - GIC_ITS_SIZE_BYTES;
      const its = { base, vcpuCount, lpis, memory: options.its!.memory, log: options.its!.log };
      this.msi = new GicIts(its, PHANDLE_MSI, () => this.cpus.updateLines());
    }
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
    const its = this.msi;
    if (its === undefined) return;
    bus.register({
      bus: "mmio",
      base: its.base,
      sizeBytes: GIC_ITS_SIZE_BYTES,
      name: `gicv3-its@0x${its.base.toString(16)}`,
      only32Bit: true,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => its.access(offset, data, lengthBytes, isWrite),
    });
  }

  /**
   * kvmtool's `intc` node (arm/gic.c): compatible, cells, reg <dist, redistributors>; with an
   * ITS, an empty `ranges` and the `msic` child the PCI host's `msi-parent` points at.
   */
  fdtNode(parent: FdtNode): FdtNode {
    const intc = parent
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
    if (this.msi === undefined) return intc;
    intc.prop("ranges", null);
    intc
      .child("msic")
      .prop("compatible", "arm,gic-v3-its")
      .prop("msi-controller", null)
      .prop("phandle", [this.msi.phandle])
      .prop("reg", [...u64Cells(this.msi.base), ...u64Cells(GIC_ITS_SIZE_BYTES)]);
    return intc;
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
