import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { Core, type CoreHost } from "../../arm/host/core.ts";

const RAM_BASE = 0x8000_0000;
const LOAD = RAM_BASE + 0x80000;

const quietHost: CoreHost = {
  mmio: () => true,
  sysreg: () => undefined,
  counter: () => 0,
};

function makeCore(): Core {
  const core = new Core({ ramBase: RAM_BASE, ramSizeBytes: 16 << 20, host: quietHost });
  core.reset(0);
  core.pc = BigInt(LOAD);
  return core;
}

function words(...insns: number[]): Uint8Array {
  const b = new Uint8Array(insns.length * 4);
  const v = new DataView(b.buffer);
  insns.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
  return b;
}

describe("core", () => {
  it("runs a cross-compiled bare-metal program to its HVC and leaves the architectural results", () => {
    const core = makeCore();
    core.writePhys(LOAD, readFileSync("build/guests/arith.bin"));
    expect(core.run(1000)).toBe(abi.EXIT_HVC);
    expect(core.exitImm).toBe(0x42);
    expect(core.x(0)).toBe(0x12345678n);
    expect(core.x(1)).toBe(0x12345688n);
    expect(core.x(2)).toBe(0x12344688n);
    expect(core.x(3)).toBe(0xffffffffn); // MOVN W3, #0 zero-extends
    expect(core.x(4)).toBe(0xff00ff00ff00ff00n);
    expect(core.x(5)).toBe(0xff00n);
    expect(core.x(6)).toBe(0x34n);
    expect(core.x(7)).toBe(0xffffffffffffffffn);
    expect(core.x(8)).toBe(0x1234567800000000n); // (x0:x1) >> 32
    expect(core.x(9)).toBe(BigInt(LOAD));
    expect(core.pc).toBe(BigInt(LOAD + 11 * 4 + 4)); // past the HVC
  });

  it("agrees with the cross assembler on which words the decoder knows", () => {
    // Every instruction objdump decodes in the test program must decode to a row.
    const dump = execFileSync("aarch64-linux-gnu-objdump", ["-d", "build/guests/arith.elf"], { encoding: "utf8" });
    const core = makeCore();
    const found = [...dump.matchAll(/^\s*[0-9a-f]+:\s+([0-9a-f]{8})\s/gm)].map((m) => parseInt(m[1]!, 16));
    expect(found.length).toBeGreaterThan(10);
    for (const w of found) expect(core.decodeOp(w), w.toString(16)).toBeGreaterThan(0);
  });

  it("takes UNDEFINED for an unallocated word, to VBAR_EL1 + 0x200 with ESR.EC = 0", () => {
    const core = makeCore();
    const VBAR_SLOT = 6, ESR_SLOT = 7, ELR_SLOT = 9;
    core.setSysregSlot(VBAR_SLOT, BigInt(RAM_BASE + 0x1000));
    core.writePhys(RAM_BASE + 0x1200, words(0xd4000002)); // HVC #0 at the current-EL SPx sync vector
    core.writePhys(LOAD, words(0x00000000)); // UDF #0
    expect(core.run(10)).toBe(abi.EXIT_HVC);
    expect(core.sysregSlot(ESR_SLOT)).toBe(0x02000000n); // EC 0, IL 1
    expect(core.sysregSlot(ELR_SLOT)).toBe(BigInt(LOAD));
  });

  it("offers the GICv3 system registers unless told the GIC is a GICv2: then ID_AA64PFR0_EL1.GIC = 0 and ICC_* are UNDEFINED", () => {
    for (const gicSystemRegisters of [true, false]) {
      const asked: number[] = [];
      const host: CoreHost = { ...quietHost, sysreg: (_v, enc) => (asked.push(enc), 0x80n) };
      const core = new Core({ ramBase: RAM_BASE, ramSizeBytes: 16 << 20, host, gicSystemRegisters });
      core.reset(0);
      core.pc = BigInt(LOAD);
      const VBAR_SLOT = 6, ESR_SLOT = 7;
      core.setSysregSlot(VBAR_SLOT, BigInt(RAM_BASE + 0x1000));
      core.writePhys(RAM_BASE + 0x1200, words(0xd4000002)); // HVC #0 at the current-EL SPx sync vector
      // MRS X0, ID_AA64PFR0_EL1; MRS X1, ICC_PMR_EL1; HVC #1
      core.writePhys(LOAD, words(0xd5380400, 0xd5384601, 0xd4000022));
      expect(core.run(10)).toBe(abi.EXIT_HVC);
      expect((core.x(0) >> 24n) & 0xfn).toBe(gicSystemRegisters ? 1n : 0n);
      if (gicSystemRegisters) {
        expect(core.exitImm).toBe(1);
        expect(core.x(1)).toBe(0x80n);
        expect(asked).toHaveLength(1);
      } else {
        expect(core.exitImm).toBe(0); // the UNDEFINED vector's HVC
        expect(core.sysregSlot(ESR_SLOT) >> 26n).toBe(0n); // EC 0: unknown
        expect(asked).toEqual([]);
      }
    }
  });

  it("counts a budget exit in a tight loop", () => {
    const core = makeCore();
    core.writePhys(LOAD, words(0x14000000)); // b .
    expect(core.run(5000)).toBe(abi.EXIT_BUDGET);
    expect(core.exitInsns).toBe(5000);
    expect(core.pc).toBe(BigInt(LOAD));
  });
});
