// The GICv2 and its v2m frame as a guest sees them through the trap bus: the Distributor, the
// banked CPU interface, the line outputs, and the MSI frame. Expected values come from the GICv2
// specification (IHI 0048B), KVM's vGICv2 (vgic-mmio-v2.c) and kvmtool (arm/gicv2m.c).

import { describe, expect, it } from "vitest";
import { Gicv2 } from "../../arm/machine/gicv2.ts";
import { ConfigError } from "../../src/errors.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { FdtNode } from "../../src/lib/fdt/tree.ts";
import { GuestCpu } from "../support/guest-cpu.ts";

const GICD = 0x3fff_0000;
const GICC = 0x3ffd_0000;
const V2M = 0x3ffc_f000;
const D = {
  CTLR: 0x000, TYPER: 0x004, IIDR: 0x008, IGROUPR: 0x080, ISENABLER: 0x100, ICENABLER: 0x180,
  ISPENDR: 0x200, ICPENDR: 0x280, ISACTIVER: 0x300, ICACTIVER: 0x380, IPRIORITYR: 0x400,
  ITARGETSR: 0x800, ICFGR: 0xc00, SGIR: 0xf00, CPENDSGIR: 0xf10, SPENDSGIR: 0xf20, ICPIDR2: 0xfe8,
};
const C = {
  CTLR: 0x00, PMR: 0x04, BPR: 0x08, IAR: 0x0c, EOIR: 0x10, RPR: 0x14, HPPIR: 0x18, ABPR: 0x1c,
  AIAR: 0x20, AEOIR: 0x24, AHPPIR: 0x28, APR0: 0xd0, IIDR: 0xfc, DIR: 0x1000,
};
const CTLR_GRP0 = 1;
const CTLR_GRP1 = 2;
const CTLR_ACKCTL = 4;
const CTLR_FIQEN = 8;
const CTLR_EOIMODE = 1 << 9;
const SPURIOUS = 1023;

function machine(vcpuCount: number, msiFrame = false) {
  const bus = new TrapBus();
  const irq = new Array<boolean>(vcpuCount).fill(false);
  const fiq = new Array<boolean>(vcpuCount).fill(false);
  const logged: string[] = [];
  const gic = new Gicv2({
    vcpuCount,
    msiFrame,
    onIrqLineChange: (v, level) => {
      expect(irq[v]).not.toBe(level); // only changes are reported
      irq[v] = level;
    },
    onFiqLineChange: (v, level) => {
      expect(fiq[v]).not.toBe(level);
      fiq[v] = level;
    },
    debugLog: (line) => logged.push(line),
  });
  gic.register(bus);
  const cpus = Array.from({ length: vcpuCount }, (_, v) => new GuestCpu(bus, v));
  return { gic, bus, irq, fiq, logged, cpus, cpu0: cpus[0]! };
}

/** What Linux's gic_dist_init and gic_cpu_init do, minus the SPI configuration. */
function linuxInit(m: ReturnType<typeof machine>): void {
  const c = m.cpu0;
  c.write32(GICD + D.CTLR, 0);
  for (let i = 32; i < 256; i += 4) {
    c.write32(GICD + D.ITARGETSR + i, 0x0101_0101);
    c.write32(GICD + D.IPRIORITYR + i, 0xa0a0_a0a0);
  }
  c.write32(GICD + D.CTLR, 1);
  for (const cpu of m.cpus) {
    for (let i = 0; i < 32; i += 4) cpu.write32(GICD + D.IPRIORITYR + i, 0xa0a0_a0a0);
    cpu.write32(GICD + D.ISENABLER, 0xffff);
    cpu.write32(GICC + C.PMR, 0xf0);
    cpu.write32(GICC + C.CTLR, CTLR_GRP0);
  }
}

