// Translation: turns the queued block keys into one WebAssembly module (docs/jit.md).
//
// jitBuild() writes the module into JIT_MODULE and returns its length, with a record per block
// at JIT_COMMIT; the VMM compiles and instantiates it (at once, or in the background while the
// guest runs on), hands the records back to jitCommit() to make the blocks visible to the run
// loop, and puts the exports of the blocks it accepted into the table. A block's page is
// watched from jitBuild() on, so a write to it meanwhile cancels the block (cache.ts).
//
// A block function is (param $startPc i64) (result i32): it runs its instructions, stores the
// PC it stopped at in the state area and returns how many instructions it retired.

import {
  JIT_MODULE, JIT_MODULE_SIZE, JIT_INFO, JI_MODULE_LEN, JI_MODULE_FUNCS, JI_MODULE_IMPORTS, JI_MODULES,
  JI_BLOCKS, JI_BYTES, JI_EMITTED, JI_FALLBACK, JI_CHAINS, JI_FLUSHES, JI_MODULE_LOOPS, JI_REGIONS, JIT_COMMIT, JIT_COMMIT_BYTES,
} from "../../abi";
import {
  pos, encoderStart, rewind, byte, u32leb, reserveSize, patchSize, OP_LOOP, T_VOID, name, numberName, header, end,
  SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_EXPORT, SEC_CODE, T_I32, T_I64, T_FUNC, IMPORT_FUNC, IMPORT_MEMORY,
  EXPORT_FUNC,
} from "./wasm-encoder";
import {
  cacheHasRoom, allocSlot, isTranslated, pendBlock, commitBlock, discardSlot, flushAll, queueLength, queuedKey,
  dequeue, nextVersion, unqueueHeat, keepWords,
} from "./cache";
import {
  beginModule, addPending, pendingKeys, pendingEntries, pendingVersions, pendingCount, importCount, patchCount, patchSite,
  patchTarget, dropPatches,
} from "./chain";
import { L_I64_COUNT, L_I32_COUNT, L_REG_COUNT, IMPORTED_FUNCS } from "./frame";
import { setBlockContext, setInsnContext, selfLoopSeen } from "./context";
import { beginRegisterEmission, regsRead, regsWritten, emitPrologue } from "./registers";
import { chainsEmitted, emitExit } from "./exits";
import { resetFlags, loopHeadFlags } from "./flags";
import { emitInstructions, countOf, MAX_BLOCK_INSNS } from "./block-body";
import { takeRegions, emitRegion, regionCount, regionStarts, regionSingle, memberInsns, configureRegions } from "./region";
import { regionLoops } from "./region-layout";
import { hintsBeginModule, hintsBeginFunction, hintsBody, emitBranchHints } from "./branch-hints";

/** Most blocks in one module. */
const MAX_MODULE_BLOCKS: u32 = 256;
// The code section is built in the second half of the buffer, then moved after the header.
const CODE_AREA: usize = JIT_MODULE + JIT_MODULE_SIZE / 2;
const CODE_AREA_SIZE: usize = JIT_MODULE_SIZE / 2;
/** The most one block's body may take (MAX_MODULE_BLOCKS of them fit in the code area). */
const BLOCK_BYTES_MAX: usize = CODE_AREA_SIZE / MAX_MODULE_BLOCKS;

// The blocks of the module being built, waiting for jitCommit() (keys, map entries and
// versions are in chain.ts, which direct calls between blocks need).
const pendingLens = new StaticArray<u32>(MAX_MODULE_BLOCKS);
const pendingSlots = new StaticArray<u32>(MAX_MODULE_BLOCKS);
/**
 * Most keys in a module of regions. A member's code can be bigger than a block's (every call of
 * the handler writes back and reloads the region's registers: up to about 600 bytes for an
 * instruction, 40 KiB for a block of 64), so fewer keys than MAX_MODULE_BLOCKS keep the worst
 * case inside the code area.
 */
const REGION_MODULE_KEYS: u32 = 160;

/** The function (of this module) holding each pending block. */
const functionOf = new StaticArray<u32>(MAX_MODULE_BLOCKS);

