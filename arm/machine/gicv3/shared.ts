// What every part of the GICv3 model shares: the INTID space, the priority bits, and the state
// as plain data, with the few queries on it all the parts make: which interrupt a CPU interface
// would take next, and the priority arithmetic of acknowledging it. The GICv2 model (gicv2/)
// keeps its interrupts in the same state and asks the same questions, so it uses them too.
// Where the frames sit is the machine's memory map (memory-map.ts).

import { PPI_BASE_INTID, SPI_BASE_INTID } from "../memory-map.ts";

// ---- INTID space ----

export const GIC_SGI_COUNT = 16;
export { PPI_BASE_INTID as GIC_PPI_BASE_INTID, SPI_BASE_INTID as GIC_SPI_BASE_INTID };
/** INTIDs 1020-1023 are special; 1023 is "no pending interrupt" (spurious). */
export const GIC_SPECIAL_INTID_BASE = 1020;
export const GIC_SPURIOUS_INTID = 1023;
/** SPIs come in blocks of 32 (GICD_TYPER.ITLinesNumber); 960 is the most below INTID 1020. */
export const GIC_MAX_SPI_COUNT = 960;
/** kvmtool's GIC_MAX_IRQ is 255, so INTIDs 32-255. */
export const GIC_DEFAULT_SPI_COUNT = 224;

// ---- priorities: 5 implemented bits ----

export const PRIORITY_BITS = 5;
export const PRIORITY_MASK = (0xff << (8 - PRIORITY_BITS)) & 0xff; // 0xf8
export const BPR0_MIN = 8 - PRIORITY_BITS - 1; // 2: group priority bits [7:3]
export const BPR1_MIN = BPR0_MIN + 1; // 3: the same split for Group 1

// ---- state ----

/**
 * A set of INTIDs with one bit each in 32-bit words: word w covers INTIDs 32w..32w+31 (for
 * the SPI bank, word 0 is unused; a Redistributor's bank is the single word 0).
 */
export interface GicIrqBank {
  /** 1 = Group 1 (IGROUPR). */
  group: Uint32Array;
  enabled: Uint32Array;
  /** The pending latch: set by an edge, by ISPENDR or by an SGI; cleared on acknowledge. */
  pendingLatch: Uint32Array;
  /** The input signal. A level-sensitive interrupt is pending while it is high. */
  lineLevel: Uint32Array;
  active: Uint32Array;
  /** 1 = edge-triggered (ICFGR Int_config). */
  edge: Uint32Array;
  /** One byte per INTID, low 3 bits zero. */
  priority: Uint8Array;
}

export interface GicRedistributorState {
  /** SGIs 0-15 and PPIs 16-31 of this vCPU. */
  bank: GicIrqBank;
  /** GICR_WAKER.ProcessorSleep (ChildrenAsleep follows it). */
  processorSleep: boolean;
}

export interface GicCpuInterfaceState {
  /** ICC_PMR_EL1. */
  pmr: number;
  /** ICC_BPR0_EL1 and ICC_BPR1_EL1 binary points. */
  bpr0: number;
  bpr1: number;
  /** ICC_CTLR_EL1.CBPR, EOImode, PMHE. */
  cbpr: boolean;
  eoiMode: boolean;
  pmhe: boolean;
  /** ICC_IGRPEN0_EL1.Enable and ICC_IGRPEN1_EL1.Enable. */
  groupEnable0: boolean;
  groupEnable1: boolean;
  /** ICC_AP0R0_EL1 and ICC_AP1R0_EL1: bit n = a group priority of n << 3 is active. */
  activePriorities0: number;
  activePriorities1: number;
}

/** Everything the guest can observe, as plain data. */
export interface GicState {
  /** GICD_CTLR.EnableGrp0 / EnableGrp1 (ARE and DS are fixed). */
  distCtlr: number;
  /** SPIs, indexed by INTID. */
  spis: GicIrqBank;
  /** GICD_IROUTER affinity per INTID: Aff3 << 24 | Aff2 << 16 | Aff1 << 8 | Aff0. */
  spiRoute: Uint32Array;
  /** GICD_IROUTER.IRM per INTID, one bit each (1 of N routing). */
  spiRouteAny: Uint32Array;
  redistributors: GicRedistributorState[];
  cpuInterfaces: GicCpuInterfaceState[];
  /** Levels last reported per vCPU. */
  irqLine: Uint8Array;
  fiqLine: Uint8Array;
}

