// The Distributor (GICD_*): the SPIs' configuration and state, and where each SPI is routed.
// With affinity routing always on, its SGI and PPI words are RAZ/WI: those live in the
// Redistributors.

import { GIC_DIST_SIZE_BYTES } from "../memory-map.ts";
import { PRIORITY_MASK, type GicContext } from "./shared.ts";
import { LPI_INTID_BITS } from "./lpi.ts";
import {
  GICD_INTERRUPT_REGISTERS, GIC_IIDR_VALUE, GIC_PIDR2_VALUE, RegisterMap, getU32, isBitArray, putU32, readBits,
  readConfig, reg, writeBits, writeConfig, type GicRegister,
} from "./frames.ts";

// GICD_CTLR with DS = 1.
export const GICD_CTLR_ENABLE_GRP0 = 1 << 0;
export const GICD_CTLR_ENABLE_GRP1 = 1 << 1;
const GICD_CTLR_ARE = 1 << 4;
const GICD_CTLR_DS = 1 << 6;
const GICD_CTLR_WRITABLE = GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1;
const GICD_CTLR_RAO = GICD_CTLR_ARE | GICD_CTLR_DS;

// GICD_TYPER fields (CPUNumber stays 0: ARE cannot be cleared, so no legacy CPU numbers).
const GICD_TYPER_LPIS = 1 << 17;
const GICD_TYPER_IDBITS_SHIFT = 19;
const GICD_TYPER_A3V = 1 << 24;
const GICD_TYPER_RSS = 1 << 26;
/** 10 INTID bits (0-1023) when there are no LPIs: IDbits is "bits minus one". */
const INTID_BITS_NO_LPIS = 10;

// GICD_IROUTER (low word; the high word holds Aff3 in bits [7:0]).
const GICD_IROUTER_IRM = 1 << 31;
const GICD_IROUTER_AFF210_MASK = 0x00ff_ffff;

/** Distributor registers (offsets from GICD base). Anything else is RAZ/WI. */
export const GICD_REGISTERS = [
  reg("GICD_CTLR", 0x0000, "rw", { reset: GICD_CTLR_RAO }),
  reg("GICD_TYPER", 0x0004, "ro"),
  reg("GICD_IIDR", 0x0008, "ro", { reset: GIC_IIDR_VALUE }),
  reg("GICD_TYPER2", 0x000c, "ro", { reset: 0 }),
  reg("GICD_STATUSR", 0x0010, "razwi"),
  ...GICD_INTERRUPT_REGISTERS,
  reg("GICD_ITARGETSR", 0x0800, "razwi", { count: 255, byteAccess: true }),
  reg("GICD_IGRPMODR", 0x0d00, "razwi", { count: 32 }),
  reg("GICD_NSACR", 0x0e00, "razwi", { count: 64 }),
  reg("GICD_SGIR", 0x0f00, "razwi"),
  reg("GICD_CPENDSGIR", 0x0f10, "razwi", { count: 4, byteAccess: true }),
  reg("GICD_SPENDSGIR", 0x0f20, "razwi", { count: 4, byteAccess: true }),
  reg("GICD_IROUTER", 0x6100, "rw", { count: 1020 - 32, widthBytes: 8, firstIndex: 32 }),
  reg("GICD_PIDR2", 0xffe8, "ro", { reset: GIC_PIDR2_VALUE }),
] as const;

type GicdName = (typeof GICD_REGISTERS)[number]["name"];
const GICD_MAP = new RegisterMap(GICD_REGISTERS, GIC_DIST_SIZE_BYTES);

export class GicDistributor {
  constructor(
    private readonly gic: GicContext,
    /** With an ITS: GICD_TYPER reports LPIs and 16 INTID bits, as KVM's does. */
    private readonly hasLpis = false,
  ) {}

  /** An access at `offset` from GICD base. Returns whether it wrote a register. */
  access(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): boolean {
    const r = GICD_MAP.reached(offset, lengthBytes, isWrite);
    if (r === undefined) return false;
    const name = r.name as GicdName;
    if (isWrite) this.write(name, r, offset, data, lengthBytes);
    else this.read(name, r, offset, data, lengthBytes);
    return isWrite;
  }

