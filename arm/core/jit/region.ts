// Regions (docs/jit.md, "Regions"): the hot blocks of one guest page (and mode) translated into
// one wasm function, so that control flow between them stays inside it: a branch or
// fall-through to another member is a wasm branch, not a return to the run loop or a call
// through the dispatcher, and the guest registers and pending flags stay in locals across the
// members. Registers are written back only where the region is left: through its exit (to
// another page, an indirect branch, the end of the budget), or before a call into the core.
// Only blocks whose control flow loops through more than one of them form a region; others
// are translated one function each, as without regions (takeRegions says why).
//
// Every member's key gets the region's function in its table slot; the function finds the
// member to start with from the page offset of the PC it is called with. When another block of
// the page gets hot, the page's region is translated again with it (at most rebuildsMax times;
// after that, new blocks form regions of their own), and the old translation's slots go back
// when the new one is committed.

import {
  pos, rewind, encoderStart, byte, u32leb, reserveSize, patchSize, i32Const, i64Const, localGet, localSet, op, end, OP_LOOP,
  OP_BLOCK, OP_UNREACHABLE, T_VOID, T_I32, T_I64, OP_I64_SHR_U, OP_I32_WRAP_I64, OP_I32_AND, OP_I32_SUB, OP_I64_AND,
} from "./wasm-encoder";
import {
  queueLength, queuedKey, dequeue, unqueueHeat, isTranslated, pendBlock, pendAgain, nextVersion, firstInPage, nextInPage,
  regionBuilds, countRegionBuild, B_KEY, B_SLOT, B_PENDING,
} from "./cache";
import { addPending, pendingKeys, pendingCount, patchCount, dropPatches } from "./chain";
import { L_I64_COUNT, L_I32_COUNT, L_REG_COUNT, L_PC, L_IDX, L_N } from "./frame";
import { setBlockContext, setInsnContext, setRegionMode } from "./context";
import { hintsBody } from "./branch-hints";
import { beginRegisterEmission, regsRead, regsWritten, regsDirty, emitPrologue, storeRegs, NZCV_BIT } from "./registers";
import { emitExit, emitDispatch } from "./exits";
import { regionHeadFlags, materializeCarriedFlags } from "./flags";
import {
  beginLayout, addMember, setMemberLen, setCurMember, memberOffset, memberLoops, firstWord, crossLoops, REGION_MAX_BLOCKS,
} from "./region-layout";
import { emitInstructions, countOf } from "./block-body";

/** Times a page's region is translated again to take in newly hot blocks. */
let rebuildsMax: u32 = 4;
/** Most blocks in one region (at most REGION_MAX_BLOCKS). */
let regionBlocksMax: u32 = REGION_MAX_BLOCKS;

export function configureRegions(rebuilds: u32, blocks: u32): void {
  rebuildsMax = rebuilds;
  regionBlocksMax = min<u32>(max<u32>(blocks, 1), REGION_MAX_BLOCKS);
}

// ---- choosing the regions of the module being built ----
const MAX_KEYS: u32 = 256;
const newKeys = new StaticArray<u32>(MAX_KEYS);
/** Region r of the module is pendingKeys[regionStarts[r] .. regionStarts[r + 1]). */
export const regionStarts = new StaticArray<u32>(MAX_KEYS + 1);
export let regionCount: u32 = 0;

/** Region r is a single block, translated on its own (translate.ts), not as a region. */
export const regionSingle = new StaticArray<bool>(MAX_KEYS + 1);
const candidates = new StaticArray<u32>(REGION_MAX_BLOCKS);
const candidateEntries = new StaticArray<usize>(REGION_MAX_BLOCKS);

/**
 * Takes queued keys not translated yet into regions: the new hot blocks of one page and mode
 * together with the page's live ones (while the page may still be rebuilt), when control flow
 * among them loops through more than one block; otherwise each new block alone (a region of
 * one, `regionSingle`), as without regions: a region costs its registers' loads and stores at
 * every entry and exit, which only pays when control stays inside it. Fills chain.ts's pending
 * list (region by region, at most `maxKeys` keys) and regionStarts. `scratch` is room for the
 * first emission that finds the loops.
 */
