// The GICv3 ITS and LPIs (arm/machine/gicv3/its*.ts, lpi.ts): command queues full of commands
// with any fields (well-formed and raw bytes), the ITS and LPI registers written with any
// values (tables and queues anywhere, inside RAM or not), CWRITER rung at any offset, MSIs
// from any requester, and LPIs acknowledged, in any order.
//
// Must hold: no exception; nothing written outside RAM (the guards hold); CREADR stays a
// 32-byte multiple inside the queue; a raised IRQ has an interrupt behind it in ICC_HPPIR1;
// no single access does unbounded work (the run is timed by the harness's per-case budget).
// Responsive: from any state, Linux's bring-up sequence gets an MSI delivered as an LPI.

import fc from "fast-check";
import { Gicv3 } from "../../arm/machine/gicv3.ts";
import { ICC_REGISTERS } from "../../arm/machine/gicv3/cpu-interface.ts";
import { ITS_COMMAND, encodeItsCommand, type ItsCommandName } from "../../arm/machine/gicv3/its-commands.ts";
import { GIC_ITS_SIZE_BYTES, GITS_TRANSLATER } from "../../arm/machine/gicv3/its.ts";
import { GIC_SPURIOUS_INTID } from "../../arm/machine/gicv3/shared.ts";
import { GIC_REDIST_SIZE_BYTES } from "../../arm/machine/memory-map.ts";
import { GuardedRam, RAM_BASE, busRig, check, sequenceArb, type FuzzTarget } from "./harness.ts";

const RAM_BYTES = 1 << 20;
const icc = (name: string): number => ICC_REGISTERS.find((r) => r.name === name)!.encoding;
const ITS_REGS = { CTLR: 0x0, CBASER: 0x80, CWRITER: 0x88, CREADR: 0x90, BASER0: 0x100, BASER1: 0x108 } as const;
const GICR_REGS = { CTLR: 0x0, PROPBASER: 0x70, PENDBASER: 0x78, INVLPIR: 0xa0, INVALLR: 0xb0 } as const;

type Op =
  | { kind: "queue"; slot: number; bytes: Uint8Array }
  | { kind: "its"; reg: keyof typeof ITS_REGS; value: bigint }
  | { kind: "itsAny"; offset: number; value: number; write: boolean }
  | { kind: "gicr"; vcpu: number; reg: keyof typeof GICR_REGS; value: bigint }
  | { kind: "msi"; doorbell: boolean; data: number; requester: number }
  | { kind: "ack"; vcpu: number }
  | { kind: "prop"; offset: number; value: number };

/** Addresses: mostly 64 KiB-aligned spots in RAM, sometimes anywhere, past RAM or near its end. */
const addressArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: RAM_BYTES / 0x1_0000 - 1 }).map((p) => BigInt(RAM_BASE + p * 0x1_0000)) },
  { weight: 1, arbitrary: fc.constantFrom(BigInt(RAM_BASE + RAM_BYTES - 0x1_0000), BigInt(RAM_BASE + RAM_BYTES), 0n, 0xffff_ffff_f000n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }) },
);
const regValueArb = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(addressArb, fc.bigInt({ min: 0n, max: 0xfffn }), fc.boolean(), fc.boolean()).map(([a, low, v, ind]) => a | low | (v ? 1n << 63n : 0n) | (ind ? 1n << 62n : 0n)) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x2_0000 }).map(BigInt) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((n) => BigInt(n * 32)) }, // CWRITER over the slots
);
const smallId = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 0xffff_ffff }));
const commandArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        name: fc.constantFrom(...(Object.keys(ITS_COMMAND) as ItsCommandName[])),
        deviceId: smallId,
        eventId: smallId,
        physicalId: fc.oneof(fc.integer({ min: 8192, max: 8200 }), fc.integer({ min: 0, max: 0xffff_ffff })),
        eventIdBits: fc.integer({ min: 1, max: 32 }),
        collection: fc.integer({ min: 0, max: 3 }),
        target: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffff_ffff })),
        target2: fc.integer({ min: 0, max: 3 }),
        ittAddress: fc.integer({ min: 0, max: 2 ** 40 }).map((a) => a - (a % 256)),
        valid: fc.boolean(),
      })
      .map((f) => encodeItsCommand(f)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }) },
);

