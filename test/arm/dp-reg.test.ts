// Direct tests of ARM ARM C4.1.5 Data Processing -- Register: one instruction, assembled by
// aarch64-linux-gnu-as, run on the core with chosen register values; the expected results
// are worked out from the ARM ARM. The differential test (dp-reg.diff.test.ts) covers the
// rest of the encoding space against qemu.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as abi from "../../arm/abi.ts";
import { Core, type CoreHost } from "../../arm/host/core.ts";
import { allRows } from "../../arm/decode/index.ts";
import { dataProcessingRegister } from "../../arm/decode/dp-reg.ts";
import { matches, popcount } from "../../arm/decode/table.ts";

const RAM_BASE = 0x8000_0000;
const LOAD = RAM_BASE + 0x80000;
const VBAR = RAM_BASE + 0x1000;
const VBAR_SLOT = 6;
const ESR_SLOT = 7;
const M64 = (1n << 64n) - 1n;
const N = 0x8000_0000, Z = 0x4000_0000, C = 0x2000_0000, V = 0x1000_0000;

const quietHost: CoreHost = { mmio: () => true, sysreg: () => undefined, counter: () => 0 };

/** Assembles one instruction per line (ARMv8.0 plus CRC) and returns the words. */
function assemble(lines: string[], march = "armv8-a+crc"): number[] {
  const dir = mkdtempSync(join(tmpdir(), "dp-reg-"));
  try {
    writeFileSync(join(dir, "t.s"), lines.join("\n") + "\n");
    execFileSync("aarch64-linux-gnu-as", [`-march=${march}`, "-o", join(dir, "t.o"), join(dir, "t.s")]);
    execFileSync("aarch64-linux-gnu-objcopy", ["-O", "binary", "-j", ".text", join(dir, "t.o"), join(dir, "t.bin")]);
    const b = readFileSync(join(dir, "t.bin"));
    return Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(i * 4));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Vector {
  asm: string;
  /** Initial registers by number (31 = SP); values may be negative. */
  regs?: Record<number, bigint>;
  nzcv?: number;
  /** Expected registers by number (31 = SP). */
  want?: Record<number, bigint>;
  wantNzcv?: number;
  /** Expect UNDEFINED (an exception to VBAR_EL1 + 0x200 with ESR.EC = 0). */
  undefined?: boolean;
}

let core: Core;

function runOne(word: number, v: Vector): void {
  core.reset(0);
  core.setSysregSlot(VBAR_SLOT, BigInt(VBAR));
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, word >>> 0, true);
  core.writePhys(LOAD, b);
  core.pc = BigInt(LOAD);
  for (const [n, val] of Object.entries(v.regs ?? {})) {
    if (Number(n) === 31) core.sp = BigInt.asUintN(64, val);
    else core.setX(Number(n), BigInt.asUintN(64, val));
  }
  core.nzcv = v.nzcv ?? 0;
  expect(core.run(1)).toBe(abi.EXIT_BUDGET);
}

