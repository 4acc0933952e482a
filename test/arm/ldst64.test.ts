// FEAT_LS64 in the core (arm/decode/ldst64.ts, arm/core/exec/ldst64.ts, arm/core/memory64.ts),
// for what the guest (test/guests/ls64.c) does not reach: big-endian data, the EL0 enables and
// their trap (EC 0x0A), the syndrome a hypervisor sees, a refused device access leaving the
// registers alone, the feature levels, and the translated path. qemu-aarch64 implements no
// FEAT_LS64, so the vectors are worked by hand from the ARM ARM pseudocode
// (LD64B/ST64B/ST64BV/ST64BV0, MemLoad64B, MemStore64BWithRet, CheckLDST64BEnabled).

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { Core, type CoreHost, type MmioOutcome } from "../../arm/host/core.ts";
import { parseCpuFeatures } from "../../arm/host/cpu-features.ts";

const RAM_BASE = 0x8000_0000;
const VBAR = RAM_BASE + 0x800;
const CODE = RAM_BASE + 0x8_0000;
const DATA = RAM_BASE + 0x10_0000;
const DEVICE = 0x0900_0000;
const SCTLR = 0, VBAR_SLOT = 6, ESR = 7, FAR = 8;
const SCTLR_EE = 1n << 25n, SCTLR_ENASR = 1n << 54n, SCTLR_ENALS = 1n << 56n;
const ALL = abi.CPU_FEAT_LS64 | abi.CPU_FEAT_LS64_V | abi.CPU_FEAT_LS64_ACCDATA;

// The words (binutils 2.40 with -march=armv8.7-a+ls64 prints them so).
const LD64B_X0_X1 = 0xf83fd020; // ld64b x0, [x1]
const ST64B_X0_X1 = 0xf83f9020; // st64b x0, [x1]
const ST64BV_X10_X0_X1 = 0xf82ab020; // st64bv x10, x0, [x1]
const MRS_X0_ISAR1 = 0xd5380620; // mrs x0, id_aa64isar1_el1

/** A device at DEVICE that records 64-byte accesses, answers loads with bytes 0x40..0x7f, and stores with status 7. */
class Device implements CoreHost {
  calls: { gpa: number; lengthBytes: number; isWrite: boolean; syndrome: number; bytes: number[] }[] = [];
  answer: MmioOutcome = true;
  core?: Core;
  mmio(_vcpu: number, gpa: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): MmioOutcome {
    this.calls.push({ gpa, lengthBytes, isWrite, syndrome: this.core!.mmioSyndrome, bytes: Array.from(data.subarray(0, lengthBytes)) });
    if (this.answer !== true) return this.answer;
    if (isWrite) new DataView(data.buffer, data.byteOffset).setBigUint64(64, 7n, true);
    else for (let i = 0; i < 64; i++) data[i] = 0x40 + i;
    return true;
  }
  sysreg(): bigint | undefined {
    return undefined;
  }
  counter(): number {
    return 0;
  }
}

function makeCore(features: number, jit = false): { core: Core; device: Device } {
  const device = new Device();
  const core = new Core({ ramBase: RAM_BASE, ramSizeBytes: 4 << 20, host: device, cpuFeatures: features, jit: { enabled: jit, threshold: 0, eager: true } });
  device.core = core;
  core.reset(0);
  core.setSysregSlot(VBAR_SLOT, BigInt(VBAR));
  for (let i = 0; i < 31; i++) core.setX(i, 0x5a5a_0000_0000_0000n | BigInt(i));
  return { core, device };
}

function run(core: Core, insns: number[]): void {
  const bytes = new Uint8Array(insns.length * 4);
  insns.forEach((w, i) => new DataView(bytes.buffer).setUint32(i * 4, w >>> 0, true));
  core.writePhys(CODE, bytes);
  core.pc = BigInt(CODE);
  core.run(insns.length);
}

/** Eight doublewords of bytes `first`, `first + 1`, … in memory order, read little-endian. */
const doublewordsLE = (first: number): bigint[] =>
  Array.from({ length: 8 }, (_, i) => {
    let v = 0n;
    for (let b = 7; b >= 0; b--) v = (v << 8n) | BigInt(first + 8 * i + b);
    return v;
  });

