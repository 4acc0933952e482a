// What both GIC models take from the machine and give back, in one place: the SPI and PPI
// inputs (kvmtool's KVM_IRQ_LINE, the timers), and the IRQ and FIQ levels they last reported.
// Each model supplies its state and the one function that recomputes its outputs.

import type { IrqSink } from "../../src/irq.ts";
import { GIC_PPI_BASE_INTID, GIC_SPI_BASE_INTID, driveLine, type GicContext } from "./gicv3/shared.ts";

export abstract class GicInputs implements IrqSink {
  /** The model's state. */
  protected abstract readonly gic: GicContext;
  /** Recomputes every vCPU's IRQ and FIQ after an input changed. */
  protected abstract updateLines(): void;

  /** Drives an SPI's input (KVM_IRQ_LINE). Edge-triggered SPIs latch on a rising edge. */
  setLevel(intid: number, level: boolean): void {
    if (!Number.isInteger(intid) || intid < GIC_SPI_BASE_INTID || intid >= this.gic.intidCount) {
      throw new RangeError(`INTID ${intid} is not one of this GIC's SPIs (32-${this.gic.intidCount - 1})`);
    }
    if (driveLine(this.gic.state.spis, intid, level)) this.updateLines();
  }

  /** Drives a vCPU's PPI input (the timers: 27 virtual, 30 physical; the PMU: 23). */
  setPpiLevel(vcpu: number, intid: number, level: boolean): void {
    this.checkVcpu(vcpu);
    if (!Number.isInteger(intid) || intid < GIC_PPI_BASE_INTID || intid >= GIC_SPI_BASE_INTID) {
      throw new RangeError(`INTID ${intid} is not a PPI (16-31)`);
    }
    if (driveLine(this.gic.state.redistributors[vcpu]!.bank, intid, level)) this.updateLines();
  }

  /** Whether the GIC is signalling IRQ to a vCPU (the level last reported). */
  irqLevel(vcpu: number): boolean {
    this.checkVcpu(vcpu);
    return this.gic.state.irqLine[vcpu] !== 0;
  }

  /** Whether the GIC is signalling FIQ to a vCPU. */
  fiqLevel(vcpu: number): boolean {
    this.checkVcpu(vcpu);
    return this.gic.state.fiqLine[vcpu] !== 0;
  }

  protected checkVcpu(vcpu: number): void {
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.gic.vcpuCount) {
      throw new RangeError(`vCPU ${vcpu} does not exist (the GIC has ${this.gic.vcpuCount})`);
    }
  }
}
