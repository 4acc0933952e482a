// The GICv3 delivering interrupts to a guest set up as Linux sets it up: SPIs by route, priority,
// group and trigger mode; SGIs by target list, affinity, range selector and broadcast; PPIs per
// vCPU. Expected behaviour comes from the GICv3 specification (IHI 0069).

import { describe, expect, it } from "vitest";
import { Gicv3 } from "../../arm/machine/gicv3.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { GuestCpu } from "../support/guest-cpu.ts";
import {
  GICD, GICR_STRIDE, GICD_CTLR, GICD_ISPENDR, GICD_ICPENDR, GICD_ISACTIVER, GICD_ICACTIVER,
  GICD_IPRIORITYR, GICD_IROUTER, GICD_CTLR_ENABLE_G1A, GICD_CTLR_ARE_NS, GICR_TYPER, GICR_IGROUPR0,
  GICR_ISENABLER0, GICR_ICENABLER0, GICR_ISACTIVER0, GICR_IPRIORITYR0, DEFAULT_PRIORITY, SPURIOUS,
  ICC_PMR_EL1, ICC_IAR0_EL1, ICC_EOIR0_EL1, ICC_AP0R0_EL1, ICC_AP1R0_EL1, ICC_DIR_EL1, ICC_RPR_EL1,
  ICC_SGI1R_EL1, ICC_SGI0R_EL1, ICC_IAR1_EL1, ICC_EOIR1_EL1, ICC_HPPIR1_EL1, ICC_CTLR_EL1,
  ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1, ICC_CTLR_EL1_EOIMODE_DROP, sgiValue, kvmAffinity, booted, enableSpi,
  bitOf,
} from "../support/gicv3.ts";

