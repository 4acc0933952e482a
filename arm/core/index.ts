// The core's exports: what the VMM calls (see arm/host/core.ts for the TypeScript side).

import { ACTIVE_STATE, VCPU_STATE_SIZE, VCPU_SAVE_BASE, VCPU_ID, PSTATE_DAIF, PSTATE_EL, PSTATE_SPSEL, HALTED } from "../abi";
import { resetSysregs, CNTFRQ_HZ } from "./sysregs";
import { sysregs, CNTFRQ_EL0 } from "./sysreg-file";
import { setRam, disableDirectRam } from "./ram";
import { enableCacheCheck } from "./cache-check";
import { tlbFlushAll, regimeChanged, fetchTag, fetchHost, translate, neededPerms, ramHost, walkPa, walkFlags, ACC_EXEC, P_RAM } from "./mmu";
import { pc } from "./state";
import { decode } from "./gen/decoder";
import { requestAttention } from "./attention";
import { configure, invalidatePhysRange, flushAll } from "./jit/cache";
import { setTailProfile } from "./jit/tail-profile";
import { setFeatures, setGicSystemRegisters } from "./cpu-features";

export { run, jitExec, jitExecMiss } from "./cpu";
export { jitBuild, jitCommit, jitSetRegions } from "./jit/translate";
export { jitBuildDispatcher } from "./jit/dispatch";
export { pendingNZCV as jitFlags } from "./flags";
export { setTrapResult } from "./sysregs";
export { timerDeadline, timerOutputs, timerPendingDeadline } from "./timer";

/** Guest RAM is [base, base + size) (addresses as f64: exact below 2^53). */
export function setRamLayout(base: f64, sizeBytes: f64): void {
  setRam(<u64>base, <u64>sizeBytes);
  tlbFlushAll();
}

/**
 * Turns on the cache-maintenance checker (cache-check.ts), its state at wasm address
 * `stateBase` (zeroed). Every RAM access takes the slow path from then on; the JIT must stay
 * off (it would fetch without checking).
 */
export function cacheCheckEnable(stateBase: f64): void {
  enableCacheCheck(<usize>stateBase);
  disableDirectRam();
  tlbFlushAll();
}

/** Sets the optional architecture features (CPU_FEAT_* bits), before the vCPUs are reset. */
export function setCpuFeatures(mask: u32): void {
  setFeatures(mask);
}

/** Whether the GICv3 system-register CPU interface exists (not with a GICv2). */
export function setGicSystemRegisterInterface(on: u32): void {
  setGicSystemRegisters(on != 0);
}

/** Resets the active vCPU to KVM's reset state: EL1h, DAIF masked, MMU off, registers zero. */
export function resetVcpu(vcpuId: u32, poweredOff: bool): void {
  memory.fill(ACTIVE_STATE, 0, VCPU_STATE_SIZE);
  store<u32>(ACTIVE_STATE + VCPU_ID, vcpuId);
  store<u32>(ACTIVE_STATE + PSTATE_DAIF, 0x3c0);
  store<u32>(ACTIVE_STATE + PSTATE_EL, 1);
  store<u32>(ACTIVE_STATE + PSTATE_SPSEL, 1);
  store<u32>(ACTIVE_STATE + HALTED, poweredOff ? 1 : 0);
  resetSysregs(vcpuId);
  sysregs[CNTFRQ_EL0] = CNTFRQ_HZ;
  tlbFlushAll();
  regimeChanged();
  requestAttention();
}

/** Copies the active vCPU's state to its save area. */
export function saveVcpu(vcpuId: u32): void {
  memory.copy(VCPU_SAVE_BASE + vcpuId * VCPU_STATE_SIZE, ACTIVE_STATE, VCPU_STATE_SIZE);
}

/** Makes a saved vCPU the active one. The TLB is per vCPU, so it starts empty. */
export function loadVcpu(vcpuId: u32): void {
  memory.copy(ACTIVE_STATE, VCPU_SAVE_BASE + vcpuId * VCPU_STATE_SIZE, VCPU_STATE_SIZE);
  tlbFlushAll();
  regimeChanged();
  requestAttention();
}

/** The decode table's op number for an instruction word (0: UNALLOCATED); for tests. */
export function decodeOp(insn: u32): u32 {
  return decode(insn);
}

/** During an mmio call: the address of the instruction making the access. */
export function mmioInsnPc(): u64 {
  return pc;
}

/** During an mmio call: that instruction's word, or 0 if it is not in readable RAM. */
export function mmioInsnWord(): u32 {
  if ((pc & ~<u64>0xffc) == fetchTag) return load<u32>(fetchHost + <usize>(pc & 0xfff));
  if ((pc & 3) != 0 || !translate(pc, ACC_EXEC, neededPerms(ACC_EXEC, false)) || (walkFlags & P_RAM) == 0) return 0;
  return load<u32>(ramHost(walkPa));
}

/** Makes the run loop re-check interrupt lines before the next instruction. */
export function kick(): void {
  requestAttention();
}

// ---- the JIT (docs/jit.md) ----

/**
 * Turns translation on or off. `threshold`: interpreted visits of a block start before it is
 * queued; `eager`: run() stops with EXIT_JIT as soon as a block is queued (tests).
 */
export function jitConfigure(enabled: bool, threshold: u32, eager: bool): void {
  configure(enabled, threshold, eager);
}

/** Drops every translation, as a full code cache does (tests). */
export function jitFlush(): void {
  flushAll();
}

/** Turns the tail profile on (jit/tail-profile.ts). */
export function jitTailProfile(on: bool): void {
  setTailProfile(on);
}

/** Drops translated code in guest physical [gpa, gpa + lengthBytes): the VMM wrote there. */
export function jitInvalidate(gpa: f64, lengthBytes: f64): void {
  invalidatePhysRange(<u64>gpa, <u64>lengthBytes);
}
