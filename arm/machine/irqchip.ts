// The interrupt controller a machine gets from --irqchip, behind one interface so the VM, the
// device tree and the devices do not care which GIC it is. kvmtool's choices: gicv2, gicv2m
// (GICv2 + an MSI frame), gicv3, gicv3-its (GICv3 + an ITS); `auto` takes the first of
// gicv3-its, gicv3, gicv2m, gicv2 that the host offers.

import { ConfigError } from "../../src/errors.ts";
import type { TrapBus } from "../../src/iotrap/bus.ts";
import type { IrqSink, MsiController } from "../../src/irq.ts";
import type { GuestMemory } from "../../src/kvm/guest-memory.ts";
import type { FdtDevice } from "./device-tree.ts";
import { Gicv2 } from "./gicv2.ts";
import { checkGicv2VcpuCount } from "./gicv2/state.ts";
import { Gicv3 } from "./gicv3.ts";
import { mpidrOf } from "./memory-map.ts";

export const IRQCHIP_KINDS = ["gicv2", "gicv2m", "gicv3", "gicv3-its"] as const;
export type IrqchipKind = (typeof IRQCHIP_KINDS)[number];
/** The irqchips lkvm builds; `auto` is the first of these in kvmtool's order of preference. */
export const IMPLEMENTED_IRQCHIPS: readonly IrqchipKind[] = ["gicv2", "gicv2m", "gicv3", "gicv3-its"];
/**
 * Built, but not yet what `auto` picks: kvmtool's auto takes gicv3-its first, and lkvm will
 * too once its virtio-pci devices deliver MSI-X through the ITS and that has been measured.
 * Until then `auto` gives the plain gicv3, whose SPIs the virtio devices use.
 */
const NOT_YET_AUTO: readonly IrqchipKind[] = ["gicv3-its"];
/** kvmtool's `auto`: the first one, in this order, that the host can give. */
const AUTO_PREFERENCE: readonly IrqchipKind[] = ["gicv3-its", "gicv3", "gicv2m", "gicv2"];

export interface InterruptController extends IrqSink, FdtDevice {
  readonly kind: IrqchipKind;
  /** Claims its register frames on the trap bus. */
  register(bus: TrapBus): void;
  /** Drives a vCPU's PPI input (the timers, the PMU). */
  setPpiLevel(vcpu: number, intid: number, level: boolean): void;
  /**
   * A system-register access the core leaves to the VMM (the GICv3 CPU interface): the value
   * read (0n for a write), or undefined when the access is UNDEFINED (always, on a GICv2).
   */
  sysreg(vcpu: number, encoding: number, isWrite: boolean, value: bigint): bigint | undefined;
  /** The MSI controller, when this irqchip has one (gicv2m, gicv3-its). */
  readonly msi?: MsiController;
  /** SPIs the irqchip keeps for itself, from INTID 32 up (kvmtool's gicv2m takes 64). */
  readonly reservedSpiCount: number;
  /** The CPU mask in the flags of a PPI's DT specifier: ((1 << vCPUs) - 1) << 8 on a GICv2, 0 on a GICv3. */
  readonly ppiCpuMask: number;
  /** Whether the core offers the GICv3 system-register CPU interface (ICC_*). */
  readonly systemRegisterInterface: boolean;
}

export interface IrqchipOptions {
  vcpuCount: number;
  /** The vCPU's IRQ input must follow `level`. Called only on changes. */
  onIrqLineChange: (vcpu: number, level: boolean) => void;
  /** The same for FIQ. */
  onFiqLineChange: (vcpu: number, level: boolean) => void;
  /** Guest RAM, for the tables of an irqchip that keeps some there (the ITS's, the LPIs'). */
  memory: GuestMemory;
  /**
   * Where an irqchip reports what the guest did wrong or the MSI controller ignored (a dropped
   * ITS command, a stray MSI), at --loglevel debug.
   */
  debugLog?: (line: string) => void;
}

/** Resolves `auto` and refuses what is not built, with kvmtool's option wording. */
export function resolveIrqchip(requested: string): IrqchipKind {
  if (requested === "auto") {
    return AUTO_PREFERENCE.find((k) => IMPLEMENTED_IRQCHIPS.includes(k) && !NOT_YET_AUTO.includes(k))!;
  }
  if (!(IRQCHIP_KINDS as readonly string[]).includes(requested)) {
    throw new ConfigError(`invalid irqchip '${requested}': expected auto, ${IRQCHIP_KINDS.join(", ")}`);
  }
  const kind = requested as IrqchipKind;
  if (!IMPLEMENTED_IRQCHIPS.includes(kind)) {
    throw new ConfigError(`--irqchip ${kind} is not supported by lkvm yet: only ${IMPLEMENTED_IRQCHIPS.join(", ")}`);
  }
  return kind;
}

/** Whether the irqchip's CPU interface is the ICC_* system registers (GICv3) or MMIO (GICv2). */
export function irqchipHasSystemRegisters(kind: IrqchipKind): boolean {
  return kind === "gicv3" || kind === "gicv3-its";
}

/** Refuses a vCPU count the irqchip cannot serve (a GICv2 has at most 8 CPU interfaces). */
export function checkIrqchipVcpuCount(kind: IrqchipKind, vcpuCount: number): void {
  if (kind === "gicv2" || kind === "gicv2m") checkGicv2VcpuCount(kind, vcpuCount);
}

export function createIrqchip(kind: IrqchipKind, options: IrqchipOptions): InterruptController {
  switch (kind) {
    case "gicv2":
    case "gicv2m":
      return new Gicv2({ ...options, msiFrame: kind === "gicv2m" });
    case "gicv3":
      return new Gicv3({ ...options, mpidr: mpidrOf });
    case "gicv3-its":
      return new Gicv3({ ...options, mpidr: mpidrOf, its: { memory: options.memory, log: options.debugLog } });
    default:
      throw new ConfigError(`--irqchip ${kind} is not supported by lkvm yet`);
  }
}
