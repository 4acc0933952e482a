// MRS/MSR: the access rules for every system register the core implements, and the ID
// registers that describe this CPU. The CPU modelled is a Cortex-A57-class ARMv8.0-A core with
// EL0 and EL1 only (as a KVM guest sees it), no pointer authentication, CRC32 and no LSE
// atomics; PMUv3 (pmu.ts) only with the PMU feature. The registers' storage is sysreg-file.ts.

import { ACTIVE_STATE, VCPU_ID, IRQ_LINES, FPCR, FPSR, FPCR_MASK, FPSR_MASK, CNTFRQ_HZ as ABI_CNTFRQ_HZ, MPIDR_AFF0_VCPUS } from "../abi";
import { getEL, getSPSel, getDAIF, setDAIF, getNZCV, setNZCV, setELAndSPSel, getBankedSP, setBankedSP } from "./state";
import {
  sysregs, enc, SCTLR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1, MAIR_EL1, AMAIR_EL1, VBAR_EL1, ESR_EL1,
  FAR_EL1, ELR_EL1, SPSR_EL1, CONTEXTIDR_EL1, TPIDR_EL0, TPIDRRO_EL0, TPIDR_EL1, CPACR_EL1,
  MDSCR_EL1, CNTKCTL_EL1, PAR_EL1, AFSR0_EL1, AFSR1_EL1, CSSELR_EL1, MPIDR_EL1, ACTLR_EL1,
  OSLSR_EL1, MDCCINT_EL1, OSDLR_EL1, CNTFRQ_EL0, DBGCLAIM, DBGPRCR_EL1, DBG_BVR, DBG_BCR,
  DBG_WVR, DBG_WCR, ACCDATA_EL1
} from "./sysreg-file";
import { gicSystemRegisters, hasFeature, ls64Level } from "./cpu-features";
import { CPU_FEAT_LS64, CPU_FEAT_LS64_V, CPU_FEAT_LS64_ACCDATA } from "../abi";
import { regimeChanged, tlbFlushAll } from "./mmu";
import { timerRead, timerWrite } from "./timer";
import { requestAttention } from "./attention";
import { fpRegsEnabled, fpAllowedAtCurrentEL } from "./fp-access";
import {
  debugRegistersChanged, NUM_BREAKPOINTS, NUM_WATCHPOINTS, NUM_CONTEXT_BREAKPOINTS, DBGBCR_WRITABLE,
  DBGWCR_WRITABLE, DBGWVR_WRITABLE,
} from "./debug";
import { isPmuRegister, pmuRead, pmuWrite, pmuAccessUndefined, pmuVersion } from "./pmu";

// The storage, for the instruction handlers and emitters that import it from here.
export * from "./sysreg-file";

// ---- identification ----
export const MIDR_VALUE: u64 = 0x411fd070; // Arm Cortex-A57 r1p0
export const CNTFRQ_HZ: u64 = <u64>ABI_CNTFRQ_HZ;

// ID_AA64PFR0_EL1: EL0 and EL1 AArch64-only, no EL2/EL3, GICv3 system registers unless the
// GIC is a GICv2. FP and AdvSIMD read 0xF (not implemented) until the FP/SIMD unit exists; see
// fp-access.ts.
function idAa64pfr0(): u64 {
  const fp: u64 = fpRegsEnabled ? 0 : 0xf;
  const gic: u64 = gicSystemRegisters ? 1 : 0;
  return 0x1 | (0x1 << 4) | (fp << 16) | (fp << 20) | (gic << 24);
}
// ID_AA64DFR0_EL1: DebugVer v8.0, 6 breakpoints, 4 watchpoints, 2 of the breakpoints
// context-aware: what debug.ts implements. Fields hold the count minus one. PMUVer (bits 11:8)
// comes from pmu.ts.
const ID_AA64DFR0: u64 = 0x6 | (<u64>(NUM_BREAKPOINTS - 1) << 12) | (<u64>(NUM_WATCHPOINTS - 1) << 20) |
  (<u64>(NUM_CONTEXT_BREAKPOINTS - 1) << 28);
