// EL1 behaviour of the core, seen from bare-metal guests (test/guests/*.c): synchronous
// exceptions and their syndromes, data and instruction aborts, EL0, alignment, unprivileged
// accesses. Each guest checks the ARM ARM's values and reports "ok"/"not ok" lines.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectPassed, runGuest } from "../support/run-guest.ts";

describe("EL1 exceptions, from guests", () => {
  it("UNDEFINED, SVC, BRK, HVC, PC and SP alignment, illegal return: syndromes, ELR, vectors", async () => {
    const run = await runGuest("exceptions");
    expectPassed(run, [
      "UDF: EC 0 (unknown reason)",
      "SVC: ELR = the next instruction",
      "BRK: EC 0x3c",
      "HVC to an unknown SMCCC function returns -1",
      "misaligned PC: EC 0x22",
      "SP alignment: EC 0x26",
      "from EL1t: current EL with SP0 vector (VBAR + 0x000)",
      "an illegal exception return: the next instruction takes an exception",
    ]);
  });

  it("data and instruction aborts with the MMU on: EC, FAR, DFSC level, WnR, CM", async () => {
    const run = await runGuest("dabort");
    // ARM ARM (DDI 0487F.a, D13-2992): "ISV is 0 for all faults reported in ESR_EL1 or
    // ESR_EL3"; the guest checks that too.
    expectPassed(run, [
      "  takes a data abort",
      "  the base register is not written back",
      "  CM = 1, WnR = 1, translation fault level 3",
      "  an address size fault at level 3 (DFSC 0b000011)",
      "running into an unmapped page: an instruction abort",
      "  ISV = 0 and ISS[23:14] RES0 (ESR_EL1)",
    ]);
  });

  it("a fetch from physical memory nothing backs: KVM's external instruction abort; flash code runs in place", async () => {
    const flash = join(mkdtempSync(join(tmpdir(), "lkvm-fetch-")), "flash.img");
    const code = Buffer.alloc(128 * 1024);
    code.writeUInt32LE(0xd28000e0, 0); // mov x0, #7
    code.writeUInt32LE(0xd65f03c0, 4); // ret
    writeFileSync(flash, code);
    const run = await runGuest("fetch-abort", { extra: ["-F", flash, "--debug-mmio"] });
    expectPassed(run, ["  IFSC = synchronous external abort", "code in the CFI flash (read-array mode) runs in place"]);
    expect(run.ok.filter((l) => l === "  IFSC = synchronous external abort")).toHaveLength(2);
    // --debug-mmio names the fetch, like the unclaimed data accesses it reports.
    expect(run.output).toContain("MMIO warning: instruction fetch at 0x20000000, which no memory backs: external abort");
  });

  it("EL0: ERET to EL0, SVC/aborts/traps/IRQ from EL0 through the lower-EL vectors", async () => {
    const run = await runGuest("el0");
    // ESR_EL1 for a trapped WFI has CV = 1 and COND = 0b1110 (ARM ARM, ISS encoding for an
    // exception from a WFI or WFE instruction).
    expectPassed(run, [
      "SVC from EL0: lower EL AArch64 sync vector (VBAR + 0x400)",
      "  EC 0x24 (data abort from a lower EL)",
      "EL0 branch to a UXN page: EC 0x20 (instruction abort, lower EL)",
      "CNTVCT_EL0 at EL0 with CNTKCTL_EL1.EL0VCTEN = 0 traps with EC 0x18",
      "an IRQ while at EL0 goes to VBAR + 0x480",
      "  before EL0's first instruction (ELR = the entry point)",
      "SA0 = 1: EL0 load with a misaligned SP faults (EC 0x26)",
      "MSR DAIFSet at EL0 with UMA = 0 traps with EC 0x18",
      "DC ZVA at EL0 with SCTLR_EL1.DZE = 0 traps with EC 0x18",
      "HVC at EL0 is UNDEFINED",
      "  ISS: CV = 1, COND = 0b1110, TI = 0 (WFI)",
    ]);
  });

  it("alignment: Device memory and MMU off, SCTLR_EL1.A, exclusives and acquire/release", async () => {
    const run = await runGuest("alignment");
    expectPassed(run, [
      "MMU off (Device memory): an unaligned LDR faults with DFSC 0x21",
      "SCTLR_EL1.A = 1: an unaligned LDR faults",
      "LDXR of a misaligned doubleword faults even with A = 0",
    ]);
  });

  it("LDTR/STTR at EL1 use EL0 permissions", async () => {
    const run = await runGuest("unpriv");
    expectPassed(run, ["LDTR of an EL1-only page: permission fault (EC 0x25)", "LDTR of an EL0 RW page works"]);
  });
});
