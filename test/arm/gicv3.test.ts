// The GICv3 driven the way a guest drives it: loads and stores through the trap bus for the
// Distributor and Redistributors, MRS/MSR of the ICC_* registers through the same sysreg
// entry the core uses. Offsets, encodings and expected values are written here from the
// GICv3 specification (IHI 0069), not taken from the implementation.

import { describe, expect, it } from "vitest";
import { Gicv3 } from "../../arm/machine/gicv3.ts";
import { ConfigError } from "../../src/errors.ts";
import { FdtNode } from "../../src/lib/fdt/tree.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { GuestCpu } from "../support/guest-cpu.ts";

// ---- the architecture, as the guest knows it ----

const GICD = 0x3fff_0000;
const GICR_STRIDE = 0x2_0000; // RD_base + SGI_base, no VLPI frames
const SGI_BASE = 0x1_0000;

// Distributor.
const GICD_CTLR = 0x0000;
const GICD_TYPER = 0x0004;
const GICD_IIDR = 0x0008;
const GICD_SETSPI_NSR = 0x0040;
const GICD_IGROUPR = 0x0080;
const GICD_ISENABLER = 0x0100;
const GICD_ICENABLER = 0x0180;
const GICD_ISPENDR = 0x0200;
const GICD_ICPENDR = 0x0280;
const GICD_ISACTIVER = 0x0300;
const GICD_ICACTIVER = 0x0380;
const GICD_IPRIORITYR = 0x0400;
const GICD_ITARGETSR = 0x0800;
const GICD_ICFGR = 0x0c00;
const GICD_IROUTER = 0x6000;
const GICD_PIDR2 = 0xffe8;

const GICD_CTLR_ENABLE_G1 = 1 << 0; // EnableGrp0 when DS = 1; Linux's name
const GICD_CTLR_ENABLE_G1A = 1 << 1; // EnableGrp1 when DS = 1
const GICD_CTLR_ARE_NS = 1 << 4; // ARE when DS = 1
const GICD_CTLR_DS = 1 << 6;
const GICD_CTLR_RWP = 1 << 31;

// Redistributor, RD_base.
const GICR_CTLR = 0x0000;
const GICR_TYPER = 0x0008;
const GICR_WAKER = 0x0014;
const GICR_PIDR2 = 0xffe8;
const GICR_CTLR_RWP = 1 << 3;
const GICR_TYPER_LAST = 1n << 4n;
const GICR_WAKER_PROCESSOR_SLEEP = 1 << 1;
const GICR_WAKER_CHILDREN_ASLEEP = 1 << 2;
// Redistributor, SGI_base.
const GICR_IGROUPR0 = SGI_BASE + 0x0080;
const GICR_ISENABLER0 = SGI_BASE + 0x0100;
const GICR_ICENABLER0 = SGI_BASE + 0x0180;
const GICR_ICACTIVER0 = SGI_BASE + 0x0380;
const GICR_ISACTIVER0 = SGI_BASE + 0x0300;
const GICR_IPRIORITYR0 = SGI_BASE + 0x0400;
const GICR_ICFGR0 = SGI_BASE + 0x0c00;
const GICR_ICFGR1 = SGI_BASE + 0x0c04;

const GIC_PIDR2_ARCH_MASK = 0xf0;
const GIC_PIDR2_ARCH_GICV3 = 0x30;
const DEFAULT_PRIORITY = 0xa0; // Linux's GICD_INT_DEF_PRI
const DEFAULT_PMR = 0xf0; // Linux's DEFAULT_PMR_VALUE
const SPURIOUS = 1023n;

// CPU interface: op0=3, op1=0, CRn, CRm, op2 as MRS/MSR encode them.
const enc = (crn: number, crm: number, op2: number): number =>
  (3 << 14) | (0 << 11) | (crn << 7) | (crm << 3) | op2;
