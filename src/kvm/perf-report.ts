// --debug-perf: counters that make A/B decisions robust to a shared machine's noise. Wall time
// moves by ±15 % with whatever else runs; the main thread's CPU time moves much less, and guest
// instructions per main-thread CPU-millisecond is a throughput that does not count the time
// another process held the core. Printed at exit beside --debug-jit's lines; tools/bench.ts
// reads them (docs/jit.md, "Measuring").

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** What the run loop counts as it goes (Vm): cheap additions, whether or not the report is asked for. */
export class PerfCounters {
  /** performance.now() (ms since the process started) when the first guest instruction ran. */
  firstInstructionMs?: number;
  /** Main-thread CPU ms spent by then. */
  firstInstructionCpuMs?: number;
  /** Guest instructions retired, all vCPUs. */
  instructions = 0;
  /** Core.run() calls: vCPU slices. */
  slices = 0;
  /** Changes of the vCPU loaded in the core (save + load). */
  vcpuSwitches = 0;
  /** Times every vCPU waited and the loop slept until a deadline or an event. */
  sleeps = 0;

  /** Called just before the first Core.run(). */
  firstRun(): void {
    if (this.firstInstructionMs !== undefined) return;
    this.firstInstructionMs = performance.now();
    this.firstInstructionCpuMs = mainThreadCpuMs();
  }
}

/**
 * CPU time of the calling thread (Node's main thread when the VM calls it), in ms: Linux's
 * per-thread scheduler statistics, nanosecond-exact, so V8's compiler threads do not count.
 * Elsewhere the whole process's user + system time.
 */
export function mainThreadCpuMs(): number {
  try {
    const ns = Number(readFileSync("/proc/thread-self/schedstat", "latin1").split(" ")[0]);
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // not Linux, or no schedstat
  }
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Bytes resident in the readable and writable mapping of exactly `sizeBytes` bytes (V8 maps a
 * WebAssembly.Memory's accessible part so, inside a larger reservation), or undefined: the
 * pages of guest RAM someone touched, the loader, devices and the guest alike.
 */
export function residentBytesOfMapping(sizeBytes: number): number | undefined {
  let smaps: string;
  try {
    smaps = readFileSync("/proc/self/smaps", "latin1");
  } catch {
    return undefined;
  }
  let writable = false;
  let size = 0;
  for (const line of smaps.split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) writable = line.split(" ")[1]!.startsWith("rw");
    else if (line.startsWith("Size:")) size = Number(line.slice(5).trim().split(" ")[0]) * 1024;
    else if (line.startsWith("Rss:") && writable && size === sizeBytes) return Number(line.slice(4).trim().split(" ")[0]) * 1024;
  }
  return undefined;
}

export interface PerfReport {
  instructions: number;
  wallMs: number;
  mainCpuMs: number;
  /** User + system time of every thread (V8's compiler threads included). */
  processCpuMs: number;
  /** Guest instructions per main-thread CPU-ms: the proxy. */
  instructionsPerCpuMs: number;
  firstInstructionMs?: number;
  firstInstructionCpuMs?: number;
  peakRssBytes: number;
  /**
   * Host memory resident in the core's WebAssembly.Memory: guest RAM the loader, devices or the
   * guest touched, and the core's own state below it (arm/abi.ts, RAM_HOST_BASE).
   */
  wasmMemoryResidentBytes?: number;
  guestRamBytes: number;
  slices: number;
  vcpuSwitches: number;
  sleeps: number;
}

/** The report at exit; `wasmMemoryBytes` is the core's WebAssembly.Memory size. */
export function perfReport(c: PerfCounters, guestRamBytes: number, wasmMemoryBytes: number): PerfReport {
  const mainCpuMs = mainThreadCpuMs();
  const u = process.cpuUsage();
  const resident = residentBytesOfMapping(wasmMemoryBytes);
  return {
    instructions: c.instructions,
    wallMs: performance.now(),
    mainCpuMs,
    processCpuMs: (u.user + u.system) / 1000,
    instructionsPerCpuMs: mainCpuMs > 0 ? c.instructions / mainCpuMs : 0,
    firstInstructionMs: c.firstInstructionMs,
    firstInstructionCpuMs: c.firstInstructionCpuMs,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    wasmMemoryResidentBytes: resident,
    guestRamBytes,
    slices: c.slices,
    vcpuSwitches: c.vcpuSwitches,
    sleeps: c.sleeps,
  };
}

const MiB = 1024 * 1024;
const ms = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(1));

/**
 * The report as log lines, `  # perf: key value …` pairs that tools/bench.ts and the tests
 * parse (parsePerfLines).
 */
export function describePerf(r: PerfReport): string[] {
  return [
    `  # perf: instructions ${r.instructions} main-cpu-ms ${ms(r.mainCpuMs)} insns-per-cpu-ms ${r.instructionsPerCpuMs.toFixed(0)} ` +
      `wall-ms ${ms(r.wallMs)} process-cpu-ms ${ms(r.processCpuMs)}`,
    `  # perf: first-insn-ms ${ms(r.firstInstructionMs)} first-insn-cpu-ms ${ms(r.firstInstructionCpuMs)} ` +
      `peak-rss-mib ${(r.peakRssBytes / MiB).toFixed(1)} wasm-memory-resident-mib ${r.wasmMemoryResidentBytes === undefined ? "-" : (r.wasmMemoryResidentBytes / MiB).toFixed(1)} ` +
      `guest-ram-mib ${(r.guestRamBytes / MiB).toFixed(0)}`,
    `  # perf: slices ${r.slices} vcpu-switches ${r.vcpuSwitches} sleeps ${r.sleeps}`,
  ];
}

/** The numbers of `# perf:` lines in a log (key → value; "-" for unknown reads as NaN). */
export function parsePerfLines(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/# perf: (.*)/g)) {
    const words = m[1]!.trim().split(/\s+/);
    for (let i = 0; i + 1 < words.length; i += 2) out[words[i]!] = Number(words[i + 1]);
  }
  return out;
}
