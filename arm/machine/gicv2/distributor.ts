// The GICv2 Distributor (GICD_*, IHI 0048B §4.3) as KVM's vGICv2 presents it: the SPIs'
// configuration and state, and the banked SGI and PPI words of the accessing CPU. SGIs are
// generated here (GICD_SGIR) and carry their source CPU. No Security Extensions: GICD_CTLR has
// one enable for both groups, and IGROUPR is the guest's to program (KVM's IIDR revision 2).

import { GIC_DIST_SIZE_BYTES } from "../memory-map.ts";
import { GIC_SGI_COUNT, PRIORITY_MASK } from "../gicv3/shared.ts";
import {
  GICD_INTERRUPT_REGISTERS, GIC_IIDR_VALUE, RegisterMap, getU32, isBitArray, putU32, readBits, readConfig, reg, writeBits, writeConfig,
  type GicRegister,
} from "../gicv3/frames.ts";
import type { Gicv2Context } from "./state.ts";

/** GICD_CTLR.Enable: forward pending interrupts of both groups to the CPU interfaces. */
export const GICD_CTLR_ENABLE = 1;

const GICD_TYPER_CPU_NUMBER_SHIFT = 5;
/** GICD_ICPIDR2: ArchRev 2 in bits [7:4], with the JEDEC bit and Arm's JEP106 bits. */
const GICV2_PIDR2_VALUE = 0x2b;
/** GICD_ICFGR0: SGIs are always edge-triggered (0b10 per INTID), and read-only. */
const ICFGR_ALL_EDGE = 0xaaaa_aaaa;
/** Pending bits of the SGIs, which ISPENDR0/ICPENDR0 cannot change on a GICv2 (use C/SPENDSGIR). */
const SGI_BITS = (1 << GIC_SGI_COUNT) - 1;

// GICD_SGIR.
const SGIR_INTID_MASK = 0xf;
const SGIR_TARGET_LIST_SHIFT = 16;
const SGIR_FILTER_SHIFT = 24;
const SGIR_FILTER_LIST = 0;
const SGIR_FILTER_ALL_BUT_SELF = 1;
const SGIR_FILTER_SELF = 2;

/** Distributor registers, offsets from GICD base. Anything else is RAZ/WI, as on KVM. */
export const GICV2_GICD_REGISTERS = [
  reg("GICD_CTLR", 0x0000, "rw"),
  reg("GICD_TYPER", 0x0004, "ro"),
  reg("GICD_IIDR", 0x0008, "ro", { reset: GIC_IIDR_VALUE }),
  ...GICD_INTERRUPT_REGISTERS,
  reg("GICD_ITARGETSR", 0x0800, "rw", { count: 255, byteAccess: true }),
  reg("GICD_SGIR", 0x0f00, "wo"),
  reg("GICD_CPENDSGIR", 0x0f10, "rw", { count: 4, byteAccess: true }),
  reg("GICD_SPENDSGIR", 0x0f20, "rw", { count: 4, byteAccess: true }),
  reg("GICD_ICPIDR2", 0x0fe8, "ro", { reset: GICV2_PIDR2_VALUE }),
] as const;

type GicdName = (typeof GICV2_GICD_REGISTERS)[number]["name"];
const GICD_MAP = new RegisterMap(GICV2_GICD_REGISTERS, GIC_DIST_SIZE_BYTES);

export class Gicv2Distributor {
  constructor(private readonly gic: Gicv2Context) {}

  /** An access by `vcpu` at `offset` from GICD base. Returns whether it wrote a register. */
  access(vcpu: number, offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): boolean {
    const r = GICD_MAP.reached(offset, lengthBytes, isWrite);
    if (r === undefined) return false;
    const name = r.name as GicdName;
    if (isWrite) this.write(vcpu, name, r, offset, data, lengthBytes);
    else this.read(vcpu, name, r, offset, data, lengthBytes);
    return isWrite;
  }

  /** Whether an SPI goes to this vCPU (see Gicv2State.spiTargetVcpu). */
  routedTo(intid: number, vcpu: number): boolean {
    return this.gic.v2.spiTargetVcpu[intid] === vcpu;
  }