describe("Gicv3 delivering SPIs", () => {
  it("raises IRQ on the routed vCPU only; IAR1 takes the SPI and drops the line, EOIR1 deactivates it", () => {
    const m = booted(2);
    enableSpi(m, 40, 1);
    m.gic.setLevel(40, true);
    expect(m.changes).toEqual(["irq1=1"]);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(SPURIOUS); // not routed to vCPU 0
    expect(m.mrs(1, ICC_HPPIR1_EL1)).toBe(40n);
    expect(m.mrs(1, ICC_IAR1_EL1)).toBe(40n);
    expect(m.irq[1]).toBe(false);
    expect(m.mrs(1, ICC_RPR_EL1)).toBe(BigInt(DEFAULT_PRIORITY));
    expect(m.mrs(1, ICC_AP1R0_EL1)).toBe(1n << BigInt(DEFAULT_PRIORITY >> 3));
    expect(m.cpu0.read32(GICD + GICD_ISACTIVER + 4)).toBe(bitOf(40));
    m.gic.setLevel(40, false); // the device is serviced
    m.msr(1, ICC_EOIR1_EL1, 40);
    expect(m.cpu0.read32(GICD + GICD_ISACTIVER + 4)).toBe(0);
    expect(m.mrs(1, ICC_RPR_EL1)).toBe(0xffn);
    expect(m.changes).toEqual(["irq1=1", "irq1=0"]);
  });

  it("keeps a level-sensitive SPI pending while its line is high: ICPENDR cannot clear it, and it returns after EOI", () => {
    const m = booted(1);
    enableSpi(m, 33, 0);
    m.gic.setLevel(33, true);
    m.cpu0.write32(GICD + GICD_ICPENDR + 4, bitOf(33));
    expect(m.cpu0.read32(GICD + GICD_ISPENDR + 4)).toBe(bitOf(33));
    expect(m.irq[0]).toBe(true);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(33n);
    expect(m.cpu0.read32(GICD + GICD_ISPENDR + 4)).toBe(bitOf(33)); // active and pending
    expect(m.irq[0]).toBe(false);
    m.msr(0, ICC_EOIR1_EL1, 33);
    expect(m.irq[0]).toBe(true);
    m.gic.setLevel(33, false);
    expect(m.irq[0]).toBe(false);
    expect(m.cpu0.read32(GICD + GICD_ISPENDR + 4)).toBe(0);
  });

  it("latches an edge-triggered SPI on a rising edge, and pends it again when it fires while active", () => {
    const m = booted(1);
    enableSpi(m, 36, 0, true);
    m.gic.setLevel(36, false); // no edge
    expect(m.irq[0]).toBe(false);
    m.gic.setLevel(36, true); // a pulse, as kvmtool's kvm__irq_trigger makes
    m.gic.setLevel(36, false);
    expect(m.irq[0]).toBe(true);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(36n);
    expect(m.cpu0.read32(GICD + GICD_ISPENDR + 4)).toBe(0);
    m.gic.setLevel(36, true);
    m.gic.setLevel(36, false);
    expect(m.irq[0]).toBe(false); // active: not signalled again yet
    expect(m.cpu0.read32(GICD + GICD_ISPENDR + 4)).toBe(bitOf(36));
    m.msr(0, ICC_EOIR1_EL1, 36);
    expect(m.irq[0]).toBe(true);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(36n);
    m.msr(0, ICC_EOIR1_EL1, 36);
    expect(m.irq[0]).toBe(false);
  });

  it("pends and unpends an SPI from ISPENDR/ICPENDR, and clears active state from ICACTIVER", () => {
    const m = booted(1);
    enableSpi(m, 50, 0);
    m.cpu0.write32(GICD + GICD_ISPENDR + 4, bitOf(50));
    expect(m.irq[0]).toBe(true);
    m.cpu0.write32(GICD + GICD_ICPENDR + 4, bitOf(50));
    expect(m.irq[0]).toBe(false);
    m.cpu0.write32(GICD + GICD_ISPENDR + 4, bitOf(50));
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(50n);
    m.cpu0.write32(GICD + GICD_ISACTIVER + 4, bitOf(51));
    expect(m.cpu0.read32(GICD + GICD_ISACTIVER + 4)).toBe(bitOf(50) | bitOf(51));
    m.cpu0.write32(GICD + GICD_ICACTIVER + 4, 0xffff_ffff);
    expect(m.cpu0.read32(GICD + GICD_ISACTIVER + 4)).toBe(0);
  });

  it("does not signal an interrupt whose priority is not higher than ICC_PMR_EL1", () => {
    const m = booted(1);
    enableSpi(m, 40, 0);
    m.msr(0, ICC_PMR_EL1, DEFAULT_PRIORITY);
    m.gic.setLevel(40, true);
    expect(m.irq[0]).toBe(false);
    expect(m.mrs(0, ICC_HPPIR1_EL1)).toBe(40n); // pending, just masked
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(SPURIOUS);
    m.msr(0, ICC_PMR_EL1, DEFAULT_PRIORITY + 8);
    expect(m.irq[0]).toBe(true);
    m.msr(0, ICC_PMR_EL1, 0);
    expect(m.irq[0]).toBe(false);
  });

  it("lets a higher-priority SPI preempt an active one but not one of equal priority, and unwinds on EOI", () => {
    const m = booted(1);
    enableSpi(m, 40, 0);
    enableSpi(m, 41, 0);
    enableSpi(m, 42, 0);
    m.cpu0.write8(GICD + GICD_IPRIORITYR + 42, 0x80);
    m.gic.setLevel(40, true);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(40n);
    m.gic.setLevel(41, true); // same priority 0xa0: waits
    expect(m.irq[0]).toBe(false);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(SPURIOUS);
    m.gic.setLevel(42, true); // 0x80 preempts
    expect(m.irq[0]).toBe(true);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(42n);
    expect(m.mrs(0, ICC_RPR_EL1)).toBe(0x80n);
    expect(m.mrs(0, ICC_AP1R0_EL1)).toBe((1n << 16n) | (1n << 20n));
    m.gic.setLevel(42, false);
    m.msr(0, ICC_EOIR1_EL1, 42);
    expect(m.mrs(0, ICC_RPR_EL1)).toBe(0xa0n);
    expect(m.irq[0]).toBe(false);
    m.gic.setLevel(40, false);
    m.msr(0, ICC_EOIR1_EL1, 40);
    expect(m.irq[0]).toBe(true); // 41's turn
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(41n);
  });

  it("orders pending SPIs by priority, the lower INTID first on a tie", () => {
    const m = booted(1);
    for (const intid of [60, 45, 50]) enableSpi(m, intid, 0);
    m.cpu0.write8(GICD + GICD_IPRIORITYR + 60, 0x90);
    for (const intid of [60, 45, 50]) m.gic.setLevel(intid, true);
    m.msr(0, ICC_PMR_EL1, 0xf8);
    const order: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const intid = m.mrs(0, ICC_IAR1_EL1)!;
      order.push(intid);
      m.gic.setLevel(Number(intid), false);
      m.msr(0, ICC_EOIR1_EL1, intid);
    }
    expect(order).toEqual([60n, 45n, 50n]);
  });

  it("does not signal while Group 1 is disabled in the distributor or in ICC_IGRPEN1_EL1", () => {
    const m = booted(1);
    enableSpi(m, 40, 0);
    m.gic.setLevel(40, true);
    expect(m.irq[0]).toBe(true);
    m.msr(0, ICC_IGRPEN1_EL1, 0);
    expect(m.irq[0]).toBe(false);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(SPURIOUS);
    m.msr(0, ICC_IGRPEN1_EL1, 1);
    expect(m.irq[0]).toBe(true);
    m.cpu0.write32(GICD + GICD_CTLR, GICD_CTLR_ARE_NS);
    expect(m.irq[0]).toBe(false);
    m.cpu0.write32(GICD + GICD_CTLR, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A);
    expect(m.irq[0]).toBe(true);
  });

  it("splits priority drop (EOIR1) from deactivation (DIR) when ICC_CTLR_EL1.EOImode is 1", () => {
    const m = booted(1);
    m.msr(0, ICC_CTLR_EL1, ICC_CTLR_EL1_EOIMODE_DROP);
    enableSpi(m, 40, 0, true);
    m.gic.setLevel(40, true);
    m.gic.setLevel(40, false);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(40n);
    m.msr(0, ICC_EOIR1_EL1, 40);
    expect(m.mrs(0, ICC_RPR_EL1)).toBe(0xffn);
    expect(m.cpu0.read32(GICD + GICD_ISACTIVER + 4)).toBe(bitOf(40));
    m.gic.setLevel(40, true); // pending again, but still active: held back
    expect(m.irq[0]).toBe(false);
    m.msr(0, ICC_DIR_EL1, 40);
    expect(m.cpu0.read32(GICD + GICD_ISACTIVER + 4)).toBe(0);
    expect(m.irq[0]).toBe(true);
  });

  it("offers an SPI routed with IROUTER.IRM = 1 to every vCPU until one acknowledges it", () => {
    const m = booted(3);
    enableSpi(m, 40, 0);
    m.cpu0.write32(GICD + GICD_IROUTER + 40 * 8, 1 << 31);
    m.msr(2, ICC_IGRPEN1_EL1, 0); // vCPU 2 does not take Group 1
    m.cpu0.write32(GICD + GICD_ISPENDR + 4, bitOf(40));
    expect(m.irq).toEqual([true, true, false]);
    expect(m.mrs(1, ICC_IAR1_EL1)).toBe(40n);
    expect(m.irq).toEqual([false, false, false]);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(SPURIOUS);
  });

  it("delivers an SPI routed to an affinity that no vCPU has to nobody, until it is rerouted", () => {
    const m = booted(2);
    enableSpi(m, 40, 0);
    m.cpu0.write64(GICD + GICD_IROUTER + 40 * 8, 0x1_0000_0000n); // Aff3 = 1
    m.gic.setLevel(40, true);
    expect(m.irq).toEqual([false, false]);
    m.cpu0.write64(GICD + GICD_IROUTER + 40 * 8, kvmAffinity(1));
    expect(m.irq).toEqual([false, true]);
  });
});

