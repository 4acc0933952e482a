// The one trap bus: every guest access that leaves RAM (MMIO, and on arm64 the I/O-port
// window at the bottom of physical space) is dispatched here to the device that claimed it.
//
// A device registers a region on one of two buses and gets one handler shape for both:
//
//   handler(vcpu, offset, data, lengthBytes, isWrite)
//
// `offset` is relative to the region's base: the bus subtracts the base once, here, instead of
// every handler doing it (kvmtool passes absolute addresses). `data` holds the access as a
// little-endian byte string: the handler reads data[0..lengthBytes) on a write and fills it on
// a read. The bus zeroes those bytes before a read, so a handler that only answers the low byte
// (the 8250, the RTC) returns zeros above it. The CPU glue owns the byte order: a big-endian
// guest's value is swapped into this little-endian form before it reaches the bus.

import {
  BusError,
  OverlapError,
  PortWindowError,
  WrapError,
  ZeroSizeError,
} from "./errors.ts";
import { IOPORT_SIZE_BYTES } from "../../arm/machine/memory-map.ts";

export type BusKind = "mmio" | "ioport";

export type TrapHandler = (
  vcpu: number,
  offset: number,
  data: Uint8Array,
  lengthBytes: number,
  isWrite: boolean,
) => void;

export interface TrapRegion {
  bus: BusKind;
  /** First guest-physical address (mmio) or port (ioport) of the region. */
  base: number;
  sizeBytes: number;
  /** Device name, shown by the tracer and in refusals ("serial8250@0x1000000"). */
  name: string;
  handler: TrapHandler;
  /**
   * The handler takes at most 32 bits at a time: the bus turns an 8-byte access into two
   * 4-byte accesses at offset and offset+4 and joins them little-endian (low word from the
   * lower address), whatever the guest's endianness. 1- and 2-byte accesses pass through.
   */
  only32Bit?: boolean;
  /**
   * The handler takes 64-byte single-copy-atomic accesses (LD64B, ST64B, ST64BV, ST64BV0 of
   * FEAT_LS64) as one call with lengthBytes = 64 (access64). `data` then holds 72 bytes: the
   * 64 bytes of the access, then 8 in which a write's handler may leave the status word that
   * a store with return (ST64BV, ST64BV0) hands the guest. Other regions refuse such accesses.
   */
  accepts64ByteAccess?: boolean;
  /**
   * Whether KVM would map the region as a memory slot for this kind of access (a flash in
   * read-array mode is read-only memory to KVM), so that the access never traps to a
   * hypervisor and needs no instruction syndrome. Unset: every access traps.
   */
  memslotBacked?: (isWrite: boolean) => boolean;
}

/** One access as the guest made it (an 8-byte access to an only32Bit region is one event). */
export interface TrapEvent {
  vcpu: number;
  bus: BusKind;
  /** Guest-physical address; on the ioport bus this is also the port number. */
  gpa: number;
  lengthBytes: number;
  isWrite: boolean;
  /** The value written, or the value the guest read back (little-endian join of data). */
  value: bigint;
  /** The claiming region's name, or null when nobody claimed the access. */
  device: string | null;
}

export interface TrapBusOptions {
  /** Report every MMIO access nobody claimed (kvmtool's --debug-mmio). */
  debugMmio?: boolean;
  /** Report every port access nobody claimed (kvmtool's --debug-ioport). */
  debugIoport?: boolean;
  /** Where debug reports go; defaults to a line on stderr. */
  log?: (line: string) => void;
  /** Sees every access, claimed or not. Unset, the dispatch path allocates nothing. */
  onAccess?: (event: TrapEvent) => void;
}

/** On arm64, [0, 0x10000) of physical space is the I/O-port window (port = gpa). */
export const IOPORT_WINDOW_BYTES = IOPORT_SIZE_BYTES;
/** Largest AArch64 physical address space (52 bits with FEAT_LPA); also below 2^53. */
export const MMIO_SPACE_BYTES = 2 ** 52;

const SPACE_BYTES: Record<BusKind, number> = {
  mmio: MMIO_SPACE_BYTES,
  ioport: IOPORT_WINDOW_BYTES,
};

const hex = (n: number): string => "0x" + n.toString(16);

/** Non-overlapping regions of one bus, sorted by base, found by binary search. */
class RegionTable {
  private bases: number[] = [];
  private ends: number[] = [];
  private entries: TrapRegion[] = [];
  /** Index of the region that served the last hit; devices are hit in runs (UART output). */
  private lastHit = -1;

  constructor(
    readonly kind: BusKind,
    readonly spaceBytes: number,
  ) {}