/**
 * Whether blocks are translated in page regions (region.ts) rather than one function each.
 * Internal switch while the two are compared (jitSetRegions).
 */
let regionsEnabled: bool = false;

/** Turns page regions on or off for the modules built from now on. */
export function jitSetRegions(on: bool, rebuilds: u32, blocks: u32): void {
  regionsEnabled = on;
  configureRegions(rebuilds, blocks);
}

/** Loop blocks in the module being built. */
let loopBlocks: u32 = 0;

/** Translates queued blocks into a module at JIT_MODULE; returns its length (0: nothing to do). */
export function jitBuild(): u32 {
  beginModule();
  loopBlocks = 0;
  store<u32>(JIT_INFO + JI_MODULE_LEN, 0);
  if (queueLength() == 0) return 0;
  if (!cacheHasRoom(MAX_MODULE_BLOCKS, MAX_BLOCK_INSNS)) flushAll();

  // Which blocks: every queued key not translated yet, once (in regions: with the live blocks
  // of their pages). Their map entries, slots and versions are fixed now, so that blocks of
  // this module can call one another.
  if (regionsEnabled) {
    takeRegions(REGION_MODULE_KEYS, CODE_AREA, CODE_AREA_SIZE);
  } else {
    let taken: u32 = 0;
    while (taken < queueLength() && pendingCount < MAX_MODULE_BLOCKS) {
      const key = queuedKey(taken++);
      unqueueHeat(key);
      if (isTranslated(key)) continue; // live, or in a module still compiling (this one too)
      const version = nextVersion;
      addPending(key, pendBlock(key, version), version);
    }
    dequeue(taken);
  }
  const count = pendingCount;
  if (count == 0) return 0;
  for (let i: u32 = 0; i < count; i++) pendingSlots[i] = allocSlot();

  // The function bodies first, so that the module's header knows its imports.
  encoderStart(CODE_AREA, CODE_AREA_SIZE);
  hintsBeginModule();
  let emitted: u32 = 0;
  let fallback: u32 = 0;
  let regionsBuilt: u32 = 0;
  const functions = regionsEnabled ? regionCount : count;
  for (let f: u32 = 0; f < functions; f++) {
    const at = pos;
    hintsBeginFunction(f);
    if (regionsEnabled && !regionSingle[f]) {
      const counts = emitRegion(f);
      regionsBuilt++;
      if (regionLoops) loopBlocks++;
      if (pos - CODE_AREA > CODE_AREA_SIZE) abort(); // cannot happen: see REGION_MODULE_KEYS
      emitted += counts >> 16;
      fallback += counts & 0xffff;
      const first = regionStarts[f];
      for (let i = first; i < regionStarts[f + 1]; i++) {
        pendingLens[i] = memberInsns[i - first];
        keepWords(pendingEntries[i], pendingLens[i]);
        functionOf[i] = f;
      }
    } else {
      const i = regionsEnabled ? regionStarts[f] : f;
      const counts = translateBlock(pendingKeys[i]);
      if (pos - at > BLOCK_BYTES_MAX) abort(); // cannot happen: 64 instructions never take that much
      emitted += counts >> 16;
      fallback += counts & 0xffff;
      pendingLens[i] = countOf(counts);
      keepWords(pendingEntries[i], pendingLens[i]);
      functionOf[i] = f;
    }
  }
  const codeBytes = pos - CODE_AREA;
  const imports = importCount;
  // Calls between blocks of the module: their function indices come after the imports.
  for (let i: u32 = 0; i < patchCount; i++) {
    const at = patchSite(i);
    const index = IMPORTED_FUNCS + imports + functionOf[patchTarget(i)];
    for (let b: usize = 0; b < 4; b++) store<u8>(at + b, <u8>(((index >> (<u32>b * 7)) & 0x7f) | 0x80));
    store<u8>(at + 4, <u8>((index >> 28) & 0x7f));
  }

  encoderStart(JIT_MODULE, JIT_MODULE_SIZE / 2);
  header();
  // Types: 0 = block (i64) -> i32; 1 = jitExec (i32, i32, i64) -> i32;
  // 2 = jitExecMiss (i32, i32, i64, i64) -> i32; 3 = next (i64, i32) -> i32;
  // 4 = flags (i32, i64, i64, i64, i32) -> i32.
  byte(SEC_TYPE);
  let size = reserveSize();
  u32leb(5);
  byte(T_FUNC); u32leb(1); byte(T_I64); u32leb(1); byte(T_I32);
  byte(T_FUNC); u32leb(3); byte(T_I32); byte(T_I32); byte(T_I64); u32leb(1); byte(T_I32);
  byte(T_FUNC); u32leb(4); byte(T_I32); byte(T_I32); byte(T_I64); byte(T_I64); u32leb(1); byte(T_I32);
  byte(T_FUNC); u32leb(2); byte(T_I64); byte(T_I32); u32leb(1); byte(T_I32);
  byte(T_FUNC); u32leb(5); byte(T_I32); byte(T_I64); byte(T_I64); byte(T_I64); byte(T_I32); u32leb(1); byte(T_I32);
  patchSize(size);
  // Imports: env.exec, env.miss, env.next, env.flags (functions 0-3), the blocks this module
  // calls that were translated before (env.c0, env.c1, …: functions 4, 5, …), env.memory.
  byte(SEC_IMPORT);
  size = reserveSize();
  u32leb(5 + imports);
  name("env"); name("exec"); byte(IMPORT_FUNC); u32leb(1);
  name("env"); name("miss"); byte(IMPORT_FUNC); u32leb(2);
  name("env"); name("next"); byte(IMPORT_FUNC); u32leb(3);
  name("env"); name("flags"); byte(IMPORT_FUNC); u32leb(4);
  for (let k: u32 = 0; k < imports; k++) {
    name("env");
    u32leb(0); // the name "c" + k, written by hand: "c" then the digits
    const nameAt = pos - 1;
    byte(0x63);
    numberDigits(k);
    store<u8>(nameAt, <u8>(pos - nameAt - 1));
    byte(IMPORT_FUNC);
    u32leb(0);
  }
  name("env"); name("memory"); byte(IMPORT_MEMORY); byte(0); u32leb(0);
  patchSize(size);
  // Functions: every block or region has type 0.
  byte(SEC_FUNCTION);
  size = reserveSize();
  u32leb(functions);
  for (let i: u32 = 0; i < functions; i++) u32leb(0);
  patchSize(size);
  // Exports: block i's function (its own, or its region's) as "i".
  byte(SEC_EXPORT);
  size = reserveSize();
  u32leb(count);
  for (let i: u32 = 0; i < count; i++) {
    numberName(i);
    byte(EXPORT_FUNC);
    u32leb(IMPORTED_FUNCS + imports + functionOf[i]);
  }
  patchSize(size);
  emitBranchHints(IMPORTED_FUNCS + imports);
  // Code: the bodies built above.
  byte(SEC_CODE);
  size = reserveSize();
  u32leb(functions);
  memory.copy(pos, CODE_AREA, codeBytes);
  encoderStart(pos + codeBytes, 0);
  patchSize(size);

  const length = <u32>(pos - JIT_MODULE);
  store<u32>(JIT_INFO + JI_MODULE_LEN, length);
  store<u32>(JIT_INFO + JI_MODULE_FUNCS, count);
  store<u32>(JIT_INFO + JI_MODULE_IMPORTS, imports);
  store<u32>(JIT_INFO + JI_MODULE_LOOPS, loopBlocks);
  store<u32>(JIT_INFO + JI_BYTES, load<u32>(JIT_INFO + JI_BYTES) + length);
  store<u32>(JIT_INFO + JI_EMITTED, load<u32>(JIT_INFO + JI_EMITTED) + emitted);
  store<u32>(JIT_INFO + JI_FALLBACK, load<u32>(JIT_INFO + JI_FALLBACK) + fallback);
  store<u32>(JIT_INFO + JI_CHAINS, chainsEmitted);
  store<u32>(JIT_INFO + JI_REGIONS, load<u32>(JIT_INFO + JI_REGIONS) + regionsBuilt);
  for (let i: u32 = 0; i < count; i++) {
    const r = JIT_COMMIT + <usize>i * JIT_COMMIT_BYTES;
    store<u32>(r, pendingKeys[i]);
    store<u32>(r + 4, pendingSlots[i]);
    store<u32>(r + 8, pendingLens[i]);
    store<u32>(r + 12, pendingVersions[i]);
  }
  return length;
}

