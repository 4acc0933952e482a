// LPIs (INTIDs 8192 and up), as KVM's vGICv3 keeps them: an LPI exists only while an ITS
// translation maps it, and its priority and enable bit are a copy of its byte in the guest's
// property table, taken when it is mapped and again on INV, INVALL or GICR_INVLPIR/INVALLR.
// The pending state lives here, not in the guest's pending tables: those are read when a
// Redistributor's LPIs are enabled (unless PENDBASER.PTZ) and when an LPI is mapped.
//
// LPIs are Group 1 and edge-triggered, with no active state: acknowledging one clears its
// pending bit and nothing else. A guest that never maps an LPI has none pending, and the
// CPU interface then pays a single size check per look-up.

import type { GuestMemory } from "../../../src/kvm/guest-memory.ts";
import { PRIORITY_MASK } from "./shared.ts";

export const GIC_LPI_BASE_INTID = 8192;
/** KVM's INTERRUPT_ID_BITS_ITS: 16-bit INTIDs, so LPIs 8192-65535. */
export const LPI_INTID_BITS = 16;

// GICR_PROPBASER: IDbits [4:0], InnerCache [9:7], Shareability [11:10], PA [51:12], OuterCache [58:56].
const PROPBASER_IDBITS_MASK = 0x1fn;
const PROPBASER_ADDRESS_MASK = ((1n << 52n) - 1n) & ~0xfffn;
// GICR_PENDBASER: PA [51:16], PTZ bit 62.
const PENDBASER_ADDRESS_MASK = ((1n << 52n) - 1n) & ~0xffffn;
export const PENDBASER_PTZ = 1n << 62n;

// A property table byte: priority [7:2], bit 0 Enable.
const LPI_PROP_ENABLE = 0x01;
const LPI_PROP_PRIORITY = 0xfc;

export interface Lpi {
  readonly intid: number;
  /** The vCPU whose Redistributor holds it, or -1 while its collection is unmapped. */
  target: number;
  priority: number;
  enabled: boolean;
  pending: boolean;
  /** ITS translations that map it; it is freed at 0. */
  refs: number;
}

export class GicLpis {
  /** GICR_PROPBASER: KVM keeps one for the whole VM, whichever Redistributor writes it. */
  propbaser: bigint;
  /** GICR_PENDBASER per vCPU (PTZ is stored but reads as 0). */
  readonly pendbaser: bigint[];
  /** GICR_CTLR.EnableLPIs per vCPU. */
  readonly enabled: Uint8Array;
  private readonly byIntid = new Map<number, Lpi>();
  /** Every pending LPI, whatever its target: what the CPU interfaces search. */
  private readonly pendingSet = new Set<Lpi>();

  constructor(
    readonly vcpuCount: number,
    private readonly memory: GuestMemory,
    initialPropbaser: bigint,
  ) {
    this.propbaser = initialPropbaser;
    this.pendbaser = new Array<bigint>(vcpuCount).fill(0n);
    this.enabled = new Uint8Array(vcpuCount);
  }

  get count(): number {
    return this.byIntid.size;
  }

  get(intid: number): Lpi | undefined {
    return this.byIntid.get(intid);
  }

  /** The LPIs GICR_PROPBASER.IDbits allows, capped at 16 bits as KVM does: 1 << bits. */
  intidLimit(): number {
    const bits = Number(this.propbaser & PROPBASER_IDBITS_MASK) + 1;
    return 2 ** Math.min(bits, LPI_INTID_BITS);
  }

  /**
   * A translation now maps `intid` (MAPTI/MAPI). A new LPI reads its configuration and its
   * pending bit from guest memory; it is not created (undefined) when the property byte is
   * outside guest RAM. An existing LPI just gains a reference, keeping its target (as KVM).
   */
  add(intid: number, target: number): Lpi | undefined {
    const existing = this.byIntid.get(intid);
    if (existing !== undefined) {
      existing.refs++;
      return existing;
    }
    const lpi: Lpi = { intid, target, priority: 0, enabled: false, pending: false, refs: 1 };
    if (!this.readConfig(lpi)) return undefined;
    this.byIntid.set(intid, lpi);
    if (target >= 0) this.consumePendingBit(lpi, target);
    return lpi;
  }

