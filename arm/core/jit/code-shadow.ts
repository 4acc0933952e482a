// Copies of the instruction words every translated block was made from (docs/jit.md,
// Invalidation), so that IC IALLU(IS) drops only the blocks whose words changed.
//
// IC IALLU only has to make instruction fetches see earlier writes. A block's translation
// depends on nothing but its own words (and its key's EL and endianness), and the writes the
// core sees (stores, the VMM's writePhys/jitInvalidate) drop a page's blocks at once; so a
// block whose words still equal its copy is exactly what a fresh translation would be, whoever
// wrote what behind the core's back. Linux patches its text with ordinary stores and then
// issues IC IALLU (__apply_alternatives, 3 times per boot): that used to drop the whole cache.
//
// The copies sit one after another in JIT_SHADOW; space is taken back only when the cache is
// dropped (the cache is dropped before it runs out: shadowHasRoom).

import { JIT_SHADOW, JIT_SHADOW_WORDS } from "../../abi";

const SHADOW_WORDS: u32 = JIT_SHADOW_WORDS;
/** Words in use. */
let used: u32 = 0;

/** Whether `words` more words fit. */
export function shadowHasRoom(words: u32): bool {
  return used + words <= SHADOW_WORDS;
}

/** Copies the `words` words at wasm address host; returns where (for shadowMatches). */
export function shadowCopy(host: usize, words: u32): u32 {
  const at = used;
  memory.copy(JIT_SHADOW + (<usize>at << 2), host, <usize>words << 2);
  used += words;
  return at;
}

/** Whether the `words` words at host still equal the copy at `at`. */
export function shadowMatches(at: u32, host: usize, words: u32): bool {
  const copy = JIT_SHADOW + (<usize>at << 2);
  for (let i: usize = 0; i < <usize>words; i++) {
    if (load<u32>(copy + (i << 2)) != load<u32>(host + (i << 2))) return false;
  }
  return true;
}

/** The cache was dropped: every copy goes. */
export function shadowReset(): void {
  used = 0;
}