export function takeRegions(maxKeys: u32, scratch: usize, scratchBytes: usize): void {
  let taken: u32 = 0;
  let count: u32 = 0;
  while (taken < queueLength() && count < maxKeys) {
    const key = queuedKey(taken++);
    unqueueHeat(key);
    if (isTranslated(key) || isNew(key, count)) continue;
    newKeys[count++] = key;
  }
  dequeue(taken);
  regionCount = 0;
  for (let i: u32 = 0; i < count && pendingCount < maxKeys; i++) {
    const key = newKeys[i];
    if (key == 0) continue; // taken with an earlier one of its page
    const page = key & ~0xffc;
    let fresh: u32 = 0;
    for (let j = i; j < count && fresh < regionBlocksMax && pendingCount + fresh < maxKeys; j++) {
      const k = newKeys[j];
      if ((k & ~0xffc) != page) continue;
      candidates[fresh] = k;
      candidateEntries[fresh++] = 0;
      newKeys[j] = 0;
    }
    let members = fresh;
    const host = <usize>(key & ~0xfff);
    if (regionBuilds(host) < rebuildsMax) {
      for (let e = firstInPage(host); e != 0 && members < regionBlocksMax && pendingCount + members < maxKeys; e = nextInPage(e)) {
        const k = load<u32>(e + B_KEY);
        if ((k & ~0xffc) != page || load<u32>(e + B_SLOT) == 0 || load<u32>(e + B_PENDING) != 0) continue;
        candidates[members] = k;
        candidateEntries[members++] = e;
      }
    }
    if (members > 1 && loopsAcross(members, scratch, scratchBytes)) {
      countRegionBuild(host);
      regionStarts[regionCount] = pendingCount;
      regionSingle[regionCount++] = false;
      for (let j: u32 = 0; j < members; j++) {
        const k = candidates[j];
        const version = nextVersion;
        const e = candidateEntries[j];
        if (e != 0) pendAgain(e, version);
        addPending(k, e != 0 ? e : pendBlock(k, version), version);
      }
    } else {
      for (let j: u32 = 0; j < fresh; j++) {
        const k = candidates[j];
        const version = nextVersion;
        regionStarts[regionCount] = pendingCount;
        regionSingle[regionCount++] = true;
        addPending(k, pendBlock(k, version), version);
      }
    }
  }
  regionStarts[regionCount] = pendingCount;
}

/** Whether control flow among the candidate blocks loops through more than one of them. */
function loopsAcross(count: u32, scratch: usize, scratchBytes: usize): bool {
  beginLayout();
  for (let j: u32 = 0; j < count; j++) addMember(candidates[j] & 0xffc, 0);
  encoderStart(scratch, scratchBytes);
  const patches = patchCount;
  setRegionMode(true);
  beginRegisterEmission(false, 0, 0);
  for (let j: u32 = 0; j < count; j++) emitMember(j, candidates[j], false);
  setRegionMode(false);
  dropPatches(patches);
  return crossLoops;
}

function isNew(key: u32, count: u32): bool {
  for (let i: u32 = 0; i < count; i++) if (newKeys[i] == key) return true;
  return false;
}

// ---- emitting a region ----
/** The instruction counts of the members of the region last emitted, in member order. */
export const memberInsns = new StaticArray<u32>(REGION_MAX_BLOCKS);

/**
 * Emits the function of region r (its body, with its size). Returns (inline instructions << 16)
 * | fallback instructions over its members; their lengths are in memberInsns.
 */