// ID_AA64ISAR0_EL1: CRC32 only.
const ID_AA64ISAR0: u64 = <u64>1 << 16;
// ID_AA64MMFR0_EL1: 48-bit PA, 16-bit ASIDs, mixed endian, 4K/16K/64K granules.
const ID_AA64MMFR0: u64 = 0x5 | (0x2 << 4) | (0x1 << 8) | (0x1 << 20);
// CTR_EL0: 64-byte lines, PIPT I-cache, DIC = IDC = 0 (software must clean and invalidate).
const CTR_VALUE: u64 = 0x8444c004;
const DCZID_VALUE: u64 = 0x4; // DC ZVA zeroes 64 bytes
const CLIDR_VALUE: u64 = 0x0a200023; // L1 I+D, L2 unified, LoUU/LoC as on the A57

/** The VMM's handler for registers the core leaves to it (the GICv3 CPU interface). */
@external("env", "sysregTrap")
declare function sysregTrap(vcpu: i32, encoding: i32, isWrite: i32, lo: i32, hi: i32): i32;
// The value of a read comes back through these globals (set by the VMM via setTrapResult).
let trapLo: u32 = 0;
let trapHi: u32 = 0;
export function setTrapResult(lo: u32, hi: u32): void { trapLo = lo; trapHi = hi; }

/** GICv3 CPU interface registers, all handled by the VMM's GIC model (none with a GICv2). */
function isGicCpuInterface(e: u32): bool {
  if (!gicSystemRegisters) return false;
  if (e == enc(3, 0, 4, 6, 0)) return true; // ICC_PMR_EL1
  return (e >> 7) == (enc(3, 0, 12, 0, 0) >> 7) && ((e >> 3) & 0xf) >= 8;
}

/** Outcome of an access: the value read, or an exception to take. */
export const ACCESS_OK: u32 = 0;
export const ACCESS_UNDEFINED: u32 = 1;
export const ACCESS_FP_TRAP: u32 = 2;
/** Trapped to EL1 by an EL1 control (SCTLR_EL1.UMA/UCT, CNTKCTL_EL1): EC 0x18. */
export const ACCESS_TRAP: u32 = 3;
export let accessResult: u32 = ACCESS_OK;

function ccsidr(): u64 {
  // Geometry per CSSELR: L1D 32 KiB 2-way 64 B, L1I 48 KiB 3-way 64 B, L2 2 MiB 16-way 64 B.
  const sel = <u32>sysregs[CSSELR_EL1];
  if (sel == 0) return (<u64>(256 - 1) << 13) | (<u64>(2 - 1) << 3) | 2;
  if (sel == 1) return (<u64>(256 - 1) << 13) | (<u64>(3 - 1) << 3) | 2;
  if (sel == 2) return (<u64>(2048 - 1) << 13) | (<u64>(16 - 1) << 3) | 2;
  return 0;
}

/** EL0 access to the counter/timer registers, as CNTKCTL_EL1 allows it. */
function el0TimerAllowed(e: u32): bool {
  const k = <u32>sysregs[CNTKCTL_EL1];
  if (e == enc(3, 3, 14, 0, 0)) return (k & 3) != 0; // CNTFRQ: EL0PCTEN or EL0VCTEN
  if (e == enc(3, 3, 14, 0, 1)) return (k & 1) != 0; // CNTPCT
  if (e == enc(3, 3, 14, 0, 2)) return (k & 2) != 0; // CNTVCT
  if ((e >> 3) == (enc(3, 3, 14, 2, 0) >> 3)) return (k & (1 << 9)) != 0; // CNTP_*: EL0PTEN
  if ((e >> 3) == (enc(3, 3, 14, 3, 0) >> 3)) return (k & (1 << 8)) != 0; // CNTV_*: EL0VTEN
  return false;
}

