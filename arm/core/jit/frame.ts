// What a block function sees besides guest memory: the functions a generated module imports,
// and the block function's locals, by index. Every emitter agrees on these numbers.

import { Width } from "./width";

// ---- imports of a generated module (function indices) ----
/** jitExec(op, insn, pc) -> i32: runs one instruction in the interpreter; 1 = leave the block. */
export const F_EXEC: u32 = 0;
/** jitExecMiss(op, insn, pc, va) -> i32: jitExec after an inline TLB probe missed for va. */
export const F_MISS: u32 = 1;
/** next(pc, modeBits) -> i32: the dispatcher (dispatch.ts), tail-called to leave for pc. */
export const F_NEXT: u32 = 2;
/** flags(kind, a, b, r, nzcv) -> i32: NZCV of pending flags (flags.ts; kind 0: nzcv), for the paths that leave. */
export const F_FLAGS: u32 = 3;
export const IMPORTED_FUNCS: u32 = 4;

// ---- locals of a block function ----
/** The parameter: the virtual address of the block's first instruction. */
export const L_PC: u32 = 0;
export const L_I64_FIRST: u32 = 1;
export const L_I64_COUNT: u32 = 9;
export const L_I32_FIRST: u32 = L_I64_FIRST + L_I64_COUNT;
export const L_I32_COUNT: u32 = 9;
// Their uses: i64 operands and result, the address of a memory access, scratch, the operands
// and result of the pending flags (flags.ts); i32 ones for 32-bit operands (W registers), the
// TLB entry, and scratch.
export const L_A: u32 = 1;
export const L_B: u32 = 2;
export const L_R: u32 = 3;
export const L_VA: u32 = 4;
export const L_T: u32 = 5;
export const L_U: u32 = 6;
export const L_FA: u32 = 7;
export const L_FB: u32 = 8;
export const L_FR: u32 = 9;
export const L_A32: u32 = 10;
export const L_B32: u32 = 11;
export const L_R32: u32 = 12;
export const L_E: u32 = 13;
export const L_F: u32 = 14;
export const L_N: u32 = 15;
/** In a looping block: instructions retired by the iterations before this one. */
export const L_COUNT: u32 = 16;
/** In a looping block: the kind of the pending flags carried around the loop (flags.ts). */
export const L_FKIND: u32 = 17;
/** In a region: the next member to enter, as its word offset in the page minus the first member's (region-layout.ts). */
export const L_IDX: u32 = 18;

/** The local holding operand a, b or the result r for a width. */
@inline export function la(w: Width): u32 { return w ? L_A : L_A32; }
@inline export function lb(w: Width): u32 { return w ? L_B : L_B32; }
@inline export function lr(w: Width): u32 { return w ? L_R : L_R32; }

// ---- the guest register file in locals (registers.ts) ----
/** The first local of the register file: X0..X30, then an unused slot, then SP (32). */
export const L_REG: u32 = L_I32_FIRST + L_I32_COUNT;
export const L_REG_COUNT: u32 = 33;
/** NZCV (i32, bits 31:28). */
export const L_NZCV: u32 = L_REG + L_REG_COUNT;
