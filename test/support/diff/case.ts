// Differential-test case and result formats, shared by the reference side (qemu-aarch64 running
// test/support/diff/harness) and the core side (our AArch64 core).
//
// A case runs its instructions from CODE_VA at EL0-like user state. The CODE region
// [CODE_VA, CODE_VA + CODE_SIZE) holds the instructions, then END_BRK, then zeros; the DATA
// region [DATA_VA, DATA_VA + DATA_SIZE) holds `mem` followed by zeros. Nothing else is
// meant to be reachable: point memory operands into DATA, or at clearly unmapped addresses
// (e.g. 0, DATA_END, 2^47+...) when a fault is wanted. TPIDR_EL0 is 0 at the start.
//
// A case completes when execution reaches the END_BRK at CODE_VA + 4 * insns.length
// (signal 0). Otherwise the result carries the signal that stopped it and the state at that
// point: for a synchronous fault, PC is the faulting instruction and registers are as before
// it. All 64-bit values are unsigned bigints in results (the encoder accepts negative ones).
//
// Binary layout (little-endian), one record per case; see harness/harness.c for the twin:
//   case:   u32 magic "CASE", u32 ninsns, u32 insns[16], u64 x[31], u64 sp,
//           u32 nzcv, u32 fpcr, u32 fpsr, u32 memlen, u8 v[512], u8 mem[memlen] padded to 8
//   result: u32 magic "RSLT", i32 signal, u64 x[31], u64 sp, u64 pc, u64 faultAddr,
//           u32 nzcv, u32 fpcr, u32 fpsr, u32 flags (bit 0: faultAddr valid), u8 v[512],
//           i32 sigCode, u32 nruns, then nruns × { u32 offset, u32 length, bytes padded to 4 }
//   After the last result the harness writes u32 "END!".

export const CODE_VA = 0x8000_0000n;
export const CODE_SIZE = 0x1000;
export const DATA_VA = 0x8001_0000n;
export const DATA_SIZE = 0x1_0000;
export const DATA_END = DATA_VA + BigInt(DATA_SIZE);
export const MAX_INSNS = 16;
/** BRK #0x7a7a, appended after every case's instructions. */
export const END_BRK = 0xd42f4f40;

/** Linux signal numbers as reported in Result.signal. */
export const SIG = {
  NONE: 0, // completed: reached END_BRK
  ILL: 4,
  TRAP: 5, // a BRK (other than END_BRK) inside the case
  BUS: 7,
  FPE: 8,
  SEGV: 11,
  SYS: 31,
  TIMEOUT: 26, // SIGVTALRM: the harness's watchdog stopped a case that ran too long
} as const;

export function signalName(sig: number): string {
  for (const [k, v] of Object.entries(SIG)) if (v === sig) return k;
  return `signal ${sig}`;
}

/** PSTATE/NZCV bits as in the `nzcv` fields (bits 31..28). */
export const NZCV = { N: 0x8000_0000, Z: 0x4000_0000, C: 0x2000_0000, V: 0x1000_0000 } as const;

/** FPCR fields (AArch64). */
export const FPCR = {
  AHP: 1 << 26,
  DN: 1 << 25,
  FZ: 1 << 24,
  RMODE_SHIFT: 22,
  RMODE_MASK: 3 << 22,
  FZ16: 1 << 19,
} as const;
/** FPCR.RMode values. */
export const RMODE = { RN: 0, RP: 1, RM: 2, RZ: 3 } as const;
/** FPSR cumulative exception bits. */
export const FPSR = { IOC: 1, DZC: 2, OFC: 4, UFC: 8, IXC: 16, IDC: 128, QC: 1 << 27 } as const;

/** One 128-bit vector register as [low 64 bits, high 64 bits]. */
export type V128 = [lo: bigint, hi: bigint];

export interface CpuState {
  /** X0..X30 (31 entries). */
  x: bigint[];
  sp: bigint;
  /** N,Z,C,V in bits 31..28; other bits zero. */
  nzcv: number;
  /** V0..V31 (32 entries). */
  v: V128[];
  fpcr: number;
  fpsr: number;
}

export interface Case extends CpuState {
  /** 1..16 instruction words, placed at CODE_VA. END_BRK is appended by the runner. */
  insns: number[];
  /** Initial DATA contents; may be shorter than DATA_SIZE (the rest is zero). */
  mem: Uint8Array;
}

