// Direct calls between blocks (docs/jit.md, Chaining). A block exit whose target is a fixed
// address in the block's own page (so in the same physical page, whatever the mapping) can
// tail-call the target's function instead of returning to the run loop: directly when the
// target is translated in the same module, or through a function import ("c0", "c1", …) when
// it was translated earlier. The call is guarded at run time: the target's map entry must
// still hold the same translation (B_VERSION; versions are never reused) and the target must
// fit in what is left of the budget (JI_LIMIT, which every chaining block lowers by what it
// retired).

import { JIT_IMPORT_SLOTS, JIT_IMPORTS_MAX } from "../../abi";
import { findBlock, B_SLOT, B_VERSION } from "./cache";

// ---- the module being built ----
const MAX_BLOCKS: u32 = 256;
export const pendingKeys = new StaticArray<u32>(MAX_BLOCKS);
export const pendingEntries = new StaticArray<usize>(MAX_BLOCKS);
export const pendingVersions = new StaticArray<u32>(MAX_BLOCKS);
export let pendingCount: u32 = 0;

const IMPORTS_MAX: u32 = JIT_IMPORTS_MAX;
const importKeys = new StaticArray<u32>(IMPORTS_MAX);
/** Chain imports of the module being built (their slots are in JIT_IMPORT_SLOTS). */
export let importCount: u32 = 0;

// Calls to blocks of the same module: their function index depends on the import count,
// known only when every body is written, so the call sites are patched then.
const PATCHES_MAX: u32 = 0x4000;
const patchAt = new StaticArray<usize>(PATCHES_MAX);
const patchBlock = new StaticArray<u32>(PATCHES_MAX);
export let patchCount: u32 = 0;

export function beginModule(): void {
  pendingCount = 0;
  importCount = 0;
  patchCount = 0;
}

export function addPending(key: u32, entry: usize, version: u32): void {
  pendingKeys[pendingCount] = key;
  pendingEntries[pendingCount] = entry;
  pendingVersions[pendingCount] = version;
  pendingCount++;
}

// ---- resolving a target ----
/** Result of resolveTarget: the map entry and version the guard checks. */
export let targetEntry: usize = 0;
export let targetVersion: u32 = 0;
/** Kinds of target. */
export const TARGET_NONE: i32 = -1;
export const TARGET_LOCAL: i32 = 0x10000; // + index in the module
/** Import index, TARGET_LOCAL + block index, or TARGET_NONE. */
export function resolveTarget(key: u32): i32 {
  for (let j: u32 = 0; j < pendingCount; j++) {
    if (pendingKeys[j] == key) {
      targetEntry = pendingEntries[j];
      targetVersion = pendingVersions[j];
      return TARGET_LOCAL + <i32>j;
    }
  }
  const e = findBlock(key);
  if (e == 0 || load<u32>(e + B_SLOT) == 0) return TARGET_NONE;
  targetEntry = e;
  targetVersion = load<u32>(e + B_VERSION);
  for (let k: u32 = 0; k < importCount; k++) {
    if (importKeys[k] == key) return <i32>k;
  }
  if (importCount >= IMPORTS_MAX) return TARGET_NONE;
  importKeys[importCount] = key;
  store<u32>(JIT_IMPORT_SLOTS + (<usize>importCount << 2), load<u32>(e + B_SLOT));
  return <i32>(importCount++);
}

/** Records a call site of block j of this module (a 5-byte function index to patch). */
export function addPatch(at: usize, block: u32): bool {
  if (patchCount >= PATCHES_MAX) return false;
  patchAt[patchCount] = at;
  patchBlock[patchCount] = block;
  patchCount++;
  return true;
}

/** Forgets the call sites recorded since there were `count` (their code was emitted again). */
export function dropPatches(count: u32): void {
  patchCount = count;
}

@inline export function patchSite(i: u32): usize { return patchAt[i]; }
@inline export function patchTarget(i: u32): u32 { return patchBlock[i]; }