const bswap64 = (v: bigint): bigint => {
  let r = 0n;
  for (let i = 0; i < 8; i++) r = (r << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return r;
};

describe("FEAT_LS64 in the core", () => {
  it("ID_AA64ISAR1_EL1.LS64 counts the levels: 0 by default, then 1, 2, 3", () => {
    const levels = [0, abi.CPU_FEAT_LS64, abi.CPU_FEAT_LS64 | abi.CPU_FEAT_LS64_V, ALL].map((f) => {
      const { core } = makeCore(f);
      run(core, [MRS_X0_ISAR1]);
      return core.x(0) >> 60n;
    });
    expect(levels).toEqual([0n, 1n, 2n, 3n]);
  });

  it("--cpu-features lists add what a feature needs and remove what needs it", () => {
    expect(parseCpuFeatures("+ls64")).toBe(abi.CPU_FEAT_LS64);
    expect(parseCpuFeatures("+ls64_accdata")).toBe(ALL);
    expect(parseCpuFeatures("+ls64_accdata,-ls64_v")).toBe(abi.CPU_FEAT_LS64);
    expect(parseCpuFeatures("")).toBe(0);
    expect(() => parseCpuFeatures("+sve")).toThrow(/invalid CPU feature '\+sve'/);
    expect(() => parseCpuFeatures("ls64")).toThrow(/expected \+name or -name/);
  });

  it("with +ls64 only, LD64B works and ST64BV is UNDEFINED", () => {
    const { core } = makeCore(abi.CPU_FEAT_LS64);
    core.setX(1, BigInt(DATA));
    run(core, [ST64BV_X10_X0_X1]);
    expect(core.sysregSlot(ESR) >> 26n).toBe(0n); // EC_UNKNOWN
    expect(core.pc).toBe(BigInt(VBAR + 0x200));
    const { core: core2 } = makeCore(abi.CPU_FEAT_LS64);
    core2.writePhys(DATA, Uint8Array.from({ length: 64 }, (_, i) => i));
    core2.setX(1, BigInt(DATA));
    run(core2, [LD64B_X0_X1]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => core2.x(i))).toEqual(doublewordsLE(0));
  });

  for (const jit of [false, true]) {
    it(`big-endian data (SCTLR_EL1.EE): each doubleword is byte-reversed${jit ? " (translated)" : ""}`, () => {
      const { core } = makeCore(ALL, jit);
      core.writePhys(DATA, Uint8Array.from({ length: 64 }, (_, i) => i));
      core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_EE);
      core.setX(1, BigInt(DATA));
      run(core, [LD64B_X0_X1]);
      expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => core.x(i))).toEqual(doublewordsLE(0).map(bswap64));
    });
  }

  it("to a device: one 64-byte access whose syndrome has ISV = 0 and ISS.LST; ST64BV gets the device's status", () => {
    const { core, device } = makeCore(ALL);
    core.setX(1, BigInt(DEVICE));
    for (let i = 0; i < 8; i++) core.setX(i === 1 ? 31 : i, 0n); // (x1 is the base)
    run(core, [LD64B_X0_X1]);
    expect(device.calls).toHaveLength(1);
    expect(device.calls[0]).toMatchObject({ gpa: DEVICE, lengthBytes: 64, isWrite: false, syndrome: 2 << 11 });
    expect(core.x(0)).toBe(doublewordsLE(0x40)[0]);
    expect(core.x(7)).toBe(doublewordsLE(0x40)[7]);

    core.setX(1, BigInt(DEVICE));
    for (const i of [0, 2, 3, 4, 5, 6, 7]) core.setX(i, 0x1111_1111_1111_1111n * BigInt(i));
    run(core, [ST64BV_X10_X0_X1]);
    expect(device.calls[1]).toMatchObject({ lengthBytes: 64, isWrite: true, syndrome: (1 << 11) | (1 << 6) });
    expect(device.calls[1]!.bytes.slice(16, 24)).toEqual(Array(8).fill(0x22)); // x2 at bytes 16..23
    expect(core.x(10)).toBe(7n);
  });

  it("a refused device access (external abort) writes no register", () => {
    const { core, device } = makeCore(ALL);
    device.answer = "external-abort";
    core.setX(1, BigInt(DEVICE));
    run(core, [LD64B_X0_X1]);
    expect(core.sysregSlot(ESR)).toBe((0x25n << 26n) | (1n << 25n) | 0x10n);
    expect(core.sysregSlot(FAR)).toBe(BigInt(DEVICE));
    expect(core.x(0)).toBe(0x5a5a_0000_0000_0000n);
    run(core, [ST64BV_X10_X0_X1]);
    expect(core.x(10)).toBe(0x5a5a_0000_0000_000an);
  });

  it("at EL0 the SCTLR_EL1 enables decide: EnALS = 0 traps LD64B to EL1 (EC 0x0A, ISS 2), EnASR = 0 ST64BV (ISS 1)", () => {
    const { core } = makeCore(ALL);
    const el0 = () => {
      core.setStateU32(abi.PSTATE_EL, 0);
      core.setStateU32(abi.PSTATE_SPSEL, 0);
    };
    core.writePhys(DATA, Uint8Array.from({ length: 64 }, (_, i) => i));
    core.setX(1, BigInt(DATA));
    el0();
    run(core, [LD64B_X0_X1]);
    expect(core.sysregSlot(ESR)).toBe((0x0an << 26n) | (1n << 25n) | 2n);
    expect(core.pc).toBe(BigInt(VBAR + 0x400)); // lower EL, synchronous
    el0();
    run(core, [ST64BV_X10_X0_X1]);
    expect(core.sysregSlot(ESR)).toBe((0x0an << 26n) | (1n << 25n) | 1n);

    core.setSysregSlot(SCTLR, core.sysregSlot(SCTLR) | SCTLR_ENALS | SCTLR_ENASR);
    core.setSysregSlot(ESR, 0n);
    el0();
    core.setX(1, BigInt(DATA));
    run(core, [LD64B_X0_X1]);
    expect(core.x(7)).toBe(doublewordsLE(0)[7]);
    core.setX(1, BigInt(DATA + 64));
    run(core, [ST64B_X0_X1]);
    expect(core.sysregSlot(ESR)).toBe(0n); // no exception this time
    expect(core.el).toBe(0);
    expect(Array.from(core.readPhys(DATA + 64 + 56, 8))).toEqual([56, 57, 58, 59, 60, 61, 62, 63]); // x7, stored
  });
});
