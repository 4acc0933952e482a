// Operand width in translated code: W registers are computed in i32, X registers in i64, and
// one helper per operation picks the opcode for the width.

import {
  byte, i32Const, i64Const, OP_I32_ADD, OP_I64_ADD, OP_I32_SUB, OP_I64_SUB, OP_I32_AND, OP_I64_AND, OP_I32_OR,
  OP_I64_OR, OP_I32_XOR, OP_I64_XOR, OP_I32_SHL, OP_I64_SHL, OP_I32_SHR_U, OP_I64_SHR_U, OP_I32_SHR_S,
  OP_I64_SHR_S, OP_I32_ROTR, OP_I64_ROTR, OP_I32_MUL, OP_I64_MUL, OP_I32_EQZ, OP_I64_EQZ, OP_I32_EQ, OP_I64_EQ,
  OP_I32_NE, OP_I64_NE, OP_I32_LT_S, OP_I64_LT_S, OP_I32_LT_U, OP_I64_LT_U, OP_I32_GE_U, OP_I64_GE_U,
} from "./wasm-encoder";

/** Operand width: W (32-bit, computed in i32) or X (64-bit, in i64). */
export type Width = u32;
export const W32: Width = 0;
export const W64: Width = 1;

@inline export function tOp(w: Width, op32: u32, op64: u32): void { byte(w ? op64 : op32); }
export function tConst(w: Width, v: i64): void {
  if (w) i64Const(v);
  else i32Const(<i32>v);
}
@inline export function tAdd(w: Width): void { tOp(w, OP_I32_ADD, OP_I64_ADD); }
@inline export function tSub(w: Width): void { tOp(w, OP_I32_SUB, OP_I64_SUB); }
@inline export function tAnd(w: Width): void { tOp(w, OP_I32_AND, OP_I64_AND); }
@inline export function tOr(w: Width): void { tOp(w, OP_I32_OR, OP_I64_OR); }
@inline export function tXor(w: Width): void { tOp(w, OP_I32_XOR, OP_I64_XOR); }
@inline export function tShl(w: Width): void { tOp(w, OP_I32_SHL, OP_I64_SHL); }
@inline export function tShrU(w: Width): void { tOp(w, OP_I32_SHR_U, OP_I64_SHR_U); }
@inline export function tShrS(w: Width): void { tOp(w, OP_I32_SHR_S, OP_I64_SHR_S); }
@inline export function tRotr(w: Width): void { tOp(w, OP_I32_ROTR, OP_I64_ROTR); }
@inline export function tMul(w: Width): void { tOp(w, OP_I32_MUL, OP_I64_MUL); }
@inline export function tEqz(w: Width): void { tOp(w, OP_I32_EQZ, OP_I64_EQZ); }
@inline export function tEq(w: Width): void { tOp(w, OP_I32_EQ, OP_I64_EQ); }
@inline export function tNe(w: Width): void { tOp(w, OP_I32_NE, OP_I64_NE); }
@inline export function tLtS(w: Width): void { tOp(w, OP_I32_LT_S, OP_I64_LT_S); }
@inline export function tLtU(w: Width): void { tOp(w, OP_I32_LT_U, OP_I64_LT_U); }
@inline export function tGeU(w: Width): void { tOp(w, OP_I32_GE_U, OP_I64_GE_U); }
