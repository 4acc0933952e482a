// The layout of the region function being emitted (docs/jit.md, "Regions"): its member blocks
// (all of one page and mode), in emission order, with their page offsets and lengths, and the
// wasm label depths that exits.ts branches to. region.ts fills it; exits.ts reads it.
//
// The function's body nests like this, member i's code after the i-th `end`:
//
//   block $leave              ;; exits: L_T = target PC, L_N = retired; written back below
//     loop $top               ;; L_IDX = word offset in the page (- firstWord) of the next member
//       block (member N-1) … block (member 0)  br_table[L_IDX]  end  code 0  end  code 1 … end  code N-1
//       (the code of a member that branches back to its own start in a `loop` of its own)
//     end
//     unreachable
//   end
//   write-back, then the dispatcher

/** Most blocks in one region. */
export const REGION_MAX_BLOCKS: u32 = 64;

const memberOffsets = new StaticArray<u32>(REGION_MAX_BLOCKS);
const memberLens = new StaticArray<u32>(REGION_MAX_BLOCKS);
/** Members that branch back to their own start: their code sits in a `loop` of its own. */
const memberLoopFlags = new StaticArray<bool>(REGION_MAX_BLOCKS);
export let memberCount: u32 = 0;
/** The member being emitted. */
export let curMember: u32 = 0;
/** The lowest member offset in the page, in words: L_IDX counts from it. */
export let firstWord: u32 = 0;
/** Whether a transfer to the same or an earlier member was emitted (the region loops). */
export let regionLoops: bool = false;
/** Whether a transfer to an earlier member was emitted (a loop through more than one block). */
export let crossLoops: bool = false;

export function beginLayout(): void {
  memberCount = 0;
  firstWord = 0x3ff;
  regionLoops = false;
  crossLoops = false;
}

export function addMember(pageOffset: u32, len: u32): void {
  memberOffsets[memberCount] = pageOffset;
  memberLens[memberCount] = len;
  memberLoopFlags[memberCount] = false;
  memberCount++;
  if ((pageOffset >> 2) < firstWord) firstWord = pageOffset >> 2;
}

export function setMemberLen(i: u32, len: u32): void {
  memberLens[i] = len;
}

export function setCurMember(i: u32): void {
  curMember = i;
}

@inline export function memberOffset(i: u32): u32 {
  return memberOffsets[i];
}

@inline export function memberLen(i: u32): u32 {
  return memberLens[i];
}

@inline export function memberLoops(i: u32): bool {
  return memberLoopFlags[i];
}

/** The current member branches back to its own start (noted by the first emission). */
export function noteMemberLoops(): void {
  memberLoopFlags[curMember] = true;
}

/** 1 inside the current member's own loop, if it has one: outer labels are one further. */
@inline function extra(): u32 {
  return memberLoopFlags[curMember] ? 1 : 0;
}

/** The member starting at page offset `offset`, or -1. */
export function memberAt(offset: i64): i32 {
  if (offset < 0 || offset >= 0x1000) return -1;
  for (let j: u32 = 0; j < memberCount; j++) {
    if (<i64>memberOffsets[j] == offset) return <i32>j;
  }
  return -1;
}

/** Label depth, from the body of the current member, of the loop at the head of the region. */
@inline export function topDepth(): u32 {
  return memberCount - 1 - curMember + extra();
}

/** Label depth, from the body of the current member, of the region's exit. */
@inline export function leaveDepth(): u32 {
  return memberCount - curMember + extra();
}

/** Label depth, from the body of the current member, of the start of a later member j. */
@inline export function forwardDepth(j: u32): u32 {
  return j - curMember - 1 + extra();
}

export function noteRegionLoops(cross: bool): void {
  regionLoops = true;
  if (cross) crossLoops = true;
}
