// The lines lkvm prints about what a run did, for the debug options: --trace-mmio's access
// lines, --check-cache-maintenance's findings and --debug-jit's statistics (--debug-perf's are
// in perf-report.ts).

import type { CacheFinding, Core, JitStats } from "../../arm/host/core.ts";
import type { TrapEvent } from "../iotrap/bus.ts";
import { describeTail } from "./jit-tail-report.ts";

/** --trace-mmio: one access as a line, "mmio vcpu0 W4 0x3fff0000 = 0x1 serial8250@0x1000000". */
export function describeAccess(e: TrapEvent): string {
  const width = e.lengthBytes * 2;
  return `${e.bus} vcpu${e.vcpu} ${e.isWrite ? "W" : "R"}${e.lengthBytes} 0x${e.gpa.toString(16)} = 0x${e.value.toString(16).padStart(width, "0")} ${e.device ?? "(unclaimed)"}`;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** --check-cache-maintenance: one finding as a line. */
export function describeCacheFinding(f: CacheFinding): string {
  const where = `cache maintenance: vcpu${f.vcpu} pc ${hex(f.pc)}:`;
  switch (f.kind) {
    case "uncleaned":
      return `${where} non-cacheable read of ${hex(f.pa)}, a line last written through the data cache and not cleaned to the PoC since (DC CVAC or DC CIVAC missing): memory holds older data`;
    case "stale":
      return `${where} cacheable read of ${hex(f.pa)}, a line last written non-cacheably and not invalidated since (DC IVAC or DC CIVAC missing): the cache may hold an older copy`;
    case "fetch":
      return `${where} instruction fetch from ${hex(f.pa)}, written as data with no ${f.missing} since (the sequence is DC CVAU, DSB, IC IVAU, DSB, ISB): the old instruction may run`;
  }
}

/** --check-cache-maintenance: the line at exit. */
export function summarizeCacheFindings(n: Record<CacheFinding["kind"], number>): string {
  const total = n.uncleaned + n.stale + n.fetch;
  if (total === 0) return "cache maintenance: no findings";
  return `cache maintenance: ${total} finding${total === 1 ? "" : "s"} (${n.uncleaned} non-cacheable reads of uncleaned lines, ${n.stale} cacheable reads of stale lines, ${n.fetch} fetches of unsynchronized code)`;
}

/** --debug-jit: what the JIT did, as a few log lines. */
export function describeJitStats(core: Core): string[] {
  if (!core.jitEnabled) return ["  # JIT: off (--no-jit, or LKVM_JIT=0)"];
  const s: JitStats = core.jitStats();
  const total = s.insnsJit + s.insnsInterpreted;
  const pct = (part: bigint | number, whole: bigint | number) =>
    Number(whole) === 0 ? "0.0%" : `${((Number(part) / Number(whole)) * 100).toFixed(1)}%`;
  return [
    `  # JIT: ${s.modules} modules, ${s.blocks} blocks, ${(s.bytes / 1024).toFixed(1)} KiB of wasm, ${s.compileMs.toFixed(1)} ms translating and compiling`,
    `  # JIT: ${total} instructions, ${pct(s.insnsJit, total)} in translated blocks; ` +
      `${pct(s.insnsInline, s.insnsInline + s.insnsFallback)} of translated instructions inline (${s.insnsInline} inline, ${s.insnsFallback} through jitExec)`,
    `  # JIT: ${s.lookups} block lookups by the run loop, ${pct(s.hits, s.lookups)} ran a block; ${s.dispatches} blocks entered from another through the dispatcher; ` +
      `${s.chains} block exits call the next block directly` + (s.regions ? `; ${s.regions} page regions` : ""),
    `  # JIT: ${s.invalidatedPages} code pages invalidated, ${s.flushes} cache flushes; ${s.icInvalidateAll} IC IALLU`,
    ...(s.tail ? describeTail(s.tail, s.insnsInterpreted) : []),
  ];
}
