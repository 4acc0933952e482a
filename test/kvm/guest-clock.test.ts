import { describe, expect, it } from "vitest";
import { CATCH_UP, GuestClock, HOLD_SLACK_TICKS } from "../../src/kvm/guest-clock.ts";

describe("GuestClock", () => {
  it("follows the host while no deadline is pending", () => {
    const c = new GuestClock();
    expect(c.read(100, -1)).toBe(100);
    expect(c.read(5000, -1)).toBe(5000);
    expect(c.heldBackTotal).toBe(0);
  });

  it("does not run past a pending deadline by more than the slack, whatever the host did", () => {
    const c = new GuestClock();
    c.read(1000, 2000);
    // The host stalled for a long time across the deadline.
    expect(c.read(1_000_000, 2000)).toBe(2000 + HOLD_SLACK_TICKS);
    expect(c.read(1_000_100, 2000)).toBe(2000 + HOLD_SLACK_TICKS);
    expect(c.heldBackTotal).toBeGreaterThanOrEqual(1_000_000 - 2000 - HOLD_SLACK_TICKS);
  });

  it("never goes backwards, also when a later deadline is earlier than the count", () => {
    const c = new GuestClock();
    const a = c.read(50_000, -1);
    expect(c.read(50_010, 100)).toBe(a);
    expect(c.read(60_000, -1)).toBeGreaterThanOrEqual(a);
  });

  it("repays held-back time by running faster, until it meets the host again", () => {
    const c = new GuestClock();
    c.read(0, 0);
    c.read(100_000, 0); // held back 100000 - slack
    const held = 100_000 - HOLD_SLACK_TICKS;
    const step = 1000;
    const before = c.read(100_000 + step, -1);
    const after = c.read(100_000 + 2 * step, -1);
    expect(after - before).toBe(step * (1 + CATCH_UP));
    // Long after, with no deadline in the way, guest time is host time again.
    const later = 100_000 + held / CATCH_UP + 10 * step;
    expect(c.read(later, -1)).toBe(later);
  });

  it("says how long to sleep for a guest deadline, shorter while catching up", () => {
    const c = new GuestClock();
    c.read(1000, -1);
    expect(c.hostTicksUntil(3000)).toBe(2000);
    c.read(100_000, 1000); // holds back ~93000
    const now = 1000 + HOLD_SLACK_TICKS;
    expect(c.hostTicksUntil(now + 12_500)).toBe(12_500 / (1 + CATCH_UP));
  });
});