/** MRS: the value of the register, or accessResult says which exception to take. */
export function readSysreg(e: u32): u64 {
  accessResult = ACCESS_OK;
  const el = getEL();
  const op0 = e >> 14;
  const op1 = (e >> 11) & 7;
  const crn = (e >> 7) & 0xf;
  const crm = (e >> 3) & 0xf;
  const op2 = e & 7;

  // Registers readable at EL0 (subject to their own controls).
  switch (e) {
    case enc(3, 3, 4, 2, 0): return <u64>getNZCV();
    case enc(3, 3, 4, 2, 1): // DAIF: EL0 only with SCTLR_EL1.UMA, else trapped to EL1
      if (el == 0 && (sysregs[SCTLR_EL1] & (1 << 9)) == 0) return trap();
      return <u64>getDAIF();
    case enc(3, 3, 4, 4, 0): // FPCR
    case enc(3, 3, 4, 4, 1): // FPSR
      if (!fpAccessAllowed()) return 0;
      return <u64>load<u32>(ACTIVE_STATE + (e == enc(3, 3, 4, 4, 0) ? FPCR : FPSR));
    case enc(3, 3, 0, 0, 1): // CTR_EL0: EL0 with SCTLR_EL1.UCT, else trapped to EL1
      if (el == 0 && (sysregs[SCTLR_EL1] & (1 << 15)) == 0) return trap();
      return CTR_VALUE;
    case enc(3, 3, 0, 0, 7): { // DCZID_EL0: DZP set when EL0 may not use DC ZVA
      const dzp: u64 = el == 0 && (sysregs[SCTLR_EL1] & (1 << 14)) == 0 ? 0x10 : 0;
      return DCZID_VALUE | dzp;
    }
    case enc(3, 3, 13, 0, 2): return sysregs[TPIDR_EL0];
    case enc(3, 3, 13, 0, 3): return sysregs[TPIDRRO_EL0];
    default: break;
  }
  if (isPmuRegister(e)) {
    const v = pmuRead(e);
    return pmuAccessUndefined ? undef() : v;
  }
  if (op0 == 3 && op1 == 3 && crn == 14) {
    // CNTKCTL_EL1 traps EL0 accesses to EL1 (EC 0x18); encodings with no timer register are UNDEFINED.
    if (el == 0 && !el0TimerAllowed(e)) return isTimerRegister(e) ? trap() : undef();
    return timerRead(e);
  }
  if (el == 0) return undef();

  if (isGicCpuInterface(e)) {
    if (!sysregTrap(<i32>load<u32>(ACTIVE_STATE + VCPU_ID), e, 0, 0, 0)) return undef();
    return (<u64>trapHi << 32) | trapLo;
  }
  // The ID register space: every unassigned encoding reads as zero.
  if (op0 == 3 && op1 == 0 && crn == 0 && crm >= 1) {
    if (crm == 4 && op2 == 0) return idAa64pfr0();
    if (crm == 5 && op2 == 0) return ID_AA64DFR0 | (pmuVersion() << 8);
    if (crm == 6 && op2 == 0) return ID_AA64ISAR0;
    if (crm == 6 && op2 == 1) return ls64Level() << 60; // ID_AA64ISAR1_EL1: LS64 only
    if (crm == 7 && op2 == 0) return ID_AA64MMFR0;
    return 0;
  }
  // Debug breakpoints and watchpoints: op0=2, op1=0, CRn=0, op2=4..7 with CRm = n.
  if (op0 == 2 && op1 == 0 && crn == 0 && op2 >= 4) {
    const slot = debugSlot(crm, op2);
    return slot < 0 ? undef() : sysregs[slot];
  }
  switch (e) {
    case enc(3, 0, 0, 0, 0): return MIDR_VALUE;
    case enc(3, 0, 0, 0, 5): return sysregs[MPIDR_EL1];
    case enc(3, 0, 0, 0, 6): return 0; // REVIDR_EL1
    case enc(3, 1, 0, 0, 0): return ccsidr();
    case enc(3, 1, 0, 0, 1): return CLIDR_VALUE;
    case enc(3, 1, 0, 0, 7): return 0; // AIDR_EL1
    case enc(3, 2, 0, 0, 0): return sysregs[CSSELR_EL1];
    case enc(3, 0, 1, 0, 0): return sysregs[SCTLR_EL1];
    case enc(3, 0, 1, 0, 1): return sysregs[ACTLR_EL1];
    case enc(3, 0, 1, 0, 2): return sysregs[CPACR_EL1];
    case enc(3, 0, 2, 0, 0): return sysregs[TTBR0_EL1];
    case enc(3, 0, 2, 0, 1): return sysregs[TTBR1_EL1];
    case enc(3, 0, 2, 0, 2): return sysregs[TCR_EL1];
    case enc(3, 0, 4, 0, 0): return sysregs[SPSR_EL1];
    case enc(3, 0, 4, 0, 1): return sysregs[ELR_EL1];
    case enc(3, 0, 4, 1, 0): // SP_EL0: UNDEFINED while it is the current SP
      if (getSPSel() == 0) return undef();
      return getBankedSP(0);
    case enc(3, 0, 4, 2, 0): return <u64>getSPSel();
    case enc(3, 0, 4, 2, 2): return <u64>(el << 2); // CurrentEL
    case enc(3, 0, 5, 1, 0): return sysregs[AFSR0_EL1];
    case enc(3, 0, 5, 1, 1): return sysregs[AFSR1_EL1];
    case enc(3, 0, 5, 2, 0): return sysregs[ESR_EL1];
    case enc(3, 0, 6, 0, 0): return sysregs[FAR_EL1];
    case enc(3, 0, 7, 4, 0): return sysregs[PAR_EL1];
    case enc(3, 0, 10, 2, 0): return sysregs[MAIR_EL1];
    case enc(3, 0, 10, 3, 0): return sysregs[AMAIR_EL1];
    case enc(3, 0, 12, 0, 0): return sysregs[VBAR_EL1];
    case enc(3, 0, 12, 0, 1): return 0; // RVBAR_EL1: EL1 is the highest EL
    case enc(3, 0, 12, 1, 0): { // ISR_EL1: pending A, I, F
      const lines = load<u32>(ACTIVE_STATE + IRQ_LINES);
      return <u64>(((lines & 1) << 7) | ((lines & 2) << 5) | ((lines & 4) << 6));
    }
    case enc(3, 0, 13, 0, 1): return sysregs[CONTEXTIDR_EL1];
    case enc(3, 0, 13, 0, 4): return sysregs[TPIDR_EL1];
    case enc(3, 0, 13, 0, 5): // ACCDATA_EL1
      return hasFeature(CPU_FEAT_LS64_ACCDATA) ? sysregs[ACCDATA_EL1] : undef();
    case enc(3, 0, 14, 1, 0): return sysregs[CNTKCTL_EL1];
    case enc(2, 0, 0, 2, 0): return sysregs[MDCCINT_EL1];
    case enc(2, 0, 0, 2, 2): return sysregs[MDSCR_EL1];
    case enc(2, 0, 1, 0, 0): return 0; // MDRAR_EL1: no memory-mapped debug
    case enc(2, 0, 1, 1, 4): return sysregs[OSLSR_EL1];
    case enc(2, 0, 1, 3, 4): return sysregs[OSDLR_EL1];
    case enc(2, 0, 1, 4, 4): return sysregs[DBGPRCR_EL1];
    case enc(2, 0, 7, 8, 6): // DBGCLAIMSET_EL1 reads as the implemented claim bits
    case enc(2, 0, 7, 9, 6): return sysregs[DBGCLAIM];
    case enc(2, 0, 7, 14, 6): return 0xaa; // DBGAUTHSTATUS_EL1: non-secure debug enabled
    case enc(2, 3, 0, 1, 0): return 0; // MDCCSR_EL0
    default: break;
  }
  return undef();
}