/** Writes the decimal digits of n (no length prefix). */
function numberDigits(n: u32): void {
  let digits: u32 = 1;
  for (let v = n; v >= 10; v /= 10) digits++;
  for (let i: u32 = digits; i > 0; i--) {
    let v = n;
    for (let j: u32 = 1; j < i; j++) v /= 10;
    byte(0x30 + v % 10);
  }
}

/**
 * Makes the blocks of a module visible once the VMM has instantiated it: `count` records at
 * JIT_COMMIT, as jitBuild() wrote them (the VMM may have built other modules since). A block
 * whose page was written while the module compiled is refused: its slot goes back and its
 * record's slot is zeroed, so the VMM leaves the table alone. `flushes`: JI_FLUSHES when the
 * module was built; a module from before the last flush is refused whole.
 */
export function jitCommit(count: u32, flushes: u32): void {
  if (flushes != load<u32>(JIT_INFO + JI_FLUSHES)) {
    // Built before the cache was last dropped: its slots may belong to newer blocks by now.
    for (let i: u32 = 0; i < count; i++) store<u32>(JIT_COMMIT + <usize>i * JIT_COMMIT_BYTES + 4, 0);
    return;
  }
  let installed: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const r = JIT_COMMIT + <usize>i * JIT_COMMIT_BYTES;
    const slot = load<u32>(r + 4);
    if (commitBlock(load<u32>(r), slot, load<u32>(r + 8), load<u32>(r + 12))) {
      installed++;
    } else {
      discardSlot(slot);
      store<u32>(r + 4, 0);
    }
  }
  store<u32>(JIT_INFO + JI_MODULES, load<u32>(JIT_INFO + JI_MODULES) + 1);
  store<u32>(JIT_INFO + JI_BLOCKS, load<u32>(JIT_INFO + JI_BLOCKS) + installed);
}

