// `make bench`: each workload under lkvm and under qemu-system-aarch64 (TCG) in the same run,
// with the ratio. Speed is measured here, never asserted in tests.
//
// Workloads:
// - int: test/guests/bench/int.c, three integer kernels with the MMU off and on. The guest times
//   each kernel with the generic timer (so start-up costs don't count); lkvm runs in-process so
//   the exact retired-instruction count of each kernel is known, and since both machines run the
//   same instruction stream, QEMU's instructions per second follow from its time. Two builds:
//   the long one (int-long.bin, ~0.2-0.4 G instructions a kernel) measures the JIT's and QEMU's
//   steady state; the short one (int.bin) runs under the interpreter too, and its JIT column
//   shows the warm-up included.
// - boot: the default Debian kernel + initramfs, wall time from process start to the shell
//   prompt (needs `make guest`; skipped with a note otherwise). Beside it, the deterministic
//   proxy from lkvm's --debug-perf (guest instructions per main-thread CPU-ms, time to the
//   first guest instruction, peak RSS), which the machine's noise moves far less.
// - workloads: commands typed into the booted guest, 1 and 2 vCPUs (tools/bench-workloads.ts).
//
// lkvm runs both ways, interpreted (--no-jit) and with the JIT (--jit), each run in a fresh
// process (V8 keeps compiled modules of identical bytes alive within a process). The machine is
// shared, so every figure is the best of N runs (--best-of N, default 3).
//
// Usage: node build/tools/bench.mjs [int|boot|workloads] [--best-of N]

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { Vm } from "../src/kvm/vm.ts";
import { validateConfig } from "../src/cli/config.ts";
import { parsePerfLines } from "../src/kvm/perf-report.ts";
import { workloadBench } from "./bench-workloads.ts";
import { QEMU, QEMU_MACHINE } from "./qemu-session.ts";

interface KernelTiming {
  name: string;
  mmu: string;
  seconds: number;
  check: string;
  insns?: number;
}

/** The int guest's two builds (Makefile): lkvm's flat image and QEMU virt's ELF of each. */
const INT_IMAGES = {
  short: { lkvm: "build/bench/int.bin", qemu: "build/bench/int-virt.elf" },
  long: { lkvm: "build/bench/int-long.bin", qemu: "build/bench/int-long-virt.elf" },
};

const BENCH_LINE = /bench (\w+) ticks=(\d+) freq=(\d+) check=(0x[0-9a-f]+)/;
const MMU_LINE = /bench begin mmu=(\w+)/;

function parseLines(text: string, insnsAtLine?: Map<number, number>): KernelTiming[] {
  const out: KernelTiming[] = [];
  let mmu = "?";
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const m = MMU_LINE.exec(line);
    if (m) mmu = m[1]!;
    const b = BENCH_LINE.exec(line);
    if (b) {
      out.push({ name: b[1]!, mmu, seconds: Number(b[2]) / Number(b[3]), check: b[4]!, insns: insnsAtLine?.get(i) });
    }
  });
  return out;
}

/** Runs the benchmark guest on lkvm in-process, recording retired instructions at each line. */
async function runLkvm(image: string, jit: boolean): Promise<KernelTiming[]> {
  const cfg = validateConfig({ kernel: image, nodefaults: true, mem: "256", cpus: 1, loglevel: "error", jit });
  const vm = new Vm(cfg);
  let text = "";
  let lineNo = 0;
  let lastInsns = 0n;
  const insnsAtLine = new Map<number, number>();
  vm.on("output", (bytes) => {
    for (const b of bytes) {
      text += String.fromCharCode(b);
      if (b === 0x0a) {
        const now = vm.core.insnsRetired;
        insnsAtLine.set(lineNo, Number(now - lastInsns));
        lastInsns = now;
        lineNo++;
      }
    }
  });
  const exit = await vm.run();
  if (exit.reason !== "poweroff") throw new Error(`lkvm benchmark run ended with ${exit.reason}: ${exit.message ?? ""}\n${text}`);
  return parseLines(text, insnsAtLine);
}

