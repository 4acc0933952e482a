// Translation: turns the queued block keys into one WebAssembly module (docs/jit.md).
//
// jitBuild() writes the module into JIT_MODULE and returns its length; the VMM compiles and
// instantiates it, puts its exports into the shared table at the slots listed in
// JIT_NEW_SLOTS, then calls jitCommit() to make the blocks visible to the run loop. Nothing runs guest code in between, so the bytes translated are the bytes in memory.
//
// A block function is (param $startPc i64) (result i32): it runs its instructions, stores the
// PC it stopped at in the state area and returns how many instructions it retired.

import {
  JIT_MODULE, JIT_MODULE_SIZE, JIT_INFO, JI_MODULE_LEN, JI_MODULE_FUNCS, JI_MODULES, JI_BLOCKS,
  JI_BYTES, JI_EMITTED, JI_FALLBACK, JIT_NEW_SLOTS,
} from "../../abi";
import {
  pos, encoderStart, rewind, byte, u32leb, i32Const, i64Const, localGet, reserveSize, patchSize, OP_LOOP, T_VOID,
  name, numberName, header, op, end,
  SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_EXPORT, SEC_CODE, T_I32, T_I64, T_FUNC,
  IMPORT_FUNC, IMPORT_MEMORY, EXPORT_FUNC, OP_I64_ADD,
} from "./wasm-encoder";
import {
  cacheHasRoom, allocSlot, findBlock, insertBlock, flushAll, queueLength, queuedKey, dequeue,
  B_SLOT,
} from "./cache";
import {
  L_PC, L_I64_COUNT, L_I32_COUNT, L_REG_COUNT, IMPORTED_FUNCS, setBlockContext, setInsnContext, emitFallback,
  beginSetPc, endSetPc, pushRetired, selfLoopSeen, beginRegisterEmission, regsRead, regsWritten,
  insnEndsBlock,
  emitPrologue, emitWriteback,
} from "./emit-util";
import { emitOp, endsBlock } from "../gen/emit";
import { decodeCached } from "../decode-cache";

/** Longest block, in instructions. */
export const MAX_BLOCK_INSNS: u32 = 64;
/** Most blocks in one module. */
const MAX_MODULE_BLOCKS: u32 = 256;
// The code section is built in the second half of the buffer, then moved after the header.
const CODE_AREA: usize = JIT_MODULE + JIT_MODULE_SIZE / 2;
const CODE_AREA_SIZE: usize = JIT_MODULE_SIZE / 2;
/** Room one more block may need: stop adding blocks when less is left. */
const BLOCK_BYTES_MAX: usize = 64 * 1024;

// The blocks of the module being built, waiting for jitCommit().
const pendingKeys = new StaticArray<u32>(MAX_MODULE_BLOCKS);
const pendingLens = new StaticArray<u32>(MAX_MODULE_BLOCKS);
const pendingSlots = new StaticArray<u32>(MAX_MODULE_BLOCKS);
let pendingCount: u32 = 0;

/** Translates queued blocks into a module at JIT_MODULE; returns its length (0: nothing to do). */
export function jitBuild(): u32 {
  pendingCount = 0;
  store<u32>(JIT_INFO + JI_MODULE_LEN, 0);
  if (queueLength() == 0) return 0;
  if (!cacheHasRoom(MAX_MODULE_BLOCKS)) flushAll();

  // The function bodies first, so that the module's header knows how many there are.
  encoderStart(CODE_AREA, CODE_AREA_SIZE);
  let taken: u32 = 0;
  let emitted: u32 = 0;
  let fallback: u32 = 0;
  while (taken < queueLength() && pendingCount < MAX_MODULE_BLOCKS && pos + BLOCK_BYTES_MAX <= CODE_AREA + CODE_AREA_SIZE) {
    const key = queuedKey(taken++);
    const e = findBlock(key);
    if (e != 0 && load<u32>(e + B_SLOT) != 0) continue; // already translated
    let dup = false;
    for (let i: u32 = 0; i < pendingCount; i++) if (pendingKeys[i] == key) dup = true;
    if (dup) continue;
    const counts = translateBlock(key);
    emitted += counts >> 16;
    fallback += counts & 0xffff;
    pendingKeys[pendingCount] = key;
    pendingLens[pendingCount] = (counts >> 16) + (counts & 0xffff);
    pendingCount++;
  }
  dequeue(taken);
  if (pendingCount == 0) return 0;
  const codeBytes = pos - CODE_AREA;
  for (let i: u32 = 0; i < pendingCount; i++) {
    pendingSlots[i] = allocSlot();
    store<u32>(JIT_NEW_SLOTS + (<usize>i << 2), pendingSlots[i]);
  }

  encoderStart(JIT_MODULE, JIT_MODULE_SIZE / 2);
  header();
  // Types: 0 = block (i64) -> i32; 1 = jitExec (i32, i32, i64) -> i32;
  // 2 = jitExecMiss (i32, i32, i64, i64) -> i32.
  byte(SEC_TYPE);
  let size = reserveSize();
  u32leb(3);
  byte(T_FUNC); u32leb(1); byte(T_I64); u32leb(1); byte(T_I32);
  byte(T_FUNC); u32leb(3); byte(T_I32); byte(T_I32); byte(T_I64); u32leb(1); byte(T_I32);
  byte(T_FUNC); u32leb(4); byte(T_I32); byte(T_I32); byte(T_I64); byte(T_I64); u32leb(1); byte(T_I32);
  patchSize(size);
  // Imports: env.exec, env.miss (functions 0 and 1), env.memory.
  byte(SEC_IMPORT);
  size = reserveSize();
  u32leb(3);
  name("env"); name("exec"); byte(IMPORT_FUNC); u32leb(1);
  name("env"); name("miss"); byte(IMPORT_FUNC); u32leb(2);
  name("env"); name("memory"); byte(IMPORT_MEMORY); byte(0); u32leb(0);
  patchSize(size);
  // Functions: every block has type 0.
  byte(SEC_FUNCTION);
  size = reserveSize();
  u32leb(pendingCount);
  for (let i: u32 = 0; i < pendingCount; i++) u32leb(0);
  patchSize(size);
  // Exports: block i as "i".
  byte(SEC_EXPORT);
  size = reserveSize();
  u32leb(pendingCount);
  for (let i: u32 = 0; i < pendingCount; i++) {
    numberName(i);
    byte(EXPORT_FUNC);
    u32leb(IMPORTED_FUNCS + i);
  }
  patchSize(size);
  // Code: the bodies built above.
  byte(SEC_CODE);
  size = reserveSize();
  u32leb(pendingCount);
  memory.copy(pos, CODE_AREA, codeBytes);
  encoderStart(pos + codeBytes, 0);
  patchSize(size);

  const length = <u32>(pos - JIT_MODULE);
  store<u32>(JIT_INFO + JI_MODULE_LEN, length);
  store<u32>(JIT_INFO + JI_MODULE_FUNCS, pendingCount);
  store<u32>(JIT_INFO + JI_BYTES, load<u32>(JIT_INFO + JI_BYTES) + length);
  store<u32>(JIT_INFO + JI_EMITTED, load<u32>(JIT_INFO + JI_EMITTED) + emitted);
  store<u32>(JIT_INFO + JI_FALLBACK, load<u32>(JIT_INFO + JI_FALLBACK) + fallback);
  return length;
}

