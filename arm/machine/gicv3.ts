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

import { ConfigError } from "../../src/errors.ts";
import { type FdtNode, u64Cells } from "../../src/lib/fdt/tree.ts";
import type { TrapBus } from "../../src/iotrap/bus.ts";
import type { IrqSink } from "../../src/irq.ts";

// ---- machine layout (kvmtool: arm/include/arm-common/kvm-arch.h) ----

/** The Distributor's guest-physical base; it ends exactly at 1 GiB. */
export const GIC_DIST_BASE = 0x3fff_0000;
export const GIC_DIST_SIZE_BYTES = 0x1_0000;
/** One Redistributor: the RD_base frame, then the SGI_base frame. */
export const GIC_REDIST_FRAME_BYTES = 0x1_0000;
export const GIC_REDIST_SIZE_BYTES = 2 * GIC_REDIST_FRAME_BYTES;
/** The device-tree phandle every interrupt-parent refers to (kvmtool's PHANDLE_GIC). */
export const GIC_PHANDLE = 1;
/** The limit of this model (the brief of the machine), not of the architecture. */
export const GIC_MAX_VCPUS = 64;

/** The Redistributors sit directly below the Distributor, one 128 KiB block per vCPU. */
export function gicRedistBase(vcpuCount: number, distBase = GIC_DIST_BASE): number {
  return distBase - vcpuCount * GIC_REDIST_SIZE_BYTES;
}

// ---- INTID space ----

export const GIC_SGI_COUNT = 16;
export const GIC_PPI_BASE_INTID = 16;
export const GIC_SPI_BASE_INTID = 32;
/** INTIDs 1020-1023 are special; 1023 is "no pending interrupt" (spurious). */
export const GIC_SPECIAL_INTID_BASE = 1020;
export const GIC_SPURIOUS_INTID = 1023;
/** SPIs come in blocks of 32 (GICD_TYPER.ITLinesNumber); 960 is the most below INTID 1020. */
export const GIC_MAX_SPI_COUNT = 960;
/** kvmtool's GIC_MAX_IRQ is 255, so INTIDs 32-255. */
export const GIC_DEFAULT_SPI_COUNT = 224;
/** The generic timer's PPIs as kvmtool's DT describes them (level-sensitive). */
export const GIC_PPI_VIRT_TIMER_INTID = 27;
export const GIC_PPI_PHYS_TIMER_INTID = 30;

// ---- register values ----

// GICD_CTLR with DS = 1.
const GICD_CTLR_ENABLE_GRP0 = 1 << 0;
const GICD_CTLR_ENABLE_GRP1 = 1 << 1;
const GICD_CTLR_ARE = 1 << 4;
const GICD_CTLR_DS = 1 << 6;
const GICD_CTLR_WRITABLE = GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1;
const GICD_CTLR_RAO = GICD_CTLR_ARE | GICD_CTLR_DS;

// GICD_TYPER fields (CPUNumber stays 0: ARE cannot be cleared, so no legacy CPU numbers).
const GICD_TYPER_IDBITS_SHIFT = 19;
const GICD_TYPER_A3V = 1 << 24;
const GICD_TYPER_RSS = 1 << 26;
/** 10 INTID bits (0-1023) when there are no LPIs: IDbits is "bits minus one". */
const INTID_BITS_NO_LPIS = 10;

/** GICD_IIDR and GICR_IIDR: Arm's JEP106 code (0x43B), ProductID 'L' for lkvm, revision 0. */
const GIC_IIDR_VALUE = (0x4c << 24) | 0x43b;
/** GICD_PIDR2 and GICR_PIDR2: ArchRev 3 (GICv3) in bits [7:4], JEDEC bit and Arm's JEP106 bits. */
const GIC_PIDR2_VALUE = 0x3b;

// GICR_TYPER (low word; the high word is the affinity value).
const GICR_TYPER_LAST = 1 << 4;
const GICR_TYPER_PROCESSOR_NUMBER_SHIFT = 8;

// GICR_WAKER.
const GICR_WAKER_PROCESSOR_SLEEP = 1 << 1;
const GICR_WAKER_CHILDREN_ASLEEP = 1 << 2;

// GICD_IROUTER (low word; the high word holds Aff3 in bits [7:0]).
const GICD_IROUTER_IRM = 1 << 31;
const GICD_IROUTER_AFF210_MASK = 0x00ff_ffff;

// Priorities: 5 implemented bits.
const PRIORITY_BITS = 5;
const PRIORITY_MASK = (0xff << (8 - PRIORITY_BITS)) & 0xff; // 0xf8
const PRIORITY_IDLE = 0xff; // ICC_RPR_EL1 with nothing active
const BPR0_MIN = 8 - PRIORITY_BITS - 1; // 2: group priority bits [7:3]
const BPR1_MIN = BPR0_MIN + 1; // 3: the same split for Group 1

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

// ---- register tables ----

export type GicRegisterAccess = "rw" | "ro" | "wo" | "razwi";

