// Helpers for the load/store tests: an assembler (aarch64-linux-gnu-as, so a test is written as
// the instructions it runs) and the unallocated parts of the load/store encoding space.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cache = new Map<string, number[]>();

/** The instruction words of `lines` (one instruction per line), assembled by aarch64-linux-gnu-as. */
export function assemble(...lines: string[]): number[] {
  const src = lines.join("\n") + "\n";
  const hit = cache.get(src);
  if (hit) return [...hit];
  const dir = mkdtempSync(join(tmpdir(), "ldst-asm-"));
  try {
    writeFileSync(join(dir, "a.s"), src);
    // Warnings (e.g. "unpredictable transfer with writeback") are expected for some tests.
    execFileSync("aarch64-linux-gnu-as", ["-o", join(dir, "a.o"), join(dir, "a.s")], { stdio: "pipe" });
    execFileSync("aarch64-linux-gnu-objcopy", ["-O", "binary", "-j", ".text", join(dir, "a.o"), join(dir, "a.bin")]);
    const b = readFileSync(join(dir, "a.bin"));
    const words: number[] = [];
    for (let i = 0; i + 4 <= b.length; i += 4) words.push(b.readUInt32LE(i));
    cache.set(src, words);
    return [...words];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Assembles many single-instruction lines in one run of the assembler and caches each, so that
 * later asm1() calls for them cost no process: a test drawing hundreds of random sequences
 * would otherwise start two processes per instruction.
 */
export function preassemble(lines: Iterable<string>): void {
  const todo = [...new Set(lines)].filter((l) => !cache.has(l + "\n"));
  if (todo.length === 0) return;
  const words = assemble(...todo);
  if (words.length !== todo.length) throw new Error(`${todo.length} lines assembled to ${words.length} words`);
  todo.forEach((line, i) => cache.set(line + "\n", [words[i]!]));
}

/** One instruction's word. */
export function asm1(line: string): number {
  const w = assemble(line);
  if (w.length !== 1) throw new Error(`'${line}' assembled to ${w.length} words`);
  return w[0]!;
}

/**
 * Encodings in the load/store space that must stay UNDEFINED on this ARMv8.0 CPU, as patterns in
 * the decode table's syntax (x bits are free).
 */
export const UNALLOCATED_LDST: readonly [title: string, pattern: string][] = [
  ["size 1x, opc 11 (imm9 forms)", "1x 111 0 00 11 0 xxxxxxxxx xx xxxxx xxxxx"],
  ["size 1x, opc 11 (register offset)", "1x 111 0 00 11 1 xxxxx xxx x 10 xxxxx xxxxx"],
  ["size 1x, opc 11 (unsigned offset)", "1x 111 0 01 11 xxxxxxxxxxxx xxxxx xxxxx"],
  ["PRFM post-index", "11 111 0 00 10 0 xxxxxxxxx 01 xxxxx xxxxx"],
  ["PRFM unprivileged", "11 111 0 00 10 0 xxxxxxxxx 10 xxxxx xxxxx"],
  ["PRFM pre-index", "11 111 0 00 10 0 xxxxxxxxx 11 xxxxx xxxxx"],
  ["register offset with option<1> = 0", "xx 111 0 00 xx 1 xxxxx x0x x 10 xxxxx xxxxx"],
  ["atomic memory operations (LSE)", "xx 111 0 00 xx 1 xxxxx xxxx 00 xxxxx xxxxx"],
  ["LDRAA/LDRAB (PAuth)", "11 111 0 00 xx 1 xxxxxxxxx x1 xxxxx xxxxx"],
  ["LDAPUR/STLUR (RCpc)", "xx 011001 xx 0 xxxxxxxxx 00 xxxxx xxxxx"],
  ["LDPSW's store form (STGP)", "01 101 0 0xx 0 xxxxxxx xxxxx xxxxx xxxxx"],
  ["LDNP/STNP with opc 01", "01 101 0 000 x xxxxxxx xxxxx xxxxx xxxxx"],
  ["pairs with opc 11", "11 101 0 0xx x xxxxxxx xxxxx xxxxx xxxxx"],
  ["CASP (LSE)", "0x 001000 0 x 1 xxxxx x xxxxx xxxxx xxxxx"],
  ["CAS (LSE)", "xx 001000 1 x 1 xxxxx x xxxxx xxxxx xxxxx"],
  ["STLLR/LDLAR (LORegions)", "xx 001000 1 x 0 xxxxx 0 xxxxx xxxxx xxxxx"],
];
