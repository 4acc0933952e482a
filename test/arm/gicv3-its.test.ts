// The GICv3 ITS and LPIs as a guest sees them (--irqchip gicv3-its): what the registers
// advertise (KVM's values), translations made by commands and delivered by INT and by MSIs,
// priorities, the property table with INV/INVALL, MOVI, DISCARD, CLEAR, and commands that are
// wrong in every way a guest can make them wrong.

import { describe, expect, it } from "vitest";
import { FdtNode } from "../../src/lib/fdt/tree.ts";
import { Gicv3 } from "../../arm/machine/gicv3.ts";
import { ITS_WORK_PER_ACCESS } from "../../arm/machine/gicv3/its.ts";
import { decodeItsCommand, encodeItsCommand } from "../../arm/machine/gicv3/its-commands.ts";
import { GICD, GICD_TYPER, GICR_TYPER, ICC_PMR_EL1, machine } from "../support/gicv3.ts";
import {
  BASER_INDIRECT, BASER_VALID, CBASER_VALID, COLLECTION_TABLE, DEVICE_TABLE, GICR_CTLR_ENABLE_LPIS, GICR_INVALLR,
  GICR_INVLPIR, GICR_PENDBASER, GICR_PROPBASER, GICR_SYNCR, GICR_TYPER_PLPIS, GITS_BASER, GITS_CBASER,
  GITS_CREADR, GITS_CTLR, GITS_CTLR_ENABLED, GITS_CTLR_QUIESCENT, GITS_CWRITER, GITS_IIDR, GITS_PIDR2,
  GITS_TRANSLATER, GITS_TYPER, PEND_TABLES, QUEUE, RAM_BASE, RAM_BYTES, itsMachine, prop,
} from "../support/gicv3-its.ts";

const SPURIOUS = 1023;
/** "ITS: MAPD at CREADR 0x40 dropped: DeviceID out of range" → "MAPD: DeviceID out of range". */
const reason = (line: string): string => line.replace(/^ITS: (\S+) at CREADR 0x[0-9a-f]+ dropped: /, "$1: ");

/** Device 2 event 20 → LPI 8195 on collection 3 → vCPU `target` (kvm-unit-tests' setup). */
function mapped(vcpus = 2, target = 1) {
  const m = itsMachine(vcpus);
  m.bringUp();
  m.setProp(8195, prop(0xa0));
  m.setProp(8196, prop(0xa0));
  m.send(
    { name: "MAPD", deviceId: 2, eventIdBits: 8, ittAddress: RAM_BASE + 0x70_0000, valid: true },
    { name: "MAPC", collection: 3, target, valid: true },
    { name: "MAPTI", deviceId: 2, eventId: 20, physicalId: 8195, collection: 3 },
  );
  expect(m.log).toEqual([]);
  return m;
}