/** One register, or an array of equal registers (IPRIORITYR<n>), in a frame. */
export interface GicRegister {
  readonly name: string;
  /** Byte offset of instance `firstIndex` within its frame (or Redistributor block). */
  readonly offset: number;
  /** Number of instances; 1 for a plain register. */
  readonly count: number;
  /** The architectural width of one instance; 64-bit ones are taken as 32-bit halves. */
  readonly widthBytes: 4 | 8;
  /** 8-bit accesses allowed (the spec's byte-accessible registers). */
  readonly byteAccess: boolean;
  readonly access: GicRegisterAccess;
  /** The `<n>` of the first instance (GICD_IROUTER starts at n = 32). */
  readonly firstIndex: number;
  /** Reset value where it is one constant for the register. */
  readonly reset?: number;
}

function reg<N extends string>(
  name: N,
  offset: number,
  access: GicRegisterAccess,
  more: Partial<Omit<GicRegister, "name" | "offset" | "access">> = {},
): GicRegister & { readonly name: N } {
  return { name, offset, access, count: 1, widthBytes: 4, byteAccess: false, firstIndex: 0, ...more };
}

/** Distributor registers (offsets from GICD base). Anything else is RAZ/WI. */
export const GICD_REGISTERS = [
  reg("GICD_CTLR", 0x0000, "rw", { reset: GICD_CTLR_RAO }),
  reg("GICD_TYPER", 0x0004, "ro"),
  reg("GICD_IIDR", 0x0008, "ro", { reset: GIC_IIDR_VALUE }),
  reg("GICD_TYPER2", 0x000c, "ro", { reset: 0 }),
  reg("GICD_STATUSR", 0x0010, "razwi"),
  reg("GICD_IGROUPR", 0x0080, "rw", { count: 32 }),
  reg("GICD_ISENABLER", 0x0100, "rw", { count: 32 }),
  reg("GICD_ICENABLER", 0x0180, "rw", { count: 32 }),
  reg("GICD_ISPENDR", 0x0200, "rw", { count: 32 }),
  reg("GICD_ICPENDR", 0x0280, "rw", { count: 32 }),
  reg("GICD_ISACTIVER", 0x0300, "rw", { count: 32 }),
  reg("GICD_ICACTIVER", 0x0380, "rw", { count: 32 }),
  reg("GICD_IPRIORITYR", 0x0400, "rw", { count: 255, byteAccess: true }),
  reg("GICD_ITARGETSR", 0x0800, "razwi", { count: 255, byteAccess: true }),
  reg("GICD_ICFGR", 0x0c00, "rw", { count: 64 }),
  reg("GICD_IGRPMODR", 0x0d00, "razwi", { count: 32 }),
  reg("GICD_NSACR", 0x0e00, "razwi", { count: 64 }),
  reg("GICD_SGIR", 0x0f00, "razwi"),
  reg("GICD_CPENDSGIR", 0x0f10, "razwi", { count: 4, byteAccess: true }),
  reg("GICD_SPENDSGIR", 0x0f20, "razwi", { count: 4, byteAccess: true }),
  reg("GICD_IROUTER", 0x6100, "rw", { count: 1020 - 32, widthBytes: 8, firstIndex: 32 }),
  reg("GICD_PIDR2", 0xffe8, "ro", { reset: GIC_PIDR2_VALUE }),
] as const;

const SGI = GIC_REDIST_FRAME_BYTES; // the SGI_base frame, after RD_base

/** Redistributor registers (offsets from the Redistributor's RD_base). Anything else is RAZ/WI. */
export const GICR_REGISTERS = [
  // RD_base: EnableLPIs, RWP and the DPG bits are all RES0 here, so GICR_CTLR reads 0.
  reg("GICR_CTLR", 0x0000, "razwi"),
  reg("GICR_IIDR", 0x0004, "ro", { reset: GIC_IIDR_VALUE }),
  reg("GICR_TYPER", 0x0008, "ro", { widthBytes: 8 }),
  reg("GICR_STATUSR", 0x0010, "razwi"),
  reg("GICR_WAKER", 0x0014, "rw", {
    reset: GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP,
  }),
  reg("GICR_PROPBASER", 0x0070, "razwi", { widthBytes: 8 }),
  reg("GICR_PENDBASER", 0x0078, "razwi", { widthBytes: 8 }),
  reg("GICR_PIDR2", 0xffe8, "ro", { reset: GIC_PIDR2_VALUE }),
  // SGI_base.
  reg("GICR_IGROUPR0", SGI + 0x0080, "rw"),
  reg("GICR_ISENABLER0", SGI + 0x0100, "rw"),
  reg("GICR_ICENABLER0", SGI + 0x0180, "rw"),
  reg("GICR_ISPENDR0", SGI + 0x0200, "rw"),
  reg("GICR_ICPENDR0", SGI + 0x0280, "rw"),
  reg("GICR_ISACTIVER0", SGI + 0x0300, "rw"),
  reg("GICR_ICACTIVER0", SGI + 0x0380, "rw"),
  reg("GICR_IPRIORITYR", SGI + 0x0400, "rw", { count: 8, byteAccess: true }),
  reg("GICR_ICFGR0", SGI + 0x0c00, "ro", { reset: 0xaaaa_aaaa }), // SGIs: always edge
  reg("GICR_ICFGR1", SGI + 0x0c04, "rw", { reset: 0 }),
  reg("GICR_IGRPMODR0", SGI + 0x0d00, "razwi"),
  reg("GICR_NSACR", SGI + 0x0e00, "razwi"),
] as const;

