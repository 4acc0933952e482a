// Taking exceptions to EL1, and ERET. Syndromes follow the ARM ARM (D17.2.37, ESR_ELx):
// ESR = EC << 26 | IL << 25 | ISS.

import { ACTIVE_STATE, PSTATE_EL, PSTATE_SPSEL, PSTATE_IL, PSTATE_SS, PSTATE_PAN, UNDEF_COUNT, UNDEF_INSN, UNDEF_PC } from "../abi";
import { getEL, getSPSel, packPstate, pc, setDAIF, setELAndSPSel, unpackPstate, branchTo } from "./state";
import { sysregs, SCTLR_EL1, VBAR_EL1, ESR_EL1, ELR_EL1, SPSR_EL1, FAR_EL1 } from "./sysreg-file";
import { regimeChanged, fetchTag, fetchHost, branchAddress } from "./mmu";
import { requestAttention } from "./attention";
import { cacheCheckOn, contextSynchronized } from "./cache-check";
import { stepInFlight, setStepInFlight } from "./debug-state";

// Exception classes (ESR_ELx.EC).
export const EC_UNKNOWN: u32 = 0x00;
export const EC_WFX: u32 = 0x01;
export const EC_FP_ACCESS: u32 = 0x07;
export const EC_ILLEGAL_STATE: u32 = 0x0e;
export const EC_SVC64: u32 = 0x15;
export const EC_HVC64: u32 = 0x16;
export const EC_SMC64: u32 = 0x17;
export const EC_SYSREG: u32 = 0x18;
export const EC_IABT_LOWER: u32 = 0x20;
export const EC_IABT_CUR: u32 = 0x21;
export const EC_PC_ALIGN: u32 = 0x22;
export const EC_DABT_LOWER: u32 = 0x24;
export const EC_DABT_CUR: u32 = 0x25;
export const EC_SP_ALIGN: u32 = 0x26;
export const EC_FP_EXC64: u32 = 0x2c;
export const EC_SERROR: u32 = 0x2f;
export const EC_BRK64: u32 = 0x3c;

// Vector offsets from VBAR_EL1.
const VEC_CUR_SP0: u64 = 0x000;
const VEC_CUR_SPX: u64 = 0x200;
const VEC_LOWER_A64: u64 = 0x400;
export const VEC_SYNC: u64 = 0x000;
export const VEC_IRQ: u64 = 0x080;
export const VEC_FIQ: u64 = 0x100;
export const VEC_SERROR: u64 = 0x180;

/** Set when the current instruction took an exception: handlers stop and write nothing more. */
export let faulted: bool = false;

@inline export function clearFault(): void { faulted = false; }

/**
 * Takes an exception to EL1. `returnAddress` is what ELR_EL1 gets: the faulting instruction
 * for synchronous aborts, the next one for SVC/HVC/SMC, the interrupted one for interrupts.
 */
export function takeException(kind: u64, esr: u32, returnAddress: u64): void {
  const fromEL = getEL();
  let spsr = packPstate();
  if (stepInFlight()) {
    // The stepped instruction stopped with an exception (debug.ts cleared PSTATE.SS as it
    // started). SVC/HVC/SMC complete it (ELR past it): SPSR.SS = 0, so the step exception is
    // taken on return. Any other exception leaves it unstepped: SPSR.SS = 1, it runs again stepped.
    setStepInFlight(false);
    if (returnAddress == pc) spsr |= 1 << 21;
  }
  let offset: u64 = fromEL == 0 ? VEC_LOWER_A64 : getSPSel() ? VEC_CUR_SPX : VEC_CUR_SP0;
  sysregs[ESR_EL1] = <u64>esr;
  sysregs[SPSR_EL1] = <u64>spsr;
  sysregs[ELR_EL1] = returnAddress;
  setELAndSPSel(1, 1);
  setDAIF(0x3c0);
  store<u32>(ACTIVE_STATE + PSTATE_IL, 0);
  store<u32>(ACTIVE_STATE + PSTATE_SS, 0);
  // SCTLR_EL1.SPAN == 0 sets PSTATE.PAN on taking an exception to EL1.
  if ((sysregs[SCTLR_EL1] & (<u64>1 << 23)) == 0 && panImplemented) store<u32>(ACTIVE_STATE + PSTATE_PAN, 1);
  if (fromEL != 1) regimeChanged();
  branchTo((sysregs[VBAR_EL1] & ~<u64>0x7ff) + offset + kind);
  faulted = true;
  if (cacheCheckOn) contextSynchronized();
}

