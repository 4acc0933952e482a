// The ITS's translation state and what each command does to it, as KVM's vGIC ITS does it
// (virt/kvm/arm/vgic/vgic-its.c): devices, collections and translations (ITEs) are kept by
// the ITS itself; the guest's device and collection tables are only checked for room (an ID
// must have an entry inside the table and inside guest RAM), never read or written, except
// a two-level device table's first level, which says where the second level is.
//
// A command with bad arguments is dropped and its error code returned (KVM's E_ITS_*
// reasons, for tests and --debug); the queue moves on either way. Every command reports
// the work it did, in entries visited, so the queue can bound the work of one MMIO access.

import type { GuestMemory } from "../../../src/kvm/guest-memory.ts";
import { GIC_LPI_BASE_INTID, type GicLpis, type Lpi } from "./lpi.ts";
import type { ItsCommand } from "./its-commands.ts";

/** KVM's VITS_TYPER_DEVBITS and VITS_TYPER_IDBITS; collection IDs are 16 bits (CIL = 0). */
export const ITS_DEVICE_ID_BITS = 16;
export const ITS_EVENT_ID_BITS = 16;
export const ITS_COLLECTION_ID_BITS = 16;
/** KVM's ABI 0: 8-byte device, collection and ITT entries. */
export const ITS_ENTRY_BYTES = 8;
/**
 * lkvm's own limit on live translations (KVM's is kernel memory): a guest that maps more has
 * the extra MAPTI/MAPI dropped. 2^16 is more than the 57344 LPIs it can point them at.
 */
export const ITS_MAX_TRANSLATIONS = 1 << 16;

// GITS_BASER<n> fields.
export const BASER_VALID = 1n << 63n;
export const BASER_INDIRECT = 1n << 62n;
const BASER_TYPE_SHIFT = 56n;
export const BASER_TYPE_DEVICE = 1n;
export const BASER_TYPE_COLLECTION = 4n;
const BASER_PAGE_BYTES = 0x1_0000; // the only page size KVM takes: 64 KiB
const L1_ENTRY_VALID = 1n << 63n;
const L1_ADDRESS_MASK = ((1n << 52n) - 1n) & ~0xffffn;

interface Translation {
  lpi: Lpi;
  /** The collection it names, or -1 once MAPC V=0 removed it (as KVM, it stays orphaned). */
  collection: number;
}

interface ItsDevice {
  eventIdBits: number;
  events: Map<number, Translation>;
}

/** A collection's Redistributor (a vCPU number), or UNMAPPED while only MAPTI named it. */
const UNMAPPED = -1;

export type CommandResult = { error?: string; work: number };

const ok = (work = 1): CommandResult => ({ work });
const fail = (error: string, work = 1): CommandResult => ({ error, work });

export class ItsTranslations {
  private readonly devices = new Map<number, ItsDevice>();
  private readonly collections = new Map<number, number>();
  private translationCount = 0;

  constructor(
    private readonly vcpuCount: number,
    private readonly lpis: GicLpis,
    private readonly memory: GuestMemory,
    /** GITS_BASER0 (devices) and GITS_BASER1 (collections) as they are now. */
    private readonly tables: () => { device: bigint; collection: bigint },
  ) {}

  get deviceCount(): number {
    return this.devices.size;
  }

  get translations(): number {
    return this.translationCount;
  }

  /** An MSI to the ITS, or INT: the LPI `deviceId`/`eventId` maps to becomes pending. */
  trigger(deviceId: number, eventId: number): string | undefined {
    const t = this.devices.get(deviceId)?.events.get(eventId);
    if (t === undefined) return "unmapped interrupt";
    const target = this.targetOf(t.collection);
    if (target === UNMAPPED) return "unmapped collection";
    if (this.lpis.enabled[target] !== 1) return "LPIs disabled at the target";
    this.lpis.setPending(t.lpi, true);
    return undefined;
  }

