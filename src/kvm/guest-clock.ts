// The generic timer's count as the guest sees it: the host's monotonic clock, except that the
// guest is never shown time it could not have run in.
//
// Under KVM the vCPU runs on its own host thread and a timer interrupt is injected within
// microseconds of its deadline. lkvm runs every vCPU on one Node thread that the host may
// deschedule for tens of milliseconds (a busy machine, V8's garbage collector). Read straight,
// the host clock jumps by the stall, and a guest waiting for its timer sees the interrupt that
// much "late" (kvm-unit-tests' timer test allows 10 ms). So guest time may not pass a timer
// deadline that the core has not yet raised by more than HOLD_SLACK: time beyond that is
// *held back*, and the guest sees its interrupt on time. Held-back time is then paid back by
// running guest time a little faster (CATCH_UP) until it meets the host clock again, so the
// guest's wall clock does not drift; the hold still applies while catching up.
//
// Time the VMM spends translating code in the middle of a run is held back the same way
// (holdBack): the guest would not have lost it under KVM, and a deadline it had just armed
// would otherwise look missed.
//
// The count is monotonic and shared by every vCPU (CNTPCT is system-wide).

/** How far past a pending deadline guest time may run before it is held: 0.1 ms at 62.5 MHz. */
export const HOLD_SLACK_TICKS = 6250;
/** Held-back time is repaid at this fraction of host time elapsed (guest time runs 1.25x). */
export const CATCH_UP = 0.25;

export class GuestClock {
  /** Host ticks the guest has not been shown (held back, not yet repaid). */
  private heldBack = 0;
  private lastHost = 0;
  private lastCount = 0;

  /** Total ticks ever held back (for --debug reports and tests). */
  heldBackTotal = 0;

  /**
   * The guest count at host count `host`, given the earliest deadline (physical count) of a
   * timer whose output has not been raised yet, or a negative number if none.
   */
  read(host: number, pendingDeadline: number): number {
    if (this.heldBack > 0 && host > this.lastHost) {
      this.heldBack = Math.max(0, this.heldBack - (host - this.lastHost) * CATCH_UP);
    }
    this.lastHost = Math.max(this.lastHost, host);
    let count = Math.floor(host - this.heldBack);
    if (pendingDeadline >= 0) {
      const limit = Math.max(pendingDeadline + HOLD_SLACK_TICKS, this.lastCount);
      if (count > limit) {
        this.heldBack += count - limit;
        this.heldBackTotal += count - limit;
        count = limit;
      }
    }
    if (count < this.lastCount) count = this.lastCount;
    this.lastCount = count;
    return count;
  }

  /** Hides `ticks` of host time the guest could not run in (the VMM translating code). */
  holdBack(ticks: number): void {
    if (ticks <= 0) return;
    this.heldBack += ticks;
    this.heldBackTotal += ticks;
  }

  /**
   * Host ticks from the last read until the guest count reaches `count` (for sleeping until a
   * deadline): fewer than the guest ticks while held-back time is being repaid.
   */
  hostTicksUntil(count: number): number {
    const guestTicks = Math.max(0, count - this.lastCount);
    const fast = guestTicks / (1 + CATCH_UP);
    return fast * CATCH_UP <= this.heldBack ? fast : guestTicks - this.heldBack;
  }
}
