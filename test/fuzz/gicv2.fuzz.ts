// The GICv2 with its v2m frame (arm/machine/gicv2.ts): Distributor, CPU interface and MSI
// frame registers through the trap bus at any offset and width from any vCPU, PCI MSIs to any
// address, and SPI and PPI inputs going up and down, in any order.
//
// Must hold: no exception; each vCPU's IRQ and FIQ outputs are reported only when they change
// and match irqLevel()/fiqLevel(); a raised line has an interrupt behind it in GICC_HPPIR or
// GICC_AHPPIR. Responsive: from any state, the writes Linux's irq-gic makes at boot get one
// SPI delivered, acknowledged, retired, and delivered again.

import fc from "fast-check";
import { Gicv2 } from "../../arm/machine/gicv2.ts";
import { GICV2_GICD_REGISTERS } from "../../arm/machine/gicv2/distributor.ts";
import { GICV2_GICC_REGISTERS } from "../../arm/machine/gicv2/cpu-interface.ts";
import { GIC_SPURIOUS_INTID } from "../../arm/machine/gicv3/shared.ts";
import {
  GIC_DIST_BASE, GIC_DIST_SIZE_BYTES, GICV2_CPU_BASE, GICV2_CPU_SIZE_BYTES, GICV2M_FRAME_BASE, GICV2M_FRAME_SIZE_BYTES,
} from "../../arm/machine/memory-map.ts";
import { GuestCpu } from "../support/guest-cpu.ts";
import { accessArb, busRig, check, perform, sequenceArb, valueArb, type Access, type FuzzTarget } from "./harness.ts";
import { lineRecorder } from "./gic-lines.ts";

type Op =
  | { kind: "dist" | "cpu" | "v2m"; vcpu: number; access: Access }
  | { kind: "msi"; address: bigint; data: number }
  | { kind: "spi"; n: number; level: boolean }
  | { kind: "ppi"; vcpu: number; n: number; level: boolean };

function offsetsOf(table: readonly { offset: number; count: number; widthBytes: number }[]): number[] {
  return table.flatMap((r) => [r.offset, r.offset + r.widthBytes, r.offset + (r.count - 1) * r.widthBytes, r.offset + 1]);
}
const offsetOf = (table: readonly { name: string; offset: number }[], name: string): number => table.find((r) => r.name === name)!.offset;

const gicValueArb = fc.oneof(
  { weight: 3, arbitrary: valueArb },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 31 }).map((b) => 1n << BigInt(b)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 1023 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(0xa0n, 0xf0n, 0x0100_0001n, 0x0200_0000n, 0x00ff_0003n) },
);

function opArb(vcpus: number): fc.Arbitrary<Op> {
  const vcpu = fc.integer({ min: 0, max: vcpus - 1 });
  const mmio = (kind: "dist" | "cpu" | "v2m", sizeBytes: number, offsets: number[], weight: number): fc.WeightedArbitrary<Op> => ({
    weight,
    arbitrary: fc.tuple(accessArb(sizeBytes, offsets, gicValueArb), vcpu).map(([access, v]) => ({ kind, vcpu: v, access })),
  });
  return fc.oneof(
    mmio("dist", GIC_DIST_SIZE_BYTES, offsetsOf(GICV2_GICD_REGISTERS), 6),
    mmio("cpu", GICV2_CPU_SIZE_BYTES, offsetsOf(GICV2_GICC_REGISTERS), 5),
    mmio("v2m", GICV2M_FRAME_SIZE_BYTES, [0x8, 0x40, 0xfcc], 2),
    {
      weight: 1,
      arbitrary: fc
        .record({ address: fc.constantFrom(BigInt(GICV2M_FRAME_BASE + 0x40), 0n, BigInt(GICV2M_FRAME_BASE)), data: fc.integer({ min: 0, max: 0xffff_ffff }) })
        .map((r) => ({ kind: "msi" as const, ...r })),
    },
    { weight: 2, arbitrary: fc.record({ vcpu, n: fc.integer({ min: 16, max: 31 }), level: fc.boolean() }).map((r) => ({ kind: "ppi" as const, ...r })) },
    { weight: 3, arbitrary: fc.record({ n: fc.integer({ min: 32, max: 255 }), level: fc.boolean() }).map((r) => ({ kind: "spi" as const, ...r })) },
  );
}

const inputArb = fc
  .constantFrom(1, 2, 3, 8)
  .chain((vcpus) => fc.record({ vcpus: fc.constant(vcpus), ops: sequenceArb(opArb(vcpus), 50) }));