/** A maximal run of DATA bytes that differ from the case's initial image. */
export interface MemRun {
  offset: number;
  bytes: Uint8Array;
}

export interface Result extends CpuState {
  /** 0 = completed (reached END_BRK), otherwise the Linux signal number (see SIG). */
  signal: number;
  /** siginfo si_code (e.g. SEGV_MAPERR=1, SEGV_ACCERR=2, BUS_ADRALN=1, ILL_ILLOPC=1). */
  sigCode: number;
  pc: bigint;
  /** si_addr, for SIGSEGV and SIGBUS only. */
  faultAddr?: bigint;
  /** DATA changes relative to the case's initial image, as maximal runs in address order. */
  memDiff: MemRun[];
  /** The whole DATA region after the case (computed on access; non-enumerable). */
  readonly mem: Uint8Array;
}

const CASE_MAGIC = 0x45534143;
const RESULT_MAGIC = 0x544c5352;
export const END_MAGIC = 0x21444e45;
export const CASE_HEADER_SIZE = 856;
export const RESULT_HEADER_SIZE = 816;

const U64 = (1n << 64n) - 1n;
const u64 = (x: bigint) => x & U64;

/** A zeroed state with the given instructions (and optional overrides). */
export function makeCase(insns: number[], init: Partial<Case> = {}): Case {
  return {
    insns,
    x: init.x ?? new Array<bigint>(31).fill(0n),
    sp: init.sp ?? 0n,
    nzcv: init.nzcv ?? 0,
    v: init.v ?? Array.from({ length: 32 }, () => [0n, 0n] as V128),
    fpcr: init.fpcr ?? 0,
    fpsr: init.fpsr ?? 0,
    mem: init.mem ?? new Uint8Array(0),
  };
}

/** Deep copy of a case (so a test can tweak one copy). */
export function cloneCase(c: Case): Case {
  return {
    insns: [...c.insns],
    x: [...c.x],
    sp: c.sp,
    nzcv: c.nzcv,
    v: c.v.map(([lo, hi]) => [lo, hi] as V128),
    fpcr: c.fpcr,
    fpsr: c.fpsr,
    mem: c.mem.slice(),
  };
}

/** True if the word is an SVC (which the reference cannot run: it would be a real syscall). */
export function isSvc(insn: number): boolean {
  return ((insn & 0xffe0001f) >>> 0) === 0xd4000001;
}

/** Throws if the case is malformed or cannot be run on the reference. */
export function validateCase(c: Case): void {
  if (c.insns.length < 1 || c.insns.length > MAX_INSNS)
    throw new Error(`case needs 1..${MAX_INSNS} instructions, got ${c.insns.length}`);
  for (const w of c.insns) {
    if (!Number.isInteger(w) || w < -0x8000_0000 || w > 0xffff_ffff)
      throw new Error(`bad instruction word ${w}`);
    if (isSvc(w))
      throw new Error(`SVC (0x${(w >>> 0).toString(16)}) would make a real syscall under qemu-user`);
  }
  if (c.x.length !== 31) throw new Error(`x must have 31 entries, got ${c.x.length}`);
  if (c.v.length !== 32) throw new Error(`v must have 32 entries, got ${c.v.length}`);
  if (c.mem.length > DATA_SIZE) throw new Error(`mem is ${c.mem.length} bytes, DATA is ${DATA_SIZE}`);
}

/** A plain Uint8Array copy (Buffer#slice would share memory and print differently). */
function copyBytes(buf: Uint8Array, start: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  out.set(buf.subarray(start, start + len));
  return out;
}

function writeV(dv: DataView, off: number, v: V128[]) {
  for (let i = 0; i < 32; i++) {
    dv.setBigUint64(off + 16 * i, u64(v[i][0]), true);
    dv.setBigUint64(off + 16 * i + 8, u64(v[i][1]), true);
  }
}

function readV(dv: DataView, off: number): V128[] {
  const v: V128[] = [];
  for (let i = 0; i < 32; i++)
    v.push([dv.getBigUint64(off + 16 * i, true), dv.getBigUint64(off + 16 * i + 8, true)]);
  return v;
}

export function encodedCaseSize(c: Case): number {
  return CASE_HEADER_SIZE + ((c.mem.length + 7) & ~7);
}

