// What a GICv2 keeps beyond the state it shares with the GICv3 model (gicv3/shared.ts): the
// CPU targets of each SPI, the source CPUs of each pending SGI, and the CPU interface controls
// a GICv3 has no counterpart for. The Distributor and the CPU interfaces both read it.

import { ConfigError } from "../../../src/errors.ts";
import { GIC_SGI_COUNT, GicContext } from "../gicv3/shared.ts";

/** GICv2 numbers its CPU interfaces 0-7: the target lists are 8-bit masks. */
export const GICV2_MAX_CPUS = 8;

/** KVM refuses a vGICv2 more vCPUs than that; so does lkvm, before it loads anything. */
export function checkGicv2VcpuCount(kind: "gicv2" | "gicv2m", vcpuCount: number): void {
  if (!Number.isInteger(vcpuCount) || vcpuCount < 1 || vcpuCount > GICV2_MAX_CPUS) {
    throw new ConfigError(`--irqchip ${kind} supports at most ${GICV2_MAX_CPUS} vCPUs (the GICv2 limit), not ${vcpuCount}`);
  }
}

export interface Gicv2CpuControls {
  /** GICC_CTLR.AckCtl: GICC_IAR may acknowledge a Group 1 interrupt too. */
  ackCtl: boolean;
  /** GICC_CTLR.FIQEn: Group 0 interrupts are signalled as FIQ. */
  fiqEn: boolean;
}

export interface Gicv2State {
  /** GICD_ITARGETSR per INTID (SPIs only; the SGI and PPI bytes read as the reader's own bit). */
  spiTargets: Uint8Array;
  /**
   * The vCPU each SPI goes to. KVM's vGICv2 delivers an SPI to the lowest CPU of its target
   * list, and to vCPU 0 when the list is empty, rather than to any one of them.
   */
  spiTargetVcpu: Uint8Array;
  /** Per target vCPU and SGI: bit n set while the SGI from CPU n is pending. */
  sgiSources: Uint8Array[];
  cpuControls: Gicv2CpuControls[];
}

/** A GICv2's shared state: the GICv3 model's (INTIDs reset to Group 0, as on KVM) and its own. */
export class Gicv2Context extends GicContext {
  readonly v2: Gicv2State;

  constructor(vcpuCount: number, spiCount: number, mpidr: (vcpu: number) => bigint | number) {
    super(vcpuCount, spiCount, mpidr, 0);
    const intids = this.intidCount;
    this.v2 = {
      spiTargets: new Uint8Array(intids),
      spiTargetVcpu: new Uint8Array(intids),
      sgiSources: Array.from({ length: vcpuCount }, () => new Uint8Array(GIC_SGI_COUNT)),
      cpuControls: Array.from({ length: vcpuCount }, () => ({ ackCtl: false, fiqEn: false })),
    };
    // KVM resets SGIs enabled (a GICv2 may even make their enable bits read-only).
    for (const rd of this.state.redistributors) rd.bank.enabled[0] = (1 << GIC_SGI_COUNT) - 1;
  }

  /** An SGI from CPU `source` to `target`: pending until every source has been acknowledged. */
  pendSgi(target: number, intid: number, source: number): void {
    this.v2.sgiSources[target]![intid]! |= 1 << source;
    this.state.redistributors[target]!.bank.pendingLatch[0]! |= 1 << intid;
  }

  /** Clears the SGI's pending state for the sources in `mask` (GICD_CPENDSGIR). */
  clearSgiSources(target: number, intid: number, mask: number): void {
    const sources = this.v2.sgiSources[target]!;
    sources[intid]! &= ~mask;
    if (sources[intid] === 0) this.state.redistributors[target]!.bank.pendingLatch[0]! &= ~(1 << intid);
  }

  /** The source an acknowledge of the SGI takes: the lowest-numbered CPU that sent it. */
  lowestSgiSource(target: number, intid: number): number {
    const sources = this.v2.sgiSources[target]![intid]!;
    return sources === 0 ? 0 : 31 - Math.clz32(sources & -sources);
  }

  /** GICD_ITARGETSR of an SPI, and where KVM then delivers it. */
  setSpiTargets(intid: number, targets: number): void {
    const present = targets & ((1 << this.vcpuCount) - 1);
    this.v2.spiTargets[intid] = present;
    this.v2.spiTargetVcpu[intid] = present === 0 ? 0 : 31 - Math.clz32(present & -present);
  }
}
