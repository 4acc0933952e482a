// What the oracle's self-tests share (test/diff/reference-*.test.ts): instruction words, a case
// with a distinctive state, and expectations stated from the architecture.

import { expect } from "vitest";
import { type Case, type Result, CODE_VA, DATA_VA, NZCV, SIG, makeCase } from "./case.ts";
import { Rng, randomState } from "./random.ts";
import { runReference as runOn, MAX_CPU, type ReferenceOptions } from "./reference.ts";

// The harness's self-tests pin qemu's behaviour with every feature on (the quirks below are
// those of `-cpu max`); the differential suites use DEFAULT_CPU, the core's own model.
export const runReference = (cases: Case[], options: ReferenceOptions = {}) => runOn(cases, { cpu: MAX_CPU, ...options });

export const M64 = (1n << 64n) - 1n;

// Instruction words (checked against aarch64-linux-gnu-as).
export const I = {
  ADD_X0_X1_X2: 0x8b020020,
  ADDS_X0_X1_X2: 0xab020020,
  LDR_X3_X4: 0xf9400083, // ldr x3, [x4]
  LDR_W3_X4_PRE4: 0xb8404c83, // ldr w3, [x4, #4]!
  STR_X5_X6: 0xf90000c5, // str x5, [x6]
  STP_X1_X2_SP_PRE: 0xa9bf0be1, // stp x1, x2, [sp, #-16]!
  LDR_Q0_X4: 0x3dc00080, // ldr q0, [x4]
  STR_Q1_X6: 0x3d8000c1, // str q1, [x6]
  MOVZ_X7_1234_LSL16: 0xd2a24687,
  B_PLUS8: 0x14000002,
  B_SELF: 0x14000000,
  MOVZ_X0_1: 0xd2800020,
  MOVZ_X1_2: 0xd2800041,
  FADD_D0_D1_D2: 0x1e622820,
  FDIV_S0_S1_S2: 0x1e221820,
  UMOV_X0_V31_D1: 0x4e183fe0,
  MRS_X0_NZCV: 0xd53b4200,
  MRS_X0_FPCR: 0xd53b4400,
  MRS_X1_FPSR: 0xd53b4421,
  MOV_X0_SP: 0x910003e0,
  MOV_SP_X1: 0x9100003f,
  BRK_1: 0xd4200020,
  MSR_TPIDR_EL0_X1: 0xd51bd041,
  MRS_X0_TPIDR_EL0: 0xd53bd040,
  MSR_SCTLR_EL1_X0: 0xd5181000,
  UDF_0: 0x00000000,
  SVC_0: 0xd4000001,
};

/** A case with a distinctive state: every register holds a different, non-zero value. */
export function baseCase(insns: number[], seed = 1): Case {
  const rng = new Rng(seed);
  const c = makeCase(insns, randomState(rng, { pointerRegs: [], offsetRegs: [], memSize: 0x100 }));
  for (let i = 0; i < 31; i++) c.x[i] = (rng.next64() & ~0xfn) | BigInt(i); // distinct
  for (let i = 0; i < 32; i++) c.v[i] = [rng.next64(), rng.next64()];
  c.sp = DATA_VA + 0x8000n;
  c.nzcv = NZCV.N | NZCV.C;
  c.fpcr = 0;
  c.fpsr = 0;
  return c;
}

/** Expect the result to equal the case's state except for the listed changes. */
export function expectState(
  r: Result,
  c: Case,
  changes: { x?: Record<number, bigint>; sp?: bigint; nzcv?: number; v?: Record<number, [bigint, bigint]>; fpsr?: number } = {},
) {
  const x = c.x.map((v, i) => (changes.x?.[i] ?? v) & M64);
  expect(r.x.map((v) => v.toString(16))).toEqual(x.map((v) => v.toString(16)));
  expect(r.sp.toString(16)).toBe(((changes.sp ?? c.sp) & M64).toString(16));
  expect(r.nzcv >>> 0).toBe((changes.nzcv ?? c.nzcv) >>> 0);
  const v = c.v.map((q, i) => changes.v?.[i] ?? q);
  expect(r.v).toEqual(v.map(([lo, hi]) => [lo & M64, hi & M64]));
  expect(r.fpcr).toBe(c.fpcr);
  expect(r.fpsr).toBe(changes.fpsr ?? c.fpsr);
}

export function completed(r: Result, c: Case) {
  expect({ signal: r.signal, pc: r.pc }).toEqual({ signal: SIG.NONE, pc: CODE_VA + 4n * BigInt(c.insns.length) });
}

export async function run1(c: Case): Promise<Result> {
  const [r] = await runReference([c]);
  return r;
}

export function le64(x: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, x & M64, true);
  return b;
}