const ICC_PMR_EL1 = enc(4, 6, 0);
const ICC_IAR0_EL1 = enc(12, 8, 0);
const ICC_EOIR0_EL1 = enc(12, 8, 1);
const ICC_BPR0_EL1 = enc(12, 8, 3);
const ICC_AP0R0_EL1 = enc(12, 8, 4);
const ICC_AP0R1_EL1 = enc(12, 8, 5);
const ICC_AP1R0_EL1 = enc(12, 9, 0);
const ICC_AP1R1_EL1 = enc(12, 9, 1);
const ICC_DIR_EL1 = enc(12, 11, 1);
const ICC_RPR_EL1 = enc(12, 11, 3);
const ICC_SGI1R_EL1 = enc(12, 11, 5);
const ICC_SGI0R_EL1 = enc(12, 11, 7);
const ICC_IAR1_EL1 = enc(12, 12, 0);
const ICC_EOIR1_EL1 = enc(12, 12, 1);
const ICC_HPPIR1_EL1 = enc(12, 12, 2);
const ICC_BPR1_EL1 = enc(12, 12, 3);
const ICC_CTLR_EL1 = enc(12, 12, 4);
const ICC_SRE_EL1 = enc(12, 12, 5);
const ICC_IGRPEN0_EL1 = enc(12, 12, 6);
const ICC_IGRPEN1_EL1 = enc(12, 12, 7);
const ICC_CTLR_EL1_EOIMODE_DROP = 1n << 1n;

