// Direct tests of the load/store group (arm/decode/ldst.ts, arm/core/exec/ldst.ts) for what the
// differential tests against qemu-user cannot see: EL1, data-abort syndromes (ESR_EL1, FAR_EL1),
// MMIO through the trap bus, SP alignment checking, unprivileged accesses, big-endian data, and
// the decode table itself.

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { Core, type CoreHost } from "../../arm/host/core.ts";
import { allRows } from "../../arm/decode/index.ts";
import { parsePattern } from "../../arm/decode/table.ts";
import { Rng } from "../support/diff/random.ts";
import { UNALLOCATED_LDST, assemble } from "../support/ldst.ts";

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 16 << 20;
const VBAR = RAM_BASE + 0x800;
const CODE = RAM_BASE + 0x8_0000;
const DATA = RAM_BASE + 0x10_0000;
const TABLES = RAM_BASE + 0x1_0000;
// With the MMU on (setupMmu), 2 MiB blocks from RAM_BASE: EL1-only, EL0 read/write, EL1
// read-only, then unmapped.
const EL0_BLOCK = RAM_BASE + 0x20_0000;
const RO_BLOCK = RAM_BASE + 0x40_0000;
const UNMAPPED = RAM_BASE + 0x60_0000;
/** Outside RAM: the trap bus (with the MMU on, a Device-memory block). */
const MMIO = 0x0900_0000;

// Sysreg slots (arm/core/sysregs.ts).
const SCTLR = 0, TCR = 1, TTBR0 = 2, MAIR = 4, VBAR_SLOT = 6, ESR = 7, FAR = 8, ELR = 9;
const SCTLR_M = 1n, SCTLR_SA = 1n << 3n, SCTLR_SA0 = 1n << 4n, SCTLR_EE = 1n << 25n;

// ESR_EL1 fields.
const EC_DABT_LOWER = 0x24, EC_DABT_CUR = 0x25, EC_SP_ALIGN = 0x26;
const FSC_TRANSLATION_L2 = 0x06, FSC_PERMISSION_L2 = 0x0e, FSC_ALIGNMENT = 0x21;

interface Access {
  gpa: number;
  lengthBytes: number;
  isWrite: boolean;
  value: bigint;
}

/** A trap bus that records every access and answers reads with `readValue`'s low bytes. */
class RecordingBus implements CoreHost {
  accesses: Access[] = [];
  readValue = 0x8899_aabb_ccdd_eeffn;
  mmio(vcpu: number, gpa: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): boolean {
    const view = new DataView(data.buffer, data.byteOffset, 8);
    if (isWrite) {
      this.accesses.push({ gpa, lengthBytes, isWrite, value: view.getBigUint64(0, true) & ((1n << BigInt(8 * lengthBytes)) - 1n) });
    } else {
      this.accesses.push({ gpa, lengthBytes, isWrite, value: 0n });
      view.setBigUint64(0, this.readValue, true);
    }
    return true;
  }
  sysreg(): bigint | undefined {
    return undefined;
  }
  counter(): number {
    return 0;
  }
}

/** Also records the instruction syndrome the core hands the VMM with each MMIO access. */
class SyndromeBus extends RecordingBus {
  core?: Core;
  syndromes: number[] = [];
  override mmio(vcpu: number, gpa: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): boolean {
    this.syndromes.push(this.core!.mmioSyndrome);
    return super.mmio(vcpu, gpa, data, lengthBytes, isWrite);
  }
}

function makeCore(bus = new RecordingBus()): Core {
  const core = new Core({ ramBase: RAM_BASE, ramSizeBytes: RAM_SIZE, host: bus });
  core.reset(0);
  core.setSysregSlot(VBAR_SLOT, BigInt(VBAR));
  core.sp = BigInt(DATA + 0x8000);
  return core;
}

