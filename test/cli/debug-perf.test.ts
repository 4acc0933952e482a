// --debug-perf: the counters A/B comparisons rest on (src/kvm/perf-report.ts). Speed itself is
// never asserted: only that every field is there and that the fields agree with each other and
// with what the run did (the image loaded into RAM, vCPU switches only with two vCPUs).

import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePerfLines } from "../../src/kvm/perf-report.ts";
import { guestArgs, guestPath } from "../support/run-guest.ts";

function runWithPerf(name: string, cpus: number) {
  const r = spawnSync("bin/lkvm", ["run", ...guestArgs(name, { cpus, extra: ["--debug-perf"] })], { encoding: "latin1", timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/EXIT: STATUS=1\b/);
  return { perf: parsePerfLines(r.stderr), stderr: r.stderr };
}

const FIELDS = [
  "instructions", "main-cpu-ms", "insns-per-cpu-ms", "wall-ms", "process-cpu-ms",
  "first-insn-ms", "first-insn-cpu-ms", "peak-rss-mib", "wasm-memory-resident-mib", "guest-ram-mib",
  "slices", "vcpu-switches", "sleeps",
];

describe("--debug-perf", () => {
  it("reports every field at exit, consistent with each other and with the run", () => {
    const { perf, stderr } = runWithPerf("hello", 1);
    expect(stderr.split("\n").filter((l) => l.startsWith("  # perf: "))).toHaveLength(3);
    for (const f of FIELDS) expect(Number.isFinite(perf[f]), `${f} in:\n${stderr}`).toBe(true);
    expect(perf.instructions).toBeGreaterThan(0);
    // The first instruction comes after the process started and before it ended, and the
    // main thread's CPU time by then is part of its total, which is part of the process's.
    expect(perf["first-insn-ms"]).toBeGreaterThan(0);
    expect(perf["first-insn-ms"]).toBeLessThanOrEqual(perf["wall-ms"]);
    expect(perf["first-insn-cpu-ms"]).toBeGreaterThan(0);
    expect(perf["first-insn-cpu-ms"]).toBeLessThanOrEqual(perf["main-cpu-ms"]);
    expect(perf["main-cpu-ms"]).toBeLessThanOrEqual(perf["process-cpu-ms"] + 1); // rusage counts in µs, schedstat in ns
    expect(Math.abs(perf["insns-per-cpu-ms"] - perf.instructions / perf["main-cpu-ms"])).toBeLessThanOrEqual(1);
    // -m 64; the guest image was read into RAM, so at least its pages are resident.
    expect(perf["guest-ram-mib"]).toBe(64);
    expect(perf["wasm-memory-resident-mib"] * 1024 * 1024).toBeGreaterThanOrEqual(statSync(guestPath("hello")).size);
    expect(perf["peak-rss-mib"]).toBeGreaterThan(perf["wasm-memory-resident-mib"]);
    expect(perf.slices).toBeGreaterThanOrEqual(1);
    expect(perf["vcpu-switches"]).toBe(0);
  });

  it("counts vCPU switches when two vCPUs share the thread", () => {
    const { perf } = runWithPerf("gic-ipi", 2);
    // vCPU 1 is started, takes SGIs and answers them: at least one switch there and one back.
    expect(perf["vcpu-switches"]).toBeGreaterThanOrEqual(2);
    expect(perf.slices).toBeGreaterThan(perf["vcpu-switches"] / 2);
  });
});