/** MSR: writes the register, or accessResult says which exception to take. */
export function writeSysreg(e: u32, v: u64): void {
  accessResult = ACCESS_OK;
  const el = getEL();
  const op0 = e >> 14;
  const op1 = (e >> 11) & 7;
  const crn = (e >> 7) & 0xf;
  const crm = (e >> 3) & 0xf;
  const op2 = e & 7;

  switch (e) {
    case enc(3, 3, 4, 2, 0): setNZCV(<u32>v); return;
    case enc(3, 3, 4, 2, 1):
      if (el == 0 && (sysregs[SCTLR_EL1] & (1 << 9)) == 0) { trap(); return; }
      setDAIF(<u32>v);
      requestAttention();
      return;
    case enc(3, 3, 4, 4, 0):
      if (!fpAccessAllowed()) return;
      store<u32>(ACTIVE_STATE + FPCR, <u32>v & FPCR_MASK);
      return;
    case enc(3, 3, 4, 4, 1):
      if (!fpAccessAllowed()) return;
      store<u32>(ACTIVE_STATE + FPSR, <u32>v & FPSR_MASK);
      return;
    case enc(3, 3, 13, 0, 2): sysregs[TPIDR_EL0] = v; return;
    default: break;
  }
  if (isPmuRegister(e)) {
    pmuWrite(e, v);
    if (pmuAccessUndefined) undef();
    return;
  }
  if (op0 == 3 && op1 == 3 && crn == 14) {
    // CNTFRQ_EL0 is writable only at the highest EL (EL1 here); the rest trap as for reads.
    if (el == 0 && (e == enc(3, 3, 14, 0, 0) || !isTimerRegister(e))) { undef(); return; }
    if (el == 0 && !el0TimerAllowed(e)) { trap(); return; }
    if (!timerWrite(e, v)) undef();
    return;
  }
  if (el == 0) { undef(); return; }

  if (isGicCpuInterface(e)) {
    if (!sysregTrap(<i32>load<u32>(ACTIVE_STATE + VCPU_ID), e, 1, <i32>v, <i32>(v >> 32))) undef();
    requestAttention();
    return;
  }
  if (op0 == 2 && op1 == 0 && crn == 0 && op2 >= 4) {
    const slot = debugSlot(crm, op2);
    if (slot < 0) { undef(); return; }
    // DBGBVR is whole: a context breakpoint compares its bits 31:0 with CONTEXTIDR_EL1.
    if (op2 == 4) sysregs[slot] = v;
    else if (op2 == 6) sysregs[slot] = v & DBGWVR_WRITABLE;
    else sysregs[slot] = v & (op2 == 5 ? DBGBCR_WRITABLE : DBGWCR_WRITABLE);
    debugRegistersChanged();
    return;
  }
  switch (e) {
    case enc(3, 2, 0, 0, 0): sysregs[CSSELR_EL1] = v & 0xf; return;
    case enc(3, 0, 1, 0, 0):
      sysregs[SCTLR_EL1] = (v & (SCTLR_WRITABLE | sctlrLs64Bits())) | SCTLR_RES1;
      tlbFlushAll();
      regimeChanged();
      return;
    case enc(3, 0, 1, 0, 1): sysregs[ACTLR_EL1] = v; return;
    case enc(3, 0, 1, 0, 2): sysregs[CPACR_EL1] = v & (3 << 20); return;
    case enc(3, 0, 2, 0, 0): sysregs[TTBR0_EL1] = v; regimeChanged(); return;
    case enc(3, 0, 2, 0, 1): sysregs[TTBR1_EL1] = v; regimeChanged(); return;
    case enc(3, 0, 2, 0, 2): sysregs[TCR_EL1] = v; tlbFlushAll(); regimeChanged(); return;
    case enc(3, 0, 4, 0, 0): sysregs[SPSR_EL1] = v & 0xf07003df; return;
    case enc(3, 0, 4, 0, 1): sysregs[ELR_EL1] = v; return;
    case enc(3, 0, 4, 1, 0):
      if (getSPSel() == 0) { undef(); return; }
      setBankedSP(0, v);
      return;
    case enc(3, 0, 4, 2, 0): setELAndSPSel(el, <u32>v & 1); return;
    case enc(3, 0, 5, 1, 0): sysregs[AFSR0_EL1] = v; return;
    case enc(3, 0, 5, 1, 1): sysregs[AFSR1_EL1] = v; return;
    case enc(3, 0, 5, 2, 0): sysregs[ESR_EL1] = v & 0xffffffff; return;
    case enc(3, 0, 6, 0, 0): sysregs[FAR_EL1] = v; return;
    case enc(3, 0, 7, 4, 0): sysregs[PAR_EL1] = v; return;
    case enc(3, 0, 10, 2, 0): sysregs[MAIR_EL1] = v; tlbFlushAll(); regimeChanged(); return;
    case enc(3, 0, 10, 3, 0): sysregs[AMAIR_EL1] = v; return;
    case enc(3, 0, 12, 0, 0): sysregs[VBAR_EL1] = v & ~<u64>0x7ff; return;
    case enc(3, 0, 13, 0, 1): sysregs[CONTEXTIDR_EL1] = v & 0xffffffff; return;
    case enc(3, 0, 13, 0, 4): sysregs[TPIDR_EL1] = v; return;
    case enc(3, 0, 13, 0, 5): // ACCDATA_EL1: bits 63:32 are RES0
      if (!hasFeature(CPU_FEAT_LS64_ACCDATA)) break;
      sysregs[ACCDATA_EL1] = v & 0xffffffff;
      return;
    case enc(3, 3, 13, 0, 3): sysregs[TPIDRRO_EL0] = v; return;
    case enc(3, 0, 14, 1, 0): sysregs[CNTKCTL_EL1] = v & 0x3ff; return;
    case enc(2, 0, 0, 2, 0): sysregs[MDCCINT_EL1] = v & ((1 << 29) | (1 << 30)); return;
    case enc(2, 0, 0, 2, 2): sysregs[MDSCR_EL1] = v; debugRegistersChanged(); return;
    case enc(2, 0, 1, 0, 4): // OSLAR_EL1: sets or clears the OS lock (OSLSR_EL1.OSLK)
      sysregs[OSLSR_EL1] = 0x8 | ((v & 1) << 1);
      debugRegistersChanged();
      return;
    case enc(2, 0, 1, 3, 4): sysregs[OSDLR_EL1] = v & 1; debugRegistersChanged(); return;
    case enc(2, 0, 1, 4, 4): sysregs[DBGPRCR_EL1] = v & 1; debugRegistersChanged(); return;
    case enc(2, 0, 7, 8, 6): sysregs[DBGCLAIM] = sysregs[DBGCLAIM] | (v & 0xff); return;
    case enc(2, 0, 7, 9, 6): sysregs[DBGCLAIM] = sysregs[DBGCLAIM] & ~(v & 0xff); return;
    default: break;
  }
  undef();
}

