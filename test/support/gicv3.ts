// A GICv3 driven the way a guest drives it (test/arm/gicv3-*.test.ts): the architecture's
// offsets and encodings as the guest knows them, written from the GICv3 specification (IHI
// 0069), not taken from the implementation; a machine whose IRQ/FIQ lines record every change;
// and Linux's initialisation sequences.

import { expect } from "vitest";
import { Gicv3, type Gicv3Options } from "../../arm/machine/gicv3.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { GuestCpu } from "./guest-cpu.ts";

// ---- the architecture, as the guest knows it ----

export const GICD = 0x3fff_0000;
export const GICR_STRIDE = 0x2_0000; // RD_base + SGI_base, no VLPI frames
export const SGI_BASE = 0x1_0000;

// Distributor.
export const GICD_CTLR = 0x0000;
export const GICD_TYPER = 0x0004;
export const GICD_IIDR = 0x0008;
export const GICD_SETSPI_NSR = 0x0040;
export const GICD_IGROUPR = 0x0080;
export const GICD_ISENABLER = 0x0100;
export const GICD_ICENABLER = 0x0180;
export const GICD_ISPENDR = 0x0200;
export const GICD_ICPENDR = 0x0280;
export const GICD_ISACTIVER = 0x0300;
export const GICD_ICACTIVER = 0x0380;
export const GICD_IPRIORITYR = 0x0400;
export const GICD_ITARGETSR = 0x0800;
export const GICD_ICFGR = 0x0c00;
export const GICD_IROUTER = 0x6000;
export const GICD_PIDR2 = 0xffe8;

export const GICD_CTLR_ENABLE_G1 = 1 << 0; // EnableGrp0 when DS = 1; Linux's name
export const GICD_CTLR_ENABLE_G1A = 1 << 1; // EnableGrp1 when DS = 1
export const GICD_CTLR_ARE_NS = 1 << 4; // ARE when DS = 1
export const GICD_CTLR_DS = 1 << 6;
export const GICD_CTLR_RWP = 1 << 31;

// Redistributor, RD_base.
export const GICR_CTLR = 0x0000;
export const GICR_TYPER = 0x0008;
export const GICR_WAKER = 0x0014;
export const GICR_PIDR2 = 0xffe8;
export const GICR_CTLR_RWP = 1 << 3;
export const GICR_TYPER_LAST = 1n << 4n;
export const GICR_WAKER_PROCESSOR_SLEEP = 1 << 1;
export const GICR_WAKER_CHILDREN_ASLEEP = 1 << 2;
// Redistributor, SGI_base.
export const GICR_IGROUPR0 = SGI_BASE + 0x0080;
export const GICR_ISENABLER0 = SGI_BASE + 0x0100;
export const GICR_ICENABLER0 = SGI_BASE + 0x0180;
export const GICR_ICACTIVER0 = SGI_BASE + 0x0380;
export const GICR_ISACTIVER0 = SGI_BASE + 0x0300;
export const GICR_IPRIORITYR0 = SGI_BASE + 0x0400;
export const GICR_ICFGR0 = SGI_BASE + 0x0c00;
export const GICR_ICFGR1 = SGI_BASE + 0x0c04;

export const GIC_PIDR2_ARCH_MASK = 0xf0;
export const GIC_PIDR2_ARCH_GICV3 = 0x30;
export const DEFAULT_PRIORITY = 0xa0; // Linux's GICD_INT_DEF_PRI
export const DEFAULT_PMR = 0xf0; // Linux's DEFAULT_PMR_VALUE
export const SPURIOUS = 1023n;

// CPU interface: op0=3, op1=0, CRn, CRm, op2 as MRS/MSR encode them.
export const enc = (crn: number, crm: number, op2: number): number =>
  (3 << 14) | (0 << 11) | (crn << 7) | (crm << 3) | op2;
