// The GICv2 CPU interfaces (GICC_*, IHI 0048B §4.4), one memory-mapped frame banked per vCPU.
// Under KVM a GICv2 guest's GICC is the hardware's virtual CPU interface (GICV_*, §5.6), so this
// is that register layout: GICC_CTLR holds EnableGrp0, EnableGrp1, AckCtl, FIQEn, CBPR and
// EOImode; Group 1 interrupts are acknowledged through the aliased registers (AIAR, AEOIR,
// AHPPIR, ABPR) or, with AckCtl, through IAR; Group 0 ones are signalled as FIQ with FIQEn.
// One active-priorities register (APR0) covers both groups, with 5 priority bits as the GICv3
// model has. The IRQ and FIQ lines are recomputed from state in one place (`updateLines`).

import {
  BPR0_MIN, BPR1_MIN, FORWARD_GROUP0, FORWARD_GROUP1, GIC_SPECIAL_INTID_BASE, GIC_SPURIOUS_INTID,
  PRIORITY_MASK, activate, canSignal, highestPendingOf, runningPriority, setOutputLines, type Candidate,
} from "../gicv3/shared.ts";
import { RegisterMap, getU32, putU32, reg, type GicRegister } from "../gicv3/frames.ts";
import { GICV2_CPU_SIZE_BYTES } from "../memory-map.ts";
import type { LineChange } from "../gicv3/cpu-interface.ts";
import { GICD_CTLR_ENABLE, type Gicv2Distributor } from "./distributor.ts";
import type { Gicv2Context } from "./state.ts";

// GICC_CTLR (the virtual CPU interface's layout).
const GICC_CTLR_ENABLE_GRP0 = 1 << 0;
const GICC_CTLR_ENABLE_GRP1 = 1 << 1;
const GICC_CTLR_ACK_CTL = 1 << 2;
const GICC_CTLR_FIQ_EN = 1 << 3;
const GICC_CTLR_CBPR = 1 << 4;
const GICC_CTLR_EOIMODE = 1 << 9;

/** GICC_IAR/HPPIR: the INTID in bits [9:0], an SGI's source CPU in bits [12:10]. */
const IAR_INTID_MASK = 0x3ff;
const IAR_CPUID_SHIFT = 10;
/** What IAR and HPPIR return for a Group 1 interrupt that AckCtl keeps them from taking. */
const INTID_GROUP1_ONLY = 1022;
/** GICC_IIDR: Arm's JEP106 code, architecture version 2, ProductID 'L' for lkvm. */
const GICC_IIDR_VALUE = (0x4c << 20) | (0x2 << 16) | 0x43b;

/**
 * The frame KVM maps for the guest: the first 8 KiB (GICC_DIR is in the second 4 KiB page).
 * kvmtool's 128 KiB region holds nothing else, so the rest is RAZ/WI.
 */
export const GICV2_GICC_REGISTERS = [
  reg("GICC_CTLR", 0x0000, "rw"),
  reg("GICC_PMR", 0x0004, "rw"),
  reg("GICC_BPR", 0x0008, "rw"),
  reg("GICC_IAR", 0x000c, "ro"),
  reg("GICC_EOIR", 0x0010, "wo"),
  reg("GICC_RPR", 0x0014, "ro"),
  reg("GICC_HPPIR", 0x0018, "ro"),
  reg("GICC_ABPR", 0x001c, "rw"),
  reg("GICC_AIAR", 0x0020, "ro"),
  reg("GICC_AEOIR", 0x0024, "wo"),
  reg("GICC_AHPPIR", 0x0028, "ro"),
  reg("GICC_APR", 0x00d0, "rw", { count: 4 }),
  reg("GICC_IIDR", 0x00fc, "ro", { reset: GICC_IIDR_VALUE }),
  reg("GICC_DIR", 0x1000, "wo"),
] as const;

type GiccName = (typeof GICV2_GICC_REGISTERS)[number]["name"];
const GICC_MAP = new RegisterMap(GICV2_GICC_REGISTERS, GICV2_CPU_SIZE_BYTES);

export class Gicv2CpuInterfaces {
  constructor(
    private readonly gic: Gicv2Context,
    private readonly dist: Gicv2Distributor,
    private readonly onIrqLineChange: LineChange,
    private readonly onFiqLineChange: LineChange | undefined,
  ) {}