/** Encode one case into `out` at `off` (or a new buffer); returns the bytes written. */
export function encodeCase(c: Case, out?: Uint8Array, off = 0): Uint8Array {
  validateCase(c);
  const size = encodedCaseSize(c);
  const buf = out ?? new Uint8Array(size);
  const dv = new DataView(buf.buffer, buf.byteOffset + off, size);
  dv.setUint32(0, CASE_MAGIC, true);
  dv.setUint32(4, c.insns.length, true);
  for (let i = 0; i < MAX_INSNS; i++) dv.setUint32(8 + 4 * i, i < c.insns.length ? c.insns[i] >>> 0 : 0, true);
  for (let i = 0; i < 31; i++) dv.setBigUint64(72 + 8 * i, u64(c.x[i]), true);
  dv.setBigUint64(320, u64(c.sp), true);
  dv.setUint32(328, (c.nzcv >>> 0) & 0xf000_0000, true);
  dv.setUint32(332, c.fpcr >>> 0, true);
  dv.setUint32(336, c.fpsr >>> 0, true);
  dv.setUint32(340, c.mem.length, true);
  writeV(dv, 344, c.v);
  buf.set(c.mem, off + CASE_HEADER_SIZE);
  buf.fill(0, off + CASE_HEADER_SIZE + c.mem.length, off + size);
  return buf.subarray(off, off + size);
}

/** Encode many cases back to back. */
export function encodeCases(cases: Case[]): Uint8Array {
  const total = cases.reduce((n, c) => n + encodedCaseSize(c), 0);
  const buf = new Uint8Array(total);
  let off = 0;
  for (const c of cases) off += encodeCase(c, buf, off).length;
  return buf;
}

export function decodeCase(buf: Uint8Array, off = 0): { value: Case; next: number } {
  const dv = new DataView(buf.buffer, buf.byteOffset + off);
  if (dv.getUint32(0, true) !== CASE_MAGIC) throw new Error(`no case record at offset ${off}`);
  const n = dv.getUint32(4, true);
  const insns: number[] = [];
  for (let i = 0; i < n; i++) insns.push(dv.getUint32(8 + 4 * i, true));
  const x: bigint[] = [];
  for (let i = 0; i < 31; i++) x.push(dv.getBigUint64(72 + 8 * i, true));
  const memlen = dv.getUint32(340, true);
  const value: Case = {
    insns,
    x,
    sp: dv.getBigUint64(320, true),
    nzcv: dv.getUint32(328, true),
    fpcr: dv.getUint32(332, true),
    fpsr: dv.getUint32(336, true),
    v: readV(dv, 344),
    mem: copyBytes(buf, off + CASE_HEADER_SIZE, memlen),
  };
  return { value, next: off + CASE_HEADER_SIZE + ((memlen + 7) & ~7) };
}

/** The DATA image a case starts with: `mem` zero-extended to DATA_SIZE. */
export function initialData(mem: Uint8Array): Uint8Array {
  const d = new Uint8Array(DATA_SIZE);
  d.set(mem.subarray(0, DATA_SIZE));
  return d;
}

/** Maximal runs of bytes where `after` differs from `before` (both DATA_SIZE or shorter, zero-extended). */
export function diffMem(before: Uint8Array, after: Uint8Array): MemRun[] {
  const runs: MemRun[] = [];
  const n = Math.max(before.length, after.length);
  let start = -1;
  for (let i = 0; i <= n; i++) {
    const differs = i < n && (before[i] ?? 0) !== (after[i] ?? 0);
    if (differs && start < 0) start = i;
    else if (!differs && start >= 0) {
      const bytes = new Uint8Array(i - start);
      for (let j = start; j < i; j++) bytes[j - start] = after[j] ?? 0;
      runs.push({ offset: start, bytes });
      start = -1;
    }
  }
  return runs;
}

/** The DATA region after a case: the initial image with the runs applied. */
export function applyMemDiff(initialMem: Uint8Array, runs: MemRun[]): Uint8Array {
  const d = initialData(initialMem);
  for (const r of runs) d.set(r.bytes, r.offset);
  return d;
}

function defineMem(r: Omit<Result, "mem">, initialMem: Uint8Array): Result {
  Object.defineProperty(r, "mem", {
    enumerable: false,
    get: () => applyMemDiff(initialMem, r.memDiff),
  });
  return r as Result;
}

/** Build a Result object (with its lazy `mem`) from its parts. */
export function makeResult(r: Omit<Result, "mem">, initialMem: Uint8Array): Result {
  return defineMem({ ...r }, initialMem);
}