export function emitRegion(r: u32): u32 {
  const first = regionStarts[r];
  const count = regionStarts[r + 1] - first;
  beginLayout();
  for (let j: u32 = 0; j < count; j++) addMember(pendingKeys[first + j] & 0xffc, 0);

  // A first emission learns the members' lengths and what registers they use
  // (registers.ts); its code is dropped.
  const start = pos;
  const patches = patchCount;
  setRegionMode(true);
  beginRegisterEmission(false, 0, 0);
  for (let j: u32 = 0; j < count; j++) {
    const len = countOf(emitMember(j, pendingKeys[first + j], false));
    setMemberLen(j, len);
    memberInsns[j] = len;
  }
  const used = regsRead | regsWritten;
  const written = regsWritten;
  rewind(start);
  dropPatches(patches);

  beginRegisterEmission(true, used, written);
  const anySetter = (written & (<u64>1 << NZCV_BIT)) != 0;
  const size = reserveSize();
  hintsBody(size + 5); // the first emission's hints were skipped: it had no body yet
  u32leb(4);
  u32leb(L_I64_COUNT); byte(T_I64);
  u32leb(L_I32_COUNT); byte(T_I32);
  u32leb(L_REG_COUNT); byte(T_I64);
  u32leb(1); byte(T_I32);
  // The member to start with, from the entry PC's page offset; then L_PC becomes the page's address.
  localGet(L_PC); i64Const(2); op(OP_I64_SHR_U); op(OP_I32_WRAP_I64);
  i32Const(0x3ff); op(OP_I32_AND); i32Const(<i32>firstWord); op(OP_I32_SUB); localSet(L_IDX);
  localGet(L_PC); i64Const(~<i64>0xfff); op(OP_I64_AND); localSet(L_PC);
  emitPrologue();
  byte(OP_BLOCK); byte(T_VOID); // the exit
  byte(OP_LOOP); byte(T_VOID); // the head
  for (let j: u32 = 0; j < count; j++) { byte(OP_BLOCK); byte(T_VOID); }
  emitMemberTable(count);
  let counts: u32 = 0;
  for (let j: u32 = 0; j < count; j++) {
    end(); // member j starts here
    if (memberLoops(j)) { byte(OP_LOOP); byte(T_VOID); }
    counts += emitMember(j, pendingKeys[first + j], anySetter);
    if (memberLoops(j)) end();
  }
  end(); // the head
  byte(OP_UNREACHABLE); // every member ends in a branch or a return
  end(); // the exit: L_T is the next PC, L_N what the region retired
  if (anySetter) materializeCarriedFlags();
  storeRegs(regsDirty);
  setBlockContext(pendingKeys[first], false, 0); // the mode bits for the dispatcher
  emitDispatch(<i32>L_N);
  end();
  patchSize(size);
  setRegionMode(false);
  return counts;
}

/** br_table from L_IDX (a word offset from firstWord) to the start of the member there. */
function emitMemberTable(count: u32): void {
  let lastWord: u32 = 0;
  for (let j: u32 = 0; j < count; j++) {
    const w = (memberOffset(j) >> 2) - firstWord;
    if (w > lastWord) lastWord = w;
  }
  localGet(L_IDX);
  byte(0x0e); // br_table
  u32leb(lastWord + 1);
  for (let w: u32 = 0; w <= lastWord; w++) {
    let depth: u32 = 0; // (no member there: unreachable, the entry PC is always a member's)
    for (let j: u32 = 0; j < count; j++) {
      if ((memberOffset(j) >> 2) - firstWord == w) depth = j;
    }
    u32leb(depth);
  }
  u32leb(0);
}

/** Emits member j's instructions and the exit after its last. */
function emitMember(j: u32, key: u32, anySetter: bool): u32 {
  setCurMember(j);
  setBlockContext(key, false, 0);
  regionHeadFlags(anySetter);
  const counts = emitInstructions(<usize>(key & ~3));
  // Fell through the last instruction: continue after it.
  setInsnContext(countOf(counts) - 1, 0, 0);
  emitExit(4, 0);
  return counts;
}