// SCTLR_EL1: bits software may change, and RES1 bits (ARMv8.0: 29, 28, 23, 22, 20, 11).
const SCTLR_RES1: u64 = (1 << 29) | (1 << 28) | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11);
const SCTLR_WRITABLE: u64 =
  (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 9) | (1 << 12) | (1 << 14) |
  (1 << 15) | (1 << 16) | (1 << 18) | (1 << 19) | (1 << 24) | (1 << 25) | (1 << 26) | (1 << 23);
export const SCTLR_RESET: u64 = SCTLR_RES1 | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11);

// SCTLR_EL1 bits that let EL0 use LD64B/ST64B (EnALS), ST64BV (EnASR) and ST64BV0 (EnAS0);
// RES0 without the feature.
export const SCTLR_ENASR: u64 = <u64>1 << 54;
export const SCTLR_ENAS0: u64 = <u64>1 << 55;
export const SCTLR_ENALS: u64 = <u64>1 << 56;

function sctlrLs64Bits(): u64 {
  return (hasFeature(CPU_FEAT_LS64) ? SCTLR_ENALS : 0) | (hasFeature(CPU_FEAT_LS64_V) ? SCTLR_ENASR : 0) |
    (hasFeature(CPU_FEAT_LS64_ACCDATA) ? SCTLR_ENAS0 : 0);
}