  /** An access by `vcpu` to its CPU interface at `offset`. Returns whether state may have changed. */
  access(vcpu: number, offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): boolean {
    const r = GICC_MAP.reached(offset, lengthBytes, isWrite);
    if (r === undefined) return false;
    const name = r.name as GiccName;
    if (isWrite) {
      this.write(vcpu, name, r, offset, getU32(data, lengthBytes));
      return true;
    }
    putU32(data, this.read(vcpu, name, r, offset));
    return name === "GICC_IAR" || name === "GICC_AIAR"; // acknowledging changes state
  }

  /**
   * The highest priority interrupt this vCPU could take: pending, enabled, not active, of a
   * group enabled in this CPU interface while the Distributor forwards, and (SPIs) targeted here.
   */
  highestPending(vcpu: number): Candidate | null {
    const s = this.gic.state;
    if ((s.distCtlr & GICD_CTLR_ENABLE) === 0) return null;
    const cpu = s.cpuInterfaces[vcpu]!;
    const groups = (cpu.groupEnable0 ? FORWARD_GROUP0 : 0) | (cpu.groupEnable1 ? FORWARD_GROUP1 : 0);
    return highestPendingOf(this.gic, vcpu, groups, (intid) => this.dist.routedTo(intid, vcpu));
  }

  /** Recomputes every vCPU's IRQ and FIQ from state and reports the ones that changed. */
  updateLines(): void {
    const s = this.gic.state;
    for (let v = 0; v < this.gic.vcpuCount; v++) {
      const hppi = this.highestPending(v);
      const signal = hppi !== null && canSignal(s.cpuInterfaces[v]!, hppi);
      const asFiq = signal && hppi.group === 0 && this.gic.v2.cpuControls[v]!.fiqEn;
      setOutputLines(s, v, signal && !asFiq, asFiq, this.onIrqLineChange, this.onFiqLineChange);
    }
  }

  private read(vcpu: number, name: GiccName, r: GicRegister, offset: number): number {
    const cpu = this.gic.state.cpuInterfaces[vcpu]!;
    const controls = this.gic.v2.cpuControls[vcpu]!;
    switch (name) {
      case "GICC_CTLR":
        return (
          (cpu.groupEnable0 ? GICC_CTLR_ENABLE_GRP0 : 0) |
          (cpu.groupEnable1 ? GICC_CTLR_ENABLE_GRP1 : 0) |
          (controls.ackCtl ? GICC_CTLR_ACK_CTL : 0) |
          (controls.fiqEn ? GICC_CTLR_FIQ_EN : 0) |
          (cpu.cbpr ? GICC_CTLR_CBPR : 0) |
          (cpu.eoiMode ? GICC_CTLR_EOIMODE : 0)
        );
      case "GICC_PMR":
        return cpu.pmr;
      case "GICC_BPR":
        return cpu.bpr0;
      case "GICC_ABPR":
        return cpu.cbpr ? Math.min(cpu.bpr0 + 1, 7) : cpu.bpr1;
      case "GICC_IAR":
        return this.acknowledge(vcpu, false);
      case "GICC_AIAR":
        return this.acknowledge(vcpu, true);
      case "GICC_HPPIR":
      case "GICC_AHPPIR": {
        const hppi = this.highestPending(vcpu);
        const taken = this.takenBy(vcpu, hppi, name === "GICC_AHPPIR");
        return typeof taken === "number" ? taken : this.iarValue(vcpu, taken.intid);
      }
      case "GICC_RPR":
        return runningPriority(cpu);
      case "GICC_APR":
        // One register of 32 group priorities (5 bits); APR1-3 do not exist with 5 bits.
        return offset === r.offset ? (cpu.activePriorities0 | cpu.activePriorities1) >>> 0 : 0;
      case "GICC_IIDR":
        return r.reset!;
      default:
        throw new Error(`${name} has no read path`); // write-only: refused by the register map
    }
  }