function opArb(vcpus: number): fc.Arbitrary<Op> {
  const vcpu = fc.integer({ min: 0, max: vcpus - 1 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ slot: fc.integer({ min: 0, max: 7 }), bytes: commandArb }).map((r) => ({ kind: "queue" as const, ...r })) },
    { weight: 4, arbitrary: fc.record({ reg: fc.constantFrom(...(Object.keys(ITS_REGS) as (keyof typeof ITS_REGS)[])), value: regValueArb }).map((r) => ({ kind: "its" as const, ...r })) },
    { weight: 1, arbitrary: fc.record({ offset: fc.integer({ min: 0, max: GIC_ITS_SIZE_BYTES / 4 - 1 }).map((w) => w * 4), value: fc.integer({ min: 0, max: 0xffff_ffff }), write: fc.boolean() }).map((r) => ({ kind: "itsAny" as const, ...r })) },
    { weight: 3, arbitrary: fc.record({ vcpu, reg: fc.constantFrom(...(Object.keys(GICR_REGS) as (keyof typeof GICR_REGS)[])), value: fc.oneof(regValueArb, fc.constantFrom(0n, 1n, 8192n, 8193n)) }).map((r) => ({ kind: "gicr" as const, ...r })) },
    { weight: 3, arbitrary: fc.record({ doorbell: fc.boolean(), data: smallId, requester: smallId }).map((r) => ({ kind: "msi" as const, ...r })) },
    { weight: 2, arbitrary: vcpu.map((v) => ({ kind: "ack" as const, vcpu: v })) },
    { weight: 2, arbitrary: fc.record({ offset: fc.integer({ min: 0, max: 15 }), value: fc.integer({ min: 0, max: 255 }) }).map((r) => ({ kind: "prop" as const, ...r })) },
  );
}

const inputArb = fc
  .constantFrom(1, 2)
  .chain((vcpus) => fc.record({ vcpus: fc.constant(vcpus), broughtUp: fc.boolean(), ops: sequenceArb(opArb(vcpus), 40) }));

// Where the fuzzed queue's slots and the final bring-up's tables are.
const QUEUE = RAM_BASE;
const PROP = RAM_BASE + 0x1_0000;
const PEND = RAM_BASE + 0x2_0000; // one 64 KiB table per vCPU
const TABLES = RAM_BASE + 0x4_0000; // device table, then collection table