  /** Index of the last region whose base is <= addr, or -1. */
  private floor(addr: number): number {
    let lo = 0;
    let hi = this.bases.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bases[mid]! <= addr) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * The region holding all of [addr, addr + lengthBytes), or null. An access that is empty,
   * wraps, or straddles a region's end finds nothing (kvmtool does the same).
   */
  find(addr: number, lengthBytes: number): TrapRegion | null {
    const end = addr + lengthBytes;
    if (!(lengthBytes > 0) || !(addr >= 0) || end > this.spaceBytes) return null;
    let i = this.lastHit;
    if (i < 0 || addr < this.bases[i]! || addr >= this.ends[i]!) {
      i = this.floor(addr);
      if (i < 0 || addr >= this.ends[i]!) return null;
      this.lastHit = i;
    }
    return end <= this.ends[i]! ? this.entries[i]! : null;
  }

  /** The region containing addr at all (for explaining a straddling access). */
  containing(addr: number): TrapRegion | null {
    const i = this.floor(addr);
    return i >= 0 && addr < this.ends[i]! ? this.entries[i]! : null;
  }

  insert(region: TrapRegion): void {
    const { base, sizeBytes, name } = region;
    const end = base + sizeBytes;
    const below = this.floor(base);
    // Sorted and disjoint, so only the neighbours on either side can overlap.
    for (const i of [below, below + 1]) {
      if (i >= 0 && i < this.entries.length && this.bases[i]! < end && base < this.ends[i]!) {
        const other = this.entries[i]!;
        throw new OverlapError(
          this.kind,
          name,
          base,
          sizeBytes,
          `${other.name} [${hex(other.base)}, ${hex(other.base + other.sizeBytes)})`,
        );
      }
    }
    const at = below + 1;
    this.bases.splice(at, 0, base);
    this.ends.splice(at, 0, end);
    this.entries.splice(at, 0, region);
    this.lastHit = -1;
  }

  remove(base: number): boolean {
    const i = this.floor(base);
    if (i < 0 || this.bases[i] !== base) return false;
    this.bases.splice(i, 1);
    this.ends.splice(i, 1);
    this.entries.splice(i, 1);
    this.lastHit = -1;
    return true;
  }

  list(): readonly TrapRegion[] {
    return this.entries.slice();
  }
}

export class TrapBus {
  debugMmio: boolean;
  debugIoport: boolean;
  log: (line: string) => void;
  onAccess: ((event: TrapEvent) => void) | undefined;

  private readonly tables: Record<BusKind, RegionTable> = {
    mmio: new RegionTable("mmio", MMIO_SPACE_BYTES),
    ioport: new RegionTable("ioport", IOPORT_WINDOW_BYTES),
  };
  /** Holds one 32-bit half while an 8-byte access is split; reused, so no allocation. */
  private readonly half = new Uint8Array(4);

  constructor(options: TrapBusOptions = {}) {
    this.debugMmio = options.debugMmio ?? false;
    this.debugIoport = options.debugIoport ?? false;
    this.log = options.log ?? ((line) => process.stderr.write(line + "\n"));
    this.onAccess = options.onAccess;
  }

