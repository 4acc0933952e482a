// The GICv3's registers as a guest sees them: the Distributor and Redistributors through the
// trap bus, the ICC_* registers through the core's sysreg entry, and its device-tree node.
// Expected values come from the GICv3 specification (IHI 0069) and kvmtool.

import { describe, expect, it } from "vitest";
import { Gicv3 } from "../../arm/machine/gicv3.ts";
import { ConfigError } from "../../src/errors.ts";
import { FdtNode } from "../../src/lib/fdt/tree.ts";
import {
  GICD, GICR_STRIDE, GICD_CTLR, GICD_TYPER, GICD_IIDR, GICD_SETSPI_NSR, GICD_IGROUPR, GICD_ISENABLER,
  GICD_ISACTIVER, GICD_IPRIORITYR, GICD_ITARGETSR, GICD_ICFGR, GICD_IROUTER, GICD_PIDR2,
  GICD_CTLR_ENABLE_G1, GICD_CTLR_ENABLE_G1A, GICD_CTLR_ARE_NS, GICD_CTLR_DS, GICD_CTLR_RWP, GICR_TYPER,
  GICR_WAKER, GICR_TYPER_LAST, GICR_WAKER_PROCESSOR_SLEEP, GICR_WAKER_CHILDREN_ASLEEP, GICR_ISENABLER0,
  GICR_ICENABLER0, GICR_IPRIORITYR0, GICR_ICFGR0, GICR_ICFGR1, GIC_PIDR2_ARCH_MASK,
  GIC_PIDR2_ARCH_GICV3, DEFAULT_PRIORITY, SPURIOUS, enc, ICC_PMR_EL1, ICC_BPR0_EL1, ICC_AP0R1_EL1,
  ICC_AP1R1_EL1, ICC_DIR_EL1, ICC_RPR_EL1, ICC_SGI1R_EL1, ICC_IAR1_EL1, ICC_EOIR1_EL1, ICC_HPPIR1_EL1,
  ICC_BPR1_EL1, ICC_CTLR_EL1, ICC_SRE_EL1, kvmAffinity, machine, linuxDistInit, findRedistributor,
  booted, enableSpi, bitOf,
} from "../support/gicv3.ts";

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
