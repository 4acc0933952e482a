// The CPU interfaces, one per vCPU: the ICC_* system registers (acknowledge, end of interrupt,
// priority mask, binary points, active priorities, SGI generation), and the IRQ and FIQ
// signals to the PE, recomputed from state in one place (`updateLines`).

import {
  BPR0_MIN, BPR1_MIN, GIC_SPECIAL_INTID_BASE, GIC_SPURIOUS_INTID, PRIORITY_BITS, PRIORITY_MASK,
  canSignal, groupPriority, runningPriority, setOutputLines, type GicContext,
} from "./shared.ts";
import type { GicRedistributors } from "./redistributor.ts";
import { GIC_LPI_BASE_INTID } from "./lpi.ts";

// ICC_CTLR_EL1.
const ICC_CTLR_CBPR = 1 << 0;
const ICC_CTLR_EOIMODE = 1 << 1;
const ICC_CTLR_PMHE = 1 << 6;
const ICC_CTLR_PRIBITS_SHIFT = 8;
const ICC_CTLR_A3V = 1 << 15;
const ICC_CTLR_RSS = 1 << 18;
/** PRIbits = bits - 1; IDbits = 0 (16-bit INTIDs); A3V; RSS (Aff0 up to 255 in SGIs). */
const ICC_CTLR_RO_VALUE =
  ((PRIORITY_BITS - 1) << ICC_CTLR_PRIBITS_SHIFT) | ICC_CTLR_A3V | ICC_CTLR_RSS;

// ICC_SRE_EL1: SRE, DFB, DIB all fixed at 1 (no memory-mapped CPU interface).
const ICC_SRE_VALUE = 0b111;

// ICC_SGI0R/SGI1R_EL1 fields: low word and high word of the 64-bit value.
const SGIR_TARGET_LIST_MASK = 0xffff;
const SGIR_AFF1_SHIFT = 16;
const SGIR_INTID_SHIFT = 24;
const SGIR_HI_AFF2_SHIFT = 0; // bits [39:32]
const SGIR_HI_IRM = 1 << 8; // bit 40
const SGIR_HI_RS_SHIFT = 12; // bits [47:44]
const SGIR_HI_AFF3_SHIFT = 16; // bits [55:48]

/** op0=3, op1=0, CRn, CRm, op2 packed as MRS/MSR bits [20:5] (arm/core/sysreg-file.ts `enc`). */
function sysregEncoding(crn: number, crm: number, op2: number): number {
  return (3 << 14) | (0 << 11) | (crn << 7) | (crm << 3) | op2;
}
const icc = (crm: number, op2: number): number => sysregEncoding(12, crm, op2);

/** The CPU interface's EL1 system registers. Any other encoding handed to us is UNDEFINED. */
export const ICC_REGISTERS = [
  { name: "ICC_PMR_EL1", encoding: sysregEncoding(4, 6, 0), access: "rw" },
  { name: "ICC_IAR0_EL1", encoding: icc(8, 0), access: "ro" },
  { name: "ICC_EOIR0_EL1", encoding: icc(8, 1), access: "wo" },
  { name: "ICC_HPPIR0_EL1", encoding: icc(8, 2), access: "ro" },
  { name: "ICC_BPR0_EL1", encoding: icc(8, 3), access: "rw" },
  { name: "ICC_AP0R0_EL1", encoding: icc(8, 4), access: "rw" },
  { name: "ICC_AP1R0_EL1", encoding: icc(9, 0), access: "rw" },
  { name: "ICC_DIR_EL1", encoding: icc(11, 1), access: "wo" },
  { name: "ICC_RPR_EL1", encoding: icc(11, 3), access: "ro" },
  { name: "ICC_SGI1R_EL1", encoding: icc(11, 5), access: "wo" },
  { name: "ICC_ASGI1R_EL1", encoding: icc(11, 6), access: "wo" },
  { name: "ICC_SGI0R_EL1", encoding: icc(11, 7), access: "wo" },
  { name: "ICC_IAR1_EL1", encoding: icc(12, 0), access: "ro" },
  { name: "ICC_EOIR1_EL1", encoding: icc(12, 1), access: "wo" },
  { name: "ICC_HPPIR1_EL1", encoding: icc(12, 2), access: "ro" },
  { name: "ICC_BPR1_EL1", encoding: icc(12, 3), access: "rw" },
  { name: "ICC_CTLR_EL1", encoding: icc(12, 4), access: "rw" },
  { name: "ICC_SRE_EL1", encoding: icc(12, 5), access: "rw" },
  { name: "ICC_IGRPEN0_EL1", encoding: icc(12, 6), access: "rw" },
  { name: "ICC_IGRPEN1_EL1", encoding: icc(12, 7), access: "rw" },
] as const satisfies readonly { name: string; encoding: number; access: "rw" | "ro" | "wo" }[];

type IccRegister = (typeof ICC_REGISTERS)[number];
type IccName = IccRegister["name"];
const ICC_BY_ENCODING = new Map<number, IccRegister>(ICC_REGISTERS.map((r) => [r.encoding, r]));

