// How a device-tree node names a GIC interrupt: three cells <kind number flags> (the arm,gic and
// arm,gic-v3 bindings), where an SPI is counted from INTID 32 and a PPI from INTID 16. Every node that
// describes an interrupt builds its cells here, so the INTID-to-cell arithmetic exists once.

import { PPI_BASE_INTID, SPI_BASE_INTID } from "./memory-map.ts";

/** Trigger flags (include/dt-bindings/interrupt-controller/irq.h). */
export const IRQ_TYPE = { edgeRising: 1, levelHigh: 4, levelLow: 8 } as const;
export type IrqTrigger = (typeof IRQ_TYPE)[keyof typeof IRQ_TYPE];

const GIC_SPI = 0;
const GIC_PPI = 1;

/** The three cells naming an SPI by its INTID. */
export function spiCells(intid: number, trigger: IrqTrigger): number[] {
  if (intid < SPI_BASE_INTID) throw new RangeError(`INTID ${intid} is not an SPI`);
  return [GIC_SPI, intid - SPI_BASE_INTID, trigger];
}

/**
 * The three cells naming a PPI by its INTID. On a GICv2 the flags also carry the CPUs it is
 * wired to (`cpuMask`, bits [15:8]: the irqchip's ppiCpuMask); a GICv3 has none.
 */
export function ppiCells(intid: number, trigger: IrqTrigger, cpuMask = 0): number[] {
  if (intid < PPI_BASE_INTID || intid >= SPI_BASE_INTID) throw new RangeError(`INTID ${intid} is not a PPI`);
  return [GIC_PPI, intid - PPI_BASE_INTID, cpuMask | trigger];
}
