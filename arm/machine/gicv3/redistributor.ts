// The Redistributors (GICR_*), one per vCPU: each holds its vCPU's SGIs and PPIs, and presents
// its CPU interface with the highest priority pending interrupt among those and the SPIs the
// Distributor routes to it.

import { GIC_REDIST_SIZE_BYTES } from "../memory-map.ts";
import {
  FORWARD_GROUP0, FORWARD_GROUP1, PRIORITY_MASK, highestPendingOf, type Candidate, type GicContext,
} from "./shared.ts";
import {
  GIC_IIDR_VALUE, GIC_PIDR2_VALUE, RegisterMap, getU32, isBitArray, putU32, readBits, readConfig, reg,
  writeBits, writeConfig, type GicRegister,
} from "./frames.ts";
import { GICD_CTLR_ENABLE_GRP0, GICD_CTLR_ENABLE_GRP1, type GicDistributor } from "./distributor.ts";
import { GIC_LPI_BASE_INTID, PENDBASER_PTZ, type GicLpis } from "./lpi.ts";
import { REDIST_CACHE_FIELDS, readHalf, sanitiseAttributes, writeHalf } from "./table-registers.ts";

// GICR_CTLR, with LPIs: EnableLPIs, and (as KVM's implementation revision 3) CES and IR:
// the clear of EnableLPIs is honoured, and GICR_INVLPIR/INVALLR/SYNCR exist.
const GICR_CTLR_ENABLE_LPIS = 1 << 0;
const GICR_CTLR_CES = 1 << 1;
const GICR_CTLR_IR = 1 << 2;

// GICR_TYPER (low word; the high word is the affinity value).
const GICR_TYPER_PLPIS = 1 << 0;
const GICR_TYPER_LAST = 1 << 4;
const GICR_TYPER_PROCESSOR_NUMBER_SHIFT = 8;

// RES0 bits KVM clears on a write (vgic-mmio-v3.c).
const PROPBASER_RES0 = (0x1fn << 59n) | (0xfn << 52n) | (3n << 5n);
const PENDBASER_RES0 = (1n << 63n) | (7n << 59n) | (0xfn << 52n) | (0xfn << 12n) | 0x7fn;

// GICR_WAKER.
const GICR_WAKER_PROCESSOR_SLEEP = 1 << 1;
const GICR_WAKER_CHILDREN_ASLEEP = 1 << 2;

const SGI = GIC_REDIST_SIZE_BYTES / 2; // the SGI_base frame, after the RD_base frame

