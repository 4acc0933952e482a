// Handlers for ARM ARM C4.1.5: Data Processing -- Register (ARMv8.0-A).
//
// Variants that differ by a negation fold into arithmetic rather than branches: with
// m = 0 - op (all ones for SUB), `y ^ m` is y or NOT(y), and `(y ^ m) + op` is y or -y.
// 32-bit forms read whole X registers where only the low 32 bits of the result depend on
// them, and setReg truncates.

import { getX, setX, getW, setW, getReg, setReg, getRegSP, setRegSP, getNZCV, setNZCV } from "../state";
import { addWithCarry, setLogicalFlags, conditionHolds } from "../flags";
import { undefinedInstruction } from "../exceptions";

// ---- shared operand helpers ----

/** ShiftReg(m, shift_type, amount) for 64-bit (sf = 1) or 32-bit operands: LSL, LSR, ASR, ROR. */
@inline function shiftReg(sf: u32, v: u64, shift: u32, amount: u32): u64 {
  if (sf) {
    const a = <u64>amount;
    switch (shift) {
      case 0: return v << a;
      case 1: return v >> a;
      case 2: return <u64>(<i64>v >> <i64>a);
      default: return rotr<u64>(v, a);
    }
  }
  const w = <u32>v;
  switch (shift) {
    case 0: return <u64>(w << amount);
    case 1: return <u64>(w >> amount);
    case 2: return <u64>(<u32>(<i32>w >> amount));
    default: return <u64>rotr<u32>(w, amount);
  }
}

/**
 * ExtendReg(m, extend_type, shift): option<1:0> picks the width (B, H, W, X), option<2> signed.
 * The result's low 32 bits are right for 32-bit operations too.
 */
@inline function extendReg(v: u64, option: u32, shift: u32): u64 {
  const s = <u64>(64 - (8 << (option & 3)));
  const t = v << s;
  const e = option & 4 ? <u64>(<i64>t >> <i64>s) : t >> s;
  return e << <u64>shift;
}

/** A shifted-register form with sf = 0 and imm6 >= 32 is UNDEFINED: 1 in that case. */
@inline function badShift32(sf: u32, imm6: u32): u32 {
  return (imm6 >> 5) & ~sf;
}

/** All ones when b = 1, zero when b = 0. */
@inline function mask(b: u32): u64 {
  return 0 - <u64>b;
}

@inline function carryFlag(): u32 {
  return (getNZCV() >> 29) & 1;
}

// ---- logical (shifted register) ----
// N inverts the second operand: BIC, ORN, EON, BICS.

/** AND, ORR, EOR, ANDS: opc 00-11. */
@inline export function exec_LOGIC_shift(sf: u32, shift: u32, N: u32, rm: u32, imm6: u32, rn: u32, rd: u32, opc: u32): void {
  if (badShift32(sf, imm6)) { undefinedInstruction(); return; }
  const b = shiftReg(sf, getX(rm), shift, imm6) ^ mask(N);
  if (opc == 0) setReg(sf, rd, getX(rn) & b);
  else if (opc == 1) setReg(sf, rd, getX(rn) | b);
  else if (opc == 2) setReg(sf, rd, getX(rn) ^ b);
  else {
    const r = getReg(sf, rn) & b;
    setLogicalFlags(sf, r);
    setReg(sf, rd, r);
  }
}

/** ORR Rd, ZR, Rm (no shift): the MOV alias. */
export function exec_MOV_reg(sf: u32, rm: u32, rd: u32): void {
  setReg(sf, rd, getX(rm));
}

// ---- add/subtract (shifted register): Rn and Rd = 31 are ZR; shift = 0b11 is reserved ----

@inline export function exec_ADDSUB_shift(sf: u32, op: u32, shift: u32, rm: u32, imm6: u32, rn: u32, rd: u32): void {
  if (shift == 3 || badShift32(sf, imm6)) { undefinedInstruction(); return; }
  const y = shiftReg(sf, getX(rm), shift, imm6);
  setReg(sf, rd, getX(rn) + (y ^ mask(op)) + <u64>op);
}

@inline export function exec_ADDSUBS_shift(sf: u32, op: u32, shift: u32, rm: u32, imm6: u32, rn: u32, rd: u32): void {
  if (shift == 3 || badShift32(sf, imm6)) { undefinedInstruction(); return; }
  const y = shiftReg(sf, getX(rm), shift, imm6);
  setReg(sf, rd, addWithCarry(sf, getX(rn), y ^ mask(op), op, true));
}

// ---- add/subtract (extended register): Rn = 31 is SP; Rd = 31 is SP unless setting flags ----

export function exec_ADDSUB_ext(sf: u32, op: u32, rm: u32, option: u32, imm3: u32, rn: u32, rd: u32): void {
  if (imm3 > 4) { undefinedInstruction(); return; }
  const y = extendReg(getX(rm), option, imm3);
  setRegSP(sf, rd, getRegSP(sf, rn) + (y ^ mask(op)) + <u64>op);
}

