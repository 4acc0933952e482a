// The GICv3 ITS (Interrupt Translation Service) as KVM's vGIC ITS presents it under kvmtool's
// `--irqchip=gicv3-its`: 128 KiB below the Redistributors, a control frame (GITS_CTLR, TYPER,
// the command queue registers, BASER0 for devices and BASER1 for collections, the ID
// registers) and a translation frame whose GITS_TRANSLATER a PCI function's MSI writes hit.
//
// What KVM advertises, and so this ITS: physical LPIs only; 16 DeviceID, EventID and (CIL = 0)
// collection ID bits; 8-byte ITT, device and collection entries; target addresses are vCPU
// numbers (PTA = 0); 64 KiB table pages only; a two-level device table but a flat collection
// table; no caches to flush, so SYNC does nothing and CREADR catches up with CWRITER as soon
// as the commands are read. A guest's own store to GITS_TRANSLATER carries no DeviceID and is
// ignored, as under KVM: MSIs arrive through `signalMsi` with the requester ID as DeviceID.
//
// The queue is the guest's memory, so it may be anything: an unreadable command is skipped,
// a bad one dropped, and one MMIO access processes a bounded amount of work; what remains is
// processed on the next access to GITS_CTLR, CWRITER or CREADR (which a driver polls).

import type { GuestMemory } from "../../../src/kvm/guest-memory.ts";
import type { MsiController } from "../../../src/irq.ts";
import { GIC_IIDR_VALUE, GIC_PIDR2_VALUE, getU32, putU32 } from "./frames.ts";
import { ITS_COMMAND_BYTES, decodeItsCommand } from "./its-commands.ts";
import {
  BASER_TYPE_COLLECTION, BASER_TYPE_DEVICE, BASER_VALID, ITS_DEVICE_ID_BITS,
  ITS_ENTRY_BYTES, ITS_EVENT_ID_BITS, ItsTranslations,
} from "./its-translation.ts";
import type { GicLpis } from "./lpi.ts";
import {
  ITS_CACHE_FIELDS, initialAttributes, readHalf, sanitiseAttributes, writeHalf,
} from "./table-registers.ts";

/** KVM_VGIC_V3_ITS_SIZE: the control frame and the translation frame, 64 KiB each. */
export const GIC_ITS_SIZE_BYTES = 0x2_0000;
/** The MSI doorbell, in the second frame. */
export const GITS_TRANSLATER = 0x1_0040;

// Control frame offsets.
const GITS_CTLR = 0x0000;
const GITS_IIDR = 0x0004;
const GITS_TYPER = 0x0008;
const GITS_CBASER = 0x0080;
const GITS_CWRITER = 0x0088;
const GITS_CREADR = 0x0090;
const GITS_BASER = 0x0100; // 8 of them, 64-bit; only 0 and 1 are implemented
const GITS_BASER_END = 0x0140;
/** The ID registers (PIDR4-7, PIDR0-3, CIDR0-3) and KVM's values for them. */
const ITS_ID_REGISTERS = new Map<number, number>([
  [0xffd0, 0x40], // PIDR4: a 64 KiB software-visible page
  [0xffe0, 0x92], // PIDR0: part number [7:0]
  [0xffe4, 0xb4], // PIDR1: part number [11:8]
  [0xffe8, GIC_PIDR2_VALUE], // PIDR2: ArchRev 3
  [0xfff0, 0x0d],
  [0xfff4, 0xf0],
  [0xfff8, 0x05],
  [0xfffc, 0xb1],
]);

const GITS_CTLR_ENABLED = 1 << 0;
const GITS_CTLR_QUIESCENT = 1 << 31;

/**
 * GITS_TYPER: Physical, ITT_entry_size, ID_bits, Devbits (each field holds "value minus one");
 * CIL = 0, so collection IDs are 16 bits.
 */
const GITS_TYPER_VALUE =
  1 | ((ITS_ENTRY_BYTES - 1) << 4) | ((ITS_EVENT_ID_BITS - 1) << 8) | ((ITS_DEVICE_ID_BITS - 1) << 13);