  /** GICD_IROUTER: 1 of N (any vCPU), or the vCPU whose affinity it names. */
  routedTo(intid: number, vcpu: number): boolean {
    const s = this.gic.state;
    if (s.spiRouteAny[intid >>> 5]! & (1 << (intid & 31))) return true;
    return s.spiRoute[intid] === this.gic.affinity[vcpu];
  }

  private read(name: GicdName, r: GicRegister, offset: number, data: Uint8Array, lengthBytes: number): void {
    const gic = this.gic;
    const s = gic.state;
    const n = (offset - r.offset) / r.widthBytes; // instance, may be fractional for 64-bit halves
    const w = Math.floor(n);
    if (isBitArray(name)) {
      if (this.spiWord(w)) putU32(data, readBits(s.spis, name, w));
      return;
    }
    switch (name) {
      case "GICD_CTLR":
        return putU32(data, s.distCtlr | GICD_CTLR_RAO);
      case "GICD_TYPER":
        return putU32(
          data,
          (gic.intidCount / 32 - 1) |
            (this.hasLpis ? GICD_TYPER_LPIS | ((LPI_INTID_BITS - 1) << GICD_TYPER_IDBITS_SHIFT) : 0) |
            (this.hasLpis ? 0 : (INTID_BITS_NO_LPIS - 1) << GICD_TYPER_IDBITS_SHIFT) |
            GICD_TYPER_A3V |
            GICD_TYPER_RSS,
        );
      case "GICD_IIDR":
      case "GICD_TYPER2":
      case "GICD_PIDR2":
        return putU32(data, r.reset!);
      case "GICD_IPRIORITYR":
        for (let i = 0; i < lengthBytes; i++) {
          const intid = offset - r.offset + i;
          if (gic.isSpi(intid)) data[i] = s.spis.priority[intid]!;
        }
        return;
      case "GICD_ICFGR": {
        if (!this.spiWord(w >>> 1)) return;
        return putU32(data, readConfig(s.spis, w));
      }
      case "GICD_IROUTER": {
        const intid = r.firstIndex + w;
        if (!gic.isSpi(intid)) return;
        const route = s.spiRoute[intid]!;
        if (offset % 8 === 4) return putU32(data, route >>> 24); // Aff3
        const irm = s.spiRouteAny[intid >>> 5]! & (1 << (intid & 31)) ? GICD_IROUTER_IRM : 0;
        return putU32(data, (route & GICD_IROUTER_AFF210_MASK) | irm);
      }
      default:
        return; // RAZ
    }
  }

  private write(name: GicdName, r: GicRegister, offset: number, data: Uint8Array, lengthBytes: number): void {
    const gic = this.gic;
    const s = gic.state;
    const w = Math.floor((offset - r.offset) / r.widthBytes);
    const value = getU32(data, lengthBytes);
    if (isBitArray(name)) {
      if (this.spiWord(w)) writeBits(s.spis, name, w, value);
      return;
    }
    switch (name) {
      case "GICD_CTLR":
        s.distCtlr = value & GICD_CTLR_WRITABLE;
        return;
      case "GICD_IPRIORITYR":
        for (let i = 0; i < lengthBytes; i++) {
          const intid = offset - r.offset + i;
          if (gic.isSpi(intid)) s.spis.priority[intid] = data[i]! & PRIORITY_MASK;
        }
        return;
      case "GICD_ICFGR":
        if (this.spiWord(w >>> 1)) writeConfig(s.spis, w, value);
        return;
      case "GICD_IROUTER": {
        const intid = r.firstIndex + w;
        if (!gic.isSpi(intid)) return;
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

  /** A bit-array word that holds SPIs (word 0 is the Redistributors' with ARE set). */
  private spiWord(w: number): boolean {
    return w >= 1 && w < this.gic.intidCount / 32;
  }
}