export function exec_ADDSUBS_ext(sf: u32, op: u32, rm: u32, option: u32, imm3: u32, rn: u32, rd: u32): void {
  if (imm3 > 4) { undefinedInstruction(); return; }
  const y = extendReg(getX(rm), option, imm3);
  setReg(sf, rd, addWithCarry(sf, getRegSP(sf, rn), y ^ mask(op), op, true));
}

// ---- add/subtract (with carry) ----

export function exec_ADC_SBC(sf: u32, op: u32, rm: u32, rn: u32, rd: u32): void {
  setReg(sf, rd, getX(rn) + (getX(rm) ^ mask(op)) + <u64>carryFlag());
}

export function exec_ADCS_SBCS(sf: u32, op: u32, rm: u32, rn: u32, rd: u32): void {
  setReg(sf, rd, addWithCarry(sf, getX(rn), getX(rm) ^ mask(op), carryFlag(), true));
}

// ---- conditional compare: CCMN (op = 0) adds, CCMP (op = 1) subtracts ----

/** With a register (second = Rm) or an immediate (imm = 1, second = imm5). */
@inline export function exec_CCMP(sf: u32, op: u32, second: u32, cond: u32, rn: u32, nzcv: u32, imm: u32): void {
  if (conditionHolds(cond)) addWithCarry(sf, getX(rn), (imm ? <u64>second : getX(second)) ^ mask(op), op, true);
  else setNZCV(nzcv << 28);
}

// ---- conditional select: the false value is Rm, Rm + 1, NOT(Rm) or -Rm ----

export function exec_CSEL(sf: u32, op: u32, rm: u32, cond: u32, o2: u32, rn: u32, rd: u32): void {
  const r = conditionHolds(cond) ? getX(rn) : (getX(rm) ^ mask(op)) + <u64>o2;
  setReg(sf, rd, r);
}

// ---- data-processing (1 source) ----

@inline function rbit64(x: u64): u64 {
  x = ((x >> 1) & 0x5555555555555555) | ((x & 0x5555555555555555) << 1);
  x = ((x >> 2) & 0x3333333333333333) | ((x & 0x3333333333333333) << 2);
  x = ((x >> 4) & 0x0f0f0f0f0f0f0f0f) | ((x & 0x0f0f0f0f0f0f0f0f) << 4);
  return bswap<u64>(x);
}

export function exec_RBIT(sf: u32, rn: u32, rd: u32): void {
  // Reversing the zero-extended W register leaves the result in the high word.
  const r = rbit64(getReg(sf, rn));
  setReg(sf, rd, sf ? r : r >> 32);
}

export function exec_REV16(sf: u32, rn: u32, rd: u32): void {
  const x = getX(rn);
  setReg(sf, rd, ((x >> 8) & 0x00ff00ff00ff00ff) | ((x & 0x00ff00ff00ff00ff) << 8));
}

/** REV32 (sf = 1) and REV Wd (sf = 0): reverse the bytes of each 32-bit word. */
export function exec_REV32(sf: u32, rn: u32, rd: u32): void {
  setReg(sf, rd, rotr<u64>(bswap<u64>(getX(rn)), 32));
}

export function exec_REV64(rn: u32, rd: u32): void {
  setX(rd, bswap<u64>(getX(rn)));
}

export function exec_CLZ(sf: u32, rn: u32, rd: u32): void {
  setX(rd, sf ? clz<u64>(getX(rn)) : <u64>clz<u32>(getW(rn)));
}

/** CLS: leading bits equal to the sign bit, not counting it: CLZ(x EOR (x ASR 1)) - 1. */
export function exec_CLS(sf: u32, rn: u32, rd: u32): void {
  if (sf) {
    const x = getX(rn);
    setX(rd, clz<u64>(x ^ <u64>(<i64>x >> 1)) - 1);
  } else {
    const w = getW(rn);
    setX(rd, <u64>(clz<u32>(w ^ <u32>(<i32>w >> 1)) - 1));
  }
}

// ---- data-processing (2 source) ----

/**
 * UDIV, SDIV (o1 = 1): division by zero gives zero; INT_MIN / -1 gives INT_MIN (wasm would trap
 * on it).
 */
@inline export function exec_DIV(sf: u32, rm: u32, rn: u32, rd: u32, o1: u32): void {
  if (!o1) {
    const y = getReg(sf, rm);
    setReg(sf, rd, y == 0 ? 0 : getReg(sf, rn) / y);
  } else if (sf) {
    const y = <i64>getX(rm);
    const x = <i64>getX(rn);
    setX(rd, <u64>(y == 0 ? 0 : y == -1 ? -x : x / y));
  } else {
    // In 64 bits the 32-bit INT_MIN / -1 cannot overflow; the result is truncated.
    const y = <i64><i32>getW(rm);
    const x = <i64><i32>getW(rn);
    setW(rd, <u32>(y == 0 ? 0 : x / y));
  }
}