export type LineChange = (vcpu: number, level: boolean) => void;

export class GicCpuInterfaces {
  constructor(
    private readonly gic: GicContext,
    private readonly redists: GicRedistributors,
    private readonly onIrqLineChange: LineChange,
    private readonly onFiqLineChange: LineChange | undefined,
  ) {}

  /**
   * An ICC_* access by a vCPU: `encoding` is op0<<14|op1<<11|CRn<<7|CRm<<3|op2. Returns the
   * value read (0n for a write), or undefined when the access is UNDEFINED: an encoding this
   * CPU interface lacks, a read of a write-only register or a write to a read-only one.
   */
  sysreg(vcpu: number, encoding: number, isWrite: boolean, value: bigint): bigint | undefined {
    const r = ICC_BY_ENCODING.get(encoding);
    if (r === undefined || r.access === (isWrite ? "ro" : "wo")) return undefined;
    if (!isWrite) return BigInt(this.read(vcpu, r.name) >>> 0);
    this.write(vcpu, r.name, Number(value & 0xffff_ffffn) >>> 0, Number(value >> 32n) >>> 0);
    this.updateLines();
    return 0n;
  }

  /** Recomputes every vCPU's IRQ and FIQ from state and reports the ones that changed. */
  updateLines(): void {
    const s = this.gic.state;
    for (let v = 0; v < this.gic.vcpuCount; v++) {
      const hppi = this.redists.highestPending(v);
      const signal = hppi !== null && canSignal(s.cpuInterfaces[v]!, hppi);
      setOutputLines(s, v, signal && hppi.group === 1, signal && hppi.group === 0, this.onIrqLineChange, this.onFiqLineChange);
    }
  }

  private read(vcpu: number, name: IccName): number {
    const cpu = this.gic.state.cpuInterfaces[vcpu]!;
    switch (name) {
      case "ICC_PMR_EL1":
        return cpu.pmr;
      case "ICC_IAR0_EL1":
        return this.acknowledge(vcpu, 0);
      case "ICC_IAR1_EL1":
        return this.acknowledge(vcpu, 1);
      case "ICC_HPPIR0_EL1":
      case "ICC_HPPIR1_EL1": {
        const hppi = this.redists.highestPending(vcpu);
        const group = name === "ICC_HPPIR0_EL1" ? 0 : 1;
        return hppi !== null && hppi.group === group ? hppi.intid : GIC_SPURIOUS_INTID;
      }
      case "ICC_BPR0_EL1":
        return cpu.bpr0;
      case "ICC_BPR1_EL1":
        // With CBPR, Group 1 uses BPR0's split; reads show it in BPR1's terms.
        return cpu.cbpr ? Math.min(cpu.bpr0 + 1, 7) : cpu.bpr1;
      case "ICC_AP0R0_EL1":
        return cpu.activePriorities0;
      case "ICC_AP1R0_EL1":
        return cpu.activePriorities1;
      case "ICC_RPR_EL1":
        return runningPriority(cpu);
      case "ICC_CTLR_EL1":
        return (
          ICC_CTLR_RO_VALUE |
          (cpu.cbpr ? ICC_CTLR_CBPR : 0) |
          (cpu.eoiMode ? ICC_CTLR_EOIMODE : 0) |
          (cpu.pmhe ? ICC_CTLR_PMHE : 0)
        );
      case "ICC_SRE_EL1":
        return ICC_SRE_VALUE;
      case "ICC_IGRPEN0_EL1":
        return cpu.groupEnable0 ? 1 : 0;
      case "ICC_IGRPEN1_EL1":
        return cpu.groupEnable1 ? 1 : 0;
      default:
        throw new Error(`${name} has no read path`); // write-only: refused in sysreg()
    }
  }

  private write(vcpu: number, name: IccName, lo: number, hi: number): void {
    const cpu = this.gic.state.cpuInterfaces[vcpu]!;
    switch (name) {
      case "ICC_PMR_EL1":
        cpu.pmr = lo & PRIORITY_MASK;
        return;
      case "ICC_EOIR0_EL1":
        return this.endOfInterrupt(vcpu, 0, lo & 0xff_ffff);
      case "ICC_EOIR1_EL1":
        return this.endOfInterrupt(vcpu, 1, lo & 0xff_ffff);
      case "ICC_DIR_EL1": {
        const intid = lo & 0xff_ffff;
        if (cpu.eoiMode) this.deactivate(vcpu, intid);
        return;
      }
      case "ICC_BPR0_EL1":
        cpu.bpr0 = Math.max(lo & 7, BPR0_MIN);
        return;
      case "ICC_BPR1_EL1":
        if (!cpu.cbpr) cpu.bpr1 = Math.max(lo & 7, BPR1_MIN);
        return;
      case "ICC_AP0R0_EL1":
        cpu.activePriorities0 = lo >>> 0;
        return;
      case "ICC_AP1R0_EL1":
        cpu.activePriorities1 = lo >>> 0;
        return;
      case "ICC_SGI0R_EL1":
        return this.generateSgi(vcpu, 0, lo, hi);
      case "ICC_SGI1R_EL1":
        return this.generateSgi(vcpu, 1, lo, hi);
      case "ICC_ASGI1R_EL1":
        return; // no other Security state to target
      case "ICC_CTLR_EL1":
        // Only CBPR, EOImode and PMHE are writable; the rest describes the interface.
        cpu.cbpr = (lo & ICC_CTLR_CBPR) !== 0;
        cpu.eoiMode = (lo & ICC_CTLR_EOIMODE) !== 0;
        cpu.pmhe = (lo & ICC_CTLR_PMHE) !== 0;
        return;
      case "ICC_SRE_EL1":
        return; // SRE, DFB and DIB are fixed at 1
      case "ICC_IGRPEN0_EL1":
        cpu.groupEnable0 = (lo & 1) !== 0;
        return;
      case "ICC_IGRPEN1_EL1":
        cpu.groupEnable1 = (lo & 1) !== 0;
        return;
      default:
        throw new Error(`${name} has no write path`); // read-only: refused in sysreg()
    }
  }