type GicdName = (typeof GICD_REGISTERS)[number]["name"];
type GicrName = (typeof GICR_REGISTERS)[number]["name"];

/** op0=3, op1=0, CRn, CRm, op2 packed as MRS/MSR bits [20:5] (arm/core/sysregs.ts `enc`). */
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

/** Finds the register (and instance) at a byte offset of a frame in O(1). */
class RegisterMap {
  /** Table index + 1 for every 32-bit word of the frame; 0 where nothing is. */
  private readonly byWord: Uint8Array;

  constructor(
    readonly table: readonly GicRegister[],
    sizeBytes: number,
  ) {
    if (table.length > 254) throw new Error("register table too long for its index");
    this.byWord = new Uint8Array(sizeBytes / 4);
    table.forEach((r, i) => {
      const words = (r.count * r.widthBytes) / 4;
      for (let w = 0; w < words; w++) {
        const at = r.offset / 4 + w;
        if (this.byWord[at] !== 0) throw new Error(`${r.name} overlaps another register`);
        this.byWord[at] = i + 1;
      }
    });
  }

  find(offset: number): GicRegister | undefined {
    const i = this.byWord[offset >>> 2];
    return i ? this.table[i - 1] : undefined;
  }

  /** "GICD_IPRIORITYR8", "GICR_TYPER", or undefined for an unassigned offset. */
  nameAt(offset: number): string | undefined {
    const r = this.find(offset);
    if (r === undefined) return undefined;
    if (r.count === 1) return r.name;
    return `${r.name}${r.firstIndex + Math.floor((offset - r.offset) / r.widthBytes)}`;
  }
}

const GICD_MAP = new RegisterMap(GICD_REGISTERS, GIC_DIST_SIZE_BYTES);
const GICR_MAP = new RegisterMap(GICR_REGISTERS, GIC_REDIST_SIZE_BYTES);

/** The register name at an offset, for tracers: `frame` "redist" takes offsets from any RD_base. */
export function gicv3RegisterName(frame: "dist" | "redist", offset: number): string | undefined {
  if (frame === "dist") return offset < GIC_DIST_SIZE_BYTES ? GICD_MAP.nameAt(offset) : undefined;
  return GICR_MAP.nameAt(offset % GIC_REDIST_SIZE_BYTES);
}

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