  private read(vcpu: number, name: GicdName, r: GicRegister, offset: number, data: Uint8Array, lengthBytes: number): void {
    const gic = this.gic;
    const s = gic.state;
    const n = (offset - r.offset) / 4;
    if (isBitArray(name)) {
      if (n === 0) putU32(data, readBits(s.redistributors[vcpu]!.bank, name, 0));
      else if (this.spiWord(n)) putU32(data, readBits(s.spis, name, n));
      return;
    }
    switch (name) {
      case "GICD_CTLR":
        return putU32(data, s.distCtlr);
      case "GICD_TYPER":
        return putU32(data, (gic.intidCount / 32 - 1) | ((gic.vcpuCount - 1) << GICD_TYPER_CPU_NUMBER_SHIFT));
      case "GICD_IIDR":
      case "GICD_ICPIDR2":
        return putU32(data, r.reset!);
      case "GICD_IPRIORITYR":
        for (let i = 0; i < lengthBytes; i++) {
          const intid = offset - r.offset + i;
          if (intid < gic.intidCount) data[i] = gic.bankFor(vcpu, intid).priority[intid]!;
        }
        return;
      case "GICD_ITARGETSR":
        for (let i = 0; i < lengthBytes; i++) {
          const intid = offset - r.offset + i;
          // The SGI and PPI bytes are read-only and name the reading CPU (Linux finds its own
          // CPU interface number there).
          if (intid < 32) data[i] = 1 << vcpu;
          else if (gic.isSpi(intid)) data[i] = gic.v2.spiTargets[intid]!;
        }
        return;
      case "GICD_ICFGR":
        if (n === 0) return putU32(data, ICFGR_ALL_EDGE);
        if (n === 1) return putU32(data, readConfig(s.redistributors[vcpu]!.bank, 1));
        if (this.spiWord(n >>> 1)) putU32(data, readConfig(s.spis, n));
        return;
      case "GICD_CPENDSGIR":
      case "GICD_SPENDSGIR":
        for (let i = 0; i < lengthBytes; i++) data[i] = gic.v2.sgiSources[vcpu]![offset - r.offset + i]!;
        return;
      default:
        return; // RAZ
    }
  }

  private write(vcpu: number, name: GicdName, r: GicRegister, offset: number, data: Uint8Array, lengthBytes: number): void {
    const gic = this.gic;
    const s = gic.state;
    const n = (offset - r.offset) / 4;
    const value = getU32(data, lengthBytes);
    if (isBitArray(name)) {
      if (n === 0) {
        const pendingWrite = name === "GICD_ISPENDR" || name === "GICD_ICPENDR";
        writeBits(s.redistributors[vcpu]!.bank, name, 0, pendingWrite ? value & ~SGI_BITS : value);
      } else if (this.spiWord(n)) {
        writeBits(s.spis, name, n, value);
      }
      return;
    }
    switch (name) {
      case "GICD_CTLR":
        s.distCtlr = value & GICD_CTLR_ENABLE;
        return;
      case "GICD_IPRIORITYR":
        for (let i = 0; i < lengthBytes; i++) {
          const intid = offset - r.offset + i;
          if (intid < gic.intidCount) gic.bankFor(vcpu, intid).priority[intid] = data[i]! & PRIORITY_MASK;
        }
        return;
      case "GICD_ITARGETSR":
        for (let i = 0; i < lengthBytes; i++) {
          const intid = offset - r.offset + i;
          if (gic.isSpi(intid)) gic.setSpiTargets(intid, data[i]!);
        }
        return;
      case "GICD_ICFGR":
        if (n === 1) writeConfig(s.redistributors[vcpu]!.bank, 1, value);
        else if (n >= 2 && this.spiWord(n >>> 1)) writeConfig(s.spis, n, value);
        return;
      case "GICD_SGIR":
        return this.generateSgi(vcpu, value);
      case "GICD_CPENDSGIR":
      case "GICD_SPENDSGIR":
        for (let i = 0; i < lengthBytes; i++) {
          const intid = offset - r.offset + i;
          const sources = data[i]!;
          if (name === "GICD_CPENDSGIR") gic.clearSgiSources(vcpu, intid, sources);
          else for (let c = 0; c < 8; c++) if (sources & (1 << c)) gic.pendSgi(vcpu, intid, c);
        }
        return;
      default:
        return; // WI
    }
  }

  /** GICD_SGIR: the SGI goes to the listed CPUs, to all but the writer, or to the writer. */
  private generateSgi(self: number, value: number): void {
    const intid = value & SGIR_INTID_MASK;
    const all = (1 << this.gic.vcpuCount) - 1;
    let targets: number;
    switch ((value >>> SGIR_FILTER_SHIFT) & 3) {
      case SGIR_FILTER_LIST:
        targets = (value >>> SGIR_TARGET_LIST_SHIFT) & 0xff & all; // bits naming no CPU are ignored
        break;
      case SGIR_FILTER_ALL_BUT_SELF:
        targets = all & ~(1 << self);
        break;
      case SGIR_FILTER_SELF:
        targets = 1 << self;
        break;
      default:
        return; // reserved
    }
    for (let v = 0; v < this.gic.vcpuCount; v++) if (targets & (1 << v)) this.gic.pendSgi(v, intid, self);
  }

  /** A bit-array word that holds SPIs (word 0 is the accessing CPU's SGIs and PPIs). */
  private spiWord(w: number): boolean {
    return w >= 1 && w < this.gic.intidCount / 32;
  }
}