/** PSTATE.PAN exists only when ID_AA64MMFR1_EL1 advertises it. */
export const panImplemented: bool = false;

/** A synchronous exception from the instruction at pc. */
export function syncException(ec: u32, iss: u32): void {
  takeException(VEC_SYNC, (ec << 26) | (1 << 25) | (iss & 0x1ffffff), pc);
}

/** UNDEFINED: unallocated, unimplemented or disallowed encodings. */
export function undefinedInstruction(): void {
  // Record it for the VMM's debug log (the word is in the fetch page just used).
  store<u32>(ACTIVE_STATE + UNDEF_COUNT, load<u32>(ACTIVE_STATE + UNDEF_COUNT) + 1);
  store<u64>(ACTIVE_STATE + UNDEF_PC, pc);
  store<u32>(ACTIVE_STATE + UNDEF_INSN, (pc & ~<u64>0xffc) == fetchTag ? load<u32>(fetchHost + <usize>(pc & 0xfff)) : 0);
  syncException(EC_UNKNOWN, 0);
}

/** An exception-generating instruction (SVC, HVC, SMC): ELR points after it. */
export function callException(ec: u32, imm16: u32): void {
  takeException(VEC_SYNC, (ec << 26) | (1 << 25) | imm16, pc + 4);
}

/** A data abort with the given ISS (DFSC, WnR and, when valid, the instruction syndrome). */
export function dataAbort(iss: u32, far: u64): void {
  sysregs[FAR_EL1] = far;
  syncException(getEL() == 0 ? EC_DABT_LOWER : EC_DABT_CUR, iss);
}

/** DFSC of a synchronous external abort, not on a translation table walk. */
export const FSC_SYNC_EXTERNAL: u32 = 0x10;

/**
 * A synchronous external data abort at `far`, as KVM injects it (kvm_inject_dabt) when a VMM
 * refuses an access: EC 0x24/0x25, IL = 1, DFSC 0x10, and nothing else in the ISS.
 */
export function externalDataAbort(far: u64): void {
  dataAbort(FSC_SYNC_EXTERNAL, far);
}

/**
 * The current instruction stops without effect and without an exception, PC left on it: what
 * a vCPU looks like when KVM_RUN fails. Handlers see `faulted` and write nothing.
 */
export function abandonInstruction(): void {
  branchTo(pc);
  faulted = true;
}

/** An instruction abort on fetching from `va`. */
export function instructionAbort(ifsc: u32, va: u64): void {
  sysregs[FAR_EL1] = va;
  syncException(getEL() == 0 ? EC_IABT_LOWER : EC_IABT_CUR, ifsc);
}

export function pcAlignmentFault(): void {
  sysregs[FAR_EL1] = pc;
  syncException(EC_PC_ALIGN, 0);
}

export function spAlignmentFault(): void {
  syncException(EC_SP_ALIGN, 0);
}

/** ERET from EL1: restores PSTATE from SPSR_EL1 and jumps to ELR_EL1. */
export function exceptionReturn(): void {
  const spsr = <u32>sysregs[SPSR_EL1];
  const target = sysregs[ELR_EL1];
  const m = spsr & 0x1f;
  // Legal targets: EL0t (0b00000), EL1t (0b00100), EL1h (0b00101). Anything else (AArch32,
  // EL2, EL3) is an illegal exception return: PSTATE.IL is set and EL is unchanged.
  if (m == 0 || m == 4 || m == 5) {
    unpackPstate(spsr);
  } else {
    unpackPstateKeepingMode(spsr);
    store<u32>(ACTIVE_STATE + PSTATE_IL, 1);
  }
  regimeChanged();
  // The run loop must look again before the next instruction: the restored DAIF may unmask a
  // pending interrupt, and PSTATE.IL = 1 makes that instruction take the illegal state exception.
  requestAttention();
  branchTo(target);
  if (cacheCheckOn) contextSynchronized();
}

function unpackPstateKeepingMode(spsr: u32): void {
  const el = load<u32>(ACTIVE_STATE + PSTATE_EL);
  const spsel = load<u32>(ACTIVE_STATE + PSTATE_SPSEL);
  unpackPstate((spsr & ~<u32>0x1f) | (el << 2) | spsel);
  store<u32>(ACTIVE_STATE + PSTATE_PAN, (spsr >> 22) & 1);
}
