// Branch hints for V8 (the WebAssembly branch-hinting proposal: a `metadata.code.branch_hint`
// custom section listing, per function, the byte offsets of `if`s and `br_if`s with the way they
// usually go). TurboFan marks the other way deferred, and its register allocator then spills
// and reloads around the calls on that way instead of at every definition on the hot path: a
// loop block's guest registers stay in machine registers across a TLB probe whose miss path
// calls the core, and across exits that write them back (docs/jit.md, "Branch hints"). V8 reads the section only with
// --experimental-wasm-branch-hinting (arm/host/core.ts sets it) and ignores it otherwise; a
// malformed section is dropped whole, never the module, so hints can only cost speed.

import { pos, u32leb, byte, name, reserveSize, patchSize } from "./wasm-encoder";

/** The section's name: a custom section (id 0). */
const SECTION_NAME = "metadata.code.branch_hint";
/** Most hints in one module; a module with more keeps the first ones. */
const MAX_HINTS: u32 = 8192;

const hintFunction = new StaticArray<u32>(MAX_HINTS);
const hintOffset = new StaticArray<u32>(MAX_HINTS);
const hintLikely = new StaticArray<bool>(MAX_HINTS);
let hintCount: u32 = 0;
/** The first hint of the function being emitted, and where V8 counts its offsets from (0: none). */
let functionFirstHint: u32 = 0;
let functionBase: usize = 0;
let currentFunction: u32 = 0;

/** Forgets the previous module's hints. */
export function hintsBeginModule(): void {
  hintCount = 0;
  functionBase = 0;
}

/** Function `f` (of the module, imports not counted) starts: no hints until hintsBody. */
export function hintsBeginFunction(f: u32): void {
  currentFunction = f;
  functionFirstHint = hintCount;
  functionBase = 0;
}

/**
 * The function's first instruction goes at `pos` (after its locals): V8 counts a hint's offset
 * from there. Called again when the function is emitted again (a loop block's second emission),
 * dropping the hints of the first.
 */
export function hintsBody(base: usize): void {
  hintCount = functionFirstHint;
  functionBase = base;
}

/**
 * The `if` about to be emitted at `pos` usually takes its then-arm (`likely`) or usually not;
 * for a `br_if`, usually branches or usually not.
 */
export function hintBranch(likely: bool): void {
  if (functionBase == 0 || hintCount >= MAX_HINTS) return;
  hintFunction[hintCount] = currentFunction;
  hintOffset[hintCount] = <u32>(pos - functionBase);
  hintLikely[hintCount] = likely;
  hintCount++;
}

/** Writes the section for the module's hints (none: nothing), functions numbered from `firstIndex`. */
export function emitBranchHints(firstIndex: u32): void {
  if (hintCount == 0) return;
  byte(0); // custom section
  const size = reserveSize();
  name(SECTION_NAME);
  let functions: u32 = 0;
  for (let i: u32 = 0; i < hintCount; i++) if (i == 0 || hintFunction[i] != hintFunction[i - 1]) functions++;
  u32leb(functions);
  let i: u32 = 0;
  while (i < hintCount) {
    const f = hintFunction[i];
    let n: u32 = 0;
    while (i + n < hintCount && hintFunction[i + n] == f) n++;
    u32leb(firstIndex + f);
    u32leb(n);
    for (let k: u32 = 0; k < n; k++) {
      u32leb(hintOffset[i + k]);
      u32leb(1); // the hint's size in bytes
      byte(hintLikely[i + k] ? 1 : 0);
    }
    i += n;
  }
  patchSize(size);
}