describe("GICv3 with an ITS: what the guest discovers", () => {
  it("GICD_TYPER says LPIs and 16 INTID bits; GICR_TYPER says PLPIS; GICR_CTLR has IR and CES", () => {
    const m = itsMachine(2);
    const typer = m.cpu0.read32(GICD + GICD_TYPER);
    expect(typer & (1 << 17)).not.toBe(0); // LPIS
    expect((typer >>> 19) & 0x1f).toBe(15); // IDbits: 16 bits, minus one
    expect(m.cpu0.read64(m.rd(1, GICR_TYPER)) & GICR_TYPER_PLPIS).toBe(GICR_TYPER_PLPIS);
    expect(m.cpu0.read32(m.rd(0))).toBe(0b110); // EnableLPIs 0, CES, IR
    // Without an ITS none of it is there.
    const plain = machine(1);
    expect(plain.cpu0.read32(GICD + GICD_TYPER) & (1 << 17)).toBe(0);
    expect(plain.cpu0.read64(plain.redistBase + GICR_TYPER) & GICR_TYPER_PLPIS).toBe(0n);
    plain.cpu0.write64(plain.redistBase + GICR_PROPBASER, 0x1234_0000n);
    expect(plain.cpu0.read64(plain.redistBase + GICR_PROPBASER)).toBe(0n);
  });

  it("GITS_TYPER, IIDR, PIDR2 and the BASERs are KVM's, and read-only where they should be", () => {
    const m = itsMachine(1);
    const typer = m.cpu0.read64(m.its(GITS_TYPER));
    expect(typer & 1n).toBe(1n); // Physical
    expect(Number((typer >> 4n) & 0xfn) + 1).toBe(8); // ITT entry size
    expect(Number((typer >> 8n) & 0x1fn) + 1).toBe(16); // EventID bits
    expect(Number((typer >> 13n) & 0x1fn) + 1).toBe(16); // DeviceID bits
    expect(typer & (1n << 19n)).toBe(0n); // PTA = 0: targets are processor numbers
    expect(typer & (1n << 36n)).toBe(0n); // CIL = 0: 16-bit collection IDs
    m.cpu0.write64(m.its(GITS_TYPER), 0n);
    expect(m.cpu0.read64(m.its(GITS_TYPER))).toBe(typer);
    expect(m.cpu0.read32(m.its(GITS_IIDR)) & 0xfff).toBe(0x43b);
    expect(m.cpu0.read32(m.its(GITS_PIDR2)) & 0xf0).toBe(0x30);
    const baser = (n: number): bigint => m.cpu0.read64(m.its(GITS_BASER + 8 * n));
    expect((baser(0) >> 56n) & 7n).toBe(1n); // Device
    expect((baser(1) >> 56n) & 7n).toBe(4n); // Collection
    for (const n of [0, 1]) {
      expect(((baser(n) >> 48n) & 0x1fn) + 1n).toBe(8n); // Entry_Size
      expect((baser(n) >> 8n) & 3n).toBe(2n); // 64 KiB pages
    }
    expect(baser(2)).toBe(0n);
    // Type and entry size do not change; the page size stays 64 KiB; the collection table is flat.
    m.cpu0.write64(m.its(GITS_BASER + 8), BASER_VALID | BASER_INDIRECT | 0x1234_0000n);
    // Inner Non-cacheable (0) is not honoured: it reads back as read-allocate write-back (3), as on KVM.
    expect(baser(1)).toBe(BASER_VALID | (3n << 59n) | (4n << 56n) | (7n << 48n) | 0x1234_0000n | (2n << 8n));
  });

  it("the ITS enables only with valid tables and queue, and is Quiescent with an empty queue", () => {
    const m = itsMachine(1);
    expect(m.cpu0.read32(m.its(GITS_CTLR))).toBe(GITS_CTLR_QUIESCENT);
    m.cpu0.write32(m.its(GITS_CTLR), GITS_CTLR_ENABLED);
    expect(m.cpu0.read32(m.its(GITS_CTLR)) & GITS_CTLR_ENABLED).toBe(0);
    m.bringUp();
    expect(m.cpu0.read32(m.its(GITS_CTLR))).toBe((GITS_CTLR_QUIESCENT | GITS_CTLR_ENABLED) >>> 0);
    // While enabled, CBASER and the BASERs ignore writes.
    const cbaser = m.cpu0.read64(m.its(GITS_CBASER));
    m.cpu0.write64(m.its(GITS_CBASER), 0n);
    expect(m.cpu0.read64(m.its(GITS_CBASER))).toBe(cbaser);
  });

  it("the device tree has kvmtool's msic child: arm,gic-v3-its, msi-controller, phandle 2, 128 KiB below the Redistributors", () => {
    const m = itsMachine(2);
    const intc = m.gic.fdtNode(new FdtNode(""));
    expect(intc.props.has("ranges")).toBe(true);
    const msic = intc.children.find((n) => n.name === "msic")!;
    expect(msic.getProp("compatible")).toBe("arm,gic-v3-its");
    expect(msic.props.has("msi-controller")).toBe(true);
    expect(msic.getProp("phandle")).toEqual([2]);
    expect(msic.getProp("reg")).toEqual([0, 0x3ffb_0000 - 0x2_0000, 0, 0x2_0000]) // 2 vCPUs: Redistributors at 0x3ffb0000;
    expect(m.gic.msi?.phandle).toBe(2);
    expect(new Gicv3({ vcpuCount: 1, onIrqLineChange: () => {} }).msi).toBeUndefined();
  });
});

