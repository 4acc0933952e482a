// The generic timer from a guest: CNTFRQ, the counters, TVAL/CVAL/CTL, and the virtual and
// physical timer interrupts through the GIC, including WFI.

import { describe, it } from "vitest";
import { expectPassed, runGuest } from "../support/run-guest.ts";

describe("the generic timer, from a guest", () => {
  it("counts at 62.5 MHz and interrupts through PPIs 27 and 30", async () => {
    const run = await runGuest("timer");
    expectPassed(run, [
      "CNTFRQ_EL0 = 62.5 MHz",
      "TVAL counts down",
      "IMASK = 0: the virtual timer interrupt arrives",
      "  exactly once: after IMASK and EOI it does not come back",
      "WFI sleeps until the timer fires (about 20 ms)",
      "  ISR_EL1.I shows it pending",
      "  as INTID 30 (PPI 14)",
    ]);
  });
});
