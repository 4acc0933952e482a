// Timing a command typed at a guest's shell prompt, for the benchmarks that drive a booted
// guest (bench-workloads.ts, net-bench.ts).

import type { GuestSession } from "../src/testing/guest-session.ts";

/**
 * Types `cmd` followed by an echo of `marker`, and returns the seconds from typing to the
 * marker; then waits for the prompt again. `$((6 * 7))` makes the marker the shell prints
 * differ from the echoed command line.
 */
export async function timeAtPrompt(s: GuestSession, prompt: RegExp, cmd: string, marker: string): Promise<number> {
  const t0 = performance.now();
  s.send(`${cmd}; echo ${marker}-$((6 * 7))\n`);
  await s.waitFor(new RegExp(`${marker}-42`), 600_000);
  const seconds = (performance.now() - t0) / 1000;
  await s.waitFor(prompt, 60_000);
  return seconds;
}