  /** Claims [base, base + sizeBytes) on one bus. Throws a BusError subclass on refusal. */
  register(region: TrapRegion): void {
    const { bus, base, sizeBytes, name } = region;
    const table = this.tables[bus];
    if (table === undefined) throw new BusError(`unknown bus ${String(bus)} for ${name}`);
    if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(sizeBytes)) {
      throw new BusError(
        `${bus} region ${name}: base ${base} and size ${sizeBytes} must be integers, base >= 0`,
      );
    }
    if (sizeBytes <= 0) throw new ZeroSizeError(bus, name, base);
    if (base + sizeBytes > SPACE_BYTES[bus]) {
      throw new WrapError(bus, name, base, sizeBytes, SPACE_BYTES[bus]);
    }
    if (bus === "mmio" && base < IOPORT_WINDOW_BYTES) {
      throw new PortWindowError(name, base, sizeBytes);
    }
    table.insert({ ...region });
  }

  /** Releases the region that starts at base. Returns false if there was none. */
  deregister(bus: BusKind, base: number): boolean {
    return this.tables[bus].remove(base);
  }

  /** The regions of one bus in address order (for debugging and listings). */
  regions(bus: BusKind): readonly TrapRegion[] {
    return this.tables[bus].list();
  }

  /** The region that would take an access of lengthBytes at gpa, or null if none would. */
  claimant(gpa: number, lengthBytes: number): TrapRegion | null {
    const table = gpa < IOPORT_WINDOW_BYTES ? this.tables.ioport : this.tables.mmio;
    return table.find(gpa, lengthBytes);
  }

  /**
   * Dispatches one 64-byte access (LD64B/ST64B) as one call to a region that declares
   * accepts64ByteAccess; `data` holds 72 bytes (see TrapRegion.accepts64ByteAccess). Returns
   * false, touching nothing, when no such region holds all 64 bytes: the caller refuses the
   * access (an external abort, as KVM's canonical answer).
   */
  access64(vcpu: number, gpa: number, data: Uint8Array, isWrite: boolean): boolean {
    if (data.length < 72) throw new RangeError(`64-byte access with a ${data.length}-byte buffer`);
    const region = gpa < IOPORT_WINDOW_BYTES ? null : this.tables.mmio.find(gpa, 64);
    if (region === null || region.accepts64ByteAccess !== true) return false;
    data.fill(0, isWrite ? 64 : 0, 72);
    region.handler(vcpu, gpa - region.base, data, 64, isWrite);
    if (this.onAccess !== undefined) this.trace("mmio", region.name, vcpu, gpa, data, 64, isWrite);
    return true;
  }

  /**
   * Dispatches one guest access; called by the CPU glue for every trapped load or store.
   * Returns whether a device claimed it. Unclaimed: MMIO reads give 0, port reads all ones,
   * writes are dropped.
   */
  access(
    vcpu: number,
    gpa: number,
    data: Uint8Array,
    lengthBytes: number,
    isWrite: boolean,
  ): boolean {
    if (lengthBytes > data.length || lengthBytes > 8) {
      throw new RangeError(`access of ${lengthBytes} bytes with a ${data.length}-byte buffer (64-byte accesses go to access64)`);
    }
    const table = gpa < IOPORT_WINDOW_BYTES ? this.tables.ioport : this.tables.mmio;
    const region = table.find(gpa, lengthBytes);
    if (region === null) {
      this.unclaimed(table, vcpu, gpa, data, lengthBytes, isWrite);
      return false;
    }
    if (!isWrite) data.fill(0, 0, lengthBytes);
    const offset = gpa - region.base;
    if (lengthBytes === 8 && region.only32Bit === true) {
      this.split(region, vcpu, offset, data, isWrite);
    } else {
      region.handler(vcpu, offset, data, lengthBytes, isWrite);
    }
    if (this.onAccess !== undefined) {
      this.trace(table.kind, region.name, vcpu, gpa, data, lengthBytes, isWrite);
    }
    return true;
  }

  /** Two 32-bit accesses, low word at offset; the guest sees their little-endian join. */
  private split(
    region: TrapRegion,
    vcpu: number,
    offset: number,
    data: Uint8Array,
    isWrite: boolean,
  ): void {
    const half = this.half;
    for (let at = 0; at < 8; at += 4) {
      for (let i = 0; i < 4; i++) half[i] = isWrite ? data[at + i]! : 0;
      region.handler(vcpu, offset + at, half, 4, isWrite);
      if (!isWrite) for (let i = 0; i < 4; i++) data[at + i] = half[i]!;
    }
  }

  private unclaimed(
    table: RegionTable,
    vcpu: number,
    gpa: number,
    data: Uint8Array,
    lengthBytes: number,
    isWrite: boolean,
  ): void {
    const isPort = table.kind === "ioport";
    // kvmtool leaves a stale exit buffer on an unclaimed MMIO read; we return a defined
    // value instead: 0 for MMIO, all ones for ports (a floating ISA bus).
    if (!isWrite && lengthBytes > 0) data.fill(isPort ? 0xff : 0, 0, lengthBytes);
    if (isPort ? this.debugIoport : this.debugMmio) {
      const dir = isWrite ? "write" : "read";
      const partial = table.containing(gpa);
      const why = partial === null ? "" : `, straddles the end of ${partial.name}`;
      this.log(
        isPort
          ? `IO warning: Ignoring I/O port ${dir} at port ${hex(gpa)} (length ${lengthBytes}${why})`
          : `MMIO warning: Ignoring MMIO ${dir} at ${hex(gpa)} (length ${lengthBytes}${why})`,
      );
    }
    if (this.onAccess !== undefined) {
      this.trace(table.kind, null, vcpu, gpa, data, lengthBytes, isWrite);
    }
  }

  private trace(
    bus: BusKind,
    device: string | null,
    vcpu: number,
    gpa: number,
    data: Uint8Array,
    lengthBytes: number,
    isWrite: boolean,
  ): void {
    let value = 0n;
    for (let i = Math.min(lengthBytes, data.length) - 1; i >= 0; i--) {
      value = (value << 8n) | BigInt(data[i]!);
    }
    this.onAccess?.({ vcpu, bus, gpa, lengthBytes, isWrite, value, device });
  }
}
