// The PMU (arm/core/pmu.ts) through the core's interface: counts that do not depend on where
// run() calls end (the last instruction of a run() is counted when it returns), and the
// overflow interrupt as an exit (EXIT_PMU) with its level in the state area. The guest-level
// behaviour is test/machine/pmu.test.ts.

import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { Core, type CoreHost } from "../../arm/host/core.ts";

const RAM_BASE = 0x8000_0000;
const LOAD = RAM_BASE + 0x80000;
const host: CoreHost = { mmio: () => true, sysreg: () => undefined, counter: () => 0 };

/** MSR/MRS <op0, op1, CRn, CRm, op2>, Xt. */
const sysreg = (read: boolean, op0: number, op1: number, crn: number, crm: number, op2: number, rt: number) =>
  (0xd5100000 | (read ? 1 << 21 : 0) | ((op0 - 2) << 19) | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | rt) >>> 0;
const MOVZ_X0 = (imm: number) => (0xd2800000 | (imm << 5)) >>> 0;
const MOVN_W0_0 = 0x12800000; // w0 = 0xffffffff
const NOP = 0xd503201f;
const HVC_0 = 0xd4000002;
const PMCR = [3, 3, 9, 12, 0] as const;
const PMCNTENSET = [3, 3, 9, 12, 1] as const;
const PMINTENSET = [3, 0, 9, 14, 1] as const;
const PMEVTYPER0 = [3, 3, 14, 12, 0] as const;
const PMEVCNTR0 = [3, 3, 14, 8, 0] as const;
const msr = (r: readonly [number, number, number, number, number], rt = 0) => sysreg(false, ...r, rt);
const mrs = (r: readonly [number, number, number, number, number], rt: number) => sysreg(true, ...r, rt);

function core(program: number[], features = abi.CPU_FEAT_PMU): Core {
  const c = new Core({ ramBase: RAM_BASE, ramSizeBytes: 16 << 20, host, cpuFeatures: features });
  c.reset(0);
  c.pc = BigInt(LOAD);
  const b = new Uint8Array(program.length * 4);
  const v = new DataView(b.buffer);
  program.forEach((w, i) => v.setUint32(i * 4, w, true));
  c.writePhys(LOAD, b);
  return c;
}

/** Counter 0 counts INST_RETIRED; ten NOPs run with PMCR.E set; x1 = the count after them. */
const COUNT_TEN = [
  MOVZ_X0(1), msr(PMCNTENSET),
  MOVZ_X0(0x08), msr(PMEVTYPER0),
  MOVZ_X0(1), msr(PMCR),
  ...Array<number>(10).fill(NOP),
  mrs(PMEVCNTR0, 1),
  HVC_0,
];

describe("the PMU through the core's interface", () => {
  it("counts the ten NOPs exactly (the arming MSR not counted), in one run()", () => {
    const c = core(COUNT_TEN);
    expect(c.run(1000)).toBe(abi.EXIT_HVC);
    expect(c.x(1)).toBe(10n);
  });

  it("counts the same when every run() executes one instruction", () => {
    const c = core(COUNT_TEN);
    let exit = abi.EXIT_BUDGET;
    for (let i = 0; i < 100 && exit === abi.EXIT_BUDGET; i++) exit = c.run(1);
    expect(exit).toBe(abi.EXIT_HVC);
    expect(c.x(1)).toBe(10n);
  });

  it("an overflow with its interrupt enabled ends run() with EXIT_PMU and raises the level", () => {
    const c = core([
      MOVZ_X0(1), msr(PMCNTENSET), msr(PMINTENSET),
      MOVZ_X0(0x08), msr(PMEVTYPER0),
      MOVN_W0_0, msr(PMEVCNTR0),
      MOVZ_X0(1), msr(PMCR),
      NOP, NOP, NOP,
      HVC_0,
    ]);
    expect(c.pmuInterrupt()).toBe(false);
    expect(c.run(1000)).toBe(abi.EXIT_PMU);
    expect(c.pmuInterrupt()).toBe(true);
    // The first NOP overflowed the counter; the exit comes before the second runs.
    expect(c.pc).toBe(BigInt(LOAD + 10 * 4));
  });

  it("without the feature, PMCR_EL0 is UNDEFINED", () => {
    const c = core([msr(PMCR)], 0);
    const VBAR_SLOT = 6, ESR_SLOT = 7;
    c.setSysregSlot(VBAR_SLOT, BigInt(RAM_BASE + 0x1000));
    c.writePhys(RAM_BASE + 0x1200, new Uint8Array([0x02, 0x00, 0x00, 0xd4])); // HVC #0 at the sync vector
    expect(c.run(10)).toBe(abi.EXIT_HVC);
    expect(c.sysregSlot(ESR_SLOT)).toBe(0x02000000n); // EC 0 (unknown), IL 1
  });
});
