// The GICv3 (arm/machine/gicv3.ts): Distributor and Redistributor registers through the trap
// bus at any offset and width, ICC_* system register accesses by any vCPU (any encoding),
// and SPI and PPI inputs going up and down, in any order.
//
// Must hold: no exception; each vCPU's IRQ and FIQ outputs are reported only when they change
// and match irqLevel()/fiqLevel(); a raised IRQ (FIQ) has a Group 1 (Group 0) interrupt
// behind it in ICC_HPPIR1 (ICC_HPPIR0). Responsive: from any state, the writes Linux makes at
// boot get one SPI delivered, acknowledged, retired, and delivered again.

import fc from "fast-check";
import { Gicv3 } from "../../arm/machine/gicv3.ts";
import { GICD_REGISTERS } from "../../arm/machine/gicv3/distributor.ts";
import { GICR_REGISTERS } from "../../arm/machine/gicv3/redistributor.ts";
import { ICC_REGISTERS } from "../../arm/machine/gicv3/cpu-interface.ts";
import { GIC_SPURIOUS_INTID } from "../../arm/machine/gicv3/shared.ts";
import { GIC_DIST_SIZE_BYTES, GIC_REDIST_SIZE_BYTES } from "../../arm/machine/memory-map.ts";
import { accessArb, busRig, check, perform, sequenceArb, valueArb, type Access, type FuzzTarget } from "./harness.ts";
import { lineRecorder } from "./gic-lines.ts";

type Op =
  | { kind: "dist"; access: Access }
  | { kind: "redist"; access: Access }
  | { kind: "sysreg"; vcpu: number; encoding: number; write: boolean; value: bigint }
  | { kind: "spi"; n: number; level: boolean }
  | { kind: "ppi"; vcpu: number; n: number; level: boolean };

/** Offsets of a register table's instances: the first, the second and the last of each. */
function offsetsOf(table: readonly { offset: number; count: number; widthBytes: number }[]): number[] {
  return table.flatMap((r) => [r.offset, r.offset + r.widthBytes, r.offset + (r.count - 1) * r.widthBytes, r.offset + 4]);
}
const DIST_OFFSETS = offsetsOf(GICD_REGISTERS);
const REDIST_OFFSETS = offsetsOf(GICR_REGISTERS);
const offsetOf = (table: readonly { name: string; offset: number }[], name: string): number => table.find((r) => r.name === name)!.offset;
const icc = (name: string): number => ICC_REGISTERS.find((r) => r.name === name)!.encoding;

/** Bit masks and small INTIDs are what these registers take. */
const gicValueArb = fc.oneof(
  { weight: 3, arbitrary: valueArb },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 31 }).map((b) => 1n << BigInt(b)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 1023 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(0xa0n, 0xf0n, 0x80000000n, 0x1_0000_0001n, 3n) },
);

function opArb(vcpus: number, spis: number): fc.Arbitrary<Op> {
  const vcpu = fc.integer({ min: 0, max: vcpus - 1 });
  const encoding = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ICC_REGISTERS.map((r) => r.encoding)) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) });
  const ops: fc.WeightedArbitrary<Op>[] = [
    { weight: 6, arbitrary: accessArb(GIC_DIST_SIZE_BYTES, DIST_OFFSETS, gicValueArb).map((access) => ({ kind: "dist" as const, access })) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(accessArb(GIC_REDIST_SIZE_BYTES, REDIST_OFFSETS, gicValueArb), vcpu)
        .map(([a, v]) => ({ kind: "redist" as const, access: { ...a, offset: a.offset + v * GIC_REDIST_SIZE_BYTES } })),
    },
    { weight: 5, arbitrary: fc.record({ vcpu, encoding, write: fc.boolean(), value: gicValueArb }).map((r) => ({ kind: "sysreg" as const, ...r })) },
    { weight: 2, arbitrary: fc.record({ vcpu, n: fc.integer({ min: 16, max: 31 }), level: fc.boolean() }).map((r) => ({ kind: "ppi" as const, ...r })) },
  ];
  if (spis > 0) ops.push({ weight: 3, arbitrary: fc.record({ n: fc.integer({ min: 32, max: 31 + spis }), level: fc.boolean() }).map((r) => ({ kind: "spi" as const, ...r })) });
  return fc.oneof(...ops);
}

const inputArb = fc
  .record({ vcpus: fc.constantFrom(1, 2, 3), spis: fc.constantFrom(32, 64, 224) })
  .chain(({ vcpus, spis }) => fc.record({ vcpus: fc.constant(vcpus), spis: fc.constant(spis), ops: sequenceArb(opArb(vcpus, spis), 50) }));

