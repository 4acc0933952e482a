// The instructions of one block, emitted in order (docs/jit.md, "Units and keys"): shared by
// single-block functions (translate.ts) and regions (region.ts).

import { setInsnContext, insnEndsBlock } from "./context";
import { emitFallback } from "./exits";
import { emitOp, endsBlock } from "../gen/emit";
import { decodeCached } from "../decode-cache";

/** Longest block, in instructions. */
export const MAX_BLOCK_INSNS: u32 = 64;

/**
 * Emits the instructions of the block at wasm address `host`, from there to the first that
 * ends a block (inclusive), the end of the page, or MAX_BLOCK_INSNS; not the exit after the
 * last. Returns (inline instructions << 16) | fallback instructions.
 */
export function emitInstructions(host: usize): u32 {
  const room = <u32>((0x1000 - (host & 0xfff)) >> 2);
  const maxLen = room < MAX_BLOCK_INSNS ? room : MAX_BLOCK_INSNS;
  let n: u32 = 0;
  let inline: u32 = 0;
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
  return (inline << 16) | (n - inline);
}

/** The instruction count of emitInstructions' result. */
@inline export function countOf(counts: u32): u32 {
  return (counts >> 16) + (counts & 0xffff);
}
