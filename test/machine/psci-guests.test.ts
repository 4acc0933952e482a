// PSCI from guests: CPU_ON/CPU_OFF/AFFINITY_INFO with two vCPUs, and SYSTEM_OFF and
// SYSTEM_RESET ending the VM as under kvmtool.

import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { expectPassed, guestArgs, runGuest } from "../support/run-guest.ts";

describe("PSCI, from guests", () => {
  it("CPU_ON a secondary with a context id, AFFINITY_INFO, CPU_OFF, errors, CPU_SUSPEND; SYSTEM_OFF exits 0", async () => {
    const run = await runGuest("psci", { cpus: 2 });
    expectPassed(run, [
      "PSCI_VERSION: major version 1",
      "vCPU 1 ran its entry point and wrote the flag",
      "  x0 at entry = the context id",
      "AFFINITY_INFO(vCPU 1) = ON while it runs",
      "after CPU_OFF, AFFINITY_INFO(vCPU 1) = OFF",
      "CPU_ON of a running vCPU = ALREADY_ON",
      "  after the pending timer interrupt woke it (about 5 ms)",
    ]);
    // SYSTEM_OFF (the runtime's exit) ended the VM right after the status line.
    expect(run.output).toMatch(/EXIT: STATUS=1\r?\n/);
  });

  it("SYSTEM_RESET ends the VM (kvmtool never reboots)", async () => {
    const s = GuestSession.start(guestArgs("psci-reset"));
    await s.waitFor("psci-reset: calling SYSTEM_RESET", 20_000);
    const exit = await s.exited(20_000);
    expect(exit.code, exit.output).toBe(0);
    expect(exit.output.match(/calling SYSTEM_RESET/g)).toHaveLength(1);
    expect(exit.output).not.toMatch(/SYSTEM_RESET returned|EXIT: STATUS/);
  });
});