  /** ICC_IAR<group>_EL1: take the highest priority pending interrupt if it may be signalled. */
  private acknowledge(vcpu: number, group: number): number {
    const cpu = this.gic.state.cpuInterfaces[vcpu]!;
    const hppi = this.redists.highestPending(vcpu);
    if (hppi === null || hppi.group !== group || !canSignal(cpu, hppi)) {
      return GIC_SPURIOUS_INTID;
    }
    if (hppi.intid >= GIC_LPI_BASE_INTID) {
      this.redists.acknowledgeLpi(hppi.intid);
    } else {
      const bank = this.gic.bankFor(vcpu, hppi.intid);
      const w = hppi.intid >>> 5;
      const bit = 1 << (hppi.intid & 31);
      bank.pendingLatch[w]! &= ~bit; // a level-sensitive one stays pending while its line is high
      bank.active[w]! |= bit;
    }
    const level = 1 << (groupPriority(cpu, hppi.group, hppi.priority) >>> (8 - PRIORITY_BITS));
    if (group === 0) cpu.activePriorities0 = (cpu.activePriorities0 | level) >>> 0;
    else cpu.activePriorities1 = (cpu.activePriorities1 | level) >>> 0;
    this.updateLines();
    return hppi.intid;
  }

  /** ICC_EOIR<group>_EL1: drop the running priority, and deactivate unless EOImode splits it. */
  private endOfInterrupt(vcpu: number, group: number, intid: number): void {
    if (intid >= GIC_SPECIAL_INTID_BASE && intid <= GIC_SPURIOUS_INTID) return;
    const cpu = this.gic.state.cpuInterfaces[vcpu]!;
    const all = cpu.activePriorities0 | cpu.activePriorities1;
    if (all === 0) return;
    const lowest = all & -all; // the highest active priority
    // Group 0 wins a tie, as it is the more privileged group.
    const activeGroup = cpu.activePriorities0 & lowest ? 0 : 1;
    if (activeGroup !== group) return;
    if (group === 0) cpu.activePriorities0 = (cpu.activePriorities0 & ~lowest) >>> 0;
    else cpu.activePriorities1 = (cpu.activePriorities1 & ~lowest) >>> 0;
    if (!cpu.eoiMode) this.deactivate(vcpu, intid);
  }

  private deactivate(vcpu: number, intid: number): void {
    if (intid >= this.gic.intidCount) return; // LPIs too: they have no active state
    const bank = this.gic.bankFor(vcpu, intid);
    bank.active[intid >>> 5]! &= ~(1 << (intid & 31));
  }

  /** ICC_SGI<group>R_EL1 from `self`: pend the SGI on each target whose SGI is in `group`. */
  private generateSgi(self: number, group: number, lo: number, hi: number): void {
    const intid = (lo >>> SGIR_INTID_SHIFT) & 0xf;
    if (hi & SGIR_HI_IRM) {
      for (let v = 0; v < this.gic.vcpuCount; v++) if (v !== self) this.redists.pendSgi(v, intid, group);
      return;
    }
    const cluster =
      ((((hi >>> SGIR_HI_AFF3_SHIFT) & 0xff) << 24) |
        (((hi >>> SGIR_HI_AFF2_SHIFT) & 0xff) << 16) |
        (((lo >>> SGIR_AFF1_SHIFT) & 0xff) << 8)) >>>
      0;
    const rangeBase = ((hi >>> SGIR_HI_RS_SHIFT) & 0xf) * 16;
    let list = lo & SGIR_TARGET_LIST_MASK;
    while (list !== 0) {
      const n = 31 - Math.clz32(list & -list);
      list &= list - 1;
      const target = this.gic.vcpuByAffinity.get((cluster | (rangeBase + n)) >>> 0);
      if (target !== undefined) this.redists.pendSgi(target, intid, group); // a bit naming no PE is ignored
    }
  }
}