/** ICC_SGI1R_EL1 / ICC_SGI0R_EL1 value. */
function sgiValue(f: {
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
const kvmAffinity = (vcpu: number): bigint => (BigInt(vcpu >> 4) << 8n) | BigInt(vcpu & 0xf);

// ---- a machine with a recording IRQ/FIQ line per vCPU ----

function machine(vcpuCount: number, spiCount?: number) {
  const bus = new TrapBus();
  const irq = new Array<boolean>(vcpuCount).fill(false);
  const fiq = new Array<boolean>(vcpuCount).fill(false);
  const changes: string[] = [];
  const gic = new Gicv3({
    vcpuCount,
    ...(spiCount === undefined ? {} : { spiCount }),
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

type Machine = ReturnType<typeof machine>;

/** Linux's gic_dist_init: disable, Group 1 everywhere, level, 0xa0, all off, enable, route. */
function linuxDistInit(m: Machine, bootVcpu = 0): void {
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
function findRedistributor(m: Machine, vcpu: number): number {
  const c = m.cpus[vcpu]!;
  for (let ptr = m.redistBase; ; ptr += GICR_STRIDE) {
    expect(c.read32(ptr + GICR_PIDR2) & GIC_PIDR2_ARCH_MASK).toBe(GIC_PIDR2_ARCH_GICV3);
    const typer = c.read64(ptr + GICR_TYPER);
    if (typer >> 32n === kvmAffinity(vcpu)) return ptr;
    if (typer & GICR_TYPER_LAST) throw new Error(`no redistributor for vCPU ${vcpu}`);
  }
}

/** Linux's gic_cpu_init and gic_cpu_sys_reg_init on one vCPU. */
function linuxCpuInit(m: Machine, vcpu: number): number {
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
function booted(vcpuCount: number) {
  const m = machine(vcpuCount);
  linuxDistInit(m);
  const rd = Array.from({ length: vcpuCount }, (_, v) => linuxCpuInit(m, v));
  return { ...m, rd };
}

/** What Linux does to turn on an SPI: route it (gic_set_affinity) and unmask it. */
function enableSpi(m: Machine, intid: number, vcpu: number, edge = false): void {
  const c = m.cpu0;
  const cfgOffset = GICD + GICD_ICFGR + Math.floor(intid / 16) * 4;
  const bit = 2 << ((intid % 16) * 2);
  const cfg = c.read32(cfgOffset);
  c.write32(cfgOffset, edge ? cfg | bit : cfg & ~bit);
  c.write64(GICD + GICD_IROUTER + intid * 8, kvmAffinity(vcpu));
  c.write32(GICD + GICD_ISENABLER + Math.floor(intid / 32) * 4, 1 << intid % 32);
}

const bitOf = (intid: number): number => (1 << intid % 32) >>> 0;

// ---- tests ----

describe("Gicv3 distributor, as Linux's gic_dist_init sees it", () => {
  it("identifies as GICv3 and reports 256 INTIDs, 10 ID bits and no LPIs, MBIs or second Security state", () => {
    const { cpu0 } = machine(1);
    expect(cpu0.read32(GICD + GICD_PIDR2) & GIC_PIDR2_ARCH_MASK).toBe(GIC_PIDR2_ARCH_GICV3);
    const typer = cpu0.read32(GICD + GICD_TYPER);
    expect(((typer & 0x1f) + 1) * 32).toBe(256); // ITLinesNumber
    expect((typer >>> 19) & 0x1f).toBe(9); // IDbits: 10 bits, minus one
    expect(typer & (1 << 17)).toBe(0); // LPIS
    expect(typer & (1 << 16)).toBe(0); // MBIS
    expect(typer & (1 << 10)).toBe(0); // SecurityExtn
    expect(typer & (1 << 8)).toBe(0); // ESPI
    expect((typer >>> 5) & 7).toBe(0); // CPUNumber: no legacy (ARE = 0) operation
    expect(typer & (1 << 24)).not.toBe(0); // A3V, as ICC_CTLR_EL1 reports
    expect(typer & (1 << 26)).not.toBe(0); // RSS, as ICC_CTLR_EL1 reports
    expect(cpu0.read32(GICD + GICD_IIDR) & 0xfff).toBe(0x43b); // JEP106 implementer
  });

  it("sizes ITLinesNumber from the SPI count and ignores registers of INTIDs beyond it", () => {
    const { cpu0 } = machine(1, 32);
    expect(cpu0.read32(GICD + GICD_TYPER) & 0x1f).toBe(1); // 64 INTIDs
    cpu0.write32(GICD + GICD_ISENABLER + 8, 0xffff_ffff); // INTIDs 64-95
    expect(cpu0.read32(GICD + GICD_ISENABLER + 8)).toBe(0);
    cpu0.write64(GICD + GICD_IROUTER + 64 * 8, 0x1_0203_0405n);
    expect(cpu0.read64(GICD + GICD_IROUTER + 64 * 8)).toBe(0n);
  });

  it("keeps ARE and DS set when the guest writes 0 to GICD_CTLR, and never shows RWP", () => {
    const { cpu0 } = machine(1);
    cpu0.write32(GICD + GICD_CTLR, 0);
    expect(cpu0.read32(GICD + GICD_CTLR)).toBe(GICD_CTLR_ARE_NS | GICD_CTLR_DS);
    cpu0.write32(GICD + GICD_CTLR, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G1);
    expect(cpu0.read32(GICD + GICD_CTLR)).toBe(
      GICD_CTLR_ARE_NS | GICD_CTLR_DS | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G1,
    );
    cpu0.write32(GICD + GICD_CTLR, 0xffff_ffff);
    expect(cpu0.read32(GICD + GICD_CTLR) & GICD_CTLR_RWP).toBe(0);
  });

  it("reads back the groups, trigger modes, priorities, enables and routes gic_dist_init wrote", () => {
    const m = machine(2);
    linuxDistInit(m, 1);
    const c = m.cpu0;
    for (let n = 1; n < 8; n++) {
      expect(c.read32(GICD + GICD_IGROUPR + n * 4) >>> 0).toBe(0xffff_ffff);
      expect(c.read32(GICD + GICD_ISENABLER + n * 4)).toBe(0);
      expect(c.read32(GICD + GICD_ISACTIVER + n * 4)).toBe(0);
    }
    expect(c.read32(GICD + GICD_ICFGR + 2 * 4)).toBe(0);
    expect(c.read32(GICD + GICD_IPRIORITYR + 32) >>> 0).toBe(0xa0a0_a0a0);
    expect(c.read32(GICD + GICD_IPRIORITYR + 252) >>> 0).toBe(0xa0a0_a0a0);
    expect(c.read64(GICD + GICD_IROUTER + 32 * 8)).toBe(kvmAffinity(1));
    expect(c.read64(GICD + GICD_IROUTER + 255 * 8)).toBe(kvmAffinity(1));
  });

  it("leaves SGI and PPI words of the distributor's arrays RAZ/WI while affinity routing is on", () => {
    const { cpu0 } = machine(1);
    cpu0.write32(GICD + GICD_ISENABLER, 0xffff_ffff);
    cpu0.write32(GICD + GICD_IGROUPR, 0xffff_ffff);
    cpu0.write32(GICD + GICD_IPRIORITYR, 0xa0a0_a0a0);
    cpu0.write32(GICD + GICD_ICFGR + 4, 0xaaaa_aaaa);
    expect(cpu0.read32(GICD + GICD_ISENABLER)).toBe(0);
    expect(cpu0.read32(GICD + GICD_IGROUPR)).toBe(0);
    expect(cpu0.read32(GICD + GICD_IPRIORITYR)).toBe(0);
    expect(cpu0.read32(GICD + GICD_ICFGR + 4)).toBe(0);
  });

  it("keeps only the top five bits of each priority, written by byte or by word", () => {
    const { cpu0 } = machine(1);
    cpu0.write8(GICD + GICD_IPRIORITYR + 33, 0xff);
    expect(cpu0.read8(GICD + GICD_IPRIORITYR + 33)).toBe(0xf8);
    cpu0.write32(GICD + GICD_IPRIORITYR + 36, 0x1234_5678);
    expect(cpu0.read32(GICD + GICD_IPRIORITYR + 36)).toBe(0x1030_5078);
    expect(cpu0.read8(GICD + GICD_IPRIORITYR + 37)).toBe(0x50);
  });

  it("reads zero from unimplemented offsets, ITARGETSR and half-word accesses, and ignores writes there", () => {
    const m = booted(1);
    const c = m.cpu0;
    enableSpi(m, 40, 0);
    c.write32(GICD + GICD_SETSPI_NSR, 40); // no MBIs: not a doorbell
    expect(m.irq[0]).toBe(false);
    expect(c.read32(GICD + 0x5000)).toBe(0);
    c.write8(GICD + GICD_ITARGETSR + 40, 1);
    expect(c.read8(GICD + GICD_ITARGETSR + 40)).toBe(0);
    c.write16(GICD + GICD_IPRIORITYR + 40, 0x8080);
    expect(c.read16(GICD + GICD_IPRIORITYR + 40)).toBe(0);
    expect(c.read8(GICD + GICD_IPRIORITYR + 40)).toBe(DEFAULT_PRIORITY);
    c.write8(GICD + GICD_ISENABLER + 5, 0xff); // bit arrays take only word accesses
    expect(c.read32(GICD + GICD_ISENABLER + 4)).toBe(bitOf(40));
  });

  it("reads and writes GICD_IROUTER as one 64-bit access or as two 32-bit halves", () => {
    const { cpu0 } = machine(1);
    const at = GICD + GICD_IROUTER + 45 * 8;
    cpu0.write64(at, (0x01n << 32n) | 0x02_0304n); // Aff3 1, Aff2 2, Aff1 3, Aff0 4
    expect(cpu0.read64(at)).toBe(0x1_0002_0304n);
    expect(cpu0.read32(at)).toBe(0x0002_0304);
    expect(cpu0.read32(at + 4)).toBe(0x01);
    cpu0.write32(at, (1 << 31) | 0x7f00_0000 | 0x05_0607); // IRM, RES0 bits [30:24]
    expect(cpu0.read32(at) >>> 0).toBe(0x8005_0607);
    cpu0.write32(at + 4, 0xffff_ff09);
    expect(cpu0.read64(at)).toBe(0x9_8005_0607n);
    expect(cpu0.read64(GICD + GICD_IROUTER + 31 * 8)).toBe(0n); // no IROUTER below INTID 32
  });
});

describe("Gicv3 redistributors", () => {
  it("lets Linux find each vCPU's redistributor by the affinity in GICR_TYPER, Last set on the final one", () => {
    const m = machine(18);
    expect(m.redistBase).toBe(0x3fff_0000 - 18 * 0x2_0000);
    for (let v = 0; v < 18; v++) {
      const ptr = m.redistBase + v * GICR_STRIDE;
      const typer = m.cpu0.read64(ptr + GICR_TYPER);
      expect(typer >> 32n).toBe(kvmAffinity(v));
      expect(Number((typer >> 8n) & 0xffffn)).toBe(v); // Processor_Number
      expect((typer & GICR_TYPER_LAST) !== 0n).toBe(v === 17);
      expect(typer & 1n).toBe(0n); // PLPIS
      expect(Number((typer >> 27n) & 0x1fn)).toBe(0); // PPInum: 16 PPIs
      expect(m.cpu0.read32(ptr + GICR_TYPER + 4)).toBe(Number(kvmAffinity(v)));
    }
    expect(findRedistributor(m, 17)).toBe(m.redistBase + 17 * GICR_STRIDE); // Aff1 = 1, Aff0 = 1
  });

  it("completes the GICR_WAKER handshake: ChildrenAsleep follows ProcessorSleep", () => {
    const m = machine(2);
    const rd = m.redistBase + GICR_STRIDE;
    expect(m.cpu0.read32(rd + GICR_WAKER)).toBe(GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP);
    m.cpu0.write32(rd + GICR_WAKER, 0);
    expect(m.cpu0.read32(rd + GICR_WAKER)).toBe(0);
    m.cpu0.write32(rd + GICR_WAKER, GICR_WAKER_PROCESSOR_SLEEP);
    expect(m.cpu0.read32(rd + GICR_WAKER)).toBe(GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP);
    expect(m.cpu0.read32(m.redistBase + GICR_WAKER)).toBe(GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP);
  });

  it("keeps SGIs edge-triggered and PPIs' trigger mode as written", () => {
    const m = machine(1);
    const rd = m.redistBase;
    expect(m.cpu0.read32(rd + GICR_ICFGR0) >>> 0).toBe(0xaaaa_aaaa);
    m.cpu0.write32(rd + GICR_ICFGR0, 0);
    expect(m.cpu0.read32(rd + GICR_ICFGR0) >>> 0).toBe(0xaaaa_aaaa);
    expect(m.cpu0.read32(rd + GICR_ICFGR1)).toBe(0); // PPIs level-sensitive
    const ppi23Edge = 2 << ((23 - 16) * 2);
    m.cpu0.write32(rd + GICR_ICFGR1, ppi23Edge | 0x5555_5555); // RES0 bits ignored
    expect(m.cpu0.read32(rd + GICR_ICFGR1)).toBe(ppi23Edge);
  });

  it("gives each vCPU its own SGI/PPI state, whoever accesses the frame", () => {
    const m = booted(2);
    m.cpus[0]!.write32(m.rd[1]! + GICR_ICENABLER0, 0xffff_ffff);
    expect(m.cpus[1]!.read32(m.rd[1]! + GICR_ISENABLER0)).toBe(0);
    expect(m.cpus[1]!.read32(m.rd[0]! + GICR_ISENABLER0)).toBe(0xffff);
    m.cpus[1]!.write8(m.rd[0]! + GICR_IPRIORITYR0 + 27, 0x47);
    expect(m.cpus[0]!.read8(m.rd[0]! + GICR_IPRIORITYR0 + 27)).toBe(0x40);
    expect(m.cpus[0]!.read8(m.rd[1]! + GICR_IPRIORITYR0 + 27)).toBe(DEFAULT_PRIORITY);
  });
});

describe("Gicv3 CPU interface registers", () => {
  it("reads SRE, DFB and DIB as 1 from ICC_SRE_EL1 and ignores writes", () => {
    const m = machine(1);
    expect(m.mrs(0, ICC_SRE_EL1)).toBe(7n);
    expect(m.msr(0, ICC_SRE_EL1, 0)).toBe(0n);
    expect(m.mrs(0, ICC_SRE_EL1)).toBe(7n);
  });

  it("describes 5 priority bits, 16-bit INTIDs, Aff3 and range-selector support in ICC_CTLR_EL1", () => {
    const m = machine(1);
    const ctlr = m.mrs(0, ICC_CTLR_EL1)!;
    expect(Number((ctlr >> 8n) & 7n)).toBe(4); // PRIbits: 5 bits, minus one
    expect(Number((ctlr >> 11n) & 7n)).toBe(0); // IDbits: 16
    expect(ctlr & (1n << 14n)).toBe(0n); // SEIS
    expect(ctlr & (1n << 15n)).not.toBe(0n); // A3V
    expect(ctlr & (1n << 18n)).not.toBe(0n); // RSS: SGI targets with Aff0 up to 255
    expect(ctlr & (1n << 19n)).toBe(0n); // ExtRange
    expect(ctlr & 3n).toBe(0n); // CBPR, EOImode reset to 0
    m.msr(0, ICC_CTLR_EL1, 0xffff_ffff);
    const after = m.mrs(0, ICC_CTLR_EL1)!;
    expect(after & 0x7n).toBe(0x3n); // CBPR and EOImode stick
    expect(after & 0x700n).toBe(ctlr & 0x700n); // PRIbits does not change
  });

  it("keeps the top five bits of ICC_PMR_EL1, so Linux's Group 0 probe reads back 8", () => {
    const m = machine(1);
    expect(m.mrs(0, ICC_PMR_EL1)).toBe(0n);
    m.msr(0, ICC_PMR_EL1, 0xff);
    expect(m.mrs(0, ICC_PMR_EL1)).toBe(0xf8n);
    m.msr(0, ICC_PMR_EL1, 8);
    expect(m.mrs(0, ICC_PMR_EL1)).toBe(8n);
  });

  it("raises ICC_BPR0_EL1 and ICC_BPR1_EL1 to their minimum (2 and 3) when the guest writes 0", () => {
    const m = machine(1);
    m.msr(0, ICC_BPR1_EL1, 0);
    expect(m.mrs(0, ICC_BPR1_EL1)).toBe(3n);
    m.msr(0, ICC_BPR0_EL1, 0);
    expect(m.mrs(0, ICC_BPR0_EL1)).toBe(2n);
    m.msr(0, ICC_BPR1_EL1, 5);
    expect(m.mrs(0, ICC_BPR1_EL1)).toBe(5n);
    m.msr(0, ICC_CTLR_EL1, 1); // CBPR: Group 1 shares BPR0, shown as BPR0 + 1
    m.msr(0, ICC_BPR0_EL1, 4);
    expect(m.mrs(0, ICC_BPR1_EL1)).toBe(5n);
    m.msr(0, ICC_BPR1_EL1, 7); // ignored while CBPR is set
    m.msr(0, ICC_CTLR_EL1, 0);
    expect(m.mrs(0, ICC_BPR1_EL1)).toBe(5n);
  });

  it("makes reads of write-only, writes of read-only and absent registers UNDEFINED", () => {
    const m = machine(1);
    expect(m.mrs(0, ICC_EOIR1_EL1)).toBeUndefined();
    expect(m.mrs(0, ICC_SGI1R_EL1)).toBeUndefined();
    expect(m.mrs(0, ICC_DIR_EL1)).toBeUndefined();
    expect(m.msr(0, ICC_IAR1_EL1, 0)).toBeUndefined();
    expect(m.msr(0, ICC_RPR_EL1, 0)).toBeUndefined();
    expect(m.msr(0, ICC_HPPIR1_EL1, 0)).toBeUndefined();
    // 5 priority bits mean 32 preemption levels: only AP0R0 and AP1R0 exist.
    expect(m.mrs(0, ICC_AP0R1_EL1)).toBeUndefined();
    expect(m.msr(0, ICC_AP1R1_EL1, 0)).toBeUndefined();
    expect(m.mrs(0, enc(12, 10, 0))).toBeUndefined();
  });

  it("answers ICC_IAR1_EL1 with 1023 and ICC_RPR_EL1 with idle (0xFF) when nothing is pending", () => {
    const m = booted(1);
    expect(m.mrs(0, ICC_IAR1_EL1)).toBe(SPURIOUS);
    expect(m.mrs(0, ICC_HPPIR1_EL1)).toBe(SPURIOUS);
    expect(m.mrs(0, ICC_RPR_EL1)).toBe(0xffn);
  });

  it("rejects a vCPU count the model does not support with a ConfigError", () => {
    expect(() => new Gicv3({ vcpuCount: 65, onIrqLineChange: () => {} })).toThrow(ConfigError);
    expect(() => new Gicv3({ vcpuCount: 0, onIrqLineChange: () => {} })).toThrow(ConfigError);
  });
});

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

describe("Gicv3 device tree", () => {
  it("describes itself as kvmtool's intc node: arm,gic-v3 with the distributor and redistributor region", () => {
    const { gic } = machine(2);
    const root = new FdtNode("");
    const intc = gic.fdtNode(root);
    expect(root.find("/intc")).toBe(intc);
    expect([...intc.props.keys()]).toEqual([
      "compatible",
      "#interrupt-cells",
      "interrupt-controller",
      "reg",
      "phandle",
      "#address-cells",
      "#size-cells",
    ]);
    expect(intc.getString("compatible")).toBe("arm,gic-v3");
    expect(intc.getCells("#interrupt-cells")).toEqual([3]);
    expect(intc.getCells("interrupt-controller")).toEqual([]);
    expect(intc.getCells("reg")).toEqual([0, 0x3fff_0000, 0, 0x1_0000, 0, 0x3ffb_0000, 0, 0x4_0000]);
    expect(intc.getCells("phandle")).toEqual([1]);
    expect(intc.getCells("#address-cells")).toEqual([2]);
    expect(intc.getCells("#size-cells")).toEqual([2]);
  });
});
