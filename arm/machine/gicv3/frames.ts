// The memory-mapped register frames of the Distributor and the Redistributors: register tables,
// which accesses reach a register, and the register kinds both frames have (the bit arrays and
// ICFGR). Registers are little-endian; the trap bus hands 64-bit ones over as 32-bit halves.

import { pendingBits, type GicIrqBank } from "./shared.ts";

/** GICD_IIDR and GICR_IIDR: Arm's JEP106 code (0x43B), ProductID 'L' for lkvm, revision 0. */
export const GIC_IIDR_VALUE = (0x4c << 24) | 0x43b;
/** GICD_PIDR2 and GICR_PIDR2: ArchRev 3 (GICv3) in bits [7:4], JEDEC bit and Arm's JEP106 bits. */
export const GIC_PIDR2_VALUE = 0x3b;

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

export function reg<N extends string>(
  name: N,
  offset: number,
  access: GicRegisterAccess,
  more: Partial<Omit<GicRegister, "name" | "offset" | "access">> = {},
): GicRegister & { readonly name: N } {
  return { name, offset, access, count: 1, widthBytes: 4, byteAccess: false, firstIndex: 0, ...more };
}

/**
 * The Distributor's per-INTID registers, where a GICv2 and a GICv3 have them alike: the bit
 * arrays, the priorities and the trigger configuration.
 */
export const GICD_INTERRUPT_REGISTERS = [
  reg("GICD_IGROUPR", 0x0080, "rw", { count: 32 }),
  reg("GICD_ISENABLER", 0x0100, "rw", { count: 32 }),
  reg("GICD_ICENABLER", 0x0180, "rw", { count: 32 }),
  reg("GICD_ISPENDR", 0x0200, "rw", { count: 32 }),
  reg("GICD_ICPENDR", 0x0280, "rw", { count: 32 }),
  reg("GICD_ISACTIVER", 0x0300, "rw", { count: 32 }),
  reg("GICD_ICACTIVER", 0x0380, "rw", { count: 32 }),
  reg("GICD_IPRIORITYR", 0x0400, "rw", { count: 255, byteAccess: true }),
  reg("GICD_ICFGR", 0x0c00, "rw", { count: 64 }),
] as const;

/** Finds the register (and instance) at a byte offset of a frame in O(1). */
export class RegisterMap {
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

  /**
   * The register an access at `offset` reaches, or undefined where it reaches none: nothing
   * there, a size or alignment the register does not take, RAZ/WI, a write to a read-only
   * register or a read of a write-only one. Such a read leaves `data` zero; a write does nothing.
   */
  reached(offset: number, lengthBytes: number, isWrite: boolean): GicRegister | undefined {
    const r = this.find(offset);
    if (r === undefined || !accessFits(r, offset, lengthBytes) || r.access === "razwi") return undefined;
    return r.access === (isWrite ? "ro" : "wo") ? undefined : r;
  }
}

/** 32-bit accesses at 4-byte alignment anywhere; bytes only where the spec allows them. */
function accessFits(r: GicRegister, offset: number, lengthBytes: number): boolean {
  if (lengthBytes === 4) return offset % 4 === 0;
  return lengthBytes === 1 && r.byteAccess;
}

export function putU32(data: Uint8Array, value: number): void {
  data[0] = value & 0xff;
  data[1] = (value >>> 8) & 0xff;
  data[2] = (value >>> 16) & 0xff;
  data[3] = (value >>> 24) & 0xff;
}

export function getU32(data: Uint8Array, lengthBytes: number): number {
  if (lengthBytes === 1) return data[0]!;
  return (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
}

// ---- the bit-array registers: which state each one shows and what a write does to it ----

type BitField = "group" | "enabled" | "pendingLatch" | "active";
export type BitArrayName =
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

export function isBitArray(name: string): name is BitArrayName {
  return Object.hasOwn(BIT_ARRAYS, name);
}

export function readBits(bank: GicIrqBank, name: BitArrayName, w: number): number {
  const { field } = BIT_ARRAYS[name];
  return (field === "pendingLatch" ? pendingBits(bank, w) : bank[field][w]!) >>> 0;
}

/**
 * IGROUPR stores the word; IS* set the bits written as 1; IC* clear them. ICPENDR clears only
 * the latch, so a level-sensitive interrupt whose input is high stays pending.
 */
export function writeBits(bank: GicIrqBank, name: BitArrayName, w: number, value: number): void {
  const { field, write } = BIT_ARRAYS[name];
  const words = bank[field];
  if (write === "store") words[w] = value;
  else if (write === "set") words[w]! |= value;
  else words[w]! &= ~value;
}

/** ICFGR<n>: two bits per INTID for INTIDs 16n..16n+15; bit 2m+1 set means edge. */
export function readConfig(bank: GicIrqBank, n: number): number {
  const word = bank.edge[n >>> 1]!;
  const half = (word >>> ((n & 1) * 16)) & 0xffff;
  let value = 0;
  for (let m = 0; m < 16; m++) if (half & (1 << m)) value |= 2 << (2 * m);
  return value >>> 0;
}

export function writeConfig(bank: GicIrqBank, n: number, value: number): void {
  let half = 0;
  for (let m = 0; m < 16; m++) if (value & (2 << (2 * m))) half |= 1 << m;
  const shift = (n & 1) * 16;
  const w = n >>> 1;
  bank.edge[w] = ((bank.edge[w]! & ~(0xffff << shift)) | (half << shift)) >>> 0;
}