/** Makes the blocks of the module jitBuild() wrote visible, once the VMM has instantiated it. */
export function jitCommit(): void {
  for (let i: u32 = 0; i < pendingCount; i++) insertBlock(pendingKeys[i], pendingSlots[i], pendingLens[i]);
  store<u32>(JIT_INFO + JI_MODULES, load<u32>(JIT_INFO + JI_MODULES) + 1);
  store<u32>(JIT_INFO + JI_BLOCKS, load<u32>(JIT_INFO + JI_BLOCKS) + pendingCount);
  pendingCount = 0;
}

/**
 * Emits one block function body. Returns (inline instructions << 16) | fallback instructions.
 * The block runs from the key's address to the first instruction that ends a block
 * (inclusive), the end of the page, or MAX_BLOCK_INSNS. A block whose last instruction
 * branches back to its start is emitted a second time, as a loop (emit-util.ts, loopMode).
 */
function translateBlock(key: u32): u32 {
  // A block that loops is emitted a second time, as a loop with its registers in locals, using
  // what the first emission learnt: that it loops and which registers it uses (emit-util.ts).
  const start = pos;
  beginRegisterEmission(false, 0, 0);
  const counts = emitBlock(key, false, 0);
  if (!selfLoopSeen) return counts;
  const used = regsRead | regsWritten;
  const written = regsWritten;
  rewind(start);
  beginRegisterEmission(true, used, written);
  return emitBlock(key, true, (counts >> 16) + (counts & 0xffff));
}

function emitBlock(key: u32, loop: bool, blockLen: u32): u32 {
  const host = <usize>(key & ~3);
  setBlockContext(key & 1, (key & 2) != 0, loop, blockLen);
  const size = reserveSize();
  // Locals: L_I64_COUNT i64 temporaries, L_I32_COUNT i32 ones; in a loop block, the register
  // file and NZCV (Liftoff zeroes every declared local on entry, so others declare none).
  u32leb(loop ? 4 : 2);
  u32leb(L_I64_COUNT); byte(T_I64);
  u32leb(L_I32_COUNT); byte(T_I32);
  if (loop) {
    u32leb(L_REG_COUNT); byte(T_I64);
    u32leb(1); byte(T_I32);
  }
  emitPrologue();
  const room = <u32>((0x1000 - (host & 0xfff)) >> 2);
  const maxLen = room < MAX_BLOCK_INSNS ? room : MAX_BLOCK_INSNS;
  let n: u32 = 0;
  let inline: u32 = 0;
  if (loop) {
    byte(OP_LOOP);
    byte(T_VOID);
  }
  while (n < maxLen) {
    const insn = load<u32>(host + (<usize>n << 2));
    const opNumber = decodeCached(insn);
    setInsnContext(n, opNumber, insn);
    const emitted = emitOp(opNumber, insn);
    if (emitted) inline++;
    else emitFallback();
    n++;
    // A branch row ends the block, unless its emitter lets the not-taken path go on.
    if (endsBlock(opNumber) && (!emitted || insnEndsBlock)) break;
  }
  if (loop) end();
  // Fell through the last instruction: continue after it.
  emitWriteback();
  beginSetPc();
  localGet(L_PC);
  i64Const(<i64>n << 2);
  op(OP_I64_ADD);
  endSetPc();
  setInsnContext(n - 1, 0, 0);
  pushRetired();
  end();
  patchSize(size);
  return (inline << 16) | (n - inline);
}