function newBank(words: number, intids: number, edgeWord0: number, resetGroup: 0 | 1): GicIrqBank {
  const bank: GicIrqBank = {
    group: new Uint32Array(words).fill(resetGroup ? 0xffff_ffff : 0),
    enabled: new Uint32Array(words),
    pendingLatch: new Uint32Array(words),
    lineLevel: new Uint32Array(words),
    active: new Uint32Array(words),
    edge: new Uint32Array(words),
    priority: new Uint8Array(intids),
  };
  bank.edge[0] = edgeWord0;
  return bank;
}

/**
 * A GIC's state straight after reset. Every INTID starts in `resetGroup`: Group 1 on KVM's
 * vGICv3, Group 0 on its vGICv2.
 */
export function gicResetState(vcpuCount: number, spiCount: number, resetGroup: 0 | 1 = 1): GicState {
  const intids = SPI_BASE_INTID + spiCount;
  const words = intids / 32;
  const spis = newBank(words, intids, 0, resetGroup);
  spis.group[0] = 0; // INTIDs 0-31 live in the Redistributors
  return {
    distCtlr: 0,
    spis,
    spiRoute: new Uint32Array(intids),
    spiRouteAny: new Uint32Array(words),
    redistributors: Array.from({ length: vcpuCount }, () => ({
      bank: newBank(1, 32, (1 << GIC_SGI_COUNT) - 1, resetGroup), // SGIs are edge-triggered
      processorSleep: true,
    })),
    cpuInterfaces: Array.from({ length: vcpuCount }, () => ({
      pmr: 0,
      bpr0: BPR0_MIN,
      bpr1: BPR1_MIN,
      cbpr: false,
      eoiMode: false,
      pmhe: false,
      groupEnable0: false,
      groupEnable1: false,
      activePriorities0: 0,
      activePriorities1: 0,
    })),
    irqLine: new Uint8Array(vcpuCount),
    fiqLine: new Uint8Array(vcpuCount),
  };
}

/** Pending: the latch, or a level-sensitive input that is high. */
export function pendingBits(bank: GicIrqBank, w: number): number {
  return bank.pendingLatch[w]! | (bank.lineLevel[w]! & ~bank.edge[w]!);
}

/** Drives an interrupt's input; returns whether anything changed. Edges latch on the rise. */
export function driveLine(bank: GicIrqBank, intid: number, level: boolean): boolean {
  const w = intid >>> 5;
  const bit = 1 << (intid & 31);
  const was = (bank.lineLevel[w]! & bit) !== 0;
  if (was === level) return false;
  if (level) {
    bank.lineLevel[w]! |= bit;
    if (bank.edge[w]! & bit) bank.pendingLatch[w]! |= bit;
  } else {
    bank.lineLevel[w]! &= ~bit;
  }
  return true;
}

// ---- affinity ----

/** MPIDR_EL1 affinity as the GIC packs it: Aff3 << 24 | Aff2 << 16 | Aff1 << 8 | Aff0. */
export function mpidrToAffinity(mpidrValue: bigint | number): number {
  const mpidr = BigInt(mpidrValue);
  return (Number(mpidr & 0xff_ffffn) | (Number((mpidr >> 32n) & 0xffn) << 24)) >>> 0;
}

/**
 * The GIC's size, its vCPUs' affinities and its state: what the Distributor, the
 * Redistributors and the CPU interfaces all read.
 */
export class GicContext {
  readonly intidCount: number;
  readonly affinity: Uint32Array;
  readonly vcpuByAffinity = new Map<number, number>();
  readonly state: GicState;

  constructor(
    readonly vcpuCount: number,
    spiCount: number,
    mpidr: (vcpu: number) => bigint | number,
    resetGroup: 0 | 1 = 1,
  ) {
    this.intidCount = SPI_BASE_INTID + spiCount;
    this.affinity = new Uint32Array(vcpuCount);
    for (let v = 0; v < vcpuCount; v++) {
      const aff = mpidrToAffinity(mpidr(v));
      const other = this.vcpuByAffinity.get(aff);
      if (other !== undefined) throw new Error(`vCPUs ${other} and ${v} share affinity 0x${aff.toString(16)}`);
      this.affinity[v] = aff;
      this.vcpuByAffinity.set(aff, v);
    }
    this.state = gicResetState(vcpuCount, spiCount, resetGroup);
  }

  /** The bank holding an INTID as `vcpu` sees it: its Redistributor's, or the SPIs. */
  bankFor(vcpu: number, intid: number): GicIrqBank {
    return intid < SPI_BASE_INTID ? this.state.redistributors[vcpu]!.bank : this.state.spis;
  }

  isSpi(intid: number): boolean {
    return intid >= SPI_BASE_INTID && intid < this.intidCount;
  }
}

