// The core side of the differential suite: runs a Case on our AArch64 core the way the
// reference harness runs it under qemu-aarch64 — at EL0, with only the CODE and DATA pages
// mapped (identity, 4 KiB pages), Linux's user-mode SCTLR settings and TBI0 — and turns the
// exception that ends it into the signal Linux would deliver.
//
// With the JIT (`runOnCore(k, { jit: true })`, or every call when LKVM_DIFF_JIT=1 is set in the
// environment) the case runs as translated code: threshold 0 and eager translation, so every
// block is translated before it first runs (docs/jit.md, Measuring).

import * as abi from "../../../arm/abi.ts";
import { Core, type CoreHost } from "../../../arm/host/core.ts";
import {
  CODE_VA, CODE_SIZE, DATA_VA, DATA_SIZE, END_BRK, SIG, initialData, diffMem, makeResult,
  type Case, type Result, type V128,
} from "./case.ts";

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 4 << 20;
const VECTORS = RAM_BASE + 0x10_0000; // EL1-only page of HVC stubs
const TABLES = RAM_BASE + 0x20_0000; // page tables: L0, L1, L2, L3 one page each
const EL1_STACK = RAM_BASE + 0x30_0000;
/** How many instructions a case may run before it counts as a timeout. */
const BUDGET = 100_000;

// Sysreg slots (arm/core/sysregs.ts).
const SCTLR = 0, TCR = 1, TTBR0 = 2, MAIR = 4, VBAR = 6, ESR = 7, FAR = 8, ELR = 9, SPSR = 10, CPACR = 15;

// SCTLR_EL1 as Linux runs user space: M, C, SA, SA0, I, DZE, UCT, nTWI, nTWE, UCI, plus RES1.
const SCTLR_USER =
  (1n << 0n) | (1n << 2n) | (1n << 3n) | (1n << 4n) | (1n << 12n) | (1n << 14n) | (1n << 15n) |
  (1n << 16n) | (1n << 18n) | (1n << 26n) | (1n << 29n) | (1n << 28n) | (1n << 23n) | (1n << 22n) |
  (1n << 20n) | (1n << 11n);
// TCR_EL1: T0SZ = 16 (48-bit), 4K granule, EPD1 (no TTBR1 walks), IPS = 48 bits, TBI0.
const TCR_USER = 16n | (1n << 23n) | (5n << 32n) | (1n << 37n);

const host: CoreHost = {
  mmio: () => true,
  sysreg: () => undefined,
  counter: () => 0,
};

/** One core for interpreted runs, one for runs with the JIT forced on. */
const cores: { interp?: Core; jit?: Core } = {};

/** LKVM_DIFF_JIT=1: every case runs through the JIT unless the caller says otherwise. */
export const JIT_BY_ENV = process.env.LKVM_DIFF_JIT === "1";

export interface RunOptions {
  /** Run the case as translated code (JIT threshold 0, eager translation). */
  jit?: boolean;
}

function pageDescriptor(pa: number, el0Writable: boolean, el0Exec: boolean, el1Only: boolean): bigint {
  const ap = el1Only ? 0n : el0Writable ? 1n : 3n; // AP[2:1]
  const uxn = el0Exec ? 0n : 1n;
  return BigInt(pa) | 3n | (ap << 6n) | (3n << 8n) | (1n << 10n) | (uxn << 54n);
}

function buildTables(c: Core): void {
  const ram = c.ram();
  ram.fill(0, TABLES - RAM_BASE, TABLES - RAM_BASE + 4 * 4096);
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const put = (table: number, index: number, v: bigint) => view.setBigUint64(table - RAM_BASE + index * 8, v, true);
  const [l0, l1, l2, l3] = [TABLES, TABLES + 0x1000, TABLES + 0x2000, TABLES + 0x3000];
  const va = Number(CODE_VA);
  put(l0, Math.floor(va / 2 ** 39) % 512, BigInt(l1) | 3n);
  put(l1, Math.floor(va / 2 ** 30) % 512, BigInt(l2) | 3n);
  put(l2, Math.floor(va / 2 ** 21) % 512, BigInt(l3) | 3n);
  const l3Index = (a: number) => Math.floor(a / 4096) % 512;
  for (let a = va; a < va + CODE_SIZE; a += 4096) put(l3, l3Index(a), pageDescriptor(a, true, true, false));
  for (let a = Number(DATA_VA); a < Number(DATA_VA) + DATA_SIZE; a += 4096) put(l3, l3Index(a), pageDescriptor(a, true, false, false));
  put(l3, l3Index(VECTORS), pageDescriptor(VECTORS, false, false, true));
}

function buildVectors(c: Core): void {
  // Each of the 16 vector entries is `HVC #index`, so the exit says which vector was taken.
  const words = new Uint8Array(0x800);
  const v = new DataView(words.buffer);
  for (let i = 0; i < 16; i++) v.setUint32(i * 0x80, (0xd4000002 | (i << 5)) >>> 0, true);
  c.writePhys(VECTORS, words);
}

/** The core the runner uses for interpreted (jit = false) or translated runs. */
export function runnerCore(jit: boolean): Core {
  return setup(jit);
}