  /** A translation no longer maps it; the last one frees it, pending state included. */
  release(lpi: Lpi): void {
    if (--lpi.refs > 0) return;
    this.byIntid.delete(lpi.intid);
    this.setPending(lpi, false);
  }

  setPending(lpi: Lpi, pending: boolean): void {
    lpi.pending = pending;
    if (pending) this.pendingSet.add(lpi);
    else this.pendingSet.delete(lpi);
  }

  /** Re-reads the property byte (INV, INVALL, GICR_INVLPIR). False when it is outside RAM. */
  readConfig(lpi: Lpi): boolean {
    const gpa = Number(this.propbaser & PROPBASER_ADDRESS_MASK) + (lpi.intid - GIC_LPI_BASE_INTID);
    if (!this.memory.contains(gpa, 1)) return false;
    const prop = this.memory.view(gpa, 1)[0]!;
    lpi.priority = prop & LPI_PROP_PRIORITY & PRIORITY_MASK;
    lpi.enabled = (prop & LPI_PROP_ENABLE) !== 0;
    return true;
  }

  /** Every LPI targeting `vcpu` (INVALL, MOVALL, GICR_INVALLR): a snapshot, safe to change. */
  targeting(vcpu: number): Lpi[] {
    const out: Lpi[] = [];
    for (const lpi of this.byIntid.values()) if (lpi.target === vcpu) out.push(lpi);
    return out;
  }

  /**
   * GICR_CTLR.EnableLPIs 0 → 1: take the pending bits of this vCPU's mapped LPIs from its
   * pending table, unless PENDBASER.PTZ said the table is zero. 1 → 0: drop their pending state.
   */
  setEnabled(vcpu: number, enable: boolean): void {
    if ((this.enabled[vcpu] === 1) === enable) return;
    this.enabled[vcpu] = enable ? 1 : 0;
    if (!enable) {
      for (const lpi of this.pendingSet) if (lpi.target === vcpu) this.setPending(lpi, false);
      return;
    }
    if (this.pendbaser[vcpu]! & PENDBASER_PTZ) return;
    const table = Number(this.pendbaser[vcpu]! & PENDBASER_ADDRESS_MASK);
    for (const lpi of this.targeting(vcpu)) {
      const gpa = table + Math.floor(lpi.intid / 8);
      if (!this.memory.contains(gpa, 1)) return; // KVM stops at the first failed read
      this.setPending(lpi, (this.memory.view(gpa, 1)[0]! & (1 << (lpi.intid % 8))) !== 0);
    }
  }

  /**
   * The highest priority pending, enabled LPI for `vcpu` (ties to the lower INTID), or null.
   * Only called when Group 1 is enabled: LPIs are always Group 1.
   */
  highestPending(vcpu: number): Lpi | null {
    if (this.pendingSet.size === 0) return null;
    let best: Lpi | null = null;
    for (const lpi of this.pendingSet) {
      if (lpi.target !== vcpu || !lpi.enabled) continue;
      if (best === null || lpi.priority < best.priority || (lpi.priority === best.priority && lpi.intid < best.intid)) {
        best = lpi;
      }
    }
    return best;
  }

  /** A newly mapped LPI takes a set bit from its target's pending table, and clears it there. */
  private consumePendingBit(lpi: Lpi, vcpu: number): void {
    const gpa = Number(this.pendbaser[vcpu]! & PENDBASER_ADDRESS_MASK) + Math.floor(lpi.intid / 8);
    if (!this.memory.contains(gpa, 1)) return;
    const byte = this.memory.view(gpa, 1)[0]!;
    const bit = 1 << (lpi.intid % 8);
    if ((byte & bit) === 0) return;
    this.setPending(lpi, true);
    this.memory.write(gpa, Uint8Array.of(byte & ~bit));
  }
}