/** Redistributor registers (offsets from the Redistributor's RD_base). Anything else is RAZ/WI. */
export const GICR_REGISTERS = [
  // RD_base. Without LPIs, GICR_CTLR and the LPI registers below read 0 and ignore writes.
  reg("GICR_CTLR", 0x0000, "rw"),
  reg("GICR_IIDR", 0x0004, "ro", { reset: GIC_IIDR_VALUE }),
  reg("GICR_TYPER", 0x0008, "ro", { widthBytes: 8 }),
  reg("GICR_STATUSR", 0x0010, "razwi"),
  reg("GICR_WAKER", 0x0014, "rw", {
    reset: GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP,
  }),
  reg("GICR_PROPBASER", 0x0070, "rw", { widthBytes: 8 }),
  reg("GICR_PENDBASER", 0x0078, "rw", { widthBytes: 8 }),
  reg("GICR_INVLPIR", 0x00a0, "rw", { widthBytes: 8 }), // reads 0
  reg("GICR_INVALLR", 0x00b0, "rw", { widthBytes: 8 }), // reads 0
  reg("GICR_SYNCR", 0x00c0, "ro"), // Busy is never set: invalidation is immediate
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

type GicrName = (typeof GICR_REGISTERS)[number]["name"];
const GICR_MAP = new RegisterMap(GICR_REGISTERS, GIC_REDIST_SIZE_BYTES);

export type { Candidate };

export class GicRedistributors {
  constructor(
    private readonly gic: GicContext,
    private readonly dist: GicDistributor,
    /** The LPIs, with an ITS; undefined makes the LPI registers RAZ/WI. */
    private readonly lpis: GicLpis | undefined,
  ) {}

  /** An access at `offset` from the first Redistributor's RD_base. Returns whether it wrote. */
  access(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): boolean {
    const vcpu = Math.floor(offset / GIC_REDIST_SIZE_BYTES);
    const inFrame = offset % GIC_REDIST_SIZE_BYTES;
    const r = GICR_MAP.reached(inFrame, lengthBytes, isWrite);
    if (r === undefined) return false;
    const name = r.name as GicrName;
    if (isWrite) this.write(vcpu, name, r, inFrame, data, lengthBytes);
    else this.read(vcpu, name, r, inFrame, data, lengthBytes);
    return isWrite;
  }

  /** An SGI from a CPU interface: pended on `target` if that SGI is in `group` there. */
  pendSgi(target: number, intid: number, group: number): void {
    const bank = this.gic.state.redistributors[target]!.bank;
    const bit = 1 << intid;
    const targetGroup = bank.group[0]! & bit ? 1 : 0;
    if (targetGroup === group) bank.pendingLatch[0]! |= bit;
  }

  /**
   * The highest priority interrupt this vCPU could take: pending, enabled, not active, of a
   * group enabled in both GICD_CTLR and this CPU interface, and (SPIs) routed here.
   */
  highestPending(vcpu: number): Candidate | null {
    const s = this.gic.state;
    const cpu = s.cpuInterfaces[vcpu]!;
    const groups =
      ((s.distCtlr & GICD_CTLR_ENABLE_GRP0) !== 0 && cpu.groupEnable0 ? FORWARD_GROUP0 : 0) |
      ((s.distCtlr & GICD_CTLR_ENABLE_GRP1) !== 0 && cpu.groupEnable1 ? FORWARD_GROUP1 : 0);
    const best = highestPendingOf(this.gic, vcpu, groups, (intid) => this.dist.routedTo(intid, vcpu));
    if ((groups & FORWARD_GROUP1) !== 0 && this.lpis !== undefined) {
      const lpi = this.lpis.highestPending(vcpu);
      // An LPI's INTID is above every other, so it wins only on a strictly higher priority.
      if (lpi !== null && (best === null || lpi.priority < best.priority)) return { intid: lpi.intid, priority: lpi.priority, group: 1 };
    }
    return best;
  }

  /** An acknowledged LPI: no active state, so it is simply no longer pending. */
  acknowledgeLpi(intid: number): void {
    const lpi = this.lpis?.get(intid);
    if (lpi !== undefined) this.lpis!.setPending(lpi, false);
  }

  private read(vcpu: number, name: GicrName, r: GicRegister, offset: number, data: Uint8Array, lengthBytes: number): void {
    const rd = this.gic.state.redistributors[vcpu]!;
    const bank = rd.bank;
    if (isBitArray(name)) return putU32(data, readBits(bank, name, 0));
    switch (name) {
      case "GICR_IIDR":
      case "GICR_PIDR2":
      case "GICR_ICFGR0":
        return putU32(data, r.reset!);
      case "GICR_TYPER":
        if (offset % 8 === 4) return putU32(data, this.gic.affinity[vcpu]!);
        return putU32(
          data,
          (vcpu << GICR_TYPER_PROCESSOR_NUMBER_SHIFT) |
            (vcpu === this.gic.vcpuCount - 1 ? GICR_TYPER_LAST : 0) |
            (this.lpis !== undefined ? GICR_TYPER_PLPIS : 0),
        );
      case "GICR_CTLR":
        if (this.lpis === undefined) return;
        return putU32(data, (this.lpis.enabled[vcpu] ? GICR_CTLR_ENABLE_LPIS : 0) | GICR_CTLR_CES | GICR_CTLR_IR);
      case "GICR_PROPBASER":
        if (this.lpis !== undefined) putU32(data, readHalf(this.lpis.propbaser, offset));
        return;
      case "GICR_PENDBASER":
        if (this.lpis !== undefined) putU32(data, readHalf(this.lpis.pendbaser[vcpu]! & ~PENDBASER_PTZ, offset));
        return;
      case "GICR_WAKER":
        return putU32(data, rd.processorSleep ? GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP : 0);
      case "GICR_IPRIORITYR":
        for (let i = 0; i < lengthBytes; i++) data[i] = bank.priority[offset - r.offset + i]!;
        return;
      case "GICR_ICFGR1":
        return putU32(data, readConfig(bank, 1));
      default:
        return; // RAZ
    }
  }

  private write(vcpu: number, name: GicrName, r: GicRegister, offset: number, data: Uint8Array, lengthBytes: number): void {
    const rd = this.gic.state.redistributors[vcpu]!;
    const bank = rd.bank;
    const value = getU32(data, lengthBytes);
    if (isBitArray(name)) return writeBits(bank, name, 0, value);
    switch (name) {
      case "GICR_CTLR":
      case "GICR_PROPBASER":
      case "GICR_PENDBASER":
      case "GICR_INVLPIR":
      case "GICR_INVALLR":
        if (this.lpis !== undefined) this.writeLpiRegister(vcpu, this.lpis, name, offset, value);
        return;
      case "GICR_WAKER":
        rd.processorSleep = (value & GICR_WAKER_PROCESSOR_SLEEP) !== 0;
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

  private writeLpiRegister(vcpu: number, lpis: GicLpis, name: GicrName, offset: number, value: number): void {
    const lpisOn = lpis.enabled[vcpu] === 1;
    switch (name) {
      case "GICR_CTLR":
        return lpis.setEnabled(vcpu, (value & GICR_CTLR_ENABLE_LPIS) !== 0);
      case "GICR_PROPBASER": // changing a table under enabled LPIs is UNPREDICTABLE: KVM ignores it
        if (!lpisOn) lpis.propbaser = sanitiseAttributes(writeHalf(lpis.propbaser, offset, value), REDIST_CACHE_FIELDS) & ~PROPBASER_RES0;
        return;
      case "GICR_PENDBASER":
        if (!lpisOn) {
          lpis.pendbaser[vcpu] = sanitiseAttributes(writeHalf(lpis.pendbaser[vcpu]!, offset, value), REDIST_CACHE_FIELDS) & ~PENDBASER_RES0;
        }
        return;
      case "GICR_INVLPIR": {
        // The high half is for vPEs, which KVM has none of; nothing happens with LPIs off.
        if (offset % 8 === 4 || !lpisOn || value < GIC_LPI_BASE_INTID) return;
        const lpi = lpis.get(value);
        if (lpi !== undefined) lpis.readConfig(lpi);
        return;
      }
      case "GICR_INVALLR":
        if (offset % 8 === 4 || !lpisOn) return;
        for (const lpi of lpis.targeting(vcpu)) lpis.readConfig(lpi);
        return;
      default:
        return;
    }
  }
}
