// The generic timer (ARM ARM D11): CNTPCT/CNTVCT counters, and the EL1 physical and virtual
// timers. The count comes from the VMM (host clock, or retired instructions in deterministic
// mode); outputs are level signals the VMM routes to PPIs 30 (CNTP) and 27 (CNTV).

import { ACTIVE_STATE, TIMER_OUT } from "../abi";
import { sysregs, enc, CNTP_CTL_EL0, CNTP_CVAL_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTVOFF, CNTFRQ_EL0 } from "./sysreg-file";
import { requestAttention } from "./attention";
import { sx64 } from "./bits";

/** The physical count, in ticks of CNTFRQ. */
@external("env", "hostCounter")
declare function hostCounter(): f64;

/** The physical count as the guest reads it (the VMM may hold it back near a late interrupt). */
@external("env", "guestCounter")
declare function guestCounter(): f64;

@inline export function physicalCount(): u64 { return <u64>hostCounter(); }
@inline function guestPhysicalCount(): u64 { return <u64>guestCounter(); }
@inline function guestVirtualCount(): u64 { return guestPhysicalCount() - sysregs[CNTVOFF]; }

const CTL_ENABLE: u64 = 1;
const CTL_IMASK: u64 = 2;
const CTL_ISTATUS: u64 = 4;

function ctlWithStatus(ctl: u64, count: u64, cval: u64): u64 {
  const fired = (ctl & CTL_ENABLE) != 0 && count >= cval;
  return (ctl & 3) | (fired ? CTL_ISTATUS : 0);
}

export function timerRead(e: u32): u64 {
  switch (e) {
    case enc(3, 3, 14, 0, 0): return sysregs[CNTFRQ_EL0];
    case enc(3, 3, 14, 0, 1): return guestPhysicalCount();
    case enc(3, 3, 14, 0, 2): return guestVirtualCount();
    case enc(3, 3, 14, 2, 0): return (sysregs[CNTP_CVAL_EL0] - guestPhysicalCount()) & 0xffffffff;
    case enc(3, 3, 14, 2, 1): return ctlWithStatus(sysregs[CNTP_CTL_EL0], guestPhysicalCount(), sysregs[CNTP_CVAL_EL0]);
    case enc(3, 3, 14, 2, 2): return sysregs[CNTP_CVAL_EL0];
    case enc(3, 3, 14, 3, 0): return (sysregs[CNTV_CVAL_EL0] - guestVirtualCount()) & 0xffffffff;
    case enc(3, 3, 14, 3, 1): return ctlWithStatus(sysregs[CNTV_CTL_EL0], guestVirtualCount(), sysregs[CNTV_CVAL_EL0]);
    case enc(3, 3, 14, 3, 2): return sysregs[CNTV_CVAL_EL0];
    default: return 0;
  }
}

/** Writes a timer register; false for read-only ones. */
export function timerWrite(e: u32, v: u64): bool {
  switch (e) {
    case enc(3, 3, 14, 0, 0): sysregs[CNTFRQ_EL0] = v & 0xffffffff; return true;
    case enc(3, 3, 14, 2, 0): sysregs[CNTP_CVAL_EL0] = guestPhysicalCount() + <u64>sx64(v, 32); break;
    case enc(3, 3, 14, 2, 1): sysregs[CNTP_CTL_EL0] = v & 3; break;
    case enc(3, 3, 14, 2, 2): sysregs[CNTP_CVAL_EL0] = v; break;
    case enc(3, 3, 14, 3, 0): sysregs[CNTV_CVAL_EL0] = guestVirtualCount() + <u64>sx64(v, 32); break;
    case enc(3, 3, 14, 3, 1): sysregs[CNTV_CTL_EL0] = v & 3; break;
    case enc(3, 3, 14, 3, 2): sysregs[CNTV_CVAL_EL0] = v; break;
    default: return false;
  }
  requestAttention();
  return true;
}

/** Current output levels: bit 0 the virtual timer, bit 1 the physical timer. */
export function timerOutputs(): u32 {
  const now = physicalCount();
  let out: u32 = 0;
  const v = sysregs[CNTV_CTL_EL0];
  if ((v & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE && now - sysregs[CNTVOFF] >= sysregs[CNTV_CVAL_EL0]) out |= 1;
  const p = sysregs[CNTP_CTL_EL0];
  if ((p & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE && now >= sysregs[CNTP_CVAL_EL0]) out |= 2;
  return out;
}

/** Recomputes the outputs; true if a level changed (the VMM must route it). */
export function timerPoll(): bool {
  const out = timerOutputs();
  if (out == load<u32>(ACTIVE_STATE + TIMER_OUT)) return false;
  store<u32>(ACTIVE_STATE + TIMER_OUT, out);
  return true;
}

/** The physical count at which an enabled, unmasked timer next fires; -1 if none. */
export function timerDeadline(): f64 {
  let d: f64 = -1;
  const v = sysregs[CNTV_CTL_EL0];
  if ((v & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE) d = <f64>(sysregs[CNTV_CVAL_EL0] + sysregs[CNTVOFF]);
  const p = sysregs[CNTP_CTL_EL0];
  if ((p & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE) {
    const pd = <f64>sysregs[CNTP_CVAL_EL0];
    if (d < 0 || pd < d) d = pd;
  }
  return d;
}

/**
 * The earliest deadline of an enabled, unmasked timer whose output the core has not raised yet,
 * or -1. Until it is raised the VMM's clock holds guest time close to it (src/kvm/guest-clock.ts),
 * so a host that stalls the VMM cannot make the guest see its interrupt late.
 */
export function timerPendingDeadline(): f64 {
  const raised = load<u32>(ACTIVE_STATE + TIMER_OUT);
  let d: f64 = -1;
  const v = sysregs[CNTV_CTL_EL0];
  if ((raised & 1) == 0 && (v & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE) d = <f64>(sysregs[CNTV_CVAL_EL0] + sysregs[CNTVOFF]);
  const p = sysregs[CNTP_CTL_EL0];
  if ((raised & 2) == 0 && (p & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE) {
    const pd = <f64>sysregs[CNTP_CVAL_EL0];
    if (d < 0 || pd < d) d = pd;
  }
  return d;
}
