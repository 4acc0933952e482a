// The GICv3 from guests: SGIs, SPIs, priorities and preemption on one vCPU, and SGIs between
// two vCPUs.

import { describe, it } from "vitest";
import { expectPassed, runGuest } from "../support/run-guest.ts";

describe("the GICv3, from guests", () => {
  it("one vCPU: discovery, SGI to self, SPI, IAR/EOIR and active state, PMR, preemption, EOImode, Group 0", async () => {
    const run = await runGuest("gic");
    expectPassed(run, [
      "an SGI to self (target list = this CPU) is taken",
      "an SPI set pending through GICD_ISPENDR is taken",
      "PMR = 0x80 masks an interrupt of priority 0x80 (it must be higher, i.e. lower)",
      "a higher-priority SGI sent from a handler preempts it",
      "  until ICC_DIR_EL1 deactivates it",
      "a Group 0 SGI (ICC_SGI0R_EL1) is taken as an FIQ",
      "GICD_CTLR.EnableGrp1 = 0: a pending SPI is not forwarded",
      "ICC_IGRPEN1_EL1 = 0: nothing is signalled",
    ]);
  });

  it("two vCPUs: SGIs by target list and by broadcast, an SPI routed by GICD_IROUTER", async () => {
    const run = await runGuest("gic-ipi", { cpus: 2 });
    expectPassed(run, [
      "an SPI routed to vCPU 1 through GICD_IROUTER is taken there",
      "an SGI to vCPU 1 (target list bit 1) reaches it, and its answer comes back",
      "a broadcast SGI (IRM = 1) reaches vCPU 1",
    ]);
  });
});