function newBank(words: number, intids: number, edgeWord0: number): GicIrqBank {
  const bank: GicIrqBank = {
    group: new Uint32Array(words).fill(0xffff_ffff),
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

/** A GIC's state straight after reset. */
export function gicResetState(vcpuCount: number, spiCount: number): GicState {
  const intids = GIC_SPI_BASE_INTID + spiCount;
  const words = intids / 32;
  const spis = newBank(words, intids, 0);
  spis.group[0] = 0; // INTIDs 0-31 live in the Redistributors
  return {
    distCtlr: 0,
    spis,
    spiRoute: new Uint32Array(intids),
    spiRouteAny: new Uint32Array(words),
    redistributors: Array.from({ length: vcpuCount }, () => ({
      bank: newBank(1, 32, (1 << GIC_SGI_COUNT) - 1), // SGIs are edge-triggered
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

/** KVM's MPIDR for a vCPU: Aff0 = id & 0xf, Aff1 = id >> 4 (bit 31 is RES1). */
export function kvmMpidr(vcpu: number): bigint {
  return (1n << 31n) | (BigInt((vcpu >> 4) & 0xff) << 8n) | BigInt(vcpu & 0xf);
}

/** MPIDR_EL1 affinity as the GIC packs it: Aff3 << 24 | Aff2 << 16 | Aff1 << 8 | Aff0. */
export function mpidrToAffinity(mpidrValue: bigint | number): number {
  const mpidr = BigInt(mpidrValue);
  return (Number(mpidr & 0xff_ffffn) | (Number((mpidr >> 32n) & 0xffn) << 24)) >>> 0;
}

// ---- the device ----

export interface Gicv3Options {
  /** Number of vCPUs, hence of Redistributors: 1 to 64. */
  vcpuCount: number;
  /** Number of SPIs (INTIDs 32 upward); a multiple of 32, at most 960. Default 224. */
  spiCount?: number;
  /** Guest-physical base of the Distributor; the Redistributors sit below it. */
  distBase?: number;
  /**
   * Each vCPU's MPIDR_EL1 (a number is fine: bits above the affinity fields are ignored);
   * defaults to KVM's assignment (`kvmMpidr`).
   */
  mpidr?: (vcpu: number) => bigint | number;
  /** The vCPU's IRQ input (IRQ_LINES bit 0) must follow `level`. Called only on changes. */
  onIrqLineChange: (vcpu: number, level: boolean) => void;
  /** The same for FIQ (Group 0 interrupts; Linux never uses them). */
  onFiqLineChange?: (vcpu: number, level: boolean) => void;
}

interface Candidate {
  intid: number;
  priority: number;
  group: number;
}

export class Gicv3 implements IrqSink {
  static readonly description = {
    name: "gicv3",
    level: "core",
    compatible: "arm,gic-v3",
  } as const;

  readonly vcpuCount: number;
  readonly spiCount: number;
  readonly distBase: number;
  readonly redistBase: number;
  private readonly intidCount: number;
  private readonly affinity: Uint32Array;
  private readonly vcpuByAffinity = new Map<number, number>();
  private readonly onIrqLineChange: (vcpu: number, level: boolean) => void;
  private readonly onFiqLineChange: ((vcpu: number, level: boolean) => void) | undefined;
  private state: GicState;

  constructor(options: Gicv3Options) {
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
    this.intidCount = GIC_SPI_BASE_INTID + spiCount;
    this.distBase = options.distBase ?? GIC_DIST_BASE;
    this.redistBase = gicRedistBase(vcpuCount, this.distBase);
    this.onIrqLineChange = options.onIrqLineChange;
    this.onFiqLineChange = options.onFiqLineChange;
    const mpidr = options.mpidr ?? kvmMpidr;
    this.affinity = new Uint32Array(vcpuCount);
    for (let v = 0; v < vcpuCount; v++) {
      const aff = mpidrToAffinity(mpidr(v));
      const other = this.vcpuByAffinity.get(aff);
      if (other !== undefined) throw new Error(`vCPUs ${other} and ${v} share affinity 0x${aff.toString(16)}`);
      this.affinity[v] = aff;
      this.vcpuByAffinity.set(aff, v);
    }
    this.state = gicResetState(vcpuCount, spiCount);
  }

  /** Claims the Distributor and the Redistributors on the trap bus. */
  register(bus: TrapBus): void {
    bus.register({
      bus: "mmio",
      base: this.distBase,
      sizeBytes: GIC_DIST_SIZE_BYTES,
      name: `gicv3-dist@0x${this.distBase.toString(16)}`,
      only32Bit: true,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) =>
        this.distAccess(offset, data, lengthBytes, isWrite),
    });
    bus.register({
      bus: "mmio",
      base: this.redistBase,
      sizeBytes: this.vcpuCount * GIC_REDIST_SIZE_BYTES,
      name: `gicv3-redist@0x${this.redistBase.toString(16)}`,
      only32Bit: true,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) =>
        this.redistAccess(offset, data, lengthBytes, isWrite),
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
      .prop("phandle", [GIC_PHANDLE])
      .prop("#address-cells", [2])
      .prop("#size-cells", [2]);
  }

  // ---- interrupt inputs ----

  /** Drives an SPI's input (KVM_IRQ_LINE). Edge-triggered SPIs latch on a rising edge. */
  setLevel(intid: number, level: boolean): void {
    if (!Number.isInteger(intid) || intid < GIC_SPI_BASE_INTID || intid >= this.intidCount) {
      throw new RangeError(`INTID ${intid} is not one of this GIC's SPIs (32-${this.intidCount - 1})`);
    }
    if (this.driveLine(this.state.spis, intid, level)) this.updateLines();
  }

  /** Drives a vCPU's PPI input (the timers: 27 virtual, 30 physical). */
  setPpiLevel(vcpu: number, intid: number, level: boolean): void {
    this.checkVcpu(vcpu);
    if (!Number.isInteger(intid) || intid < GIC_PPI_BASE_INTID || intid >= GIC_SPI_BASE_INTID) {
      throw new RangeError(`INTID ${intid} is not a PPI (16-31)`);
    }
    if (this.driveLine(this.state.redistributors[vcpu]!.bank, intid, level)) this.updateLines();
  }

  /** Whether the GIC is signalling IRQ to a vCPU (the level last reported). */
  irqLevel(vcpu: number): boolean {
    this.checkVcpu(vcpu);
    return this.state.irqLine[vcpu] !== 0;
  }

  /** Whether the GIC is signalling FIQ to a vCPU. */
  fiqLevel(vcpu: number): boolean {
    this.checkVcpu(vcpu);
    return this.state.fiqLine[vcpu] !== 0;
  }

  /** Returns whether anything changed. */
  private driveLine(bank: GicIrqBank, intid: number, level: boolean): boolean {
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

  // ---- the CPU interface (CoreHost.sysreg) ----

  /**
   * An ICC_* access by a vCPU: `encoding` is op0<<14|op1<<11|CRn<<7|CRm<<3|op2. Returns the
   * value read (0n for a write), or undefined when the access is UNDEFINED: an encoding this
   * CPU interface lacks, a read of a write-only register or a write to a read-only one.
   */
  sysreg(vcpu: number, encoding: number, isWrite: boolean, value: bigint): bigint | undefined {
    this.checkVcpu(vcpu);
    const r = ICC_BY_ENCODING.get(encoding);
    if (r === undefined || r.access === (isWrite ? "ro" : "wo")) return undefined;
    if (!isWrite) return BigInt(this.readIcc(vcpu, r.name) >>> 0);
    this.writeIcc(vcpu, r.name, Number(value & 0xffff_ffffn) >>> 0, Number(value >> 32n) >>> 0);
    this.updateLines();
    return 0n;
  }

  private readIcc(vcpu: number, name: IccName): number {
    const cpu = this.state.cpuInterfaces[vcpu]!;
    switch (name) {
      case "ICC_PMR_EL1":
        return cpu.pmr;
      case "ICC_IAR0_EL1":
        return this.acknowledge(vcpu, 0);
      case "ICC_IAR1_EL1":
        return this.acknowledge(vcpu, 1);
      case "ICC_HPPIR0_EL1":
      case "ICC_HPPIR1_EL1": {
        const hppi = this.highestPending(vcpu);
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
        return this.runningPriority(cpu);
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

  private writeIcc(vcpu: number, name: IccName, lo: number, hi: number): void {
    const cpu = this.state.cpuInterfaces[vcpu]!;
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
    const cpu = this.state.cpuInterfaces[vcpu]!;
    const hppi = this.highestPending(vcpu);
    if (hppi === null || hppi.group !== group || !this.canSignal(cpu, hppi)) {
      return GIC_SPURIOUS_INTID;
    }
    const bank = this.bankFor(vcpu, hppi.intid);
    const w = hppi.intid >>> 5;
    const bit = 1 << (hppi.intid & 31);
    bank.pendingLatch[w]! &= ~bit; // a level-sensitive one stays pending while its line is high
    bank.active[w]! |= bit;
    const level = 1 << (this.groupPriority(cpu, hppi.group, hppi.priority) >>> (8 - PRIORITY_BITS));
    if (group === 0) cpu.activePriorities0 = (cpu.activePriorities0 | level) >>> 0;
    else cpu.activePriorities1 = (cpu.activePriorities1 | level) >>> 0;
    this.updateLines();
    return hppi.intid;
  }

  /** ICC_EOIR<group>_EL1: drop the running priority, and deactivate unless EOImode splits it. */
  private endOfInterrupt(vcpu: number, group: number, intid: number): void {
    if (intid >= GIC_SPECIAL_INTID_BASE && intid <= GIC_SPURIOUS_INTID) return;
    const cpu = this.state.cpuInterfaces[vcpu]!;
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
    if (intid >= this.intidCount) return;
    const bank = this.bankFor(vcpu, intid);
    bank.active[intid >>> 5]! &= ~(1 << (intid & 31));
  }

  /** ICC_SGI<group>R_EL1 from `self`: pend the SGI on each target whose SGI is in `group`. */
  private generateSgi(self: number, group: number, lo: number, hi: number): void {
    const intid = (lo >>> SGIR_INTID_SHIFT) & 0xf;
    const bit = 1 << intid;
    const pend = (target: number): void => {
      const bank = this.state.redistributors[target]!.bank;
      const targetGroup = bank.group[0]! & bit ? 1 : 0;
      if (targetGroup === group) bank.pendingLatch[0]! |= bit;
    };
    if (hi & SGIR_HI_IRM) {
      for (let v = 0; v < this.vcpuCount; v++) if (v !== self) pend(v);
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
      const target = this.vcpuByAffinity.get((cluster | (rangeBase + n)) >>> 0);
      if (target !== undefined) pend(target); // a bit naming no PE is ignored
    }
  }

  // ---- priority ----

  /** The group priority: the bits above the binary point for this group. */
  private groupPriority(cpu: GicCpuInterfaceState, group: number, priority: number): number {
    const point = group === 0 || cpu.cbpr ? cpu.bpr0 + 1 : cpu.bpr1;
    return priority & (0xff << point) & 0xff;
  }

  /** ICC_RPR_EL1: the group priority of the highest active priority, or idle. */
  private runningPriority(cpu: GicCpuInterfaceState): number {
    const all = cpu.activePriorities0 | cpu.activePriorities1;
    if (all === 0) return PRIORITY_IDLE;
    return (31 - Math.clz32(all & -all)) << (8 - PRIORITY_BITS);
  }

  /** Higher than the priority mask, and its group priority higher than the running priority. */
  private canSignal(cpu: GicCpuInterfaceState, c: Candidate): boolean {
    return c.priority < cpu.pmr && this.groupPriority(cpu, c.group, c.priority) < this.runningPriority(cpu);
  }

  /**
   * The highest priority interrupt this vCPU could take: pending, enabled, not active, of a
   * group enabled in both GICD_CTLR and this CPU interface, and (SPIs) routed here. Ties go
   * to the lower INTID.
   */
  private highestPending(vcpu: number): Candidate | null {
    const s = this.state;
    const cpu = s.cpuInterfaces[vcpu]!;
    const group1 = (s.distCtlr & GICD_CTLR_ENABLE_GRP1) !== 0 && cpu.groupEnable1;
    const group0 = (s.distCtlr & GICD_CTLR_ENABLE_GRP0) !== 0 && cpu.groupEnable0;
    if (!group0 && !group1) return null;
    let bestIntid = -1;
    let bestPriority = 0x100;
    const words = this.intidCount / 32;
    // Word 0 is this vCPU's SGIs and PPIs; words 1.. are the SPIs.
    for (let w = 0; w < words; w++) {
      const bank = w === 0 ? s.redistributors[vcpu]!.bank : s.spis;
      const g = bank.group[w]!;
      let bits =
        pendingBits(bank, w) &
        bank.enabled[w]! &
        ~bank.active[w]! &
        ((group1 ? g : 0) | (group0 ? ~g : 0));
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const intid = w * 32 + b;
        const priority = bank.priority[intid]!;
        if (priority >= bestPriority) continue;
        if (w > 0 && !this.routedTo(intid, vcpu)) continue;
        bestIntid = intid;
        bestPriority = priority;
      }
    }
    if (bestIntid < 0) return null;
    const bank = this.bankFor(vcpu, bestIntid);
    const group = (bank.group[bestIntid >>> 5]! >>> (bestIntid & 31)) & 1;
    return { intid: bestIntid, priority: bestPriority, group };
  }

  /** GICD_IROUTER: 1 of N (any vCPU), or the vCPU whose affinity it names. */
  private routedTo(intid: number, vcpu: number): boolean {
    const s = this.state;
    if (s.spiRouteAny[intid >>> 5]! & (1 << (intid & 31))) return true;
    return s.spiRoute[intid] === this.affinity[vcpu];
  }

  /** Recomputes every vCPU's IRQ and FIQ from state and reports the ones that changed. */
  private updateLines(): void {
    const s = this.state;
    for (let v = 0; v < this.vcpuCount; v++) {
      const hppi = this.highestPending(v);
      const signal = hppi !== null && this.canSignal(s.cpuInterfaces[v]!, hppi);
      const irq = signal && hppi.group === 1 ? 1 : 0;
      const fiq = signal && hppi.group === 0 ? 1 : 0;
      if (s.irqLine[v] !== irq) {
        s.irqLine[v] = irq;
        this.onIrqLineChange(v, irq === 1);
      }
      if (s.fiqLine[v] !== fiq) {
        s.fiqLine[v] = fiq;
        this.onFiqLineChange?.(v, fiq === 1);
      }
    }
  }

  // ---- memory-mapped frames ----

  private distAccess(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    const r = GICD_MAP.find(offset);
    if (r === undefined || !accessFits(r, offset, lengthBytes) || r.access === "razwi") return;
    const name = r.name as GicdName;
    if (isWrite) {
      if (r.access === "ro") return;
      this.writeDist(name, r, offset, data, lengthBytes);
      this.updateLines();
    } else if (r.access !== "wo") {
      this.readDist(name, r, offset, data, lengthBytes);
    }
  }

  private readDist(name: GicdName, r: GicRegister, offset: number, data: Uint8Array, lengthBytes: number): void {
    const s = this.state;
    const n = (offset - r.offset) / r.widthBytes; // instance, may be fractional for 64-bit halves
    const w = Math.floor(n);
    switch (name) {
      case "GICD_CTLR":
        return putU32(data, s.distCtlr | GICD_CTLR_RAO);
      case "GICD_TYPER":
        return putU32(
          data,
          (this.intidCount / 32 - 1) |
            ((INTID_BITS_NO_LPIS - 1) << GICD_TYPER_IDBITS_SHIFT) |
            GICD_TYPER_A3V |
            GICD_TYPER_RSS,
        );
      case "GICD_IIDR":
      case "GICD_TYPER2":
      case "GICD_PIDR2":
        return putU32(data, r.reset!);
      case "GICD_IGROUPR":
      case "GICD_ISENABLER":
      case "GICD_ICENABLER":
      case "GICD_ISPENDR":
      case "GICD_ICPENDR":
      case "GICD_ISACTIVER":
      case "GICD_ICACTIVER":
        if (!this.spiWord(w)) return;
        return putU32(data, readBits(s.spis, name, w));
      case "GICD_IPRIORITYR":
        for (let i = 0; i < lengthBytes; i++) {
          const intid = offset - r.offset + i;
          if (this.isSpi(intid)) data[i] = s.spis.priority[intid]!;
        }
        return;
      case "GICD_ICFGR": {
        if (!this.spiWord(w >>> 1)) return;
        return putU32(data, readConfig(s.spis, w));
      }
      case "GICD_IROUTER": {
        const intid = r.firstIndex + w;
        if (!this.isSpi(intid)) return;
        const route = s.spiRoute[intid]!;
        if (offset % 8 === 4) return putU32(data, route >>> 24); // Aff3
        const irm = s.spiRouteAny[intid >>> 5]! & (1 << (intid & 31)) ? GICD_IROUTER_IRM : 0;
        return putU32(data, (route & GICD_IROUTER_AFF210_MASK) | irm);
      }
      default:
        return; // RAZ
    }
  }

  private writeDist(name: GicdName, r: GicRegister, offset: number, data: Uint8Array, lengthBytes: number): void {
    const s = this.state;
    const w = Math.floor((offset - r.offset) / r.widthBytes);
    const value = getU32(data, lengthBytes);
    switch (name) {
      case "GICD_CTLR":
        s.distCtlr = value & GICD_CTLR_WRITABLE;
        return;
      case "GICD_IGROUPR":
      case "GICD_ISENABLER":
      case "GICD_ICENABLER":
      case "GICD_ISPENDR":
      case "GICD_ICPENDR":
      case "GICD_ISACTIVER":
      case "GICD_ICACTIVER":
        if (this.spiWord(w)) writeBits(s.spis, name, w, value);
        return;
      case "GICD_IPRIORITYR":
        for (let i = 0; i < lengthBytes; i++) {
          const intid = offset - r.offset + i;
          if (this.isSpi(intid)) s.spis.priority[intid] = data[i]! & PRIORITY_MASK;
        }
        return;
      case "GICD_ICFGR":
        if (this.spiWord(w >>> 1)) writeConfig(s.spis, w, value);
        return;
      case "GICD_IROUTER": {
        const intid = r.firstIndex + w;
        if (!this.isSpi(intid)) return;
        const route = s.spiRoute[intid]!;
        if (offset % 8 === 4) {
          s.spiRoute[intid] = ((route & GICD_IROUTER_AFF210_MASK) | ((value & 0xff) << 24)) >>> 0;
          return;
        }
        s.spiRoute[intid] = ((route & ~GICD_IROUTER_AFF210_MASK) | (value & GICD_IROUTER_AFF210_MASK)) >>> 0;
        const bit = 1 << (intid & 31);
        if (value & GICD_IROUTER_IRM) s.spiRouteAny[intid >>> 5]! |= bit;
        else s.spiRouteAny[intid >>> 5]! &= ~bit;
        return;
      }
      default:
        return; // WI
    }
  }

  private redistAccess(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    const vcpu = Math.floor(offset / GIC_REDIST_SIZE_BYTES);
    const inFrame = offset % GIC_REDIST_SIZE_BYTES;
    const r = GICR_MAP.find(inFrame);
    if (r === undefined || !accessFits(r, inFrame, lengthBytes) || r.access === "razwi") return;
    const name = r.name as GicrName;
    if (isWrite) {
      if (r.access === "ro") return;
      this.writeRedist(vcpu, name, r, inFrame, data, lengthBytes);
      this.updateLines();
    } else if (r.access !== "wo") {
      this.readRedist(vcpu, name, r, inFrame, data, lengthBytes);
    }
  }

  private readRedist(
    vcpu: number,
    name: GicrName,
    r: GicRegister,
    offset: number,
    data: Uint8Array,
    lengthBytes: number,
  ): void {
    const rd = this.state.redistributors[vcpu]!;
    const bank = rd.bank;
    switch (name) {
      case "GICR_IIDR":
      case "GICR_PIDR2":
      case "GICR_ICFGR0":
        return putU32(data, r.reset!);
      case "GICR_TYPER":
        if (offset % 8 === 4) return putU32(data, this.affinity[vcpu]!);
        return putU32(
          data,
          (vcpu << GICR_TYPER_PROCESSOR_NUMBER_SHIFT) | (vcpu === this.vcpuCount - 1 ? GICR_TYPER_LAST : 0),
        );
      case "GICR_WAKER":
        return putU32(data, rd.processorSleep ? GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP : 0);
      case "GICR_IGROUPR0":
      case "GICR_ISENABLER0":
      case "GICR_ICENABLER0":
      case "GICR_ISPENDR0":
      case "GICR_ICPENDR0":
      case "GICR_ISACTIVER0":
      case "GICR_ICACTIVER0":
        return putU32(data, readBits(bank, name, 0));
      case "GICR_IPRIORITYR":
        for (let i = 0; i < lengthBytes; i++) data[i] = bank.priority[offset - r.offset + i]!;
        return;
      case "GICR_ICFGR1":
        return putU32(data, readConfig(bank, 1));
      default:
        return; // RAZ
    }
  }

  private writeRedist(
    vcpu: number,
    name: GicrName,
    r: GicRegister,
    offset: number,
    data: Uint8Array,
    lengthBytes: number,
  ): void {
    const rd = this.state.redistributors[vcpu]!;
    const bank = rd.bank;
    const value = getU32(data, lengthBytes);
    switch (name) {
      case "GICR_WAKER":
        rd.processorSleep = (value & GICR_WAKER_PROCESSOR_SLEEP) !== 0;
        return;
      case "GICR_IGROUPR0":
      case "GICR_ISENABLER0":
      case "GICR_ICENABLER0":
      case "GICR_ISPENDR0":
      case "GICR_ICPENDR0":
      case "GICR_ISACTIVER0":
      case "GICR_ICACTIVER0":
        writeBits(bank, name, 0, value);
        return;
      case "GICR_IPRIORITYR":
        for (let i = 0; i < lengthBytes; i++) bank.priority[offset - r.offset + i] = data[i]! & PRIORITY_MASK;
        return;
      case "GICR_ICFGR1":
        writeConfig(bank, 1, value);
        return;
      default:
        return; // WI
    }
  }

  // ---- helpers ----

  /** The bank holding an INTID as `vcpu` sees it: its Redistributor's, or the SPIs. */
  private bankFor(vcpu: number, intid: number): GicIrqBank {
    return intid < GIC_SPI_BASE_INTID ? this.state.redistributors[vcpu]!.bank : this.state.spis;
  }

  private isSpi(intid: number): boolean {
    return intid >= GIC_SPI_BASE_INTID && intid < this.intidCount;
  }

  /** A GICD bit-array word that holds SPIs (word 0 is the Redistributors' with ARE set). */
  private spiWord(w: number): boolean {
    return w >= 1 && w < this.intidCount / 32;
  }

  private checkVcpu(vcpu: number): void {
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.vcpuCount) {
      throw new RangeError(`vCPU ${vcpu} does not exist (the GIC has ${this.vcpuCount})`);
    }
  }
}

// ---- register helpers shared by the Distributor and the Redistributors ----

/** The bit-array registers: which state each one shows and what a write does to it. */
type BitField = "group" | "enabled" | "pendingLatch" | "active";
type BitArrayName =
  | "GICD_IGROUPR" | "GICD_ISENABLER" | "GICD_ICENABLER" | "GICD_ISPENDR" | "GICD_ICPENDR"
  | "GICD_ISACTIVER" | "GICD_ICACTIVER"
  | "GICR_IGROUPR0" | "GICR_ISENABLER0" | "GICR_ICENABLER0" | "GICR_ISPENDR0" | "GICR_ICPENDR0"
  | "GICR_ISACTIVER0" | "GICR_ICACTIVER0";

const BIT_ARRAYS: Record<BitArrayName, { field: BitField; write: "store" | "set" | "clear" }> = {
  GICD_IGROUPR: { field: "group", write: "store" },
  GICD_ISENABLER: { field: "enabled", write: "set" },
  GICD_ICENABLER: { field: "enabled", write: "clear" },
  GICD_ISPENDR: { field: "pendingLatch", write: "set" },
  GICD_ICPENDR: { field: "pendingLatch", write: "clear" },
  GICD_ISACTIVER: { field: "active", write: "set" },
  GICD_ICACTIVER: { field: "active", write: "clear" },
  GICR_IGROUPR0: { field: "group", write: "store" },
  GICR_ISENABLER0: { field: "enabled", write: "set" },
  GICR_ICENABLER0: { field: "enabled", write: "clear" },
  GICR_ISPENDR0: { field: "pendingLatch", write: "set" },
  GICR_ICPENDR0: { field: "pendingLatch", write: "clear" },
  GICR_ISACTIVER0: { field: "active", write: "set" },
  GICR_ICACTIVER0: { field: "active", write: "clear" },
};

/** Pending: the latch, or a level-sensitive input that is high. */
function pendingBits(bank: GicIrqBank, w: number): number {
  return bank.pendingLatch[w]! | (bank.lineLevel[w]! & ~bank.edge[w]!);
}

function readBits(bank: GicIrqBank, name: BitArrayName, w: number): number {
  const { field } = BIT_ARRAYS[name];
  return (field === "pendingLatch" ? pendingBits(bank, w) : bank[field][w]!) >>> 0;
}

/**
 * IGROUPR stores the word; IS* set the bits written as 1; IC* clear them. ICPENDR clears only
 * the latch, so a level-sensitive interrupt whose input is high stays pending.
 */
function writeBits(bank: GicIrqBank, name: BitArrayName, w: number, value: number): void {
  const { field, write } = BIT_ARRAYS[name];
  const words = bank[field];
  if (write === "store") words[w] = value;
  else if (write === "set") words[w]! |= value;
  else words[w]! &= ~value;
}

/** ICFGR<n>: two bits per INTID for INTIDs 16n..16n+15; bit 2m+1 set means edge. */
function readConfig(bank: GicIrqBank, n: number): number {
  const word = bank.edge[n >>> 1]!;
  const half = (word >>> ((n & 1) * 16)) & 0xffff;
  let value = 0;
  for (let m = 0; m < 16; m++) if (half & (1 << m)) value |= 2 << (2 * m);
  return value >>> 0;
}

function writeConfig(bank: GicIrqBank, n: number, value: number): void {
  let half = 0;
  for (let m = 0; m < 16; m++) if (value & (2 << (2 * m))) half |= 1 << m;
  const shift = (n & 1) * 16;
  const w = n >>> 1;
  bank.edge[w] = ((bank.edge[w]! & ~(0xffff << shift)) | (half << shift)) >>> 0;
}

/** 32-bit accesses at 4-byte alignment anywhere; bytes only where the spec allows them. */
function accessFits(r: GicRegister, offset: number, lengthBytes: number): boolean {
  if (lengthBytes === 4) return offset % 4 === 0;
  return lengthBytes === 1 && r.byteAccess;
}

function putU32(data: Uint8Array, value: number): void {
  data[0] = value & 0xff;
  data[1] = (value >>> 8) & 0xff;
  data[2] = (value >>> 16) & 0xff;
  data[3] = (value >>> 24) & 0xff;
}

function getU32(data: Uint8Array, lengthBytes: number): number {
  if (lengthBytes === 1) return data[0]!;
  return (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
}