describe("Gicv2 distributor", () => {
  it("identifies as a GICv2 with 256 INTIDs and one CPU interface per vCPU", () => {
    const { cpu0 } = machine(3);
    const typer = cpu0.read32(GICD + D.TYPER);
    expect(((typer & 0x1f) + 1) * 32).toBe(256);
    expect((typer >>> 5) & 7).toBe(2);
    expect(typer & (1 << 10)).toBe(0); // no Security Extensions
    expect((cpu0.read32(GICD + D.ICPIDR2) >>> 4) & 0xf).toBe(2);
    expect(cpu0.read32(GICD + D.IIDR) & 0xfff).toBe(0x43b);
    expect((cpu0.read32(GICC + C.IIDR) >>> 16) & 0xf).toBe(2);
  });

  it("has a single enable in GICD_CTLR, and resets every INTID to Group 0 with the SGIs enabled", () => {
    const { cpu0 } = machine(1);
    cpu0.write32(GICD + D.CTLR, 0xffff_ffff);
    expect(cpu0.read32(GICD + D.CTLR)).toBe(1);
    expect(cpu0.read32(GICD + D.IGROUPR)).toBe(0);
    expect(cpu0.read32(GICD + D.IGROUPR + 4)).toBe(0);
    expect(cpu0.read32(GICD + D.ISENABLER)).toBe(0xffff);
    cpu0.write32(GICD + D.IGROUPR + 4, 0xf0);
    expect(cpu0.read32(GICD + D.IGROUPR + 4)).toBe(0xf0); // the guest programs groups (KVM IIDR rev 2)
  });

  it("banks the SGI and PPI words per CPU; ITARGETSR0-7 read the reader's own bit and ignore writes", () => {
    const { cpus } = machine(2);
    const [c0, c1] = [cpus[0]!, cpus[1]!];
    c0.write32(GICD + D.ISENABLER, 1 << 27);
    c0.write8(GICD + D.IPRIORITYR + 27, 0x40);
    expect(c0.read32(GICD + D.ISENABLER) & (1 << 27)).not.toBe(0);
    expect(c1.read32(GICD + D.ISENABLER) & (1 << 27)).toBe(0);
    expect(c0.read8(GICD + D.IPRIORITYR + 27)).toBe(0x40);
    expect(c1.read8(GICD + D.IPRIORITYR + 27)).toBe(0);
    expect(c0.read32(GICD + D.ITARGETSR)).toBe(0x0101_0101);
    expect(c1.read32(GICD + D.ITARGETSR + 28)).toBe(0x0202_0202);
    c1.write32(GICD + D.ITARGETSR + 28, 0x0303_0303);
    expect(c1.read32(GICD + D.ITARGETSR + 28)).toBe(0x0202_0202);
    expect(c0.read32(GICD + D.ICFGR)).toBe(0xaaaa_aaaa); // SGIs: edge, read-only
    c0.write32(GICD + D.ICFGR, 0);
    expect(c0.read32(GICD + D.ICFGR)).toBe(0xaaaa_aaaa);
  });

  it("keeps 5 priority bits, takes bytes in IPRIORITYR and ITARGETSR, and is RAZ/WI past the last INTID", () => {
    const { cpu0 } = machine(2);
    cpu0.write32(GICD + D.IPRIORITYR + 32, 0xffff_ffff);
    expect(cpu0.read32(GICD + D.IPRIORITYR + 32) >>> 0).toBe(0xf8f8_f8f8);
    cpu0.write8(GICD + D.IPRIORITYR + 34, 0x1f);
    expect(cpu0.read32(GICD + D.IPRIORITYR + 32) >>> 0).toBe(0xf818_f8f8);
    cpu0.write32(GICD + D.ITARGETSR + 32, 0xffff_ffff);
    expect(cpu0.read32(GICD + D.ITARGETSR + 32)).toBe(0x0303_0303); // only CPUs 0 and 1 exist
    cpu0.write32(GICD + D.IPRIORITYR + 256, 0xffff_ffff);
    expect(cpu0.read32(GICD + D.IPRIORITYR + 256)).toBe(0);
    cpu0.write32(GICD + D.ISENABLER + 32, 0xffff_ffff); // INTIDs 256-287
    expect(cpu0.read32(GICD + D.ISENABLER + 32)).toBe(0);
    cpu0.write8(GICD + D.ISENABLER + 4, 0xff); // not byte-accessible: ignored
    expect(cpu0.read32(GICD + D.ISENABLER + 4)).toBe(0);
    expect(cpu0.read32(GICD + 0x1000)).toBe(0); // only the first 4 KiB holds registers
  });

  it("sends SGIs by target list, to all but self, and to self, recording the source; filter 3 does nothing", () => {
    const m = machine(3);
    linuxInit(m);
    const [c0, c1, c2] = m.cpus as [GuestCpu, GuestCpu, GuestCpu];
    c1.write32(GICD + D.SGIR, (0b1_0101 << 16) | 2); // CPUs 0, 2 and a missing CPU 4
    expect(m.irq).toEqual([true, false, true]);
    expect(c0.read32(GICC + C.IAR)).toBe(2 | (1 << 10));
    expect(c2.read32(GICC + C.HPPIR)).toBe(2 | (1 << 10));
    expect(c2.read32(GICD + D.SPENDSGIR)).toBe(0b10 << 16); // SGI 2 from CPU 1, in byte 2
    c0.write32(GICC + C.EOIR, 2 | (1 << 10));
    expect(m.irq).toEqual([false, false, true]);
    c2.write8(GICD + D.CPENDSGIR + 2, 0b10);
    expect(m.irq).toEqual([false, false, false]);
    c1.write32(GICD + D.SGIR, (1 << 24) | 3);
    expect(m.irq).toEqual([true, false, true]);
    expect(c2.read32(GICC + C.IAR)).toBe(3 | (1 << 10));
    c1.write32(GICD + D.SGIR, (2 << 24) | (0xff << 16) | 4);
    expect(c1.read32(GICC + C.IAR)).toBe(4 | (1 << 10));
    c1.write32(GICD + D.SGIR, (3 << 24) | (0xff << 16) | 5);
    expect(c1.read32(GICD + D.SPENDSGIR + 4) & 0xff00).toBe(0);
  });

  it("cannot pend or clear SGIs through ISPENDR0/ICPENDR0, only through SPENDSGIR/CPENDSGIR", () => {
    const m = machine(1);
    linuxInit(m);
    m.cpu0.write32(GICD + D.ISPENDR, 0xffff);
    expect(m.cpu0.read32(GICD + D.ISPENDR)).toBe(0);
    m.cpu0.write8(GICD + D.SPENDSGIR + 1, 1);
    expect(m.cpu0.read32(GICD + D.ISPENDR)).toBe(2);
    m.cpu0.write32(GICD + D.ICPENDR, 0xffff);
    expect(m.cpu0.read32(GICD + D.ISPENDR)).toBe(2);
    m.cpu0.write8(GICD + D.CPENDSGIR + 1, 1);
    expect(m.cpu0.read32(GICD + D.ISPENDR)).toBe(0);
  });

  it("delivers an SPI to the lowest CPU of its target list, as KVM does", () => {
    const m = machine(3);
    linuxInit(m);
    m.cpu0.write8(GICD + D.ITARGETSR + 40, 0b110);
    m.cpu0.write32(GICD + D.ISENABLER + 4, 1 << 8);
    m.gic.setLevel(40, true);
    expect(m.irq).toEqual([false, true, false]);
    expect(m.cpus[1]!.read32(GICC + C.IAR)).toBe(40);
    expect(m.cpus[1]!.read32(GICD + D.ISACTIVER + 4)).toBe(1 << 8);
  });
});

