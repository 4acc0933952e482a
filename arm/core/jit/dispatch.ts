// The dispatcher (docs/jit.md, "Block to block"): a one-function module, `next(pc, modeBits)`,
// that a block tail-calls when it leaves for an address it could not chain to when it was
// translated (an indirect branch, another page, a block not translated then). It finds the
// block for pc the way the run loop would and tail-calls it, so the run loop is not entered:
//
//   - the TLB entry of pc: valid, executable at the block's EL, RAM, global or current ASID;
//   - the lookup cache (cache.ts) for the key (wasm address | mode bits): a live block;
//   - the block fits in what is left of the budget (JI_LIMIT, already lowered by the caller).
//
// Anything else (a TLB or lookup-cache miss, an unaligned pc, no room) stores pc as the PC and
// returns 0 retired instructions: the caller's count is already in JI_LIMIT, and the run loop
// does the full lookup. The dispatcher is the one module besides the core that imports the
// function table; generated modules import `next` as a function (docs/jit.md explains why they
// must not import the table).

import { JIT_MODULE, JIT_MODULE_SIZE, TLB_BASE, JIT_INFO, JI_ASID, JI_LIMIT, JI_DISPATCHES, ACTIVE_STATE, PC, JIT_LOOKUP } from "../../abi";
import {
  pos, encoderStart, byte, u32leb, reserveSize, patchSize, name, header, op, end, i32Const, i64Const,
  localGet, localSet, localTee, memOp, ifVoid, SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_EXPORT, SEC_CODE,
  T_I32, T_I64, T_FUNC, T_FUNCREF, IMPORT_MEMORY, IMPORT_TABLE, EXPORT_FUNC, OP_I64_LOAD, OP_I32_LOAD,
  OP_I64_STORE, OP_I64_SHR_U, OP_I32_WRAP_I64, OP_I32_AND, OP_I32_SHL, OP_I64_EQ, OP_I32_SHR_U, OP_I32_MUL,
  OP_I32_OR, OP_I32_EQ, OP_I32_EQZ, OP_I64_ADD, OP_I32_LE_U,
} from "./wasm-encoder";
import { E_TAG, E_ADDEND, E_FLAGS, E_ASID, TLB_ENTRIES, P_VALID, P_RAM, P_X0, P_X1, P_GLOBAL } from "../mmu";
import { LOOKUP_SHIFT, LOOKUP_HASH } from "./cache";

const OP_RETURN_CALL_INDIRECT: u32 = 0x13;

// Locals of next(): parameters 0 (pc: i64) and 1 (mode bits: i32), then i32 temporaries.
const L_PC: u32 = 0;
const L_BITS: u32 = 1;
const L_E: u32 = 2; // the TLB entry's offset from TLB_BASE
const L_F: u32 = 3; // its flags
const L_NEED: u32 = 4; // the flags pc needs
const L_KEY: u32 = 5;
const L_C: u32 = 6; // the lookup-cache entry's offset from JIT_LOOKUP
const L_PACKED: u32 = 7; // slot | length << 16

/** Writes the dispatcher module at JIT_MODULE; returns its length. */
export function jitBuildDispatcher(): u32 {
  encoderStart(JIT_MODULE, JIT_MODULE_SIZE);
  header();
  // Types: 0 = a block, (i64) -> i32; 1 = next, (i64, i32) -> i32.
  byte(SEC_TYPE);
  let size = reserveSize();
  u32leb(2);
  byte(T_FUNC); u32leb(1); byte(T_I64); u32leb(1); byte(T_I32);
  byte(T_FUNC); u32leb(2); byte(T_I64); byte(T_I32); u32leb(1); byte(T_I32);
  patchSize(size);
  byte(SEC_IMPORT);
  size = reserveSize();
  u32leb(2);
  name("env"); name("memory"); byte(IMPORT_MEMORY); byte(0); u32leb(0);
  name("env"); name("table"); byte(IMPORT_TABLE); byte(T_FUNCREF); byte(0); u32leb(0);
  patchSize(size);
  byte(SEC_FUNCTION);
  size = reserveSize();
  u32leb(1); u32leb(1);
  patchSize(size);
  byte(SEC_EXPORT);
  size = reserveSize();
  u32leb(1); name("next"); byte(EXPORT_FUNC); u32leb(0);
  patchSize(size);
  byte(SEC_CODE);
  size = reserveSize();
  u32leb(1);
  const body = reserveSize();
  u32leb(1); u32leb(6); byte(T_I32);
  emitNext();
  end();
  patchSize(body);
  patchSize(size);
  return <u32>(pos - JIT_MODULE);
}

