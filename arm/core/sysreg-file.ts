// System register storage: one u64 slot per register in the active vCPU's state area, and the
// MRS/MSR encoding. A leaf, so that the MMU, the exception model and the timer can read their
// registers without depending on the MRS/MSR access rules in sysregs.ts (which call them).
//
// Encodings are (op0, op1, CRn, CRm, op2) packed as in MRS/MSR bits [20:5]:
// op0 << 14 | op1 << 11 | CRn << 7 | CRm << 3 | op2.

import { ACTIVE_STATE, SYSREGS } from "../abi";

@unmanaged class SysregFile {
  @inline @operator("[]") get(i: i32): u64 {
    return load<u64>(ACTIVE_STATE + SYSREGS + (<usize>i << 3));
  }
  @inline @operator("[]=") set(i: i32, v: u64): void {
    store<u64>(ACTIVE_STATE + SYSREGS + (<usize>i << 3), v);
  }
}

/** The active vCPU's system registers, indexed by the slot constants below. */
export const sysregs = changetype<SysregFile>(0);

// ---- storage slots ----
export const SCTLR_EL1 = 0;
export const TCR_EL1 = 1;
export const TTBR0_EL1 = 2;
export const TTBR1_EL1 = 3;
export const MAIR_EL1 = 4;
export const AMAIR_EL1 = 5;
export const VBAR_EL1 = 6;
export const ESR_EL1 = 7;
export const FAR_EL1 = 8;
export const ELR_EL1 = 9;
export const SPSR_EL1 = 10;
export const CONTEXTIDR_EL1 = 11;
export const TPIDR_EL0 = 12;
export const TPIDRRO_EL0 = 13;
export const TPIDR_EL1 = 14;
export const CPACR_EL1 = 15;
export const MDSCR_EL1 = 16;
export const CNTKCTL_EL1 = 17;
export const CNTV_CTL_EL0 = 18;
export const CNTV_CVAL_EL0 = 19;
export const CNTP_CTL_EL0 = 20;
export const CNTP_CVAL_EL0 = 21;
export const PAR_EL1 = 22;
export const AFSR0_EL1 = 23;
export const AFSR1_EL1 = 24;
export const CSSELR_EL1 = 25;
export const MPIDR_EL1 = 26;
export const ACTLR_EL1 = 27;
export const OSLSR_EL1 = 28;
export const MDCCINT_EL1 = 29;
export const OSDLR_EL1 = 30;
export const CNTFRQ_EL0 = 31;
export const DBGCLAIM = 32;
export const DBGPRCR_EL1 = 33;
export const CNTVOFF = 34; // the virtual counter offset (CNTVOFF_EL2 if we had EL2)
export const ACCDATA_EL1 = 35; // FEAT_LS64_ACCDATA: bits 31:0, ST64BV0's first word
// The PMU (pmu.ts): PMCR_EL0 holds only its writable bits; PMCCDIV is hidden state, the cycles
// counted toward PMCCNTR's next tick while PMCR_EL0.D divides by 64.
export const PMCR_EL0 = 36;
export const PMCNTEN = 37; // PMCNTENSET/PMCNTENCLR_EL0
export const PMINTEN = 38; // PMINTENSET/PMINTENCLR_EL1
export const PMOVS = 39; // PMOVSSET/PMOVSCLR_EL0
export const PMSELR_EL0 = 40;
export const PMUSERENR_EL0 = 41;
export const PMCCNTR_EL0 = 42;
export const PMCCFILTR_EL0 = 43;
export const PMCCDIV = 44;
export const DBG_BVR = 64; // 16 each: breakpoint value/control, watchpoint value/control
export const DBG_BCR = 80;
export const DBG_WVR = 96;
export const DBG_WCR = 112;
export const PMEVCNTR = 128; // 31 each: PMEVCNTR<n>_EL0, PMEVTYPER<n>_EL0 (pmu.ts uses the first N)
export const PMEVTYPER = 160;

@inline export function enc(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32): u32 {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}