/**
 * Runs a command until its output matches `until`; `seconds` is the wall time to that match.
 * With `then`, that text is typed (stdin) at the match and the command's whole output up to its
 * exit is collected (lkvm's --debug-perf lines come at exit); otherwise it is killed there.
 */
function runCommand(cmd: string, args: string[], until: RegExp, timeoutMs: number, then?: string): Promise<{ text: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let text = "";
    let seconds: number | undefined;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      if (err) reject(err);
      else resolve({ text, seconds: seconds! });
    };
    const timer = setTimeout(() => finish(new Error(`${cmd} timed out after ${timeoutMs} ms; output ends:\n${text.slice(-1500)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      if (seconds !== undefined || !until.test(text)) return;
      seconds = (performance.now() - t0) / 1000;
      if (then === undefined) finish();
      else child.stdin.write(then);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", () => (seconds !== undefined ? finish() : finish(new Error(`${cmd} exited early; output ends:\n${text.slice(-1500)}`))));
  });
}


function fmtRate(insns: number, seconds: number): string {
  return `${(insns / seconds / 1e6).toFixed(1)} M/s`;
}

/** Runs an int guest image in a fresh process (this script with --lkvm-int-child). */
function runLkvmChild(image: string, jit: boolean): KernelTiming[] {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, "--lkvm-int-child", image, jit ? "--jit" : "--no-jit"], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`lkvm benchmark child failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as KernelTiming[];
}

/** The fastest of n runs, kernel by kernel. */
async function bestOf(n: number, run: () => KernelTiming[] | Promise<KernelTiming[]>): Promise<KernelTiming[]> {
  let best: KernelTiming[] | undefined;
  for (let i = 0; i < n; i++) {
    const t = await run();
    if (!best) best = t;
    else best = best.map((b) => {
      const o = t.find((x) => x.name === b.name && x.mmu === b.mmu);
      return o && o.seconds < b.seconds ? o : b;
    });
  }
  return best!;
}

/**
 * The int guest in two builds of the same source (Makefile, BENCH_SCALE): the short one
 * (int.bin, 11-21 M instructions a kernel) under all three, where a JIT's warm-up (blocks
 * interpreted until hot, background compiles, V8's tier-up) is much of the time; and the long
 * one (int-long.bin, 20x the rounds) under lkvm --jit and QEMU only, for steady-state
 * throughput (the interpreter would take minutes on it).
 */
async function intBench(runs: number): Promise<string[]> {
  const lkvm = (image: string) => `lkvm run -k ${image} --nodefaults -m 256 -c 1`;
  const qemu = (elf: string) => [...QEMU_MACHINE, "-m", "256", "-kernel", elf];
  const runQemu = async (elf: string) => parseLines((await runCommand(QEMU, qemu(elf), /bench end/, 300_000)).text);
  const [short, long] = [INT_IMAGES.short, INT_IMAGES.long];
  const interp = await bestOf(runs, () => runLkvmChild(short.lkvm, false));
  const jit = await bestOf(runs, () => runLkvmChild(short.lkvm, true));
  const theirs = await bestOf(runs, () => runQemu(short.qemu));
  const jitLong = await bestOf(runs, () => runLkvmChild(long.lkvm, true));
  const theirsLong = await bestOf(runs, () => runQemu(long.qemu));
  const rows = [
    `### Integer CPU benchmark (guest instructions per second, timed inside the guest; best of ${runs})`,
    ``,
    `long run, steady state: lkvm \`${lkvm(long.lkvm)} --jit\`; QEMU \`${QEMU} ${qemu(long.qemu).join(" ")}\`  `,
    `short run, warm-up included: lkvm \`${lkvm(short.lkvm)} --no-jit\` and \`… --jit\`; QEMU \`${QEMU} ${qemu(short.qemu).join(" ")}\`  `,
    `(lkvm runs in-process, one process per run, and counts the retired instructions; QEMU runs the same instruction stream)`,
    ``,
    `| kernel | MMU | long: guest insns | long: lkvm JIT | long: QEMU TCG | long: JIT / QEMU | ` +
      `short: guest insns | short: lkvm interpreter | short: lkvm JIT | short: QEMU TCG | short: JIT / interpreter | short: JIT / QEMU |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  const find = (list: KernelTiming[], o: KernelTiming) => list.find((x) => x.name === o.name && x.mmu === o.mmu);
  const sameCheck = (o: KernelTiming, others: [string, KernelTiming][]) => {
    for (const [who, x] of others) {
      if (x.check !== o.check) throw new Error(`${o.name} mmu=${o.mmu}: results differ (lkvm ${o.check}, ${who} ${x.check})`);
    }
  };
  for (const o of interp) {
    const j = find(jit, o);
    const t = find(theirs, o);
    const jl = find(jitLong, o);
    const tl = find(theirsLong, o);
    if (!t || !j || !jl || !tl || o.insns === undefined || jl.insns === undefined) continue;
    sameCheck(o, [["QEMU", t], ["lkvm --jit", j]]);
    sameCheck(jl, [["QEMU", tl]]);
    rows.push(
      `| ${o.name} | ${o.mmu} | ${(jl.insns / 1e6).toFixed(1)} M | ${fmtRate(jl.insns, jl.seconds)} | ${fmtRate(jl.insns, tl.seconds)} | ` +
        `${(tl.seconds / jl.seconds).toFixed(3)}× | ${(o.insns / 1e6).toFixed(1)} M | ${fmtRate(o.insns, o.seconds)} | ` +
        `${fmtRate(o.insns, j.seconds)} | ${fmtRate(o.insns, t.seconds)} | ${(o.seconds / j.seconds).toFixed(2)}× | ${(t.seconds / j.seconds).toFixed(3)}× |`,
    );
  }
  return rows;
}

async function bootBench(runs: number): Promise<string[]> {
  const image = "cache/guest/Image";
  const initrd = "cache/guest/initramfs.cpio.gz";
  if (!existsSync(image) || !existsSync(initrd)) return ["### Linux boot", "", "skipped: run `make guest` first"];
  const prompt = /[~/] ?# /;
  const lkvmArgs = ["run", "-k", image, "-i", initrd, "-m", "512", "-c", "1", "-p", "quiet"];
  const qemuArgs = [...QEMU_MACHINE, "-m", "512", "-kernel", image, "-initrd", initrd, "-append", "console=ttyAMA0 quiet"];
  const rows = [`### Linux boot to the shell prompt (wall time from process start; best of ${runs})`, ""];
  // lkvm's runs report --debug-perf at exit: the guest is powered off at the prompt, and the
  // run with the fewest main-thread CPU-ms is the proxy's best.
  const perfRuns: Record<string, number>[] = [];
  const best = async (cmd: string, args: string[], timeoutMs: number): Promise<number | undefined> => {
    let s: number | undefined;
    const isLkvm = cmd === "bin/lkvm";
    for (let i = 0; i < runs; i++) {
      try {
        const r = await runCommand(cmd, isLkvm ? [...args, "--debug-perf"] : args, prompt, timeoutMs, isLkvm ? "poweroff -f\n" : undefined);
        s = s === undefined ? r.seconds : Math.min(s, r.seconds);
        if (args.includes("--jit")) perfRuns.push(parsePerfLines(r.text));
      } catch (e) {
        rows.push(`${cmd} ${args.includes("--jit") ? "--jit " : ""}did not reach the prompt: ${(e as Error).message.split("\n")[0]}`, "");
        return undefined;
      }
    }
    return s;
  };
  const theirs = await best(QEMU, qemuArgs, 300_000);
  const interp = await best("bin/lkvm", [...lkvmArgs, "--no-jit"], 600_000);
  const jit = await best("bin/lkvm", [...lkvmArgs, "--jit"], 600_000);
  const f = (s: number | undefined) => (s === undefined ? "—" : s.toFixed(2));
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? "—" : (a / b).toFixed(2) + "×");
  rows.push(`lkvm: \`bin/lkvm ${lkvmArgs.join(" ")} --no-jit\` and \`… --jit\` (with --debug-perf; \`poweroff -f\` at the prompt)  `, `QEMU: \`${QEMU} ${qemuArgs.join(" ")}\``, "");
  rows.push(`| | lkvm interpreter | lkvm JIT | QEMU TCG | JIT / QEMU |`, `|---|---|---|---|---|`);
  rows.push(`| seconds | ${f(interp)} | ${f(jit)} | ${f(theirs)} | ${ratio(jit, theirs)} |`);
  rows.push("", ...describeBootPerf(perfRuns));
  return rows;
}

/**
 * The proxy beside the wall times (docs/jit.md, "Measuring"): lkvm --jit's guest instructions
 * per main-thread CPU-ms, which the machine's other load moves far less than wall time, from the
 * run that used the least main-thread CPU; and the best time to the first guest instruction.
 */
function describeBootPerf(perfRuns: Record<string, number>[]): string[] {
  const complete = perfRuns.filter((p) => Number.isFinite(p["main-cpu-ms"]) && Number.isFinite(p.instructions));
  if (complete.length === 0) return ["lkvm --jit printed no --debug-perf report"];
  const best = complete.reduce((a, b) => (b["main-cpu-ms"]! < a["main-cpu-ms"]! ? b : a));
  const min = (key: string) => Math.min(...complete.map((p) => p[key]!).filter(Number.isFinite));
  return [
    `lkvm --jit, boot + poweroff (--debug-perf; best of ${complete.length} by main-thread CPU):`,
    "",
    `| guest insns | main-thread CPU | insns per main-thread CPU-ms | all threads' CPU | first guest insn (its main-thread CPU) | peak RSS | resident wasm memory (RAM touched + core state) | vCPU switches |`,
    `|---|---|---|---|---|---|---|---|`,
    `| ${(best.instructions! / 1e9).toFixed(3)} G | ${(best["main-cpu-ms"]! / 1000).toFixed(2)} s | ${(best["insns-per-cpu-ms"]! / 1000).toFixed(1)} k | ` +
      `${(best["process-cpu-ms"]! / 1000).toFixed(2)} s | ${min("first-insn-ms").toFixed(0)} ms (${min("first-insn-cpu-ms").toFixed(0)} ms) | ` +
      `${best["peak-rss-mib"]!.toFixed(0)} MiB | ${best["wasm-memory-resident-mib"]!.toFixed(0)} MiB (RAM ${best["guest-ram-mib"]} MiB) | ${best["vcpu-switches"]} |`,
  ];
}

if (process.argv[2] === "--lkvm-int-child") {
  process.stdout.write(JSON.stringify(await runLkvm(process.argv[3]!, process.argv[4] === "--jit")));
  process.exit(0);
}
const which = process.argv[2]?.startsWith("--") ? undefined : process.argv[2];
const bestArg = process.argv.indexOf("--best-of");
const runs = bestArg > 0 ? Number(process.argv[bestArg + 1]) : 3;
const sections: string[][] = [];
if (!which || which === "int") sections.push(await intBench(runs));
if (!which || which === "boot") sections.push(await bootBench(runs));
if (!which || which === "workloads") sections.push(await workloadBench(runs));
console.log(`## make bench — ${new Date().toISOString().slice(0, 10)}, node ${process.version}\n`);
console.log(sections.map((s) => s.join("\n")).join("\n\n"));