describe("LPIs through the ITS", () => {
  it("INT makes the mapped LPI pending at the collection's vCPU; IAR returns it and it is not active", () => {
    const m = mapped();
    m.send({ name: "INT", deviceId: 2, eventId: 20 });
    expect(m.irq).toEqual([false, true]);
    expect(m.take(0)).toBe(SPURIOUS);
    expect(m.take(1)).toBe(8195);
    expect(m.irq).toEqual([false, false]);
    expect(m.take(1)).toBe(SPURIOUS);
  });

  it("an MSI to GITS_TRANSLATER with the requester ID as DeviceID does the same; another address does nothing", () => {
    const m = mapped();
    m.gic.msi!.signalMsi(BigInt(m.its(GITS_TRANSLATER)) + 4n, 20, 2);
    m.gic.msi!.signalMsi(BigInt(m.its(GITS_TRANSLATER)), 20, 3); // no device 3
    expect(m.irq).toEqual([false, false]);
    m.gic.msi!.signalMsi(BigInt(m.its(GITS_TRANSLATER)), 20, 2);
    expect(m.take(1)).toBe(8195);
    // The guest's own store to the doorbell has no DeviceID: ignored, as under KVM.
    m.cpu0.write32(m.its(GITS_TRANSLATER), 20);
    expect(m.irq).toEqual([false, false]);
  });

  it("the higher priority LPI is taken first, and one below PMR is not signalled", () => {
    const m = mapped(1, 0);
    m.setProp(8200, prop(0x40));
    m.send({ name: "MAPTI", deviceId: 2, eventId: 21, physicalId: 8200, collection: 3 });
    m.send({ name: "INT", deviceId: 2, eventId: 20 }, { name: "INT", deviceId: 2, eventId: 21 });
    expect(m.take(0)).toBe(8200);
    expect(m.take(0)).toBe(8195);
    m.msr(0, ICC_PMR_EL1, 0x90); // below the LPI's 0xa0
    m.send({ name: "INT", deviceId: 2, eventId: 20 });
    expect(m.irq[0]).toBe(false);
    m.msr(0, ICC_PMR_EL1, 0xf0);
    expect(m.irq[0]).toBe(true);
  });

  it("a property table change takes effect on INV (or INVALL, or GICR_INVLPIR), and a disabled LPI stays pending", () => {
    const m = mapped();
    m.setProp(8195, prop(0xa0, false));
    m.send({ name: "INT", deviceId: 2, eventId: 20 });
    expect(m.irq[1]).toBe(true); // the cached configuration still says enabled
    expect(m.take(1)).toBe(8195);
    m.send({ name: "INV", deviceId: 2, eventId: 20 }, { name: "INT", deviceId: 2, eventId: 20 });
    expect(m.irq[1]).toBe(false);
    m.setProp(8195, prop(0xa0));
    m.send({ name: "INVALL", collection: 3 });
    expect(m.take(1)).toBe(8195); // the pending state was kept while disabled
    m.setProp(8195, prop(0xa0, false));
    m.cpus[1]!.write64(m.rd(1, GICR_INVLPIR), 8195n);
    m.send({ name: "INT", deviceId: 2, eventId: 20 });
    expect(m.irq[1]).toBe(false);
    m.setProp(8195, prop(0xa0));
    m.cpus[1]!.write64(m.rd(1, GICR_INVALLR), 0n);
    expect(m.cpu0.read32(m.rd(1, GICR_SYNCR))).toBe(0);
    expect(m.take(1)).toBe(8195);
  });

  it("MOVI moves a translation, pending state included, to another collection's vCPU; MAPC remaps a whole collection", () => {
    const m = mapped(3, 1);
    m.send({ name: "MAPC", collection: 4, target: 2, valid: true });
    m.send({ name: "INT", deviceId: 2, eventId: 20 }, { name: "MOVI", deviceId: 2, eventId: 20, collection: 4 });
    expect(m.irq).toEqual([false, false, true]);
    expect(m.take(2)).toBe(8195);
    m.send({ name: "MAPC", collection: 4, target: 0, valid: true }, { name: "INT", deviceId: 2, eventId: 20 });
    expect(m.take(0)).toBe(8195);
    m.send({ name: "MOVALL", target: 0, target2: 1 }, { name: "INT", deviceId: 2, eventId: 20 });
    expect(m.take(1)).toBe(8195);
  });

  it("DISCARD removes the translation and CLEAR the pending state; MAPD V=0 drops the device's translations", () => {
    const m = mapped();
    m.send({ name: "INT", deviceId: 2, eventId: 20 }, { name: "CLEAR", deviceId: 2, eventId: 20 });
    expect(m.irq[1]).toBe(false);
    m.send({ name: "DISCARD", deviceId: 2, eventId: 20 }, { name: "INT", deviceId: 2, eventId: 20 });
    expect(m.irq[1]).toBe(false);
    expect(m.log.at(-1)).toMatch(/INT .* dropped: unmapped interrupt/);
    m.send({ name: "MAPTI", deviceId: 2, eventId: 20, physicalId: 8195, collection: 3 });
    m.send({ name: "MAPD", deviceId: 2, valid: false }, { name: "INT", deviceId: 2, eventId: 20 });
    expect(m.irq[1]).toBe(false);
  });

  it("LPIs need EnableLPIs at the target; enabling them reads the pending table, disabling drops pending LPIs", () => {
    const m = mapped();
    m.cpus[1]!.write32(m.rd(1), 0);
    m.send({ name: "INT", deviceId: 2, eventId: 20 });
    expect(m.irq[1]).toBe(false);
    m.memory.write(PEND_TABLES + 0x1_0000 + Math.floor(8195 / 8), Uint8Array.of(1 << (8195 % 8)));
    m.cpus[1]!.write32(m.rd(1), GICR_CTLR_ENABLE_LPIS);
    expect(m.take(1)).toBe(8195);
    m.send({ name: "INT", deviceId: 2, eventId: 20 });
    m.cpus[1]!.write32(m.rd(1), 0);
    expect(m.irq[1]).toBe(false);
    // PROPBASER and PENDBASER ignore writes while LPIs are on.
    m.cpus[1]!.write32(m.rd(1), GICR_CTLR_ENABLE_LPIS);
    const pend = m.cpu0.read64(m.rd(1, GICR_PENDBASER));
    m.cpu0.write64(m.rd(1, GICR_PENDBASER), 0n);
    expect(m.cpu0.read64(m.rd(1, GICR_PENDBASER))).toBe(pend);
  });
});