// GITS_CBASER: Valid 63, PA [51:12] (KVM keeps it 64 KiB aligned), Size [7:0] in 4 KiB pages.
const CBASER_VALID = 1n << 63n;
const CBASER_ADDRESS_MASK = ((1n << 52n) - 1n) & ~0xffffn;
const CBASER_WRITABLE = ~(0xfn << 12n);
// GITS_BASER<n>: Type [58:56] and Entry_Size [52:48] read-only; Page_Size [9:8] fixed at 64 KiB.
const BASER_RO_MASK = (7n << 56n) | (0x1fn << 48n);
const BASER_PAGE_SIZE_MASK = 3n << 8n;
const BASER_PAGE_SIZE_64K = 2n << 8n;
const BASER_INDIRECT = 1n << 62n;
// CWRITER/CREADR: the offset in [19:5].
const QUEUE_OFFSET_MASK = 0xf_ffe0;

/** Work (entries visited) one MMIO access may do before the rest waits for the next. */
export const ITS_WORK_PER_ACCESS = 1 << 18;

function initialBaser(type: bigint): bigint {
  return (
    initialAttributes(ITS_CACHE_FIELDS) | BASER_PAGE_SIZE_64K | (type << 56n) | (BigInt(ITS_ENTRY_BYTES - 1) << 48n)
  );
}

export interface GicItsOptions {
  base: number;
  vcpuCount: number;
  lpis: GicLpis;
  memory: GuestMemory;
  /** A dropped command, worded for --debug. */
  log?: (line: string) => void;
}

export class GicIts implements MsiController {
  readonly base: number;
  readonly phandle: number;
  private enabled = false;
  private cbaser = 0n;
  private cwriter = 0;
  private creadr = 0;
  private deviceTable = initialBaser(BASER_TYPE_DEVICE);
  private collectionTable = initialBaser(BASER_TYPE_COLLECTION);
  private readonly translations: ItsTranslations;
  private readonly memory: GuestMemory;
  private readonly log: (line: string) => void;

  constructor(
    options: GicItsOptions,
    phandle: number,
    /** Called after anything that may change what is pending. */
    private readonly onChange: () => void,
  ) {
    this.base = options.base;
    this.phandle = phandle;
    this.memory = options.memory;
    this.log = options.log ?? (() => {});
    this.translations = new ItsTranslations(options.vcpuCount, options.lpis, options.memory, () => ({
      device: this.deviceTable,
      collection: this.collectionTable,
    }));
  }

  get doorbell(): bigint {
    return BigInt(this.base + GITS_TRANSLATER);
  }

  /** A PCI function's MSI write: DeviceID = its requester ID, EventID = the data. */
  signalMsi(address: bigint, data: number, requesterId: number): void {
    if (address !== this.doorbell || !this.enabled) return;
    if (this.translations.trigger(requesterId >>> 0, data >>> 0) === undefined) this.onChange();
  }

  /** A 32-bit access at `offset` in the ITS's 128 KiB; anything else reads 0 and is ignored. */
  access(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    if (lengthBytes !== 4 || offset % 4 !== 0) return;
    if (isWrite) this.write(offset, getU32(data, lengthBytes));
    else putU32(data, this.read(offset));
  }

  private read(offset: number): number {
    if (offset >= GITS_BASER && offset < GITS_BASER_END) return readHalf(this.baser(offset), offset);
    switch (offset & ~4) {
      case GITS_CTLR:
        if (offset === GITS_IIDR) return GIC_IIDR_VALUE;
        this.process(); // let a guest polling for Quiescent see progress
        return (this.enabled ? GITS_CTLR_ENABLED : 0) | (this.creadr === this.cwriter ? GITS_CTLR_QUIESCENT : 0);
      case GITS_TYPER:
        return offset === GITS_TYPER ? GITS_TYPER_VALUE : 0;
      case GITS_CBASER:
        return readHalf(this.cbaser, offset);
      case GITS_CWRITER:
        return offset === GITS_CWRITER ? this.cwriter : 0;
      case GITS_CREADR:
        if (offset !== GITS_CREADR) return 0;
        this.process(); // a guest waiting for CREADR to catch up polls it
        return this.creadr;
      default:
        return ITS_ID_REGISTERS.get(offset) ?? 0;
    }
  }