describe("Gicv3 SGIs and PPIs", () => {
  it("pends an SGI on each vCPU in the ICC_SGI1R_EL1 target list, and nowhere else", () => {
    const m = booted(4);
    m.msr(0, ICC_SGI1R_EL1, sgiValue({ intid: 3, targetList: 0b0110 }));
    expect(m.irq).toEqual([false, true, true, false]);
    expect(m.mrs(2, ICC_IAR1_EL1)).toBe(3n); // GICv3 reports no source CPU
    m.msr(2, ICC_EOIR1_EL1, 3);
    expect(m.irq).toEqual([false, true, false, false]);
    expect(m.cpus[1]!.read32(m.rd[1]! + GICR_ISACTIVER0)).toBe(0);
  });

  it("reaches vCPU 17 through Aff1 = 1 and TargetList bit 1", () => {
    const m = booted(18);
    m.msr(0, ICC_SGI1R_EL1, sgiValue({ intid: 1, aff1: 1, targetList: 0b10 }));
    expect(m.irq.flatMap((on, v) => (on ? [v] : []))).toEqual([17]);
    expect(m.mrs(17, ICC_IAR1_EL1)).toBe(1n);
  });

  it("reaches a vCPU whose MPIDR Aff0 is above 15 through the range selector RS", () => {
    const bus = new TrapBus();
    const irq = [false, false];
    // A VMM-chosen topology: vCPU 1 has Aff2 = 2, Aff0 = 0x21.
    const mpidrs = [0x8000_0000, 0x8002_0021];
    const gic = new Gicv3({
      vcpuCount: 2,
      mpidr: (v) => mpidrs[v]!,
      onIrqLineChange: (v, level) => (irq[v] = level),
    });
    gic.register(bus);
    const cpu = new GuestCpu(bus, 0);
    const rd1 = GICD - 2 * GICR_STRIDE + GICR_STRIDE;
    expect(cpu.read64(rd1 + GICR_TYPER) >> 32n).toBe(0x02_0021n);
    cpu.write32(GICD + GICD_CTLR, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A);
    cpu.write32(rd1 + GICR_ISENABLER0, 0xffff);
    cpu.write32(rd1 + GICR_IPRIORITYR0, 0);
    gic.sysreg(1, ICC_PMR_EL1, true, 0xf0n);
    gic.sysreg(1, ICC_IGRPEN1_EL1, true, 1n);
    gic.sysreg(0, ICC_SGI1R_EL1, true, sgiValue({ intid: 0, aff2: 2, rs: 2, targetList: 1 << 1 }));
    expect(irq).toEqual([false, true]);
  });

  it("broadcasts an SGI to every vCPU but the sender when ICC_SGI1R_EL1.IRM is set", () => {
    const m = booted(3);
    m.msr(1, ICC_SGI1R_EL1, sgiValue({ intid: 0, irm: true, targetList: 0xffff }));
    expect(m.irq).toEqual([true, false, true]);
  });

  it("does not deliver a disabled SGI until the guest enables it in GICR_ISENABLER0", () => {
    const m = booted(2);
    m.cpus[1]!.write32(m.rd[1]! + GICR_ICENABLER0, bitOf(7));
    m.msr(0, ICC_SGI1R_EL1, sgiValue({ intid: 7, targetList: 0b10 }));
    expect(m.irq[1]).toBe(false);
    m.cpus[1]!.write32(m.rd[1]! + GICR_ISENABLER0, bitOf(7));
    expect(m.irq[1]).toBe(true);
  });

  it("delivers the virtual timer's PPI 27 only to its own vCPU, level-sensitive", () => {
    const m = booted(2);
    m.cpus[1]!.write32(m.rd[1]! + GICR_ISENABLER0, bitOf(27));
    m.gic.setPpiLevel(1, 27, true);
    expect(m.irq).toEqual([false, true]);
    expect(m.mrs(1, ICC_IAR1_EL1)).toBe(27n);
    expect(m.irq).toEqual([false, false]);
    m.msr(1, ICC_EOIR1_EL1, 27);
    expect(m.irq).toEqual([false, true]); // the timer condition still holds
    expect(m.mrs(1, ICC_IAR1_EL1)).toBe(27n);
    m.gic.setPpiLevel(1, 27, false); // the guest reprogrammed the timer
    m.msr(1, ICC_EOIR1_EL1, 27);
    expect(m.irq).toEqual([false, false]);
    m.gic.setPpiLevel(0, 27, true); // disabled on vCPU 0
    expect(m.irq).toEqual([false, false]);
  });

  it("signals FIQ for a Group 0 SGI, which ICC_IAR0_EL1 acknowledges and ICC_IAR1_EL1 does not", () => {
    const m = booted(1);
    const rd = m.rd[0]!;
    m.cpu0.write32(rd + GICR_IGROUPR0, ~bitOf(5) >>> 0); // SGI 5 in Group 0
    m.msr(0, ICC_IGRPEN0_EL1, 1);
    m.msr(0, ICC_SGI1R_EL1, sgiValue({ intid: 5, targetList: 1 })); // Group 1 request: not forwarded
    expect(m.fiq[0]).toBe(false);
    m.msr(0, ICC_SGI0R_EL1, sgiValue({ intid: 5, targetList: 1 }));
    expect(m.fiq[0]).toBe(true);
    expect(m.irq[0]).toBe(false);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(SPURIOUS);
    expect(m.mrs(0, ICC_IAR0_EL1)).toBe(5n);
    expect(m.fiq[0]).toBe(false);
    expect(m.mrs(0, ICC_AP0R0_EL1)).toBe(1n << BigInt(DEFAULT_PRIORITY >> 3));
    m.msr(0, ICC_EOIR0_EL1, 5);
    expect(m.mrs(0, ICC_AP0R0_EL1)).toBe(0n);
    expect(m.cpu0.read32(rd + GICR_ISACTIVER0)).toBe(0);
  });

  it("does not pend a Group 1 SGI from ICC_SGI0R_EL1", () => {
    const m = booted(2);
    m.msr(0, ICC_SGI0R_EL1, sgiValue({ intid: 2, targetList: 0b10 }));
    expect(m.irq).toEqual([false, false]);
    expect(m.mrs(1, ICC_HPPIR1_EL1)).toBe(SPURIOUS);
  });
});
