// The GICv3 from guests: SGIs, SPIs, priorities and preemption on one vCPU, SGIs between
// two vCPUs, and LPIs through the ITS (--irqchip gicv3-its). The GICv2 (with kvmtool's v2m
// frame) likewise, through its memory-mapped CPU interface.

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

  it("with an ITS: LPIs mapped by commands, delivered by INT, priority, INV, MOVI, DISCARD, a bad command", async () => {
    const run = await runGuest("its", { cpus: 2, extra: ["--irqchip", "gicv3-its"] });
    expectPassed(run, [
      "GITS_TYPER: physical LPIs, 8-byte ITT entries, 16 EventID and DeviceID bits",
      "INT: device 5 event 0 arrives as LPI 8192 on vCPU 0",
      "  and it is taken first, then LPI 8192",
      "disabled in the property table + INV: the LPI is not delivered",
      "  re-enabled + INV: the LPI that stayed pending arrives",
      "MOVI to collection 1: the LPI now arrives on vCPU 1",
      "DISCARD: event 1 no longer raises anything",
      "a bad MAPTI is dropped and the queue moves on",
    ]);
  });
});

describe("the GICv2 with its v2m frame (--irqchip gicv2m), from guests", () => {
  it("two vCPUs: no ICC_*, SGIs with their source CPU, ITARGETSR, priorities, binary point, EOImode, MSI_SETSPI_NS", async () => {
    const run = await runGuest("gicv2", { cpus: 2, extra: ["--irqchip", "gicv2m"] });
    expectPassed(run, [
      "ID_AA64PFR0_EL1.GIC = 0: no system-register interface",
      "  and ICC_PMR_EL1 is UNDEFINED",
      "an SGI to vCPU 1 (target list bit 1) reaches it",
      "  as SGI 5 from CPU 0",
      "an SGI to all but self reaches vCPU 1",
      "an SGI to self (filter 2) comes back to the sender only",
      "an SGI pending from two sources is acknowledged once per source, CPU 0 first",
      "an SPI targeted at CPU 1 by GICD_ITARGETSR is taken there",
      "GICC_PMR = 0x80 masks an interrupt of priority 0x80",
      "a higher-priority SGI sent from a handler preempts it",
      "GICC_BPR = 7: the same SGI waits for the first one's EOI",
      "  until GICC_DIR deactivates it",
      "MSI_TYPER: 64 SPIs from INTID 32",
      "a write of INTID 40 to MSI_SETSPI_NS raises SPI 40",
      "an INTID outside the frame's SPIs raises nothing",
    ]);
  });
});