// ---- what a CPU interface takes next ----

/** A pending interrupt as it is presented to a CPU interface. */
export interface Candidate {
  intid: number;
  priority: number;
  group: number;
}

/** Which groups may be forwarded to a CPU interface: bit 0 Group 0, bit 1 Group 1. */
export const FORWARD_GROUP0 = 1;
export const FORWARD_GROUP1 = 2;

/**
 * The highest priority interrupt `vcpu` could take among its SGIs and PPIs and the SPIs: pending,
 * enabled, not active, of a group in `groups` (FORWARD_GROUP*), and, for an SPI, one that
 * `routedTo` sends to this vCPU. Ties go to the lower INTID.
 */
export function highestPendingOf(
  gic: GicContext,
  vcpu: number,
  groups: number,
  routedTo: (intid: number) => boolean,
): Candidate | null {
  if (groups === 0) return null;
  const s = gic.state;
  let bestIntid = -1;
  let bestPriority = 0x100;
  const words = gic.intidCount / 32;
  // Word 0 is this vCPU's SGIs and PPIs; words 1.. are the SPIs.
  for (let w = 0; w < words; w++) {
    const bank = w === 0 ? s.redistributors[vcpu]!.bank : s.spis;
    const g = bank.group[w]!;
    let bits =
      pendingBits(bank, w) &
      bank.enabled[w]! &
      ~bank.active[w]! &
      ((groups & FORWARD_GROUP1 ? g : 0) | (groups & FORWARD_GROUP0 ? ~g : 0));
    while (bits !== 0) {
      const b = 31 - Math.clz32(bits & -bits);
      bits &= bits - 1;
      const intid = w * 32 + b;
      const priority = bank.priority[intid]!;
      if (priority >= bestPriority) continue;
      if (w > 0 && !routedTo(intid)) continue;
      bestIntid = intid;
      bestPriority = priority;
    }
  }
  if (bestIntid < 0) return null;
  const bank = gic.bankFor(vcpu, bestIntid);
  const group = (bank.group[bestIntid >>> 5]! >>> (bestIntid & 31)) & 1;
  return { intid: bestIntid, priority: bestPriority, group };
}

/** Sets a vCPU's IRQ and FIQ outputs, and reports each that changed. */
export function setOutputLines(
  s: GicState,
  vcpu: number,
  irq: boolean,
  fiq: boolean,
  onIrqLineChange: (vcpu: number, level: boolean) => void,
  onFiqLineChange: ((vcpu: number, level: boolean) => void) | undefined,
): void {
  if ((s.irqLine[vcpu] !== 0) !== irq) {
    s.irqLine[vcpu] = irq ? 1 : 0;
    onIrqLineChange(vcpu, irq);
  }
  if ((s.fiqLine[vcpu] !== 0) !== fiq) {
    s.fiqLine[vcpu] = fiq ? 1 : 0;
    onFiqLineChange?.(vcpu, fiq);
  }
}

// ---- priorities in the CPU interface ----

/** The running priority with nothing active. */
export const PRIORITY_IDLE = 0xff;

/** The group priority: the bits above the binary point for this group. */
export function groupPriority(cpu: GicCpuInterfaceState, group: number, priority: number): number {
  const point = group === 0 || cpu.cbpr ? cpu.bpr0 + 1 : cpu.bpr1;
  return priority & (0xff << point) & 0xff;
}

/** The running priority: the group priority of the highest active priority, or idle. */
export function runningPriority(cpu: GicCpuInterfaceState): number {
  const all = cpu.activePriorities0 | cpu.activePriorities1;
  if (all === 0) return PRIORITY_IDLE;
  return (31 - Math.clz32(all & -all)) << (8 - PRIORITY_BITS);
}

/** Higher than the priority mask, and its group priority higher than the running priority. */
export function canSignal(cpu: GicCpuInterfaceState, c: Candidate): boolean {
  return c.priority < cpu.pmr && groupPriority(cpu, c.group, c.priority) < runningPriority(cpu);
}

/** An acknowledge: `c` becomes active, and its group priority an active priority. */
export function activate(gic: GicContext, vcpu: number, cpu: GicCpuInterfaceState, c: Candidate): void {
  gic.bankFor(vcpu, c.intid).active[c.intid >>> 5]! |= 1 << (c.intid & 31);
  const level = 1 << (groupPriority(cpu, c.group, c.priority) >>> (8 - PRIORITY_BITS));
  if (c.group === 0) cpu.activePriorities0 = (cpu.activePriorities0 | level) >>> 0;
  else cpu.activePriorities1 = (cpu.activePriorities1 | level) >>> 0;
}