// The shift amount is Rm modulo the register width.

/** LSLV, LSRV, ASRV, RORV: op2 00-11. */
@inline export function exec_SHIFTV(sf: u32, rm: u32, rn: u32, rd: u32, op2: u32): void {
  if (sf) {
    const x = getX(rn);
    const s = getX(rm) & 63;
    setX(rd, op2 == 0 ? x << s : op2 == 1 ? x >> s : op2 == 2 ? <u64>(<i64>x >> <i64>s) : rotr<u64>(x, s));
  } else {
    const x = getW(rn);
    const s = getW(rm) & 31;
    setW(rd, op2 == 0 ? x << s : op2 == 1 ? x >> s : op2 == 2 ? <u32>(<i32>x >> s) : rotr<u32>(x, s));
  }
}

// CRC32 and CRC32C (the ID registers advertise CRC32). The ARM ARM's bit-reversed polynomial
// division is the reflected, table-driven CRC update without pre- or post-inversion, one byte
// at a time from the least significant.

const CRC32_POLY_REFLECTED: u32 = 0xedb88320; // 0x04C11DB7 bit-reversed
const CRC32C_POLY_REFLECTED: u32 = 0x82f63b78; // 0x1EDC6F41 bit-reversed

const crc32Table: usize = memory.data(1024, 4);
const crc32cTable: usize = memory.data(1024, 4);

function fillCrcTable(table: usize, poly: u32): void {
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = (c >> 1) ^ (poly & (0 - (c & 1)));
    store<u32>(table + (<usize>i << 2), c);
  }
}

fillCrcTable(crc32Table, CRC32_POLY_REFLECTED);
fillCrcTable(crc32cTable, CRC32C_POLY_REFLECTED);

/** sz is log2 of the bytes taken from Rm; CRC32X/CX (sz = 3) need sf = 1, the others sf = 0. */
export function exec_CRC32(sf: u32, rm: u32, C: u32, sz: u32, rn: u32, rd: u32): void {
  if (sf != <u32>(sz == 3)) { undefinedInstruction(); return; }
  const table = C ? crc32cTable : crc32Table;
  let acc = getW(rn);
  let val = getX(rm);
  for (let i: u32 = 1 << sz; i; i--) {
    acc = load<u32>(table + (<usize>((acc ^ <u32>val) & 0xff) << 2)) ^ (acc >> 8);
    val >>= 8;
  }
  setW(rd, acc);
}

// ---- data-processing (3 source) ----

/** MADD (o0 = 0): Ra + Rn * Rm; MSUB (o0 = 1): Ra - Rn * Rm. */
export function exec_MADD(sf: u32, rm: u32, o0: u32, ra: u32, rn: u32, rd: u32): void {
  const p = getX(rn) * getX(rm);
  setReg(sf, rd, getX(ra) + (p ^ mask(o0)) + <u64>o0);
}

export function exec_MUL(sf: u32, rm: u32, rn: u32, rd: u32): void {
  setReg(sf, rd, getX(rn) * getX(rm));
}

/** SMADDL, SMSUBL, UMADDL, UMSUBL (U = 1): Xa +/- Wn * Wm, widened signed or unsigned. */
@inline export function exec_MADDL(rm: u32, o0: u32, ra: u32, rn: u32, rd: u32, U: u32): void {
  const p = U ? <u64>getW(rn) * <u64>getW(rm) : <u64>(<i64><i32>getW(rn) * <i64><i32>getW(rm));
  setX(rd, getX(ra) + (p ^ mask(o0)) + <u64>o0);
}

/** Bits 127:64 of the unsigned product a * b, from 32-bit halves. */
@inline function mulHighU(a: u64, b: u64): u64 {
  const a0 = a & 0xffffffff;
  const a1 = a >> 32;
  const b0 = b & 0xffffffff;
  const b1 = b >> 32;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  // At most 3 * (2^32 - 1): the carry into bit 64 is mid >> 32.
  const mid = ((a0 * b0) >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  return a1 * b1 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

export function exec_UMULH(rm: u32, rn: u32, rd: u32): void {
  setX(rd, mulHighU(getX(rn), getX(rm)));
}

/**
 * SMULH: the signed high half is the unsigned one minus b if a < 0 and minus a if b < 0
 * (a negative operand reads as itself + 2^64 unsigned).
 */
export function exec_SMULH(rm: u32, rn: u32, rd: u32): void {
  const a = getX(rn);
  const b = getX(rm);
  const hi = mulHighU(a, b) - (b & <u64>(<i64>a >> 63)) - (a & <u64>(<i64>b >> 63));
  setX(rd, hi);
}