function emitNext(): void {
  // The TLB entry for pc.
  localGet(L_PC); i64Const(12); op(OP_I64_SHR_U); op(OP_I32_WRAP_I64);
  i32Const(<i32>(TLB_ENTRIES - 1)); op(OP_I32_AND); i32Const(5); op(OP_I32_SHL); localSet(L_E);
  // Its tag matches.
  localGet(L_E); memOp(OP_I64_LOAD, 3, TLB_BASE + E_TAG);
  localGet(L_PC); i64Const(12); op(OP_I64_SHR_U); op(OP_I64_EQ);
  // Valid RAM, executable at the block's EL (mode bit 0): P_X0 >> 3 is P_X1.
  i32Const(<i32>P_X0); localGet(L_BITS); i32Const(1); op(OP_I32_AND); i32Const(3); op(OP_I32_MUL); op(OP_I32_SHR_U);
  i32Const(<i32>(P_VALID | P_RAM)); op(OP_I32_OR); localSet(L_NEED);
  localGet(L_E); memOp(OP_I32_LOAD, 2, TLB_BASE + E_FLAGS); localTee(L_F);
  localGet(L_NEED); op(OP_I32_AND); localGet(L_NEED); op(OP_I32_EQ); op(OP_I32_AND);
  // Global, or of the current ASID.
  localGet(L_F); i32Const(<i32>ctz<u32>(P_GLOBAL)); op(OP_I32_SHR_U);
  localGet(L_E); memOp(OP_I32_LOAD, 2, TLB_BASE + E_ASID);
  i32Const(0); memOp(OP_I32_LOAD, 2, JIT_INFO + JI_ASID); op(OP_I32_EQ); op(OP_I32_OR); op(OP_I32_AND);
  // Aligned.
  localGet(L_PC); op(OP_I32_WRAP_I64); i32Const(3); op(OP_I32_AND); op(OP_I32_EQZ); op(OP_I32_AND);
  ifVoid();
  {
    // The key, and its lookup-cache entry.
    localGet(L_PC); localGet(L_E); memOp(OP_I64_LOAD, 3, TLB_BASE + E_ADDEND); op(OP_I64_ADD); op(OP_I32_WRAP_I64);
    localGet(L_BITS); op(OP_I32_OR); localTee(L_KEY);
    i32Const(<i32>LOOKUP_HASH); op(OP_I32_MUL); i32Const(<i32>LOOKUP_SHIFT); op(OP_I32_SHR_U);
    i32Const(3); op(OP_I32_SHL); localTee(L_C);
    memOp(OP_I32_LOAD, 2, JIT_LOOKUP); localGet(L_KEY); op(OP_I32_EQ);
    ifVoid();
    {
      // The block fits in what is left of the budget.
      localGet(L_C); memOp(OP_I32_LOAD, 2, JIT_LOOKUP + 4); localTee(L_PACKED);
      i32Const(16); op(OP_I32_SHR_U);
      i32Const(0); memOp(OP_I32_LOAD, 2, JIT_INFO + JI_LIMIT); op(OP_I32_LE_U);
      ifVoid();
      {
        i32Const(0);
        i32Const(0); memOp(OP_I64_LOAD, 3, JIT_INFO + JI_DISPATCHES); i64Const(1); op(OP_I64_ADD);
        memOp(OP_I64_STORE, 3, JIT_INFO + JI_DISPATCHES);
        localGet(L_PC);
        localGet(L_PACKED); i32Const(0xffff); op(OP_I32_AND);
        byte(OP_RETURN_CALL_INDIRECT); u32leb(0); u32leb(0);
      }
      end();
    }
    end();
  }
  end();
  // Not found: the run loop goes on from pc.
  i32Const(0); localGet(L_PC); memOp(OP_I64_STORE, 3, ACTIVE_STATE + PC);
  i32Const(0);
}