/** Identity map: 1 GiB of Device memory at 0 (MMIO), and RAM's first 8 MiB as the blocks above. */
function setupMmu(core: Core): void {
  const view = new DataView(core.memory.buffer, abi.RAM_HOST_BASE + (TABLES - RAM_BASE), 0x2000);
  const l1 = 0, l2 = 0x1000;
  const block = (pa: number, attrIndx: number, ap: number) =>
    BigInt(pa) | 1n | (BigInt(attrIndx) << 2n) | (BigInt(ap) << 6n) | (3n << 8n) | (1n << 10n);
  view.setBigUint64(l1 + 0 * 8, block(0, 1, 0), true); // Device, EL1 only
  view.setBigUint64(l1 + 2 * 8, BigInt(TABLES + l2) | 3n, true);
  view.setBigUint64(l2 + 0 * 8, block(RAM_BASE, 0, 0b00), true); // EL1 RW (code, DATA)
  view.setBigUint64(l2 + 1 * 8, block(EL0_BLOCK, 0, 0b01), true); // EL1 and EL0 RW
  view.setBigUint64(l2 + 2 * 8, block(RO_BLOCK, 0, 0b10), true); // EL1 read-only
  core.setSysregSlot(MAIR, 0xffn); // Attr0 Normal write-back, Attr1 Device-nGnRnE
  core.setSysregSlot(TCR, 25n | (1n << 23n)); // T0SZ = 25 (39-bit VAs, start at level 1), EPD1
  core.setSysregSlot(TTBR0, BigInt(TABLES));
  core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_M);
}

/** Runs the instructions from `at` to their end (or until the first exception). */
function run(core: Core, insns: number[], at = CODE): void {
  const bytes = new Uint8Array(insns.length * 4);
  insns.forEach((w, i) => new DataView(bytes.buffer).setUint32(i * 4, w >>> 0, true));
  core.writePhys(at, bytes);
  core.pc = BigInt(at);
  core.run(insns.length);
}

function le(bytes: number[]): Uint8Array {
  return Uint8Array.from(bytes);
}

/** A data abort's syndrome: with the ISV fields when `isv` is given (as EL2 would see it). */
function dabtEsr(o: { ec?: number; dfsc: number; wnr?: boolean; isv?: { sas: number; sse?: boolean; srt: number; sf: boolean; ar?: boolean } }): bigint {
  let iss = o.dfsc | (o.wnr ? 1 << 6 : 0);
  if (o.isv) {
    iss |= (1 << 24) | (o.isv.sas << 22) | ((o.isv.sse ? 1 : 0) << 21) | (o.isv.srt << 16) | ((o.isv.sf ? 1 : 0) << 15) | ((o.isv.ar ? 1 : 0) << 14);
  }
  return BigInt((((o.ec ?? EC_DABT_CUR) << 26) | (1 << 25) | iss) >>> 0);
}

/** Expects the instruction at `at` to have taken a synchronous exception to the current-EL SPx vector. */
function expectException(core: Core, esr: bigint, far?: bigint, at = CODE): void {
  // ESR_EL1 never carries the instruction syndrome: "ISV is 0 for all faults reported in
  // ESR_EL1", and ISS[23:14] are then RES0. (The syndrome reaches the VMM; see the MMIO tests.)
  const el1View = esr >> 26n === 0x24n || esr >> 26n === 0x25n ? esr & ~0x01ffc000n : esr;
  expect(core.sysregSlot(ESR).toString(16)).toBe(el1View.toString(16));
  if (far !== undefined) expect(core.sysregSlot(FAR).toString(16)).toBe(far.toString(16));
  expect(core.sysregSlot(ELR)).toBe(BigInt(at));
}

const X_FILL = (i: number) => 0x5a5a_0000_0000_0000n | BigInt(i);

/** Fills X0..X30 with recognisable values, then sets the given ones. */
function setRegs(core: Core, regs: Record<number, bigint | number>): void {
  for (let i = 0; i < 31; i++) core.setX(i, X_FILL(i));
  for (const [k, v] of Object.entries(regs)) core.setX(Number(k), BigInt(v));
}