describe("Gicv2 CPU interface", () => {
  it("masks with PMR, preempts by group priority (BPR), and shows the running priority in RPR and APR0", () => {
    const m = machine(1);
    linuxInit(m);
    const c = m.cpu0;
    c.write8(GICD + D.IPRIORITYR + 1, 0x80);
    c.write8(GICD + D.IPRIORITYR + 2, 0x70);
    c.write32(GICC + C.PMR, 0x80);
    c.write32(GICD + D.SGIR, (2 << 24) | 1);
    expect(m.irq[0]).toBe(false);
    expect(c.read32(GICC + C.HPPIR)).toBe(1);
    expect(c.read32(GICC + C.IAR)).toBe(SPURIOUS); // masked: nothing to acknowledge
    c.write32(GICC + C.PMR, 0xff);
    expect(c.read32(GICC + C.PMR)).toBe(0xf8);
    expect(c.read32(GICC + C.IAR)).toBe(1);
    expect(c.read32(GICC + C.RPR)).toBe(0x80);
    expect(c.read32(GICC + C.APR0)).toBe(1 << (0x80 >> 3));
    c.write32(GICD + D.SGIR, (2 << 24) | 2); // 0x70 preempts 0x80 with BPR = 2 (group bits [7:3])
    expect(m.irq[0]).toBe(true);
    c.write32(GICC + C.EOIR, 1);
    expect(c.read32(GICC + C.RPR)).toBe(0xff);
    expect(c.read32(GICD + D.ISACTIVER)).toBe(0);
    expect(c.read32(GICC + C.IAR)).toBe(2);
    c.write32(GICC + C.EOIR, 2);
    c.write32(GICC + C.BPR, 7); // no group priority bits: nothing preempts anything
    c.write32(GICD + D.SGIR, (2 << 24) | 1);
    expect(c.read32(GICC + C.IAR)).toBe(1);
    expect(c.read32(GICC + C.RPR)).toBe(0);
    c.write32(GICD + D.SGIR, (2 << 24) | 2);
    expect(m.irq[0]).toBe(false);
    c.write32(GICC + C.EOIR, 1);
    expect(m.irq[0]).toBe(true);
    c.write32(GICC + C.BPR, 0);
    expect(c.read32(GICC + C.BPR)).toBe(2); // the minimum with 5 priority bits
  });

  it("keeps an active interrupt from being taken again until it is deactivated; EOImode splits EOIR and DIR", () => {
    const m = machine(1);
    linuxInit(m);
    const c = m.cpu0;
    c.write32(GICC + C.CTLR, CTLR_GRP0 | CTLR_EOIMODE);
    c.write32(GICD + D.SGIR, (2 << 24) | 3);
    expect(c.read32(GICC + C.IAR)).toBe(3);
    c.write32(GICD + D.SGIR, (2 << 24) | 3); // pending again while active
    c.write32(GICC + C.EOIR, 3);
    expect(c.read32(GICC + C.RPR)).toBe(0xff);
    expect(c.read32(GICC + C.IAR)).toBe(SPURIOUS); // active and pending: not signalled
    c.write32(GICC + C.DIR, 3);
    expect(c.read32(GICD + D.ISACTIVER)).toBe(0);
    expect(c.read32(GICC + C.IAR)).toBe(3);
  });

  it("keeps a level-sensitive SPI pending while its line is high; an edge one latches once", () => {
    const m = machine(1);
    linuxInit(m);
    const c = m.cpu0;
    c.write32(GICD + D.ISENABLER + 4, 0b11);
    c.write32(GICD + D.ICFGR + 8, 0b10 << 2); // INTID 33 edge, 32 level
    m.gic.setLevel(32, true);
    expect(c.read32(GICC + C.IAR)).toBe(32);
    c.write32(GICC + C.EOIR, 32);
    expect(c.read32(GICC + C.IAR)).toBe(32); // still high: pending again
    c.write32(GICC + C.EOIR, 32);
    m.gic.setLevel(32, false);
    m.gic.setLevel(33, true);
    m.gic.setLevel(33, false);
    expect(c.read32(GICC + C.IAR)).toBe(33);
    c.write32(GICC + C.EOIR, 33);
    expect(c.read32(GICC + C.IAR)).toBe(SPURIOUS);
  });

  it("acknowledges Group 1 through AIAR/AEOIR, or through IAR with AckCtl; Group 0 is an FIQ with FIQEn", () => {
    const m = machine(1);
    linuxInit(m);
    const c = m.cpu0;
    c.write32(GICD + D.IGROUPR, 1 << 4);
    c.write32(GICC + C.CTLR, CTLR_GRP0 | CTLR_GRP1);
    c.write32(GICD + D.SGIR, (2 << 24) | 4);
    expect(m.irq[0]).toBe(true);
    expect(c.read32(GICC + C.HPPIR)).toBe(1022);
    expect(c.read32(GICC + C.IAR)).toBe(1022);
    expect(c.read32(GICC + C.AHPPIR)).toBe(4);
    expect(c.read32(GICC + C.AIAR)).toBe(4);
    c.write32(GICC + C.EOIR, 4); // the wrong alias: ignored
    expect(c.read32(GICD + D.ISACTIVER)).toBe(1 << 4);
    c.write32(GICC + C.AEOIR, 4);
    expect(c.read32(GICD + D.ISACTIVER)).toBe(0);
    c.write32(GICC + C.CTLR, CTLR_GRP0 | CTLR_GRP1 | CTLR_ACKCTL);
    c.write32(GICD + D.SGIR, (2 << 24) | 4);
    expect(c.read32(GICC + C.IAR)).toBe(4);
    c.write32(GICC + C.EOIR, 4);
    c.write32(GICC + C.CTLR, CTLR_GRP0 | CTLR_FIQEN);
    c.write32(GICD + D.SGIR, (2 << 24) | 5);
    expect([m.irq[0], m.fiq[0]]).toEqual([false, true]);
    expect(c.read32(GICC + C.CTLR)).toBe(CTLR_GRP0 | CTLR_FIQEN);
  });

  it("has no system-register interface and refuses more than 8 vCPUs", () => {
    const m = machine(1);
    expect(m.gic.sysreg(0, (3 << 14) | (4 << 7) | (6 << 3), false, 0n)).toBeUndefined(); // ICC_PMR_EL1
    expect(m.gic.systemRegisterInterface).toBe(false);
    expect(() => machine(9)).toThrow(ConfigError);
    expect(machine(8).gic.ppiCpuMask).toBe(0xff00);
  });
});