/**
 * Emits one block function body. Returns (inline instructions << 16) | fallback instructions.
 * The block runs from the key's address to the first instruction that ends a block
 * (inclusive), the end of the page, or MAX_BLOCK_INSNS. A block whose last instruction
 * branches back to its start is emitted a second time, as a loop (context.ts, loopMode).
 */
function translateBlock(key: u32): u32 {
  // A block that loops is emitted a second time, as a loop with its registers in locals, using
  // what the first emission learnt: that it loops and which registers it uses (registers.ts).
  const start = pos;
  const patches = patchCount;
  beginRegisterEmission(false, 0, 0);
  const counts = emitBlock(key, false, 0);
  if (!selfLoopSeen) return counts;
  loopBlocks++;
  const used = regsRead | regsWritten;
  const written = regsWritten;
  rewind(start);
  dropPatches(patches); // the call sites of the first emission are gone
  beginRegisterEmission(true, used, written);
  return emitBlock(key, true, (counts >> 16) + (counts & 0xffff));
}

function emitBlock(key: u32, loop: bool, blockLen: u32): u32 {
  const host = <usize>(key & ~3);
  setBlockContext(key, loop, blockLen);
  resetFlags();
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
  hintsBody(size + 5);
  emitPrologue();
  if (loop) {
    byte(OP_LOOP);
    byte(T_VOID);
    loopHeadFlags();
  }
  const counts = emitInstructions(host);
  if (loop) end();
  // Fell through the last instruction: continue after it.
  setInsnContext(countOf(counts) - 1, 0, 0);
  emitExit(4, 0);
  end();
  patchSize(size);
  return counts;
}