describe("MMIO through the trap bus (MMU off: everything outside RAM)", () => {
  it("loads of each size read the bus and widen as the instruction says", () => {
    const bus = new RecordingBus();
    const core = makeCore(bus);
    setRegs(core, { 0: MMIO });
    run(core, assemble(
      "ldrb w1, [x0]", "ldrh w2, [x0, #2]", "ldr w3, [x0, #4]", "ldr x4, [x0, #8]",
      "ldrsb x5, [x0]", "ldrsh w6, [x0, #2]", "ldrsw x7, [x0, #4]", "ldur w8, [x0, #1]",
    ));
    expect(bus.accesses).toEqual([
      { gpa: MMIO, lengthBytes: 1, isWrite: false, value: 0n },
      { gpa: MMIO + 2, lengthBytes: 2, isWrite: false, value: 0n },
      { gpa: MMIO + 4, lengthBytes: 4, isWrite: false, value: 0n },
      { gpa: MMIO + 8, lengthBytes: 8, isWrite: false, value: 0n },
      { gpa: MMIO, lengthBytes: 1, isWrite: false, value: 0n },
      { gpa: MMIO + 2, lengthBytes: 2, isWrite: false, value: 0n },
      { gpa: MMIO + 4, lengthBytes: 4, isWrite: false, value: 0n },
    ]);
    expect(core.x(1)).toBe(0xffn);
    expect(core.x(2)).toBe(0xeeffn);
    expect(core.x(3)).toBe(0xccdd_eeffn);
    expect(core.x(4)).toBe(0x8899_aabb_ccdd_eeffn);
    expect(core.x(5)).toBe(0xffff_ffff_ffff_ffffn);
    expect(core.x(6)).toBe(0xffff_eeffn); // sign-extended to 32 bits, zero above
    expect(core.x(7)).toBe(0xffff_ffff_ccdd_eeffn);
    // With the MMU off data accesses are Device-nGnRnE: the unaligned LDUR faults, unissued.
    expectException(core, dabtEsr({ dfsc: FSC_ALIGNMENT, isv: { sas: 2, srt: 8, sf: false } }), BigInt(MMIO + 1), CODE + 7 * 4);
    expect(core.x(8)).toBe(X_FILL(8));
  });

  it("stores of each size pass the register's low bytes", () => {
    const bus = new RecordingBus();
    const core = makeCore(bus);
    setRegs(core, { 0: MMIO, 1: 0x1122_3344_5566_7788n });
    run(core, assemble("strb w1, [x0]", "strh w1, [x0, #2]", "str w1, [x0, #4]", "str x1, [x0, #8]", "stlr w1, [x0]", "str xzr, [x0]"));
    expect(bus.accesses).toEqual([
      { gpa: MMIO, lengthBytes: 1, isWrite: true, value: 0x88n },
      { gpa: MMIO + 2, lengthBytes: 2, isWrite: true, value: 0x7788n },
      { gpa: MMIO + 4, lengthBytes: 4, isWrite: true, value: 0x5566_7788n },
      { gpa: MMIO + 8, lengthBytes: 8, isWrite: true, value: 0x1122_3344_5566_7788n },
      { gpa: MMIO, lengthBytes: 4, isWrite: true, value: 0x5566_7788n },
      { gpa: MMIO, lengthBytes: 8, isWrite: true, value: 0n },
    ]);
  });

  it("a pair reaches the bus as two accesses, lower address first", () => {
    const bus = new RecordingBus();
    const core = makeCore(bus);
    setRegs(core, { 0: MMIO, 1: 1, 2: 2 });
    run(core, assemble("stp w1, w2, [x0, #8]", "ldp x3, x4, [x0], #16"));
    expect(bus.accesses.map((a) => [a.gpa - MMIO, a.lengthBytes, a.isWrite])).toEqual([
      [8, 4, true], [12, 4, true], [0, 8, false], [8, 8, false],
    ]);
    expect(core.x(0)).toBe(BigInt(MMIO + 16));
  });

  it("an exclusive load from MMIO opens no monitor: the store-exclusive fails without an access", () => {
    const bus = new RecordingBus();
    const core = makeCore(bus);
    setRegs(core, { 0: MMIO });
    run(core, assemble("ldxr x1, [x0]", "stxr w2, x1, [x0]"));
    expect(bus.accesses.map((a) => a.isWrite)).toEqual([false]);
    expect(core.x(2)).toBe(1n);
  });
});