export const gicv3ItsTarget: FuzzTarget = {
  name: "gicv3-its",
  description: "GICv3 ITS command queue and registers, LPI registers and tables, MSIs",
  quickRuns: 100,
  build() {
    const ram = new GuardedRam(RAM_BYTES);
    const property = fc.property(inputArb, ({ vcpus, broughtUp, ops }) => {
      ram.reset();
      const { bus, cpu } = busRig();
      const irq: boolean[] = new Array<boolean>(vcpus).fill(false);
      const gic = new Gicv3({ vcpuCount: vcpus, its: { memory: ram.mem }, onIrqLineChange: (v, level) => (irq[v] = level) });
      gic.register(bus);
      const its = gic.msi!;
      const mrs = (v: number, enc: number): bigint => gic.sysreg(v, enc, false, 0n)!;
      const msr = (v: number, enc: number, value: number | bigint): void => void gic.sysreg(v, enc, true, BigInt(value));
      const gicr = (v: number, off: number): number => gic.redistBase + v * GIC_REDIST_SIZE_BYTES + off;
      cpu.write32(gic.distBase, 0x12); // ARE, EnableGrp1: so LPIs can be signalled
      for (let v = 0; v < vcpus; v++) {
        msr(v, icc("ICC_PMR_EL1"), 0xf0);
        msr(v, icc("ICC_IGRPEN1_EL1"), 1);
      }

      const invariants = (): void => {
        const creadr = Number(cpu.read64(its.base + ITS_REGS.CREADR));
        const queueBytes = (Number(cpu.read64(its.base + ITS_REGS.CBASER) & 0xffn) + 1) * 0x1000;
        check(creadr % 32 === 0 && creadr < queueBytes, () => `CREADR 0x${creadr.toString(16)} outside a 0x${queueBytes.toString(16)}-byte queue`);
        for (let v = 0; v < vcpus; v++) {
          check(irq[v] === gic.irqLevel(v), () => `vCPU ${v} IRQ reported ${irq[v]}, level is ${gic.irqLevel(v)}`);
          if (irq[v]) check(mrs(v, icc("ICC_HPPIR1_EL1")) !== BigInt(GIC_SPURIOUS_INTID), () => `vCPU ${v} IRQ up with nothing pending`);
        }
        ram.checkIntact();
      };

      // Linux's bring-up, from any state: LPIs off, tables, LPIs on, the ITS re-enabled on a
      // fresh queue, one device, one collection on vCPU 0, one translation (device 1 event 3 →
      // LPI 8192). Half the cases start from here, so the ops reach deep states sooner.
      const bringUp = (): void => {
        for (let v = 0; v < vcpus; v++) cpu.write32(gicr(v, GICR_REGS.CTLR), 0);
        ram.bytes.fill(0, PROP - RAM_BASE, PEND - RAM_BASE + vcpus * 0x1_0000);
        ram.bytes[PROP - RAM_BASE] = 0xa1; // LPI 8192: priority 0xa0, enabled
        cpu.write64(gicr(0, GICR_REGS.PROPBASER), BigInt(PROP) | 15n);
        for (let v = 0; v < vcpus; v++) {
          cpu.write64(gicr(v, GICR_REGS.PENDBASER), BigInt(PEND + v * 0x1_0000));
          cpu.write32(gicr(v, GICR_REGS.CTLR), 1);
        }
        cpu.write32(its.base + ITS_REGS.CTLR, 0);
        cpu.write64(its.base + ITS_REGS.BASER0, (1n << 63n) | BigInt(TABLES));
        cpu.write64(its.base + ITS_REGS.BASER1, (1n << 63n) | BigInt(TABLES + 0x1_0000));
        cpu.write64(its.base + ITS_REGS.CBASER, (1n << 63n) | BigInt(QUEUE));
        cpu.write32(its.base + ITS_REGS.CTLR, 1);
        const commands = [
          encodeItsCommand({ name: "MAPD", deviceId: 1, eventIdBits: 4, ittAddress: RAM_BASE + 0x8_0000, valid: true }),
          encodeItsCommand({ name: "MAPC", collection: 1, target: 0, valid: true }),
          encodeItsCommand({ name: "MAPTI", deviceId: 1, eventId: 3, physicalId: 8192, collection: 1 }),
          // LPI 8192 may already exist through another translation, with the target and the
          // configuration it had then (KVM keeps both): move it here and re-read its byte.
          encodeItsCommand({ name: "MOVI", deviceId: 1, eventId: 3, collection: 1 }),
          encodeItsCommand({ name: "INV", deviceId: 1, eventId: 3 }),
        ];
        commands.forEach((c, i) => ram.bytes.set(c, i * 32));
        cpu.write64(its.base + ITS_REGS.CWRITER, BigInt(commands.length * 32));
        check(cpu.read64(its.base + ITS_REGS.CREADR) === BigInt(commands.length * 32), "the bring-up commands were not all processed");
      };

      if (broughtUp) bringUp();

      for (const op of ops) {
        switch (op.kind) {
          case "queue":
            ram.bytes.set(op.bytes, op.slot * 32);
            break;
          case "its":
            cpu.write64(its.base + ITS_REGS[op.reg], op.value);
            break;
          case "itsAny":
            if (op.write) cpu.write32(its.base + op.offset, op.value);
            else cpu.read32(its.base + op.offset);
            break;
          case "gicr":
            cpu.write64(gicr(op.vcpu, GICR_REGS[op.reg]), op.value);
            break;
          case "msi":
            its.signalMsi(op.doorbell ? its.doorbell : BigInt(its.base), op.data, op.requester);
            break;
          case "ack": {
            const intid = mrs(op.vcpu, icc("ICC_IAR1_EL1"));
            if (intid !== BigInt(GIC_SPURIOUS_INTID)) msr(op.vcpu, icc("ICC_EOIR1_EL1"), intid);
            break;
          }
          case "prop":
            ram.bytes[PROP - RAM_BASE + op.offset] = op.value;
            break;
        }
        invariants();
      }

      bringUp();
      // Take whatever the ops left pending (LPIs have no active state; the priority drop is undone).
      for (let i = 0; i < 70_000 && mrs(0, icc("ICC_IAR1_EL1")) !== BigInt(GIC_SPURIOUS_INTID); i++) msr(0, icc("ICC_AP1R0_EL1"), 0);
      msr(0, icc("ICC_AP1R0_EL1"), 0);
      its.signalMsi(its.doorbell, 3, 1);
      check(gic.irqLevel(0), "an MSI to a mapped event did not raise IRQ on vCPU 0");
      check(mrs(0, icc("ICC_IAR1_EL1")) === 8192n, "ICC_IAR1_EL1 did not acknowledge LPI 8192");
      msr(0, icc("ICC_EOIR1_EL1"), 8192);
      check(!gic.irqLevel(0), "the LPI was not retired");
      invariants();
    });
    return { property };
  },
};