function setup(jit: boolean): Core {
  let core = jit ? cores.jit : cores.interp;
  if (!core) {
    core = new Core({
      ramBase: RAM_BASE,
      ramSizeBytes: RAM_SIZE,
      host,
      jit: jit ? { enabled: true, threshold: 0, eager: true } : undefined,
    });
    buildVectors(core);
    if (jit) cores.jit = core;
    else cores.interp = core;
  }
  return core;
}

function loadCase(c: Core, k: Case): void {
  c.reset(0);
  c.ram().fill(0, 0, 0x20000);
  buildTables(c);
  const code = new DataView(new ArrayBuffer(CODE_SIZE));
  k.insns.forEach((w, i) => code.setUint32(i * 4, w >>> 0, true));
  code.setUint32(k.insns.length * 4, END_BRK, true);
  c.writePhys(Number(CODE_VA), new Uint8Array(code.buffer));
  c.writePhys(Number(DATA_VA), initialData(k.mem));
  c.setSysregSlot(MAIR, 0xffn);
  c.setSysregSlot(TCR, TCR_USER);
  c.setSysregSlot(TTBR0, BigInt(TABLES));
  c.setSysregSlot(VBAR, BigInt(VECTORS));
  c.setSysregSlot(CPACR, 3n << 20n);
  c.setSysregSlot(SCTLR, SCTLR_USER);
  k.x.forEach((v, i) => c.setX(i, v));
  // EL0t: the SP slot is SP_EL0; SP_EL1 waits in its bank for exception entry.
  c.setStateU32(abi.PSTATE_EL, 0);
  c.setStateU32(abi.PSTATE_SPSEL, 0);
  c.setStateU32(abi.PSTATE_DAIF, 0);
  c.sp = k.sp;
  c.setStateU64(abi.SP_EL1, BigInt(EL1_STACK));
  c.nzcv = k.nzcv;
  k.v.forEach(([lo, hi], i) => {
    c.setStateU64(abi.V_REGS + i * 16, lo);
    c.setStateU64(abi.V_REGS + i * 16 + 8, hi);
  });
  // As the kernel's signal return does, keep only the bits this CPU implements.
  c.setStateU32(abi.FPCR, k.fpcr & abi.FPCR_MASK);
  c.setStateU32(abi.FPSR, k.fpsr & abi.FPSR_MASK);
  c.pc = CODE_VA;
}

/** The signal Linux delivers for an exception from EL0 with this syndrome. */
function signalFor(esr: number): { signal: number; sigCode: number; hasAddr: boolean } {
  const ec = esr >>> 26;
  const fsc = esr & 0x3f;
  switch (ec) {
    case 0x00: // UNDEFINED
    case 0x18: // trapped MSR/MRS/SYS
    case 0x0e: // illegal execution state
      return { signal: SIG.ILL, sigCode: 1, hasAddr: false };
    case 0x3c: // BRK
      return { signal: SIG.TRAP, sigCode: 1, hasAddr: false };
    case 0x22: // PC alignment
    case 0x26: // SP alignment
      return { signal: SIG.BUS, sigCode: 1, hasAddr: true };
    case 0x20: // instruction abort
    case 0x24: // data abort
      if (fsc === 0x21) return { signal: SIG.BUS, sigCode: 1, hasAddr: true };
      return { signal: SIG.SEGV, sigCode: (fsc & 0x3c) === 0x0c ? 2 : 1, hasAddr: true };
    case 0x15: // SVC
      return { signal: SIG.SYS, sigCode: 0, hasAddr: false };
    default:
      return { signal: SIG.ILL, sigCode: 0, hasAddr: false };
  }
}

/** Runs one case on the core and reports it in the reference harness's terms. */
export function runOnCore(k: Case, opts: RunOptions = {}): Result {
  const c = setup(opts.jit ?? JIT_BY_ENV);
  loadCase(c, k);
  const exit = c.run(BUDGET);
  let signal: number = SIG.TIMEOUT;
  let sigCode = 0;
  let pc = c.pc;
  let faultAddr: bigint | undefined;
  let nzcv = c.nzcv;
  let sp = c.sp;
  if (exit === abi.EXIT_HVC) {
    const esr = Number(c.sysregSlot(ESR));
    pc = c.sysregSlot(ELR);
    nzcv = Number(c.sysregSlot(SPSR) & 0xf0000000n) >>> 0;
    sp = c.stateU64(abi.SP_EL0);
    const end = CODE_VA + BigInt(k.insns.length * 4);
    if (esr >>> 26 === 0x3c && (esr & 0xffff) === (END_BRK >>> 5 & 0xffff) && pc === end) {
      signal = SIG.NONE;
    } else {
      const s = signalFor(esr);
      signal = s.signal;
      sigCode = s.sigCode;
      if (s.hasAddr) faultAddr = (esr >>> 26) === 0x26 ? sp : c.sysregSlot(FAR);
    }
  }
  const x = Array.from({ length: 31 }, (_, i) => c.x(i));
  const v: V128[] = Array.from({ length: 32 }, (_, i) => [c.stateU64(abi.V_REGS + i * 16), c.stateU64(abi.V_REGS + i * 16 + 8)]);
  const before = initialData(k.mem);
  const after = c.readPhys(Number(DATA_VA), DATA_SIZE);
  return makeResult(
    {
      x, sp, pc, nzcv, v,
      fpcr: c.stateU32(abi.FPCR),
      fpsr: c.stateU32(abi.FPSR),
      signal, sigCode, faultAddr,
      memDiff: diffMem(before, after),
    },
    k.mem,
  );
}