describe("data aborts and MMIO accesses report the syndromes hardware would", () => {
  // [instruction (x2 is the base), ISS fields of the abort]. Forms with writeback, pairs and
  // exclusives give no instruction syndrome (ISV = 0).
  // [instruction (x2 = base, x4 = 2), ISS fields, fault address - base]
  const table: [string, Parameters<typeof dabtEsr>[0], number][] = [
    ["ldr x1, [x2]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 3, srt: 1, sf: true } }, 0],
    ["ldr w1, [x2, #4]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 2, srt: 1, sf: false } }, 4],
    ["ldrb w3, [x2, x4]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 0, srt: 3, sf: false } }, 2],
    ["ldrsb w3, [x2, #1]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 0, sse: true, srt: 3, sf: false } }, 1],
    ["ldrsh x30, [x2, w4, uxtw #1]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 1, sse: true, srt: 30, sf: true } }, 4],
    ["ldursw x5, [x2, #3]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 2, sse: true, srt: 5, sf: true } }, 3],
    ["ldrh wzr, [x2]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 1, srt: 31, sf: false } }, 0],
    ["strh w6, [x2]", { dfsc: FSC_TRANSLATION_L2, wnr: true, isv: { sas: 1, srt: 6, sf: false } }, 0],
    ["str x7, [x2, #8]", { dfsc: FSC_TRANSLATION_L2, wnr: true, isv: { sas: 3, srt: 7, sf: true } }, 8],
    ["stur wzr, [x2, #-4]", { dfsc: FSC_TRANSLATION_L2, wnr: true, isv: { sas: 2, srt: 31, sf: false } }, -4],
    ["ldtr x9, [x2]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 3, srt: 9, sf: true } }, 0],
    ["ldtrsh w9, [x2]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 1, sse: true, srt: 9, sf: false } }, 0],
    ["sttrb w9, [x2]", { dfsc: FSC_TRANSLATION_L2, wnr: true, isv: { sas: 0, srt: 9, sf: false } }, 0],
    ["ldar w10, [x2]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 2, srt: 10, sf: false, ar: true } }, 0],
    ["ldarh w10, [x2]", { dfsc: FSC_TRANSLATION_L2, isv: { sas: 1, srt: 10, sf: false, ar: true } }, 0],
    ["stlr x10, [x2]", { dfsc: FSC_TRANSLATION_L2, wnr: true, isv: { sas: 3, srt: 10, sf: true, ar: true } }, 0],
    ["ldxr x11, [x2]", { dfsc: FSC_TRANSLATION_L2 }, 0],
    ["ldaxrb w11, [x2]", { dfsc: FSC_TRANSLATION_L2 }, 0],
    ["stxr w12, x11, [x2]", { dfsc: FSC_TRANSLATION_L2, wnr: true }, 0],
    ["ldxp x1, x3, [x2]", { dfsc: FSC_TRANSLATION_L2 }, 0],
    ["stlxp w12, w1, w3, [x2]", { dfsc: FSC_TRANSLATION_L2, wnr: true }, 0],
    ["ldr x1, [x2, #8]!", { dfsc: FSC_TRANSLATION_L2 }, 8],
    ["ldrb w1, [x2], #1", { dfsc: FSC_TRANSLATION_L2 }, 0],
    ["str x1, [x2, #-8]!", { dfsc: FSC_TRANSLATION_L2, wnr: true }, -8],
    ["ldp x1, x3, [x2]", { dfsc: FSC_TRANSLATION_L2 }, 0],
    ["ldpsw x1, x3, [x2, #8]", { dfsc: FSC_TRANSLATION_L2 }, 8],
    ["ldnp w1, w3, [x2]", { dfsc: FSC_TRANSLATION_L2 }, 0],
    ["stp x1, x3, [x2], #16", { dfsc: FSC_TRANSLATION_L2, wnr: true }, 0],
  ];

  // Rows that reach the bus: not store-exclusives (the monitor is closed, so nothing is
  // stored) nor unaligned ones (MMIO is Device memory, where they fault).
  const reachesMmio = (src: string) => !/^stl?x/.test(src) && !/#3\]/.test(src);
  for (const [src, fields, farOffset] of table) {
    if (reachesMmio(src)) it(`${src}: to MMIO, ${fields.isv ? "ISV = 1" : "ISV = 0"}${fields.wnr ? ", WnR = 1" : ""} for the VMM`, () => {
      // The instruction syndrome goes to the hypervisor (the VMM), with the MMIO access.
      const bus = new SyndromeBus();
      const core = makeCore(bus);
      bus.core = core;
      setRegs(core, { 2: MMIO + 0x100, 4: 2 });
      run(core, assemble(src));
      expect(bus.syndromes.length).toBeGreaterThan(0);
      const iss = Number(dabtEsr({ ...fields, dfsc: 0 }) & 0x1ffffffn);
      expect(bus.syndromes[0]!.toString(16)).toBe(iss.toString(16));
    });

    it(`${src}: aborts with ESR_EL1.ISV = 0 (the ARM ARM keeps the syndrome for EL2)${fields.wnr ? ", WnR = 1" : ""}, and no register written`, () => {
      const core = makeCore();
      setupMmu(core);
      const base = UNMAPPED + 0x100;
      setRegs(core, { 2: base, 4: 2 });
      const sp = core.sp;
      run(core, assemble(src));
      const far = BigInt(base + farOffset);
      expectException(core, dabtEsr({ ...fields, isv: undefined }), far);
      for (let i = 0; i < 31; i++) expect(core.x(i), `x${i}`).toBe(i === 2 ? BigInt(base) : i === 4 ? 2n : X_FILL(i));
      expect(core.sp).toBe(sp);
    });
  }

  it("LDR (literal) aborts like any load (ESR_EL1.ISV = 0)", () => {
    const core = makeCore();
    setupMmu(core);
    setRegs(core, {});
    const at = UNMAPPED - 0x10; // the last bytes of the (executable) read-only block
    run(core, assemble("ldr w7, . + 0x20"), at);
    expectException(core, dabtEsr({ dfsc: FSC_TRANSLATION_L2 }), BigInt(UNMAPPED + 0x10), at);
  });

  it("a store to a read-only page is a permission fault with WnR = 1; the load works", () => {
    const core = makeCore();
    setupMmu(core);
    core.writePhys(RO_BLOCK, le([1, 2, 3, 4]));
    setRegs(core, { 2: RO_BLOCK });
    run(core, assemble("ldr w1, [x2]", "str w1, [x2]"));
    expect(core.x(1)).toBe(0x0403_0201n);
    expectException(core, dabtEsr({ dfsc: FSC_PERMISSION_L2, wnr: true }), BigInt(RO_BLOCK), CODE + 4);
  });

  it("an LDP whose second element faults writes neither register nor the base", () => {
    const core = makeCore();
    setupMmu(core);
    setRegs(core, { 2: UNMAPPED - 8 - 16 });
    run(core, assemble("ldp x1, x3, [x2, #16]!"));
    expectException(core, dabtEsr({ dfsc: FSC_TRANSLATION_L2 }), BigInt(UNMAPPED));
    expect([core.x(1), core.x(2), core.x(3)]).toEqual([X_FILL(1), BigInt(UNMAPPED - 24), X_FILL(3)]);
  });

  it("an unaligned load crossing into an unmapped page faults at the page boundary, reading nothing", () => {
    const core = makeCore();
    setupMmu(core);
    setRegs(core, { 2: UNMAPPED - 3 });
    run(core, assemble("ldr x1, [x2]"));
    expectException(core, dabtEsr({ dfsc: FSC_TRANSLATION_L2, isv: { sas: 3, srt: 1, sf: true } }), BigInt(UNMAPPED));
    expect(core.x(1)).toBe(X_FILL(1));
  });
});

describe("exclusives", () => {
  it("LDXR then STXR stores and returns 0; a second STXR (monitor closed) returns 1", () => {
    const core = makeCore();
    core.writePhys(DATA, le([1, 2, 3, 4, 5, 6, 7, 8]));
    setRegs(core, { 0: DATA, 5: 0xabcdn });
    run(core, assemble("ldaxr x1, [x0]", "stlxr w2, x5, [x0]", "stxr w3, x1, [x0]"));
    expect(core.x(1)).toBe(0x0807_0605_0403_0201n);
    expect(core.x(2)).toBe(0n);
    expect(core.x(3)).toBe(1n);
    expect(core.readPhys(DATA, 8)).toEqual(le([0xcd, 0xab, 0, 0, 0, 0, 0, 0]));
  });

  it("CLREX closes the monitor", () => {
    const core = makeCore();
    setRegs(core, { 0: DATA });
    run(core, assemble("ldxrh w1, [x0]", "clrex", "stxrh w2, w1, [x0]"));
    expect(core.x(2)).toBe(1n);
  });

  it("LDXP of two X registers needs 16-byte alignment (alignment fault, ISV = 0)", () => {
    const core = makeCore();
    setupMmu(core);
    setRegs(core, { 0: DATA + 8 });
    run(core, assemble("ldxp x1, x2, [x0]"));
    expectException(core, dabtEsr({ dfsc: FSC_ALIGNMENT }), BigInt(DATA + 8));
    expect(core.x(1)).toBe(X_FILL(1));
  });

  it("LDXP/STXP of two W registers: one 8-byte exclusive unit", () => {
    const core = makeCore();
    setupMmu(core);
    core.writePhys(DATA + 8, le([1, 2, 3, 4, 5, 6, 7, 8]));
    setRegs(core, { 0: DATA + 8 });
    run(core, assemble("ldaxp w1, w2, [x0]", "stlxp w3, w2, w1, [x0]"));
    expect([core.x(1), core.x(2), core.x(3)]).toEqual([0x0403_0201n, 0x0807_0605n, 0n]);
    expect(core.readPhys(DATA + 8, 8)).toEqual(le([5, 6, 7, 8, 1, 2, 3, 4]));
  });

  it("a misaligned store-exclusive takes an alignment fault even with the monitor closed", () => {
    const core = makeCore();
    setupMmu(core);
    setRegs(core, { 0: DATA + 2 });
    run(core, assemble("stxr w1, w2, [x0]"));
    expectException(core, dabtEsr({ dfsc: FSC_ALIGNMENT, wnr: true }), BigInt(DATA + 2));
    expect(core.x(1)).toBe(X_FILL(1));
  });

  it("LDAR and STLR need natural alignment even on Normal memory", () => {
    const core = makeCore();
    setupMmu(core);
    setRegs(core, { 0: DATA + 4 });
    run(core, assemble("ldar x1, [x0]"));
    expectException(core, dabtEsr({ dfsc: FSC_ALIGNMENT, isv: { sas: 3, srt: 1, sf: true, ar: true } }), BigInt(DATA + 4));
  });
});

describe("SP alignment checking (SCTLR_EL1.SA at EL1, SA0 at EL0)", () => {
  it("an SP-based access with SP not 16-byte aligned faults when SA is set, before any access", () => {
    const core = makeCore();
    core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_SA);
    setRegs(core, {});
    core.sp = BigInt(DATA + 8);
    run(core, assemble("ldr x1, [sp]"));
    expectException(core, BigInt(((EC_SP_ALIGN << 26) | (1 << 25)) >>> 0));
    expect(core.x(1)).toBe(X_FILL(1));
  });

  it("the check is on the base SP, so an offset does not matter; writeback may misalign SP", () => {
    const core = makeCore();
    core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_SA);
    setRegs(core, {});
    core.sp = BigInt(DATA);
    run(core, assemble("ldr x1, [sp, #8]", "str x1, [sp, #-8]!", "ldp x2, x3, [sp]"));
    expect(core.sp).toBe(BigInt(DATA - 8));
    expectException(core, BigInt(((EC_SP_ALIGN << 26) | (1 << 25)) >>> 0), undefined, CODE + 8);
    expect(core.x(2)).toBe(X_FILL(2));
  });

  it("with SA clear a misaligned SP is fine, and PRFM never checks", () => {
    const core = makeCore();
    setRegs(core, {});
    core.writePhys(DATA + 8, le([9, 0, 0, 0, 0, 0, 0, 0]));
    core.sp = BigInt(DATA + 8);
    run(core, assemble("ldr x1, [sp]"));
    expect(core.x(1)).toBe(9n);
    core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_SA);
    run(core, assemble("prfm pldl1keep, [sp]", "prfum pstl2strm, [sp, #1]", "mov x5, #5"));
    expect(core.x(5)).toBe(5n);
  });

  it("a register other than SP is never checked", () => {
    const core = makeCore();
    core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_SA);
    core.writePhys(DATA + 8, le([7, 0, 0, 0]));
    setRegs(core, { 0: DATA + 8 });
    run(core, assemble("ldr w1, [x0]"));
    expect(core.x(1)).toBe(7n);
  });

  it("at EL0 SA0 decides, not SA", () => {
    const core = makeCore();
    setupMmu(core);
    setRegs(core, {});
    core.setStateU32(abi.PSTATE_EL, 0);
    core.setStateU32(abi.PSTATE_SPSEL, 0);
    core.sp = BigInt(EL0_BLOCK + 0x1008);
    core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_SA);
    const code = EL0_BLOCK + 0x100; // EL0-executable
    run(core, assemble("ldr x1, [sp]"), code);
    expect(core.el).toBe(0);
    expect(core.x(1)).toBe(0n);
    core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_SA0);
    run(core, assemble("ldr x2, [sp]"), code);
    expect(core.el).toBe(1);
    expectException(core, BigInt(((EC_SP_ALIGN << 26) | (1 << 25)) >>> 0), undefined, code);
  });
});

describe("unprivileged loads and stores (LDTR, STTR)", () => {
  it("at EL1 are checked as EL0 accesses: EL1-only memory gives a permission fault", () => {
    const core = makeCore();
    setupMmu(core);
    core.writePhys(DATA, le([0x11, 0, 0, 0]));
    setRegs(core, { 0: DATA });
    run(core, assemble("ldr w1, [x0]", "ldtr w2, [x0]"));
    expect(core.x(1)).toBe(0x11n);
    expectException(core, dabtEsr({ dfsc: FSC_PERMISSION_L2, isv: { sas: 2, srt: 2, sf: false } }), BigInt(DATA), CODE + 4);
    expect(core.x(2)).toBe(X_FILL(2));
  });

  it("at EL1 reach EL0 memory; STTR to EL1-read-only memory (no EL0 access) faults", () => {
    const core = makeCore();
    setupMmu(core);
    core.writePhys(EL0_BLOCK, le([0x80, 0xff, 0, 0]));
    setRegs(core, { 0: EL0_BLOCK, 3: RO_BLOCK, 4: 0x1234 });
    run(core, assemble("ldtrsh x1, [x0]", "sttrh w4, [x0, #2]", "sttr w4, [x3]"));
    expect(core.x(1)).toBe(0xffff_ffff_ffff_ff80n);
    expect(core.readPhys(EL0_BLOCK, 4)).toEqual(le([0x80, 0xff, 0x34, 0x12]));
    expectException(core, dabtEsr({ dfsc: FSC_PERMISSION_L2, wnr: true, isv: { sas: 2, srt: 4, sf: false } }), BigInt(RO_BLOCK), CODE + 8);
  });

  it("at EL0 behave as ordinary accesses, and their aborts are from a lower EL", () => {
    const core = makeCore();
    setupMmu(core);
    core.writePhys(EL0_BLOCK + 0x800, le([0x42]));
    setRegs(core, { 0: EL0_BLOCK + 0x800, 3: DATA });
    core.setStateU32(abi.PSTATE_EL, 0);
    core.setStateU32(abi.PSTATE_SPSEL, 0);
    const code = EL0_BLOCK + 0x100;
    run(core, assemble("ldtrb w1, [x0]", "ldtrb w2, [x3]"), code);
    expect(core.x(1)).toBe(0x42n);
    expectException(core, dabtEsr({ ec: EC_DABT_LOWER, dfsc: FSC_PERMISSION_L2, isv: { sas: 0, srt: 2, sf: false } }), BigInt(DATA), code + 4);
  });
});

describe("big-endian data (SCTLR_EL1.EE)", () => {
  it("loads, stores and pairs see memory big-endian", () => {
    // (MMU off: the table walk would read descriptors big-endian too.)
    const core = makeCore();
    core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_EE);
    core.writePhys(DATA, le([1, 2, 3, 4, 5, 6, 7, 8]));
    setRegs(core, { 0: DATA, 9: 0x1122_3344_5566_7788n });
    run(core, assemble(
      "ldrh w1, [x0]", "ldrsw x2, [x0, #4]", "ldp w3, w4, [x0]", "ldaxp w5, w6, [x0]", "ldr x7, [x0]", "str x9, [x0, #8]",
    ));
    expect(core.x(1)).toBe(0x0102n);
    expect(core.x(2)).toBe(0x0506_0708n);
    expect([core.x(3), core.x(4)]).toEqual([0x0102_0304n, 0x0506_0708n]);
    expect([core.x(5), core.x(6)]).toEqual([0x0102_0304n, 0x0506_0708n]);
    expect(core.x(7)).toBe(0x0102_0304_0506_0708n);
    expect(core.readPhys(DATA + 8, 8)).toEqual(le([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]));
  });
});

describe("the decode table", () => {
  const rows = allRows().filter((r) => r.module === "ldst");

  it("every row's words decode to that row", () => {
    const core = makeCore();
    const rng = new Rng("ldst-decode");
    const wrong: string[] = [];
    for (const r of rows) {
      for (let i = 0; i < 256; i++) {
        const w = (r.parsed.value | (rng.u32() & ~r.parsed.mask)) >>> 0;
        const op = core.decodeOp(w);
        if (op !== r.op) wrong.push(`${w.toString(16)}: ${r.row.name} decoded as op ${op}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it("unallocated load/store encodings (and every SIMD&FP form) match no load/store row", () => {
    const core = makeCore();
    const rng = new Rng("ldst-unallocated-decode");
    const ldstOps = new Set(rows.map((r) => r.op));
    const spaces = [...UNALLOCATED_LDST, ["V = 1", "xx xx1 1 xx xxxxxxxxxxxxxxxxxxxxxxxx"] as const];
    const wrong: string[] = [];
    for (const [title, pattern] of spaces) {
      const p = parsePattern(pattern);
      for (let i = 0; i < 512; i++) {
        const w = (p.value | (rng.u32() & ~p.mask)) >>> 0;
        if (ldstOps.has(core.decodeOp(w))) wrong.push(`${w.toString(16)} (${title})`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it("decodes familiar instructions to the rows named after them", () => {
    const core = makeCore();
    const opOf = (name: string) => rows.find((r) => r.row.name === name)!.op;
    const named: [string, string][] = [
      ["ldr x1, [x2, #8]", "LDR_uimm"], ["ldp x29, x30, [sp], #16", "LDP_post"], ["stp x29, x30, [sp, #-32]!", "STP_pre"],
      ["stxr w0, x1, [x2]", "STXR"], ["ldaxr w0, [x2]", "LDXR"], ["stlr w1, [x0]", "STLR"], ["prfm pldl1keep, [x1]", "PRFM_uimm"],
      ["ldrsw x0, [x1, x2, lsl #2]", "LDRSW_reg"], ["ldrb w0, [x1, w2, uxtw]", "LDR_reg"], ["ldursh w0, [x1, #-1]", "LDURS"],
      ["ldr x0, .", "LDR_lit"], ["ldtr x0, [x1]", "LDTR"], ["ldnp x0, x1, [x2]", "LDNP"], ["ldpsw x0, x1, [x2]", "LDPSW_off"],
    ];
    for (const [src, name] of named) expect(core.decodeOp(assemble(src)[0]!), src).toBe(opOf(name));
  });
});