describe("bad commands and tables are dropped, never followed outside guest RAM", () => {
  it("out-of-range IDs are refused, each with KVM's reason, and the queue moves on", () => {
    const m = mapped();
    m.send(
      { name: "MAPD", deviceId: 8192, eventIdBits: 4, valid: true }, // the one-page device table holds 8192
      { name: "MAPD", deviceId: 5, eventIdBits: 17, valid: true },
      { name: "MAPC", collection: 5, target: 2, valid: true },
      { name: "MAPTI", deviceId: 9, eventId: 0, physicalId: 8200, collection: 3 },
      { name: "MAPTI", deviceId: 2, eventId: 256, physicalId: 8200, collection: 3 },
      { name: "MAPTI", deviceId: 2, eventId: 1, physicalId: 8191, collection: 3 },
      { name: "MAPTI", deviceId: 2, eventId: 1, physicalId: 65536, collection: 3 },
      { name: "MOVI", deviceId: 2, eventId: 20, collection: 9 },
      { name: "MOVALL", target: 0, target2: 7 },
      { name: "INVALL", collection: 9 },
    );
    expect(m.log.map(reason)).toEqual([
      "MAPD: DeviceID out of range",
      "MAPD: ITT size out of range",
      "MAPC: processor number out of range",
      "MAPTI: unmapped device",
      "MAPTI: EventID out of range",
      "MAPTI: physical ID out of range",
      "MAPTI: physical ID out of range",
      "MOVI: unmapped target collection",
      "MOVALL: processor number out of range",
      "INVALL: unmapped collection",
    ]);
    expect(m.cpu0.read64(m.its(GITS_CREADR))).toBe(m.cpu0.read64(m.its(GITS_CWRITER)));
    m.send({ name: "INT", deviceId: 2, eventId: 20 });
    expect(m.take(1)).toBe(8195); // the good mapping survived
  });

  it("tables and queues outside RAM: MAPD/MAPC/MAPTI fail, a command outside RAM is skipped", () => {
    const m = itsMachine(1);
    m.bringUp();
    m.cpu0.write32(m.its(GITS_CTLR), 0);
    const outside = BigInt(RAM_BASE + RAM_BYTES);
    m.cpu0.write64(m.its(GITS_BASER), BASER_VALID | outside);
    m.cpu0.write64(m.its(GITS_BASER + 8), BASER_VALID | outside);
    m.setQueue(CBASER_VALID | BigInt(QUEUE));
    m.send({ name: "MAPD", deviceId: 0, eventIdBits: 4, valid: true }, { name: "MAPC", collection: 0, target: 0, valid: true });
    expect(m.log.map(reason)).toEqual(["MAPD: DeviceID out of range", "MAPC: collection out of range"]);
    // A property table outside RAM: MAPTI cannot read the LPI's configuration.
    m.cpu0.write32(m.its(GITS_CTLR), 0);
    m.cpu0.write64(m.its(GITS_BASER), BASER_VALID | BigInt(DEVICE_TABLE));
    m.cpu0.write64(m.its(GITS_BASER + 8), BASER_VALID | BigInt(COLLECTION_TABLE));
    m.setQueue(CBASER_VALID | BigInt(QUEUE));
    m.cpu0.write32(m.rd(0), 0);
    m.cpu0.write64(m.rd(0, GICR_PROPBASER), outside | 15n);
    m.cpu0.write32(m.rd(0), GICR_CTLR_ENABLE_LPIS);
    m.log.length = 0;
    m.send(
      { name: "MAPD", deviceId: 0, eventIdBits: 4, valid: true },
      { name: "MAPC", collection: 0, target: 0, valid: true },
      { name: "MAPTI", deviceId: 0, eventId: 0, physicalId: 8192, collection: 0 },
    );
    expect(m.log.map(reason)).toEqual(["MAPTI: property table outside RAM"]);
    // A queue at the very end of RAM: the commands past it are skipped, and CREADR still advances.
    m.setQueue(CBASER_VALID | (outside - 0x1_0000n) | 0x1fn); // 32 pages, half outside
    m.log.length = 0;
    m.cpu0.write64(m.its(GITS_CWRITER), 0x1_8000n);
    expect(m.log.length).toBe(0x1_0000 / 32); // the zeros inside RAM: command 0, unknown
    expect(m.cpu0.read64(m.its(GITS_CREADR))).toBe(0x1_8000n);
    m.cpu0.write64(m.its(GITS_CWRITER), 0x2_0000n); // past the 128 KiB queue: ignored
    expect(m.cpu0.read64(m.its(GITS_CWRITER))).toBe(0x1_8000n);
  });

  it("a two-level device table is followed only through a valid first-level entry inside RAM", () => {
    const m = itsMachine(1);
    m.bringUp();
    m.cpu0.write32(m.its(GITS_CTLR), 0);
    m.cpu0.write64(m.its(GITS_BASER), BASER_VALID | BASER_INDIRECT | BigInt(DEVICE_TABLE));
    m.setQueue(CBASER_VALID | BigInt(QUEUE));
    const l1 = (index: number, value: bigint): void => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, value, true);
      m.memory.write(DEVICE_TABLE + index * 8, b);
    };
    l1(1, (1n << 63n) | BigInt(RAM_BASE + 0x80_0000)); // devices 8192-16383
    l1(2, (1n << 63n) | BigInt(RAM_BASE + RAM_BYTES)); // outside RAM
    m.send(
      { name: "MAPD", deviceId: 8200, eventIdBits: 4, valid: true },
      { name: "MAPD", deviceId: 5, eventIdBits: 4, valid: true }, // first-level entry 0 is invalid
      { name: "MAPD", deviceId: 16400, eventIdBits: 4, valid: true },
    );
    expect(m.log.map(reason)).toEqual(["MAPD: DeviceID out of range", "MAPD: DeviceID out of range"]);
  });

  it("one MMIO access does a bounded amount of work; polling CREADR finishes the queue", () => {
    const m = mapped(2, 1);
    // Many translations through collection 3, then a queue full of MAPCs that retarget them all.
    const mapti = [];
    for (let e = 0; e < 255; e++) if (e !== 20) mapti.push({ name: "MAPTI" as const, deviceId: 2, eventId: e, physicalId: 8300 + e, collection: 3 });
    for (let i = 0; i < mapti.length; i += 100) m.send(...mapti.slice(i, i + 100));
    expect(m.log).toEqual([]);
    m.setQueue(CBASER_VALID | BigInt(QUEUE) | 0xffn); // 1 MiB: 32768 commands
    const mapc = new Uint8Array(32);
    mapc.set([0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0x80]); // MAPC ICID 3 → vCPU 0
    for (let i = 0; i < 32767; i++) m.memory.write(QUEUE + i * 32, mapc);
    m.cpu0.write64(m.its(GITS_CWRITER), 32767n * 32n);
    const first = Number(m.cpu0.read64(m.its(GITS_CREADR)));
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(32767 * 32);
    // The CWRITER write and the CREADR read each ran at most a budget's worth of 256-entry MAPCs.
    expect(first / 32).toBeLessThanOrEqual(2 * (ITS_WORK_PER_ACCESS / 256 + 1));
    let polls = 0;
    while (m.cpu0.read32(m.its(GITS_CTLR)) !== ((GITS_CTLR_QUIESCENT | GITS_CTLR_ENABLED) >>> 0)) expect(++polls).toBeLessThan(1000);
    expect(polls).toBeGreaterThan(2);
  });
});