export function encodedResultSize(r: Omit<Result, "mem">): number {
  return RESULT_HEADER_SIZE + r.memDiff.reduce((n, m) => n + 8 + ((m.bytes.length + 3) & ~3), 0);
}

export function encodeResult(r: Omit<Result, "mem">): Uint8Array {
  const buf = new Uint8Array(encodedResultSize(r));
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, RESULT_MAGIC, true);
  dv.setInt32(4, r.signal, true);
  for (let i = 0; i < 31; i++) dv.setBigUint64(8 + 8 * i, u64(r.x[i]), true);
  dv.setBigUint64(256, u64(r.sp), true);
  dv.setBigUint64(264, u64(r.pc), true);
  dv.setBigUint64(272, u64(r.faultAddr ?? 0n), true);
  dv.setUint32(280, r.nzcv >>> 0, true);
  dv.setUint32(284, r.fpcr >>> 0, true);
  dv.setUint32(288, r.fpsr >>> 0, true);
  dv.setUint32(292, r.faultAddr !== undefined ? 1 : 0, true);
  writeV(dv, 296, r.v);
  dv.setInt32(808, r.sigCode, true);
  dv.setUint32(812, r.memDiff.length, true);
  let off = RESULT_HEADER_SIZE;
  for (const m of r.memDiff) {
    dv.setUint32(off, m.offset, true);
    dv.setUint32(off + 4, m.bytes.length, true);
    buf.set(m.bytes, off + 8);
    off += 8 + ((m.bytes.length + 3) & ~3);
  }
  return buf;
}

/** Decode one result record; `initialMem` is the case's `mem` (for the lazy `mem` view). */
export function decodeResult(buf: Uint8Array, off: number, initialMem: Uint8Array): { value: Result; next: number } {
  if (buf.length - off < RESULT_HEADER_SIZE) throw new Error(`truncated result at offset ${off}`);
  const dv = new DataView(buf.buffer, buf.byteOffset + off, buf.length - off);
  if (dv.getUint32(0, true) !== RESULT_MAGIC) throw new Error(`no result record at offset ${off}`);
  const x: bigint[] = [];
  for (let i = 0; i < 31; i++) x.push(dv.getBigUint64(8 + 8 * i, true));
  const nruns = dv.getUint32(812, true);
  const memDiff: MemRun[] = [];
  let p = RESULT_HEADER_SIZE;
  for (let i = 0; i < nruns; i++) {
    if (p + 8 > dv.byteLength) throw new Error(`truncated result at offset ${off}`);
    const offset = dv.getUint32(p, true);
    const len = dv.getUint32(p + 4, true);
    if (p + 8 + len > dv.byteLength) throw new Error(`truncated result at offset ${off}`);
    memDiff.push({ offset, bytes: copyBytes(buf, off + p + 8, len) });
    p += 8 + ((len + 3) & ~3);
  }
  const r: Omit<Result, "mem"> = {
    signal: dv.getInt32(4, true),
    sigCode: dv.getInt32(808, true),
    x,
    sp: dv.getBigUint64(256, true),
    pc: dv.getBigUint64(264, true),
    nzcv: dv.getUint32(280, true),
    fpcr: dv.getUint32(284, true),
    fpsr: dv.getUint32(288, true),
    v: readV(dv, 296),
    memDiff,
  };
  if (dv.getUint32(292, true) & 1) r.faultAddr = dv.getBigUint64(272, true);
  return { value: defineMem(r, initialMem), next: off + p };
}

// ---- value helpers for FP/SIMD state ----

const f64buf = new DataView(new ArrayBuffer(8));

/** IEEE double -> its 64-bit pattern. */
export function f64bits(x: number): bigint {
  f64buf.setFloat64(0, x, true);
  return f64buf.getBigUint64(0, true);
}
/** 64-bit pattern -> IEEE double. */
export function bitsF64(b: bigint): number {
  f64buf.setBigUint64(0, u64(b), true);
  return f64buf.getFloat64(0, true);
}
/** IEEE single -> its 32-bit pattern (as bigint, for V register lanes). */
export function f32bits(x: number): bigint {
  f64buf.setFloat32(0, x, true);
  return BigInt(f64buf.getUint32(0, true));
}
/** 32-bit pattern -> IEEE single (as a JS number). */
export function bitsF32(b: bigint): number {
  f64buf.setUint32(0, Number(b & 0xffff_ffffn), true);
  return f64buf.getFloat32(0, true);
}