describe("Gicv2 v2m frame (--irqchip gicv2m)", () => {
  it("reports 64 SPIs from INTID 32 in MSI_TYPER, IIDR 0, and keeps them from the devices", () => {
    const m = machine(1, true);
    expect(m.cpu0.read32(V2M + 0x008)).toBe((32 << 16) | 64);
    expect(m.cpu0.read32(V2M + 0xfcc)).toBe(0);
    expect(m.gic.reservedSpiCount).toBe(64);
    expect(machine(1).cpu0.read32(V2M + 0x008)).toBe(0); // no frame with plain gicv2
  });

  it("raises the SPI a write to MSI_SETSPI_NS names, as an edge; ignores other SPIs and byte writes", () => {
    const m = machine(1, true);
    linuxInit(m);
    m.cpu0.write32(GICD + D.ISENABLER + 4, 1 << 9);
    m.cpu0.write32(GICD + D.ICFGR + 8, 0b10 << 18); // INTID 41 edge, as Linux sets MSIs
    m.cpu0.write8(V2M + 0x40, 41);
    expect(m.irq[0]).toBe(false);
    m.cpu0.write32(V2M + 0x40, 41);
    expect(m.cpu0.read32(GICC + C.IAR)).toBe(41);
    m.cpu0.write32(GICC + C.EOIR, 41);
    expect(m.cpu0.read32(GICC + C.IAR)).toBe(SPURIOUS); // an edge: not pending again
    m.cpu0.write32(GICD + D.ISENABLER + 8, 1 << 0);
    m.cpu0.write32(V2M + 0x40, 96); // the first device SPI, not the frame's
    expect(m.cpu0.read32(GICD + D.ISPENDR + 8)).toBe(0);
    expect(m.logged.join("\n")).toMatch(/INTID 96, outside the frame's SPIs 32-95/);
  });

  it("takes a PCI function's MSI only at its MSI_SETSPI_NS address", () => {
    const m = machine(1, true);
    linuxInit(m);
    m.cpu0.write32(GICD + D.ISENABLER + 4, 1 << 10);
    m.cpu0.write32(GICD + D.ICFGR + 8, 0b10 << 20); // INTID 42 edge
    m.gic.msi!.signalMsi(BigInt(V2M + 0x44), 42, 0x08);
    expect(m.cpu0.read32(GICD + D.ISPENDR + 4)).toBe(0);
    expect(m.logged.join("\n")).toMatch(/requester 0x8 to 0x3ffcf044/);
    m.gic.msi!.signalMsi(BigInt(V2M + 0x40), 42, 0x08);
    expect(m.cpu0.read32(GICC + C.IAR)).toBe(42);
  });

  it("writes kvmtool's msic child with phandle 2", () => {
    const root = new FdtNode("");
    machine(1, true).gic.fdtNode(root);
    const msic = root.children[0]!.children.find((n) => n.name === "msic");
    expect(msic).toBeDefined();
    expect(machine(1, true).gic.msi!.phandle).toBe(2);
  });
});