function debugSlot(crm: u32, op2: u32): i32 {
  if (op2 == 4 || op2 == 5) {
    if (crm >= NUM_BREAKPOINTS) return -1;
    return <i32>((op2 == 4 ? DBG_BVR : DBG_BCR) + crm);
  }
  if (crm >= NUM_WATCHPOINTS) return -1;
  return <i32>((op2 == 6 ? DBG_WVR : DBG_WCR) + crm);
}

function undef(): u64 {
  accessResult = ACCESS_UNDEFINED;
  return 0;
}

function trap(): u64 {
  accessResult = ACCESS_TRAP;
  return 0;
}

/** CNTFRQ, CNTPCT, CNTVCT and the CNTP_ and CNTV_ TVAL/CTL/CVAL registers. */
function isTimerRegister(e: u32): bool {
  const crm = (e >> 3) & 0xf;
  const op2 = e & 7;
  return (crm == 0 && op2 <= 2) || ((crm == 2 || crm == 3) && op2 <= 2);
}

/** FPCR/FPSR are accessible when the unit exists and CPACR_EL1.FPEN allows the current EL. */
export function fpAccessAllowed(): bool {
  if (!fpRegsEnabled) { accessResult = ACCESS_UNDEFINED; return false; }
  if (fpAllowedAtCurrentEL()) return true;
  accessResult = ACCESS_FP_TRAP;
  return false;
}

/** Reset values for the vCPU's system registers (KVM's vCPU reset). */
export function resetSysregs(vcpuId: u32): void {
  for (let i = 0; i < 256; i++) sysregs[i] = 0;
  sysregs[SCTLR_EL1] = SCTLR_RESET;
  // MPIDR as KVM assigns it (abi.ts, MPIDR_AFF0_VCPUS vCPUs per Aff0); bit 31 is RES1.
  sysregs[MPIDR_EL1] = (<u64>1 << 31) | (<u64>((vcpuId / MPIDR_AFF0_VCPUS) & 0xff) << 8) | <u64>(vcpuId % MPIDR_AFF0_VCPUS);
  sysregs[OSLSR_EL1] = 0x8 | 0x2; // OS lock implemented (OSLM = 0b10) and locked
}
