// PMUv3 behind --pmu, seen from a bare-metal guest (test/guests/pmu.c): identification, the
// counter registers, exact INST_RETIRED/CPU_CYCLES/MEM_ACCESS/BR_RETIRED counts, filtering by
// EL, CHAIN, PMSWINC, the overflow interrupt on PPI 23, PMUSERENR_EL0 and a PMU per vCPU. Run
// interpreted and with every block translated before it first runs: the counts must not differ.
// Without --pmu the PMU is absent, as KVM shows it without the PMU vCPU feature.

import { describe, it } from "vitest";
import { expectPassed, runGuest } from "../support/run-guest.ts";

const EXPECTED = [
  "ID_AA64DFR0_EL1.PMUVer = 1 (PMUv3)",
  "PMCR_EL0.N = 6 event counters",
  "PMCR_EL0.IMP = 0x41 (Arm)",
  "PMCR_EL0.LC = 1 (RES1: no AArch32)",
  "PMCEID0_EL0: SW_INCR, INST_RETIRED, CPU_CYCLES, MEM_ACCESS, CHAIN",
  "PMCEID1_EL0: BR_RETIRED",
  "PMCNTENSET_EL0 keeps the implemented counters' bits",
  "  PMCNTENCLR_EL0 reads the same",
  "  PMCNTENCLR_EL0 clears",
  "PMSELR_EL0 = 3: PMXEVTYPER_EL0 is PMEVTYPER3_EL0",
  "  PMXEVCNTR_EL0 is PMEVCNTR3_EL0",
  "PMEVTYPER: P, U and a 10-bit event; NSK/NSU/NSH/M RES0 (no EL2/EL3)",
  "PMEVCNTR: 32 bits",
  "PMSELR_EL0 = 6 (no such counter): PMXEVCNTR_EL0 is UNDEFINED",
  "PMCR_EL0.P zeroes the event counters",
  "  P and C read as 0",
  "PMOVSSET_EL0 sets overflow bits",
  "PMINTENSET_EL1 keeps the implemented counters' bits",
  "INST_RETIRED: exactly the instructions the loop ran",
  "MEM_ACCESS: one per load",
  "BR_RETIRED: one per branch, taken or not",
  "CPU_CYCLES: one per instruction",
  "PMCCNTR_EL0 counts the same cycles",
  "again, 1000 iterations: INST_RETIRED exact",
  "  and PMCCNTR_EL0",
  "PMCR_EL0.D: PMCCNTR_EL0 counts every 64th cycle",
  "PMCR_EL0.E = 0: nothing counts",
  "a counter disabled in PMCNTENSET_EL0 does not count",
  "PMEVTYPER.P = 1: nothing counted at EL1",
  "PMEVTYPER.U = 1: EL1 counted",
  "PMCCFILTR_EL0.P = 1: no cycles at EL1",
  "EL0 code ran to its SVC",
  "P = 1: exactly the four EL0 instructions",
  "PMCCFILTR_EL0.P = 1: their four cycles",
  "BR_RETIRED at EL0: none (ERET counts at EL1)",
  "U = 1: the EL1 side of the round trip, ERET included",
  "CHAIN: counters 1:0 count as one 64-bit counter",
  "  the even counter's overflow is recorded, the odd one did not overflow",
  "  an odd counter that wraps overflows as well",
  "  a disabled CHAIN counter stays put",
  "PMSWINC_EL0 with PMCR.E = 0: no increment",
  "PMSWINC_EL0: five software increments",
  "  not on a counter filtering out EL1",
  "  an overflow by PMSWINC chains",
  "PMINTENSET_EL1 clear: an overflow raises no interrupt",
  "setting PMINTENSET_EL1 with the overflow pending: one interrupt",
  "  on PPI 23",
  "  PMOVSCLR_EL0 = 1 in the handler",
  "INST_RETIRED overflows in a loop: one interrupt",
  "  taken within a few instructions of the overflow",
  "PMCCNTR_EL0 wraps at 64 bits: interrupt with PMOVS bit 31",
  "PMUSERENR_EL0 = 0: EL0 reading PMCCNTR_EL0 is UNDEFINED (as KVM injects)",
  "  and PMCR_EL0",
  "  PMUSERENR_EL0 itself is readable",
  "  (no exception)",
  "CR = 1: EL0 reads PMCCNTR_EL0",
  "  but not PMEVCNTR0_EL0",
  "ER = 1: EL0 reads PMEVCNTR0_EL0",
  "  and writes PMSELR_EL0",
  "  but writing PMEVCNTR0_EL0 is UNDEFINED",
  "SW = 1: EL0 writes PMSWINC_EL0",
  "EN = 1: EL0 reads PMCR_EL0",
  "  PMINTENSET_EL1 stays EL1-only",
  "  and EL0 cannot write PMUSERENR_EL0",
  "CPU_ON vCPU 1",
  "vCPU 1 ran its counting loop",
  "  its PMEVCNTR0_EL0 starts at 0 (a PMU per vCPU)",
  "  and counts its own instructions",
  "vCPU 0's PMEVCNTR0_EL0 is untouched",
];

const ABSENT = [
  "without --pmu: ID_AA64DFR0_EL1.PMUVer = 0",
  "  MRS PMCR_EL0 is UNDEFINED",
  "  MSR PMCNTENSET_EL0 is UNDEFINED",
  "  MRS PMEVCNTR0_EL0 is UNDEFINED",
];

describe("PMUv3 (--pmu), from a guest", () => {
  it("counts exactly, filters, chains and interrupts, interpreted", async () => {
    expectPassed(await runGuest("pmu", { cpus: 2, extra: ["--pmu", "--no-jit"] }), EXPECTED);
  });

  it("the same counts with every block translated before it first runs (--jit-threshold 0)", async () => {
    expectPassed(await runGuest("pmu", { cpus: 2, extra: ["--pmu", "--jit", "--jit-threshold", "0"] }), EXPECTED);
  });

  it("without --pmu: PMUVer = 0 and the PMU registers UNDEFINED", async () => {
    expectPassed(await runGuest("pmu", { extra: ["--no-jit"] }), ABSENT);
  });
});
