// --debug-jit with LKVM_JIT_TAIL=1: the tail profile's lines (arm/core/jit/tail-profile.ts).

import type { JitTailProfile } from "../../arm/host/core.ts";
import { rowName } from "../../arm/host/ldst-mnemonic.ts";

/** LKVM_JIT_TAIL=1: why instructions ran interpreted, and the rows blocks ran through jitExec most. */
export function describeTail(t: JitTailProfile, interpreted: bigint): string[] {
  const share = (v: bigint) => `${v} (${Number(interpreted) === 0 ? 0 : ((Number(v) / Number(interpreted)) * 100).toFixed(1)}%)`;
  const hot = [...t.execByOp].sort((a, b) => b[1] - a[1]).slice(0, 12);
  return [
    `  # JIT tail: interpreted while cold ${share(t.cold)}, queued ${share(t.queued)}, compiling ${share(t.compiling)}, ` +
      `too long for the budget ${share(t.budget)}, no block possible ${share(t.noKey)}`,
    `  # JIT tail: jitExec calls from blocks: ${hot.map(([op, n]) => `${rowName(op)} ${n}`).join(", ") || "none"}; ` +
      `${t.accessMisses} slow paths of inline loads and stores`,
  ];
}