describe("ITS command decoding (IHI 0069 5.3: four little-endian doublewords)", () => {
  /** A command from its doublewords, as the spec draws them. */
  const raw = (...dw: bigint[]): Uint8Array => {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dw.forEach((v, i) => dv.setBigUint64(i * 8, v, true));
    return b;
  };

  it("reads each field from the bits the spec gives it", () => {
    // MAPD: DeviceID DW0[63:32], Size DW1[4:0], ITT_addr DW2[51:8], V DW2[63].
    const mapd = decodeItsCommand(raw(0x1234_5678_0000_0008n, 0x0000_0000_0000_000fn, (1n << 63n) | (0xf_ffff_ffff_ff00n & ((1n << 52n) - 1n))));
    expect(mapd).toMatchObject({ name: "MAPD", deviceId: 0x1234_5678, eventIdBits: 16, ittAddress: 0xf_ffff_ffff_ff00, valid: true });
    // MAPC: ICID DW2[15:0], RDbase DW2[51:16] (a processor number here), V DW2[63].
    expect(decodeItsCommand(raw(0x09n, 0n, (1n << 63n) | (0x0002_0001n << 16n) | 0xbeefn))).toMatchObject({ name: "MAPC", collection: 0xbeef, target: 0x2_0001, valid: true });
    // MAPTI: EventID DW1[31:0], pINTID DW1[63:32], ICID DW2[15:0].
    expect(decodeItsCommand(raw(0x0000_0007_0000_000an, 0x0000_2003_0000_0014n, 3n))).toMatchObject({ name: "MAPTI", deviceId: 7, eventId: 20, physicalId: 0x2003, collection: 3 });
    // MOVALL: RDbase1 DW2[51:16], RDbase2 DW3[51:16].
    expect(decodeItsCommand(raw(0x0en, 0n, 1n << 16n, 2n << 16n))).toMatchObject({ name: "MOVALL", target: 1, target2: 2 });
    // An unknown number (VMAPP, 0x29) has no name: the ITS skips it.
    expect(decodeItsCommand(raw(0x29n)).name).toBeUndefined();
  });

  it("encodeItsCommand (the tests' driver) writes what the decoder reads back", () => {
    for (const f of [
      { name: "MAPD" as const, deviceId: 0xffff, eventIdBits: 16, ittAddress: 0x8_1234_5600, valid: true },
      { name: "MAPC" as const, collection: 0xffff, target: 63, valid: false },
      { name: "MAPI" as const, deviceId: 3, eventId: 0xffff_ffff, collection: 1 },
      { name: "MOVALL" as const, target: 0xffff_ffff, target2: 0x1_0000 },
    ]) {
      expect(decodeItsCommand(encodeItsCommand(f))).toMatchObject(f);
    }
  });

  it("MAPI maps EventID = INTID, and SYNC does nothing", () => {
    const m = mapped(1, 0);
    m.setProp(8300, prop(0x80));
    m.send({ name: "MAPD", deviceId: 4, eventIdBits: 14, valid: true }, { name: "MAPI", deviceId: 4, eventId: 8300, collection: 3 }, { name: "SYNC", target: 0 });
    m.send({ name: "INT", deviceId: 4, eventId: 8300 });
    expect(m.log).toEqual([]);
    expect(m.take(0)).toBe(8300);
  });
});
