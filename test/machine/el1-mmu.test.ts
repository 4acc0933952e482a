// Stage 1 translation, seen from bare-metal guests (test/guests/*.c): every granule and TTBR1,
// permissions and AT, ASIDs and TLB maintenance, and big-endian data accesses.

import { describe, expect, it } from "vitest";
import { expectPassed, runGuest } from "../support/run-guest.ts";

describe("the MMU, from guests", () => {
  it("4K, 16K and 64K granules with 39- and 48-bit VAs, blocks, TTBR1, fault levels", async () => {
    const run = await runGuest("granules");
    expectPassed(run, ["  TTBR1 maps the top of the address space", "  a level 2 block maps its whole range"]);
    expect(run.ok.filter((l) => l === "  TTBR1 maps the top of the address space")).toHaveLength(6);
  });

  it("permissions: AP, PXN, WXN, EL0-writable, APTable/PXNTable; AT and PAR_EL1", async () => {
    const run = await runGuest("mmu-perms");
    expectPassed(run, [
      "AP = RO: a write is a permission fault",
      "PXN = 1: EL1 execution is a permission fault",
      "WXN = 1: a writable page is not executable",
      "APTable = RO: a write below it faults though the page is RW",
      "AT S1E0R on an EL1-only page: PAR.F = 1",
    ]);
  });

  it("ASIDs and TLBI: after TLBI the new mapping is used", async () => {
    const run = await runGuest("tlb");
    expectPassed(run, [
      "ASID 0x0201, table B: X maps to page B (no TLBI needed)",
      "TLBI VAE1 (VA, ASID): the new mapping is used",
      "TLBI ASIDE1: the new mapping is used",
      "TLBI VMALLE1: the new mapping is used",
      "TLBI VAAE1 of another page in the block: new block used",
    ]);
  });

  it("TCR_EL1.TBI0 ignores the top byte of data addresses and of branch targets", async () => {
    const run = await runGuest("tbi");
    // AArch64.BranchAddr(): with TBI the PC is loaded sign-extended from bit 55 on every branch.
    expectPassed(run, [
      "TBI0 = 1: a load through a tagged pointer works",
      "TBI0 = 0: a tagged address is a level 0 translation fault",
      "BLR to a tagged address: the PC has no tag (ADR . sees the untagged address)",
    ]);
  });

  it("exclusive monitors: another vCPU's store breaks STXR; LDXR/STXR counters from two vCPUs", async () => {
    const run = await runGuest("exclusive", { cpus: 2 });
    expectPassed(run, ["another vCPU's store between LDXR and STXR makes STXR fail", "LDXR/STXR increments from both vCPUs all count"]);
  });

  it("self-modifying code runs its new instructions after DC CVAU / IC IVAU / ISB", async () => {
    const run = await runGuest("selfmod");
    expectPassed(run, [
      "MMU off: rewritten code runs the new instructions",
      "written through a writable alias, the new code runs through the other",
      "code rewritten 100 times in a hot loop always runs its latest version",
    ]);
  });

  it("SCTLR_EL1.EE and E0E make data accesses big-endian", async () => {
    const run = await runGuest("bigendian");
    expectPassed(run, ["EE = 1: STR X stores the most significant byte first", "E0E = 1: EL0's STR X stores big-endian"]);
  });
});