  private write(offset: number, value: number): void {
    if (offset >= GITS_BASER && offset < GITS_BASER_END) return this.writeBaser(offset, value);
    switch (offset) {
      case GITS_CTLR:
        return this.writeCtlr(value);
      case GITS_CBASER:
      case GITS_CBASER + 4:
        if (this.enabled) return; // read-only while enabled
        this.cbaser = sanitiseAttributes(writeHalf(this.cbaser, offset, value), ITS_CACHE_FIELDS) & CBASER_WRITABLE;
        this.creadr = 0;
        this.cwriter = 0; // UNKNOWN architecturally; KVM empties the queue
        return;
      case GITS_CWRITER: {
        const next = value & QUEUE_OFFSET_MASK;
        if (next >= this.queueBytes()) return; // KVM ignores a CWRITER past the queue
        this.cwriter = next;
        this.process();
        return;
      }
      default:
        return; // TYPER, IIDR, CREADR, the ID registers and GITS_TRANSLATER ignore writes
    }
  }

  private writeCtlr(value: number): void {
    const enable = (value & GITS_CTLR_ENABLED) !== 0;
    // Enabling without valid tables and queue is UNPREDICTABLE: KVM leaves it disabled.
    if (enable && !this.enabled && (!(this.deviceTable & BASER_VALID) || !(this.collectionTable & BASER_VALID) || !(this.cbaser & CBASER_VALID))) {
      return;
    }
    this.enabled = enable;
    this.process();
  }

  private baser(offset: number): bigint {
    const n = (offset - GITS_BASER) >>> 3;
    return n === 0 ? this.deviceTable : n === 1 ? this.collectionTable : 0n;
  }

  private writeBaser(offset: number, value: number): void {
    const n = (offset - GITS_BASER) >>> 3;
    if (this.enabled || n > 1) return; // ignored while enabled; BASER2-7 are unimplemented
    const type = n === 0 ? BASER_TYPE_DEVICE : BASER_TYPE_COLLECTION;
    let reg = writeHalf(this.baser(offset), offset, value) & ~BASER_RO_MASK;
    if (type === BASER_TYPE_COLLECTION) reg &= ~BASER_INDIRECT; // only the device table has two levels
    reg |= (type << 56n) | (BigInt(ITS_ENTRY_BYTES - 1) << 48n);
    reg = (sanitiseAttributes(reg, ITS_CACHE_FIELDS) & ~BASER_PAGE_SIZE_MASK) | BASER_PAGE_SIZE_64K;
    if (n === 0) this.deviceTable = reg;
    else this.collectionTable = reg;
    if (reg & BASER_VALID) return;
    // A table made invalid takes what the ITS held in it.
    if (n === 0) this.translations.forgetDevices();
    else this.translations.forgetCollections();
    this.onChange();
  }

  private queueBytes(): number {
    return (Number(this.cbaser & 0xffn) + 1) * 0x1000;
  }

  /** Runs queued commands, up to ITS_WORK_PER_ACCESS worth of them. */
  private process(): void {
    if (!this.enabled || this.creadr === this.cwriter) return;
    const queue = Number(this.cbaser & CBASER_ADDRESS_MASK);
    const size = this.queueBytes();
    let budget = ITS_WORK_PER_ACCESS;
    while (this.creadr !== this.cwriter && budget > 0) {
      const gpa = queue + this.creadr;
      if (this.memory.contains(gpa, ITS_COMMAND_BYTES)) {
        const cmd = decodeItsCommand(this.memory.view(gpa, ITS_COMMAND_BYTES));
        const result = this.translations.execute(cmd);
        if (result.error !== undefined) {
          const name = cmd.name ?? `command 0x${cmd.number.toString(16)}`;
          this.log(`ITS: ${name} at CREADR 0x${this.creadr.toString(16)} dropped: ${result.error}`);
        }
        budget -= result.work;
      } else {
        budget -= 1; // a command outside RAM is skipped (IHI 0069 allows ignoring it)
      }
      this.creadr = (this.creadr + ITS_COMMAND_BYTES) % size;
    }
    this.onChange();
  }
}