export const ICC_PMR_EL1 = enc(4, 6, 0);
export const ICC_IAR0_EL1 = enc(12, 8, 0);
export const ICC_EOIR0_EL1 = enc(12, 8, 1);
export const ICC_BPR0_EL1 = enc(12, 8, 3);
export const ICC_AP0R0_EL1 = enc(12, 8, 4);
export const ICC_AP0R1_EL1 = enc(12, 8, 5);
export const ICC_AP1R0_EL1 = enc(12, 9, 0);
export const ICC_AP1R1_EL1 = enc(12, 9, 1);
export const ICC_DIR_EL1 = enc(12, 11, 1);
export const ICC_RPR_EL1 = enc(12, 11, 3);
export const ICC_SGI1R_EL1 = enc(12, 11, 5);
export const ICC_SGI0R_EL1 = enc(12, 11, 7);
export const ICC_IAR1_EL1 = enc(12, 12, 0);
export const ICC_EOIR1_EL1 = enc(12, 12, 1);
export const ICC_HPPIR1_EL1 = enc(12, 12, 2);
export const ICC_BPR1_EL1 = enc(12, 12, 3);
export const ICC_CTLR_EL1 = enc(12, 12, 4);
export const ICC_SRE_EL1 = enc(12, 12, 5);
export const ICC_IGRPEN0_EL1 = enc(12, 12, 6);
export const ICC_IGRPEN1_EL1 = enc(12, 12, 7);
export const ICC_CTLR_EL1_EOIMODE_DROP = 1n << 1n;

/** ICC_SGI1R_EL1 / ICC_SGI0R_EL1 value. */
export function sgiValue(f: {
  intid: number;
  targetList?: number;
  aff1?: number;
  aff2?: number;
  aff3?: number;
  rs?: number;
  irm?: boolean;
}): bigint {
  return (
    (BigInt(f.aff3 ?? 0) << 48n) |
    (BigInt(f.rs ?? 0) << 44n) |
    (f.irm ? 1n << 40n : 0n) |
    (BigInt(f.aff2 ?? 0) << 32n) |
    (BigInt(f.intid) << 24n) |
    (BigInt(f.aff1 ?? 0) << 16n) |
    BigInt(f.targetList ?? 0)
  );
}

/** KVM's MPIDR affinity for a vCPU: Aff0 = id & 0xf, Aff1 = id >> 4. */
export const kvmAffinity = (vcpu: number): bigint => (BigInt(vcpu >> 4) << 8n) | BigInt(vcpu & 0xf);

// ---- a machine with a recording IRQ/FIQ line per vCPU ----

export function machine(vcpuCount: number, spiCount?: number, its?: Gicv3Options["its"]) {
  const bus = new TrapBus();
  const irq = new Array<boolean>(vcpuCount).fill(false);
  const fiq = new Array<boolean>(vcpuCount).fill(false);
  const changes: string[] = [];
  const gic = new Gicv3({
    vcpuCount,
    ...(spiCount === undefined ? {} : { spiCount }),
    ...(its === undefined ? {} : { its }),
    onIrqLineChange: (vcpu, level) => {
      expect(irq[vcpu]).not.toBe(level); // only changes are reported
      irq[vcpu] = level;
      changes.push(`irq${vcpu}=${level ? 1 : 0}`);
    },
    onFiqLineChange: (vcpu, level) => {
      expect(fiq[vcpu]).not.toBe(level);
      fiq[vcpu] = level;
      changes.push(`fiq${vcpu}=${level ? 1 : 0}`);
    },
  });
  gic.register(bus);
  const redistBase = GICD - vcpuCount * GICR_STRIDE;
  const cpus = Array.from({ length: vcpuCount }, (_, v) => new GuestCpu(bus, v));
  const mrs = (vcpu: number, reg: number): bigint | undefined => gic.sysreg(vcpu, reg, false, 0n);
  const msr = (vcpu: number, reg: number, value: bigint | number): bigint | undefined =>
    gic.sysreg(vcpu, reg, true, BigInt(value));
  return { bus, gic, irq, fiq, changes, cpus, redistBase, mrs, msr, cpu0: cpus[0]! };
}

export type Machine = ReturnType<typeof machine>;

/** Linux's gic_dist_init: disable, Group 1 everywhere, level, 0xa0, all off, enable, route. */
export function linuxDistInit(m: Machine, bootVcpu = 0): void {
  const c = m.cpus[bootVcpu]!;
  const lines = ((c.read32(GICD + GICD_TYPER) & 0x1f) + 1) * 32;
  c.write32(GICD + GICD_CTLR, 0);
  expect(c.read32(GICD + GICD_CTLR) & GICD_CTLR_RWP).toBe(0); // gic_dist_wait_for_rwp
  for (let i = 32; i < lines; i += 32) c.write32(GICD + GICD_IGROUPR + i / 8, 0xffff_ffff);
  for (let i = 32; i < lines; i += 16) c.write32(GICD + GICD_ICFGR + i / 4, 0);
  for (let i = 32; i < lines; i += 4) c.write32(GICD + GICD_IPRIORITYR + i, 0xa0a0_a0a0);
  for (let i = 32; i < lines; i += 32) {
    c.write32(GICD + GICD_ICACTIVER + i / 8, 0xffff_ffff);
    c.write32(GICD + GICD_ICENABLER + i / 8, 0xffff_ffff);
  }
  c.write32(GICD + GICD_CTLR, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G1);
  expect(c.read32(GICD + GICD_CTLR) & GICD_CTLR_RWP).toBe(0);
  for (let i = 32; i < lines; i++) c.write64(GICD + GICD_IROUTER + i * 8, kvmAffinity(bootVcpu));
}

