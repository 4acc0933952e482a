// --mmio-syndrome: what lkvm does with an MMIO access that KVM could not emulate.
//
// Under KVM a guest's MMIO access is a stage 2 data abort, and KVM emulates it from the
// syndrome in ESR_EL2 (ISV, SAS, SRT, WnR). Instructions that move more than one register or
// write their base back (pre/post-index, LDP/STP), SIMD&FP and exclusive loads and stores give
// no syndrome (ISV = 0): KVM_RUN then fails with ENOSYS and kvmtool dies, unless the VMM asked
// for KVM_EXIT_ARM_NISV and handles the access itself. lkvm's core can emulate them all, and
// hands the VMM the syndrome hardware would give (Core.mmioSyndrome), so this decides what a
// firmware or driver developer sees:
//   emulate    do the access, say nothing (an emulator's answer);
//   warn       do it, and say once per guest PC that KVM could not have (the default);
//   kvm        say so, then stop the VM as KVM_RUN failing stops kvmtool;
//   nisv-exit  refuse it with a synchronous external abort to the guest, as a VMM that gets
//              KVM_EXIT_ARM_NISV and declines to decode the instruction would.
// LD64B/ST64B (FEAT_LS64) to a device that takes no 64-byte accesses are refused in every
// mode (KVM_EXIT_ARM_LDST64B's canonical answer); warn and kvm print the exit KVM would give.
//
// This runs only for accesses that already left the core for the trap bus, so the boot path
// (RAM) never reaches it, and `emulate` builds no checker at all.

import { MMIO_FETCH } from "../../arm/abi.ts";
import type { Core, MmioOutcome } from "../../arm/host/core.ts";
import { ldstMnemonic } from "../../arm/host/ldst-mnemonic.ts";
import type { TrapBus } from "../iotrap/bus.ts";

export const MMIO_SYNDROME_MODES = ["emulate", "warn", "kvm", "nisv-exit"] as const;
export type MmioSyndromeMode = (typeof MMIO_SYNDROME_MODES)[number];

/** ESR_ELx.ISS.ISV: the instruction syndrome (SAS, SRT…) is valid. */
const ISS_ISV = 1 << 24;
const ISS_WNR = 1 << 6;
/**
 * ISS.LST (bits 12:11, FEAT_LS64), which the core sets in the syndrome of a 64-byte access:
 * 0b10 LD64B or ST64B, 0b01 ST64BV, 0b11 ST64BV0.
 */
const LST_SHIFT = 11;
/** EC of a data abort from a lower EL: what EL2 (KVM) sees for a guest's access. */
const EC_DABT_LOWER = 0x24;
const ESR_IL = 1 << 25;
/** A stage 2 translation fault: the IPA is in no memory slot (the level is nominal). */
const DFSC_TRANSLATION_L3 = 0x07;

const hex = (n: number | bigint): string => "0x" + n.toString(16);

export class MmioSyndromeCheck {
  /** Guest PCs already reported, so that a polling loop prints one line. */
  private readonly reported = new Set<bigint>();

  constructor(
    readonly mode: Exclude<MmioSyndromeMode, "emulate">,
    private readonly core: Core,
    private readonly bus: TrapBus,
    private readonly log: (line: string) => void,
  ) {}

  /** Whether the current access (during a CoreHost.mmio call) lacks a valid syndrome. */
  needsCheck(): boolean {
    return (this.core.mmioSyndrome & ISS_ISV) === 0;
  }

  /**
   * An access with ISV = 0: true to perform it, false to stop the VM (kvm), "external-abort"
   * to refuse it (nisv-exit). Instruction fetches and accesses KVM would serve from a memory
   * slot never trap under KVM, so they pass.
   */
  invalidSyndrome(gpa: number, lengthBytes: number, isWrite: boolean): MmioOutcome {
    if ((this.core.mmioSyndrome & MMIO_FETCH) !== 0) return true;
    const region = this.bus.claimant(gpa, lengthBytes);
    if (region?.memslotBacked?.(isWrite) === true) return true;
    const consequence = this.mode === "warn" ? "emulated anyway" : this.mode === "kvm" ? "stopping the VM" : "injecting an external abort";
    this.reportOnce(
      `MMIO ${isWrite ? "write" : "read"} of ${lengthBytes} byte${lengthBytes === 1 ? "" : "s"} at ${hex(gpa)} (${region?.name ?? "unclaimed"}) has no valid ` +
        `syndrome (ESR_EL2.ISV = 0): KVM could not emulate it; ${consequence}`,
    );
    if (this.mode === "kvm") {
      // What KVM logs before failing KVM_RUN with ENOSYS (kvm_handle_guest_abort → io_mem_abort).
      this.log("  kvm: load/store instruction decoding not implemented");
      return false;
    }
    return this.mode === "warn" ? true : "external-abort";
  }

  /**
   * LD64B/ST64B to a region that takes no 64-byte accesses: KVM exits with
   * KVM_EXIT_ARM_LDST64B (the ESR and the IPA) and the VMM injects an external abort.
   */
  refused64(gpa: number, isWrite: boolean): void {
    const iss = this.core.mmioSyndrome & 0x1ffffff;
    let esr = BigInt(((EC_DABT_LOWER << 26) | ESR_IL | iss | (isWrite ? ISS_WNR : 0) | DFSC_TRANSLATION_L3) >>> 0);
    // ESR_EL2.ISS2 (bits 36:32) names Xs, the status register of ST64BV/ST64BV0 (LST 01, 11).
    if (((iss >> LST_SHIFT) & 1) !== 0) esr |= BigInt((this.core.mmioInsnWord >>> 16) & 31) << 32n;
    const region = this.bus.claimant(gpa, 1);
    this.reportOnce(
      `64-byte ${isWrite ? "store" : "load"} at ${hex(gpa)} (${region?.name ?? "unclaimed"}) refused: the region takes no 64-byte accesses; ` +
        `injecting an external abort`,
    );
    if (this.mode === "kvm") this.log(`  KVM_EXIT_ARM_LDST64B: esr ${hex(esr)}, fault_ipa ${hex(gpa)}`);
  }

  /** One line per guest PC: the instruction, where it is, and what happened. */
  private reportOnce(what: string): void {
    const pc = this.core.mmioInsnPc;
    if (this.reported.has(pc)) return;
    this.reported.add(pc);
    const word = this.core.mmioInsnWord;
    this.log(`  Warning: "${ldstMnemonic(word, this.core.decodeOp(word))}" at pc ${hex(pc)}: ${what}`);
  }
}
