// decode() through a direct-mapped cache keyed by the instruction word: hot code repeats a few
// thousand distinct words, and a hit costs a hash and two loads instead of a walk down the
// decision tree. Words never change meaning, so the cache is never invalidated. The
// interpreter and the JIT's translator both decode through it.

import { DECODE_CACHE_BASE, DECODE_CACHE_ENTRIES } from "../abi";
import { decode } from "./gen/decoder";

@inline export function decodeCached(insn: u32): u32 {
  const slot = ((insn * 0x9e3779b1) >>> 16) & (DECODE_CACHE_ENTRIES - 1);
  const e = DECODE_CACHE_BASE + (<usize>slot << 3);
  if (load<u32>(e) == insn) return load<u32>(e + 4);
  const op = decode(insn);
  store<u32>(e, insn);
  store<u32>(e + 4, op);
  return op;
}