  execute(cmd: ItsCommand): CommandResult {
    switch (cmd.name) {
      case "MAPD": return this.mapDevice(cmd);
      case "MAPC": return this.mapCollection(cmd);
      case "MAPTI":
      case "MAPI": return this.mapTranslation(cmd);
      case "INT": {
        const error = this.trigger(cmd.deviceId, cmd.eventId);
        return error === undefined ? ok() : fail(error);
      }
      case "CLEAR": {
        const t = this.find(cmd);
        if (t === undefined) return fail("unmapped interrupt");
        this.lpis.setPending(t.lpi, false);
        return ok();
      }
      case "INV": {
        const t = this.find(cmd);
        if (t === undefined) return fail("unmapped interrupt");
        return this.lpis.readConfig(t.lpi) ? ok() : fail("property table outside RAM");
      }
      case "INVALL": {
        const target = this.targetOf(cmd.collection);
        if (target === UNMAPPED) return fail("unmapped collection");
        const lpis = this.lpis.targeting(target);
        for (const lpi of lpis) this.lpis.readConfig(lpi);
        return ok(1 + this.lpis.count);
      }
      case "MOVI": return this.moveTranslation(cmd);
      case "MOVALL": {
        if (cmd.target >= this.vcpuCount || cmd.target2 >= this.vcpuCount) return fail("processor number out of range");
        if (cmd.target === cmd.target2) return ok();
        for (const lpi of this.lpis.targeting(cmd.target)) lpi.target = cmd.target2;
        return ok(1 + this.lpis.count);
      }
      case "DISCARD": {
        const device = this.devices.get(cmd.deviceId);
        const t = device?.events.get(cmd.eventId);
        if (t === undefined || this.targetOf(t.collection) === UNMAPPED) return fail("unmapped interrupt");
        this.removeTranslation(device!, cmd.eventId, t);
        return ok();
      }
      case "SYNC":
        return ok(); // every command takes effect at once
      default:
        return fail("unknown command");
    }
  }

  /** GITS_BASER<n>.Valid cleared: KVM forgets every device, or every collection. */
  forgetDevices(): number {
    let work = 0;
    for (const [id, device] of this.devices) work += this.removeDevice(id, device);
    return work;
  }

  forgetCollections(): number {
    const work = this.eachTranslation((t) => (t.collection = UNMAPPED));
    this.collections.clear();
    return work;
  }

  private mapDevice(cmd: ItsCommand): CommandResult {
    if (!this.hasEntry(this.tables().device, cmd.deviceId)) return fail("DeviceID out of range");
    if (cmd.valid && cmd.eventIdBits > ITS_EVENT_ID_BITS) return fail("ITT size out of range");
    let work = 1;
    const old = this.devices.get(cmd.deviceId);
    // A remap drops the old translations: KVM frees the device and makes it again.
    if (old !== undefined) work += this.removeDevice(cmd.deviceId, old);
    // The ITT address is not checked: like KVM, lkvm keeps the ITT itself and never reads it.
    if (cmd.valid) this.devices.set(cmd.deviceId, { eventIdBits: cmd.eventIdBits, events: new Map() });
    return ok(work);
  }

  private mapCollection(cmd: ItsCommand): CommandResult {
    if (cmd.target >= this.vcpuCount) return fail("processor number out of range");
    if (!cmd.valid) return ok(1 + this.unmapCollection(cmd.collection));
    if (!this.collections.has(cmd.collection) && !this.hasEntry(this.tables().collection, cmd.collection)) {
      return fail("collection out of range");
    }
    this.collections.set(cmd.collection, cmd.target);
    // Every LPI translated through this collection now goes to the new Redistributor.
    return ok(1 + this.eachTranslation((t) => {
      if (t.collection === cmd.collection) t.lpi.target = cmd.target;
    }));
  }