export const gicv2Target: FuzzTarget = {
  name: "gicv2",
  description: "GICv2 distributor/CPU interface MMIO, the v2m frame, MSIs and interrupt inputs",
  quickRuns: 200,
  build() {
    const property = fc.property(inputArb, ({ vcpus, ops }) => {
      const { bus } = busRig();
      const cpus = Array.from({ length: vcpus }, (_, v) => new GuestCpu(bus, v));
      const lines = lineRecorder(vcpus);
      const gic = new Gicv2({ vcpuCount: vcpus, msiFrame: true, ...lines });
      gic.register(bus);
      const d = (name: string): number => GIC_DIST_BASE + offsetOf(GICV2_GICD_REGISTERS, name);
      const c = (name: string): number => GICV2_CPU_BASE + offsetOf(GICV2_GICC_REGISTERS, name);

      const invariants = (): void => {
        for (let v = 0; v < vcpus; v++) {
          lines.checkReported(gic, v);
          if (gic.irqLevel(v) || gic.fiqLevel(v)) {
            const pending = [c("GICC_HPPIR"), c("GICC_AHPPIR")].map((a) => cpus[v]!.read32(a) & 0x3ff);
            check(pending.some((p) => p !== GIC_SPURIOUS_INTID), () => `vCPU ${v} signalled with nothing pending in GICC_HPPIR/AHPPIR`);
          }
        }
      };

      for (const op of ops) {
        switch (op.kind) {
          case "dist":
            perform(cpus[op.vcpu]!, GIC_DIST_BASE, op.access);
            break;
          case "cpu":
            perform(cpus[op.vcpu]!, GICV2_CPU_BASE, op.access);
            break;
          case "v2m":
            perform(cpus[op.vcpu]!, GICV2M_FRAME_BASE, op.access);
            break;
          case "msi":
            gic.msi!.signalMsi(op.address, op.data, 0);
            break;
          case "spi":
            gic.setLevel(op.n, op.level);
            break;
          case "ppi":
            gic.setPpiLevel(op.vcpu, op.n, op.level);
            break;
        }
        invariants();
      }

      // What Linux's gic_dist_init, gic_cpu_init and gic_cpu_if_up amount to, for one SPI.
      const cpu0 = cpus[0]!;
      cpu0.write32(d("GICD_CTLR"), 0);
      for (let w = 1; w < 8; w++) {
        for (const r of ["GICD_ICENABLER", "GICD_ICACTIVER", "GICD_ICPENDR", "GICD_IGROUPR"]) cpu0.write32(d(r) + 4 * w, r === "GICD_IGROUPR" ? 0 : 0xffff_ffff);
      }
      for (const cpu of cpus) {
        for (const r of ["GICD_ICENABLER", "GICD_ICACTIVER", "GICD_IGROUPR"]) cpu.write32(d(r), r === "GICD_IGROUPR" ? 0 : 0xffff_ffff);
        for (let n = 0; n < 16; n++) cpu.write8(d("GICD_CPENDSGIR") + n, 0xff);
        cpu.write32(c("GICC_APR"), 0);
        cpu.write32(c("GICC_PMR"), 0xf0);
        cpu.write32(c("GICC_BPR"), 0);
        cpu.write32(c("GICC_CTLR"), 1);
      }
      const spi = 255; // the last SPI: the edge of every bank
      cpu0.write8(d("GICD_IPRIORITYR") + spi, 0xa0);
      cpu0.write32(d("GICD_ICFGR") + 4 * (spi >>> 4), 0); // level-sensitive
      cpu0.write8(d("GICD_ITARGETSR") + spi, 1);
      cpu0.write32(d("GICD_ISENABLER") + 4 * (spi >>> 5), 1 << (spi & 31));
      cpu0.write32(d("GICD_CTLR"), 1);
      invariants();
      gic.setLevel(spi, false);
      check(!gic.irqLevel(0), "IRQ up after every interrupt was disabled");
      gic.setLevel(spi, true);
      check(gic.irqLevel(0), "an enabled, targeted SPI did not raise IRQ");
      check(cpu0.read32(c("GICC_IAR")) === spi, "GICC_IAR did not acknowledge the SPI");
      gic.setLevel(spi, false);
      cpu0.write32(c("GICC_EOIR"), spi);
      check(!gic.irqLevel(0) && cpu0.read32(c("GICC_RPR")) === 0xff, "the SPI was not retired");
      gic.setLevel(spi, true);
      check(gic.irqLevel(0) && cpu0.read32(c("GICC_IAR")) === spi, "a retired SPI could not be taken again");
      invariants();
    });
    return { property };
  },
};