export const gicv3Target: FuzzTarget = {
  name: "gicv3",
  description: "GICv3 distributor/redistributor MMIO, ICC_* sysregs and interrupt inputs",
  quickRuns: 200,
  build() {
    const property = fc.property(inputArb, ({ vcpus, spis, ops }) => {
      const { bus, cpu } = busRig();
      const lines = lineRecorder(vcpus);
      const gic = new Gicv3({ vcpuCount: vcpus, spiCount: spis, ...lines });
      gic.register(bus);
      const mrs = (v: number, enc: number): bigint | undefined => gic.sysreg(v, enc, false, 0n);
      const msr = (v: number, enc: number, value: number | bigint): void => void gic.sysreg(v, enc, true, BigInt(value));

      const invariants = (): void => {
        for (let v = 0; v < vcpus; v++) {
          lines.checkReported(gic, v);
          for (const [name, now, hppir] of [["IRQ", gic.irqLevel(v), "ICC_HPPIR1_EL1"], ["FIQ", gic.fiqLevel(v), "ICC_HPPIR0_EL1"]] as const) {
            if (now) check(mrs(v, icc(hppir)) !== BigInt(GIC_SPURIOUS_INTID), () => `vCPU ${v} ${name} up with nothing pending in ${hppir}`);
          }
        }
      };

      for (const op of ops) {
        switch (op.kind) {
          case "dist":
            perform(cpu, gic.distBase, op.access);
            break;
          case "redist":
            perform(cpu, gic.redistBase, op.access);
            break;
          case "sysreg":
            gic.sysreg(op.vcpu, op.encoding, op.write, op.value);
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

      // What Linux's gic_dist_init, gic_cpu_init and gic_cpu_sys_reg_init amount to, for one SPI.
      const d = (name: string): number => gic.distBase + offsetOf(GICD_REGISTERS, name);
      const words = (spis + 32) / 32;
      cpu.write32(d("GICD_CTLR"), 0);
      for (let w = 1; w < words; w++) {
        cpu.write32(d("GICD_ICENABLER") + 4 * w, 0xffff_ffff);
        cpu.write32(d("GICD_ICACTIVER") + 4 * w, 0xffff_ffff);
        cpu.write32(d("GICD_ICPENDR") + 4 * w, 0xffff_ffff);
        cpu.write32(d("GICD_IGROUPR") + 4 * w, 0xffff_ffff);
      }
      for (let v = 0; v < vcpus; v++) {
        const r = (name: string): number => gic.redistBase + v * GIC_REDIST_SIZE_BYTES + offsetOf(GICR_REGISTERS, name);
        cpu.write32(r("GICR_WAKER"), 0);
        cpu.write32(r("GICR_ICENABLER0"), 0xffff_ffff);
        cpu.write32(r("GICR_ICACTIVER0"), 0xffff_ffff);
        cpu.write32(r("GICR_ICPENDR0"), 0xffff_ffff);
        msr(v, icc("ICC_CTLR_EL1"), 0);
        msr(v, icc("ICC_AP0R0_EL1"), 0);
        msr(v, icc("ICC_AP1R0_EL1"), 0);
        msr(v, icc("ICC_PMR_EL1"), 0xf0);
        msr(v, icc("ICC_BPR1_EL1"), 0);
        msr(v, icc("ICC_IGRPEN0_EL1"), 0);
        msr(v, icc("ICC_IGRPEN1_EL1"), 1);
      }
      const spi = 32 + spis - 1; // the last SPI: the edge of every bank
      cpu.write8(d("GICD_IPRIORITYR") + spi, 0xa0);
      cpu.write32(d("GICD_ICFGR") + 4 * (spi >>> 4), 0); // level-sensitive
      cpu.write64(d("GICD_IROUTER") + 8 * (spi - 32), 0n); // vCPU 0 (affinity 0.0.0.0)
      cpu.write32(d("GICD_ISENABLER") + 4 * (spi >>> 5), 1 << (spi & 31));
      cpu.write32(d("GICD_CTLR"), 2); // EnableGrp1
      invariants();
      gic.setLevel(spi, false);
      check(!gic.irqLevel(0), "IRQ up after every interrupt was disabled");
      gic.setLevel(spi, true);
      check(gic.irqLevel(0), "an enabled, routed SPI did not raise IRQ");
      check(mrs(0, icc("ICC_IAR1_EL1")) === BigInt(spi), "ICC_IAR1_EL1 did not acknowledge the SPI");
      gic.setLevel(spi, false);
      msr(0, icc("ICC_EOIR1_EL1"), spi);
      check(!gic.irqLevel(0) && mrs(0, icc("ICC_RPR_EL1")) === 0xffn, "the SPI was not retired");
      gic.setLevel(spi, true);
      check(gic.irqLevel(0) && mrs(0, icc("ICC_IAR1_EL1")) === BigInt(spi), "a retired SPI could not be taken again");
      invariants();
    });
    return { property };
  },
};