/** Linux's gic_populate_rdist: walk the region until GICR_TYPER's affinity matches. */
export function findRedistributor(m: Machine, vcpu: number): number {
  const c = m.cpus[vcpu]!;
  for (let ptr = m.redistBase; ; ptr += GICR_STRIDE) {
    expect(c.read32(ptr + GICR_PIDR2) & GIC_PIDR2_ARCH_MASK).toBe(GIC_PIDR2_ARCH_GICV3);
    const typer = c.read64(ptr + GICR_TYPER);
    if (typer >> 32n === kvmAffinity(vcpu)) return ptr;
    if (typer & GICR_TYPER_LAST) throw new Error(`no redistributor for vCPU ${vcpu}`);
  }
}

/** Linux's gic_cpu_init and gic_cpu_sys_reg_init on one vCPU. */
export function linuxCpuInit(m: Machine, vcpu: number): number {
  const c = m.cpus[vcpu]!;
  const rd = findRedistributor(m, vcpu);
  // gic_enable_redist(true)
  c.write32(rd + GICR_WAKER, c.read32(rd + GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
  expect(c.read32(rd + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP).toBe(0);
  // SGIs and PPIs: Group 1, inactive, disabled, then SGIs enabled, priority 0xa0.
  c.write32(rd + GICR_IGROUPR0, 0xffff_ffff);
  c.write32(rd + GICR_ICACTIVER0, 0xffff_ffff);
  c.write32(rd + GICR_ICENABLER0, 0xffff_ffff);
  c.write32(rd + GICR_ISENABLER0, 0x0000_ffff);
  for (let i = 0; i < 32; i += 4) c.write32(rd + GICR_IPRIORITYR0 + i, 0xa0a0_a0a0);
  expect(c.read32(rd + GICR_CTLR) & GICR_CTLR_RWP).toBe(0);
  // System registers.
  expect(m.mrs(vcpu, ICC_SRE_EL1)! & 1n).toBe(1n);
  const pribits = Number((m.mrs(vcpu, ICC_CTLR_EL1)! >> 8n) & 7n) + 1;
  const probe = 1 << (8 - pribits);
  m.msr(vcpu, ICC_PMR_EL1, probe);
  const group0 = m.mrs(vcpu, ICC_PMR_EL1) !== 0n;
  m.msr(vcpu, ICC_PMR_EL1, DEFAULT_PMR);
  m.msr(vcpu, ICC_BPR1_EL1, 0);
  m.msr(vcpu, ICC_CTLR_EL1, 0); // EOImode 0: EOIR drops priority and deactivates
  if (group0) m.msr(vcpu, ICC_AP0R0_EL1, 0);
  m.msr(vcpu, ICC_AP1R0_EL1, 0);
  m.msr(vcpu, ICC_IGRPEN1_EL1, 1);
  return rd;
}

/** A booted guest: distributor up, every vCPU's redistributor and CPU interface set up. */
export function booted(vcpuCount: number) {
  const m = machine(vcpuCount);
  linuxDistInit(m);
  const rd = Array.from({ length: vcpuCount }, (_, v) => linuxCpuInit(m, v));
  return { ...m, rd };
}

/** What Linux does to turn on an SPI: route it (gic_set_affinity) and unmask it. */
export function enableSpi(m: Machine, intid: number, vcpu: number, edge = false): void {
  const c = m.cpu0;
  const cfgOffset = GICD + GICD_ICFGR + Math.floor(intid / 16) * 4;
  const bit = 2 << ((intid % 16) * 2);
  const cfg = c.read32(cfgOffset);
  c.write32(cfgOffset, edge ? cfg | bit : cfg & ~bit);
  c.write64(GICD + GICD_IROUTER + intid * 8, kvmAffinity(vcpu));
  c.write32(GICD + GICD_ISENABLER + Math.floor(intid / 32) * 4, 1 << intid % 32);
}

export const bitOf = (intid: number): number => (1 << intid % 32) >>> 0;