  private mapTranslation(cmd: ItsCommand): CommandResult {
    const device = this.devices.get(cmd.deviceId);
    if (device === undefined) return fail("unmapped device");
    if (cmd.eventId >= 2 ** device.eventIdBits) return fail("EventID out of range");
    const intid = cmd.name === "MAPTI" ? cmd.physicalId : cmd.eventId;
    if (intid < GIC_LPI_BASE_INTID || intid >= this.lpis.intidLimit()) return fail("physical ID out of range");
    if (device.events.has(cmd.eventId)) return ok(); // remapping is UNPREDICTABLE: KVM keeps the old one
    if (this.translationCount >= ITS_MAX_TRANSLATIONS) return fail("too many translations");
    if (!this.collections.has(cmd.collection)) {
      // A collection MAPTI names before MAPC does exists, unmapped (as KVM).
      if (!this.hasEntry(this.tables().collection, cmd.collection)) return fail("collection out of range");
      this.collections.set(cmd.collection, UNMAPPED);
    }
    const lpi = this.lpis.add(intid, this.targetOf(cmd.collection));
    if (lpi === undefined) return fail("property table outside RAM");
    device.events.set(cmd.eventId, { lpi, collection: cmd.collection });
    this.translationCount++;
    return ok();
  }

  private moveTranslation(cmd: ItsCommand): CommandResult {
    const t = this.find(cmd);
    if (t === undefined) return fail("unmapped interrupt");
    if (this.targetOf(t.collection) === UNMAPPED) return fail("unmapped collection");
    const target = this.targetOf(cmd.collection);
    if (target === UNMAPPED) return fail("unmapped target collection");
    t.collection = cmd.collection;
    t.lpi.target = target; // a pending LPI moves with it
    return ok();
  }

  private find(cmd: ItsCommand): Translation | undefined {
    return this.devices.get(cmd.deviceId)?.events.get(cmd.eventId);
  }

  private targetOf(collection: number): number {
    return this.collections.get(collection) ?? UNMAPPED;
  }

  private unmapCollection(collection: number): number {
    if (!this.collections.delete(collection)) return 0;
    return this.eachTranslation((t) => {
      if (t.collection === collection) t.collection = UNMAPPED;
    });
  }

  private removeDevice(id: number, device: ItsDevice): number {
    const work = device.events.size;
    for (const [eventId, t] of device.events) this.removeTranslation(device, eventId, t);
    this.devices.delete(id);
    return work;
  }

  private removeTranslation(device: ItsDevice, eventId: number, t: Translation): void {
    device.events.delete(eventId);
    this.translationCount--;
    this.lpis.release(t.lpi);
  }

  /** Visits every translation; returns how many. */
  private eachTranslation(visit: (t: Translation) => void): number {
    for (const device of this.devices.values()) for (const t of device.events.values()) visit(t);
    return this.translationCount;
  }

  /**
   * Whether `id` has an entry in the table GITS_BASER `baser` describes, and that entry lies
   * in guest RAM (KVM's vgic_its_check_id). A two-level table's first-level entry is read.
   */
  private hasEntry(baser: bigint, id: number): boolean {
    const type = (baser >> BASER_TYPE_SHIFT) & 7n;
    const idBits = type === BASER_TYPE_DEVICE ? ITS_DEVICE_ID_BITS : ITS_COLLECTION_ID_BITS;
    if (id >= 2 ** idBits) return false;
    const tableBytes = (Number(baser & 0xffn) + 1) * BASER_PAGE_BYTES;
    const base = baserAddress(baser);
    if (!(baser & BASER_INDIRECT)) {
      if (id >= tableBytes / ITS_ENTRY_BYTES) return false;
      return this.memory.contains(base + id * ITS_ENTRY_BYTES, ITS_ENTRY_BYTES);
    }
    const perPage = BASER_PAGE_BYTES / ITS_ENTRY_BYTES;
    const index = Math.floor(id / perPage);
    if (index >= tableBytes / 8) return false;
    const l1 = base + index * 8;
    if (!this.memory.contains(l1, 8)) return false;
    const entry = this.memory.u64Big(l1);
    if (!(entry & L1_ENTRY_VALID)) return false;
    const page = Number(entry & L1_ADDRESS_MASK);
    return this.memory.contains(page + (id % perPage) * ITS_ENTRY_BYTES, ITS_ENTRY_BYTES);
  }
}

/** GITS_BASER's table address with 64 KiB pages: PA [47:16], and PA [51:48] in bits [15:12]. */
export function baserAddress(baser: bigint): number {
  return Number((baser & 0xffff_ffff_0000n) | (((baser >> 12n) & 0xfn) << 48n));
}
