// decode() through a direct-mapped cache keyed by the instruction word: hot code repeats a few
// thousand distinct words, and a hit costs a hash and two loads instead of a walk down the
// decision tree. Words never change meaning, so the cache is never invalidated. The
// interpreter and the JIT's translator both decode through it. An entry is right wherever it
// sits (it holds the word it decodes), so the interpreter indexes the same table by the
// instruction's address instead (decodeAt): no hash on its critical path, and the load of the
// entry does not wait for the load of the word.

import { DECODE_CACHE_BASE, DECODE_CACHE_ENTRIES } from "../abi";
import { decode } from "./gen/decoder";

@inline export function decodeCached(insn: u32): u32 {
  const slot = ((insn * 0x9e3779b1) >>> 16) & (DECODE_CACHE_ENTRIES - 1);
  return decodeThrough(DECODE_CACHE_BASE + (<usize>slot << 3), insn);
}

/** decodeCached for the word `insn` read from wasm address `host`: indexed by the address. */
@inline export function decodeAt(host: usize, insn: u32): u32 {
  return decodeThrough(DECODE_CACHE_BASE + ((<usize>host << 1) & ((DECODE_CACHE_ENTRIES - 1) << 3)), insn);
}

/** The op of insn through cache entry e (u32 word, u32 op), filling it on a miss. */
@inline function decodeThrough(e: usize, insn: u32): u32 {
  if (load<u32>(e) == insn) return load<u32>(e + 4);
  const op = decode(insn);
  store<u32>(e, insn);
  store<u32>(e + 4, op);
  return op;
}