const vectors: Vector[] = [
  // ---- logical (shifted register) ----
  { asm: "and x0, x1, x2, lsl #4", regs: { 1: 0xff0n, 2: 0x0fn }, want: { 0: 0xf0n } },
  { asm: "bic w0, w1, w2, ror #4", regs: { 1: -1n, 2: 0x1n }, want: { 0: 0xefffffffn } },
  { asm: "orn x0, xzr, x2, asr #63", regs: { 2: 1n << 63n }, want: { 0: 0n } },
  { asm: "eon w0, w1, w2", regs: { 1: 0x12345678n, 2: 0n }, want: { 0: 0xedcba987n } },
  { asm: "eor x0, x1, x2, lsr #32", regs: { 1: 1n, 2: -1n }, want: { 0: 0xfffffffen } },
  { asm: "ands w0, w1, w2, asr #31", regs: { 1: 0x8000_0000n, 2: 0x8000_0000n }, want: { 0: 0x8000_0000n }, wantNzcv: N },
  { asm: "bics x0, x1, x1", regs: { 1: 5n }, nzcv: C | V, want: { 0: 0n }, wantNzcv: Z },
  { asm: "tst x1, x2", regs: { 1: 0xf0n, 2: 0x0fn }, wantNzcv: Z },
  { asm: "mov w0, w1", regs: { 0: -1n, 1: -1n }, want: { 0: 0xffffffffn } },
  { asm: "mov x0, x1", regs: { 1: -1n }, want: { 0: M64 } },
  { asm: ".inst 0x0a028020 // and w0, w1, w2, lsl #32 (imm6<5> = 1 with sf = 0)", undefined: true },

  // ---- add/subtract (shifted register) ----
  { asm: "add x0, x1, x2, lsl #63", regs: { 1: 1n, 2: 1n }, want: { 0: (1n << 63n) + 1n } },
  { asm: "sub w0, w1, w2, asr #1", regs: { 1: 0n, 2: 0x8000_0000n }, want: { 0: 0x40000000n } },
  { asm: "neg x0, x1", regs: { 1: 1n }, want: { 0: M64 } },
  { asm: "adds x0, x1, x2", regs: { 1: -1n, 2: 1n }, want: { 0: 0n }, wantNzcv: Z | C },
  { asm: "adds w0, w1, w2", regs: { 1: 0x7fff_ffffn, 2: 1n }, want: { 0: 0x8000_0000n }, wantNzcv: N | V },
  { asm: "subs x0, x1, x2", regs: { 1: 0n, 2: 1n }, want: { 0: M64 }, wantNzcv: N },
  { asm: "cmp w1, w2, lsr #4", regs: { 1: 0x10n, 2: 0x100n }, wantNzcv: Z | C },
  { asm: "cmn x1, x2", regs: { 1: 1n << 63n, 2: 1n << 63n }, wantNzcv: Z | C | V },
  { asm: ".inst 0x8bc20020 // add x0, x1, x2, <shift 0b11>", undefined: true },
  { asm: ".inst 0x0b028020 // add w0, w1, w2, lsl #32", undefined: true },
  { asm: ".inst 0x6b42fc20 // subs w0, w1, w2, lsr #63", undefined: true },

  // ---- add/subtract (extended register): Rn and (non-flag) Rd = 31 are SP ----
  { asm: "add sp, sp, w1, uxtb #2", regs: { 31: 0x1000n, 1: 0x1ffn }, want: { 31: 0x13fcn } },
  { asm: "add x0, sp, x1", regs: { 31: 0x1000n, 1: 0x10n }, want: { 0: 0x1010n } },
  { asm: "sub x0, x1, w2, sxtw #4", regs: { 1: 0n, 2: 0xffff_ffffn }, want: { 0: 16n } },
  { asm: "add w0, w1, w2, sxth", regs: { 1: 0n, 2: 0x8000n }, want: { 0: 0xffff8000n } },
  { asm: "add x0, x1, w2, sxtb #1", regs: { 1: 0n, 2: 0x80n }, want: { 0: -256n & M64 } },
  { asm: "add x0, x1, x2, sxtx #3", regs: { 1: 1n, 2: -1n }, want: { 0: -7n & M64 } },
  { asm: "adds x0, sp, w1, uxth", regs: { 31: -1n, 1: 0x10001n }, want: { 0: 0n }, wantNzcv: Z | C },
  { asm: "cmp sp, x1", regs: { 31: 5n, 1: 5n }, wantNzcv: Z | C },
  { asm: "subs w0, wsp, w1, uxtw", regs: { 31: 0x1_0000_0000n, 1: 1n }, want: { 0: 0xffffffffn }, wantNzcv: N },
  { asm: ".inst 0x8b223420 // add x0, x1, w2, uxth #5", undefined: true },

  // ---- add/subtract with carry ----
  { asm: "adc x0, x1, x2", regs: { 1: 1n, 2: 2n }, nzcv: C, want: { 0: 4n } },
  { asm: "sbc w0, w1, w2", regs: { 1: 5n, 2: 3n }, nzcv: 0, want: { 0: 1n } },
  { asm: "adcs x0, x1, x2", regs: { 1: -1n, 2: 0n }, nzcv: C, want: { 0: 0n }, wantNzcv: Z | C },
  { asm: "sbcs w0, w1, w2", regs: { 1: 0n, 2: 0n }, nzcv: 0, want: { 0: 0xffffffffn }, wantNzcv: N },
  { asm: "ngcs x0, x1", regs: { 1: 0n }, nzcv: C, want: { 0: 0n }, wantNzcv: Z | C },

  // ---- conditional compare ----
  { asm: "ccmp x1, x2, #0b0101, eq", regs: { 1: 3n, 2: 3n }, nzcv: Z, wantNzcv: Z | C },
  { asm: "ccmp x1, x2, #0b0101, ne", regs: { 1: 3n, 2: 3n }, nzcv: Z, wantNzcv: 0x5000_0000 },
  { asm: "ccmn w1, #31, #0, al", regs: { 1: -31n }, wantNzcv: Z | C },
  { asm: "ccmp w1, #1, #0b1000, nv", regs: { 1: 0x8000_0000n }, wantNzcv: C | V },

  // ---- conditional select ----
  { asm: "csel x0, x1, x2, eq", regs: { 1: 1n, 2: 2n }, nzcv: Z, want: { 0: 1n } },
  { asm: "csinc w0, w1, w2, eq", regs: { 1: 1n, 2: 0xffff_ffffn }, nzcv: 0, want: { 0: 0n } },
  { asm: "csinv x0, x1, x2, lt", regs: { 1: 1n, 2: 0n }, nzcv: N, want: { 0: 1n } },
  { asm: "csinv x0, x1, x2, lt", regs: { 1: 1n, 2: 0n }, nzcv: N | V, want: { 0: M64 } },
  { asm: "csneg w0, w1, w2, hi", regs: { 1: 1n, 2: 5n }, nzcv: C | Z, want: { 0: 0xfffffffbn } },
  { asm: "cset x0, ge", nzcv: N | V, want: { 0: 1n } },
  { asm: ".inst 0x9a820820 // csel with op2 = 0b10", undefined: true },

  // ---- data-processing (1 source) ----
  { asm: "rbit x0, x1", regs: { 1: 1n }, want: { 0: 1n << 63n } },
  { asm: "rbit w0, w1", regs: { 1: 0x1_0000_0003n }, want: { 0: 0xc0000000n } },
  { asm: "rev16 x0, x1", regs: { 1: 0x0102030405060708n }, want: { 0: 0x0201040306050807n } },
  { asm: "rev16 w0, w1", regs: { 1: 0x0102030405060708n }, want: { 0: 0x06050807n } },
  { asm: "rev32 x0, x1", regs: { 1: 0x0102030405060708n }, want: { 0: 0x0403020108070605n } },
  { asm: "rev w0, w1", regs: { 1: 0x0102030405060708n }, want: { 0: 0x08070605n } },
  { asm: "rev x0, x1", regs: { 1: 0x0102030405060708n }, want: { 0: 0x0807060504030201n } },
  { asm: "clz x0, x1", regs: { 1: 0n }, want: { 0: 64n } },
  { asm: "clz w0, w1", regs: { 1: 0x1_0000_0000n }, want: { 0: 32n } },
  { asm: "clz x0, x1", regs: { 1: 0x10n }, want: { 0: 59n } },
  { asm: "cls x0, x1", regs: { 1: -1n }, want: { 0: 63n } },
  { asm: "cls x0, x1", regs: { 1: 0n }, want: { 0: 63n } },
  { asm: "cls w0, w1", regs: { 1: 0xffff_ff00n }, want: { 0: 23n } },
  { asm: "cls x0, x1", regs: { 1: 1n << 62n }, want: { 0: 0n } },
  { asm: ".inst 0x5ac00c20 // rev with sf = 0 and opc = 0b11", undefined: true },

  // ---- data-processing (2 source) ----
  { asm: "udiv x0, x1, x2", regs: { 1: -1n, 2: 2n }, want: { 0: M64 >> 1n } },
  { asm: "udiv w0, w1, w2", regs: { 0: 7n, 1: 5n, 2: 0x1_0000_0000n }, want: { 0: 0n } },
  { asm: "sdiv x0, x1, x2", regs: { 1: 1n << 63n, 2: -1n }, want: { 0: 1n << 63n } },
  { asm: "sdiv w0, w1, w2", regs: { 1: 0x8000_0000n, 2: 0xffff_ffffn }, want: { 0: 0x8000_0000n } },
  { asm: "sdiv x0, x1, x2", regs: { 0: 7n, 1: 5n, 2: 0n }, want: { 0: 0n } },
  { asm: "sdiv w0, w1, w2", regs: { 1: -7n, 2: 2n }, want: { 0: 0xfffffffdn } },
  { asm: "lsl x0, x1, x2", regs: { 1: 1n, 2: 65n }, want: { 0: 2n } },
  { asm: "lsr w0, w1, w2", regs: { 1: 0x8000_0000n, 2: 0x3fn }, want: { 0: 1n } },
  { asm: "asr w0, w1, w2", regs: { 1: 0x8000_0000n, 2: 31n }, want: { 0: 0xffffffffn } },
  { asm: "asr x0, x1, x2", regs: { 1: 1n << 63n, 2: 63n }, want: { 0: M64 } },
  { asm: "ror x0, x1, x2", regs: { 1: 1n, 2: 1n }, want: { 0: 1n << 63n } },
  { asm: "ror w0, w1, w2", regs: { 1: 1n, 2: 33n }, want: { 0: 0x8000_0000n } },
  // zlib's CRC-32 of "12345678" is 0x9ae0daaf: the instruction from all ones, then inverted.
  { asm: "crc32x w0, w1, x2", regs: { 1: 0xffff_ffffn, 2: 0x3837363534333231n }, want: { 0: 0x651f2550n } },
  // Table entry 1 of each polynomial (0x04C11DB7 and 0x1EDC6F41, bit-reversed).
  { asm: "crc32b w0, w1, w2", regs: { 1: 0n, 2: 0x100n }, want: { 0: 0n } },
  { asm: "crc32b w0, w1, w2", regs: { 1: 0n, 2: 1n }, want: { 0: 0x77073096n } },
  { asm: "crc32cb w0, w1, w2", regs: { 1: 0n, 2: 1n }, want: { 0: 0xf26b8303n } },
  { asm: ".inst 0x1ac24c20 // crc32x with sf = 0 (w0, w1, w2)", undefined: true },
  { asm: ".inst 0x9ac24020 // crc32b with sf = 1", undefined: true },

  // ---- data-processing (3 source) ----
  { asm: "madd x0, x1, x2, x3", regs: { 1: 3n, 2: 4n, 3: 5n }, want: { 0: 17n } },
  { asm: "msub w0, w1, w2, w3", regs: { 1: 3n, 2: 4n, 3: 5n }, want: { 0: 0xfffffff9n } },
  { asm: "mul x0, x1, x2", regs: { 1: 1n << 32n, 2: 1n << 32n }, want: { 0: 0n } },
  { asm: "mneg w0, w1, w2", regs: { 1: 1n, 2: 1n }, want: { 0: 0xffffffffn } },
  { asm: "smaddl x0, w1, w2, x3", regs: { 1: -2n, 2: 3n, 3: 10n }, want: { 0: 4n } },
  { asm: "smsubl x0, w1, w2, x3", regs: { 1: 0x8000_0000n, 2: 0x8000_0000n, 3: 0n }, want: { 0: -(1n << 62n) & M64 } },
  { asm: "umaddl x0, w1, w2, x3", regs: { 1: -1n, 2: -1n, 3: 0n }, want: { 0: 0xfffffffe00000001n } },
  { asm: "umsubl x0, w1, w2, x3", regs: { 1: 2n, 2: 3n, 3: 0n }, want: { 0: -6n & M64 } },
  { asm: "umulh x0, x1, x2", regs: { 1: -1n, 2: -1n }, want: { 0: M64 - 1n } },
  { asm: "umulh x0, x1, x2", regs: { 1: 1n << 63n, 2: 2n }, want: { 0: 1n } },
  { asm: "smulh x0, x1, x2", regs: { 1: -1n, 2: -1n }, want: { 0: 0n } },
  { asm: "smulh x0, x1, x2", regs: { 1: 1n << 63n, 2: 1n << 63n }, want: { 0: 1n << 62n } },
  { asm: "smulh x0, x1, x2", regs: { 1: -3n, 2: 5n }, want: { 0: M64 } },
  { asm: ".inst 0x1b220c20 // smaddl with sf = 0", undefined: true },
  { asm: ".inst 0x9b428c20 // smulh with o0 = 1", undefined: true },
];