  private write(vcpu: number, name: GiccName, r: GicRegister, offset: number, value: number): void {
    const cpu = this.gic.state.cpuInterfaces[vcpu]!;
    const controls = this.gic.v2.cpuControls[vcpu]!;
    switch (name) {
      case "GICC_CTLR":
        cpu.groupEnable0 = (value & GICC_CTLR_ENABLE_GRP0) !== 0;
        cpu.groupEnable1 = (value & GICC_CTLR_ENABLE_GRP1) !== 0;
        controls.ackCtl = (value & GICC_CTLR_ACK_CTL) !== 0;
        controls.fiqEn = (value & GICC_CTLR_FIQ_EN) !== 0;
        cpu.cbpr = (value & GICC_CTLR_CBPR) !== 0;
        cpu.eoiMode = (value & GICC_CTLR_EOIMODE) !== 0;
        return;
      case "GICC_PMR":
        cpu.pmr = value & PRIORITY_MASK;
        return;
      case "GICC_BPR":
        cpu.bpr0 = Math.max(value & 7, BPR0_MIN);
        return;
      case "GICC_ABPR":
        if (!cpu.cbpr) cpu.bpr1 = Math.max(value & 7, BPR1_MIN);
        return;
      case "GICC_EOIR":
        return this.endOfInterrupt(vcpu, value & IAR_INTID_MASK, false);
      case "GICC_AEOIR":
        return this.endOfInterrupt(vcpu, value & IAR_INTID_MASK, true);
      case "GICC_DIR":
        if (cpu.eoiMode) this.deactivate(vcpu, value & IAR_INTID_MASK);
        return;
      case "GICC_APR":
        if (offset === r.offset) {
          cpu.activePriorities0 = value >>> 0;
          cpu.activePriorities1 = 0;
        }
        return;
      default:
        throw new Error(`${name} has no write path`); // read-only: refused by the register map
    }
  }

  /**
   * Which interrupt IAR (or, `alias`, AIAR) would take: the candidate, or the INTID it returns
   * instead (1023 for none, 1022 for a Group 1 interrupt IAR leaves to AIAR without AckCtl).
   */
  private takenBy(vcpu: number, hppi: Candidate | null, alias: boolean): Candidate | number {
    if (hppi === null) return GIC_SPURIOUS_INTID;
    if (alias) return hppi.group === 1 ? hppi : GIC_SPURIOUS_INTID;
    if (hppi.group === 1 && !this.gic.v2.cpuControls[vcpu]!.ackCtl) return INTID_GROUP1_ONLY;
    return hppi;
  }

  /** The INTID as IAR and HPPIR report it: with the source CPU for an SGI. */
  private iarValue(vcpu: number, intid: number): number {
    return intid < 16 ? intid | (this.gic.lowestSgiSource(vcpu, intid) << IAR_CPUID_SHIFT) : intid;
  }

  /** GICC_IAR / GICC_AIAR: take the highest priority pending interrupt if it may be signalled. */
  private acknowledge(vcpu: number, alias: boolean): number {
    const cpu = this.gic.state.cpuInterfaces[vcpu]!;
    const hppi = this.highestPending(vcpu);
    const taken = this.takenBy(vcpu, hppi, alias);
    if (typeof taken === "number") return taken;
    if (!canSignal(cpu, taken)) return GIC_SPURIOUS_INTID;
    const value = this.iarValue(vcpu, taken.intid);
    const bank = this.gic.bankFor(vcpu, taken.intid);
    if (taken.intid < 16) {
      // One source at a time: the SGI stays pending while other CPUs' requests remain.
      this.gic.clearSgiSources(vcpu, taken.intid, 1 << (value >>> IAR_CPUID_SHIFT));
    } else {
      bank.pendingLatch[taken.intid >>> 5]! &= ~(1 << (taken.intid & 31)); // a high level stays pending
    }
    activate(this.gic, vcpu, cpu, taken);
    return value;
  }

  /**
   * GICC_EOIR / GICC_AEOIR: drop the running priority and, unless EOImode splits the two,
   * deactivate the interrupt. EOIR is for Group 0 interrupts (and Group 1 ones with AckCtl),
   * AEOIR for Group 1; a write for the other group is ignored.
   */
  private endOfInterrupt(vcpu: number, intid: number, alias: boolean): void {
    if (intid >= GIC_SPECIAL_INTID_BASE || intid >= this.gic.intidCount) return;
    const cpu = this.gic.state.cpuInterfaces[vcpu]!;
    const bank = this.gic.bankFor(vcpu, intid);
    const group = (bank.group[intid >>> 5]! >>> (intid & 31)) & 1;
    const accepted = alias ? group === 1 : group === 0 || this.gic.v2.cpuControls[vcpu]!.ackCtl;
    if (!accepted) return;
    const all = cpu.activePriorities0 | cpu.activePriorities1;
    const highest = all & -all;
    cpu.activePriorities0 = (cpu.activePriorities0 & ~highest) >>> 0;
    cpu.activePriorities1 = (cpu.activePriorities1 & ~highest) >>> 0;
    if (!cpu.eoiMode) this.deactivate(vcpu, intid);
  }

  private deactivate(vcpu: number, intid: number): void {
    if (intid >= this.gic.intidCount) return;
    this.gic.bankFor(vcpu, intid).active[intid >>> 5]! &= ~(1 << (intid & 31));
  }
}