describe("data processing (register)", () => {
  let words: number[] = [];
  beforeAll(() => {
    words = assemble(vectors.map((v) => v.asm.replace(/\/\/.*$/, "")));
    core = new Core({ ramBase: RAM_BASE, ramSizeBytes: 4 << 20, host: quietHost });
  });

  vectors.forEach((v, i) => {
    it(`${v.asm} ${v.undefined ? "is UNDEFINED" : "computes the ARM ARM result"}`, () => {
      runOne(words[i]!, v);
      if (v.undefined) {
        expect(core.pc).toBe(BigInt(VBAR + 0x200));
        expect(core.sysregSlot(ESR_SLOT)).toBe(0x02000000n);
        return;
      }
      expect(core.pc).toBe(BigInt(LOAD + 4));
      for (const [n, val] of Object.entries(v.want ?? {})) {
        const got = Number(n) === 31 ? core.sp : core.x(Number(n));
        expect(got.toString(16), `register ${n}`).toBe(BigInt.asUintN(64, val).toString(16));
      }
      if (v.wantNzcv !== undefined) expect(core.nzcv.toString(16)).toBe((v.wantNzcv >>> 0).toString(16));
    });
  });

  it("leaves the ARMv8.1+ encodings of this space unallocated (PAC, MTE, flag manipulation, CSSC)", () => {
    const later = assemble(
      [
        "pacia x1, x2", "autia x1, x2", "xpaci x1", "pacga x1, x2, x3", "rmif x1, #3, #4", "setf8 w1",
        "setf16 w1", "irg x1, x2, x3", "gmi x1, x2, x3", "subp x1, x2, x3", "subps x1, x2, x3",
      ],
      "armv8.5-a+memtag",
    );
    // CSSC (ARMv8.9), which this assembler predates: ABS, CNT, CTZ x1, x2; SMAX, UMIN x1, x2, x3.
    later.push(0xdac02041, 0xdac01c41, 0xdac01841, 0x9ac36041, 0x9ac36c41);
    for (const w of later) expect(core.decodeOp(w), w.toString(16)).toBe(0);
  });

  it("decodes every word a row matches to that row, or to a more specific row that also matches", () => {
    const rows = allRows();
    const ours = rows.filter((r) => dataProcessingRegister.rows.includes(r.row));
    let seed = 0x12345678;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (const r of ours) {
      for (let i = 0; i < 200; i++) {
        const w = ((r.parsed.value | (((next() << 16) ^ next()) & ~r.parsed.mask)) >>> 0);
        const op = core.decodeOp(w);
        const got = rows[op - 1];
        expect(got, `${r.row.name} ${w.toString(16)}`).toBeDefined();
        if (got!.op !== r.op) {
          expect(matches(got!.parsed, w)).toBe(true);
          expect(popcount(got!.parsed.mask)).toBeGreaterThan(popcount(r.parsed.mask));
        }
      }
    }
  });
});
