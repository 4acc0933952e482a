// `make fuzz`: the long run of every fuzz target in test/fuzz (at least 10^6 cases each), or
// of the ones named. A standalone bundle rather than vitest with a bigger numRuns: a run of
// many minutes wants progress lines, no per-test timeout, one process whose throughput does
// not depend on a test pool, and a command line to replay one failing case.
//
//   node build/tools/fuzz.mjs [--target NAME[,NAME…]] [--runs N] [--seed S] [--path P] [--chunk N]
//
// Cases run in chunks, chunk i with seed S + i, so the count is exact and a failure names the
// seed (and fast-check's path) that replays it: `--target NAME --seed S --path P --runs 1`.
// A target stops at its third failing chunk. Exits 1 if any case failed.

import fc from "fast-check";
import { LONG_RUNS, runParameters, type FuzzTarget } from "../test/fuzz/harness.ts";
import { FUZZ_TARGETS } from "../test/fuzz/targets.ts";

const MAX_FAILURES = 3;

interface Options {
  targets: FuzzTarget[];
  runs: number;
  seed: number;
  path?: string;
  chunk: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { targets: [...FUZZ_TARGETS], runs: LONG_RUNS, seed: Date.now() % 2 ** 31, chunk: 20_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    switch (arg) {
      case "--target": {
        const names = value.split(",");
        opts.targets = names.map((n) => {
          const t = FUZZ_TARGETS.find((x) => x.name === n);
          if (!t) throw new Error(`no fuzz target '${n}'; there are: ${FUZZ_TARGETS.map((x) => x.name).join(", ")}`);
          return t;
        });
        break;
      }
      case "--runs":
        opts.runs = Number(value);
        break;
      case "--seed":
        opts.seed = Number(value) | 0;
        break;
      case "--path":
        opts.path = value;
        break;
      case "--chunk":
        opts.chunk = Number(value);
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  if (!(Number.isInteger(opts.runs) && opts.runs > 0)) throw new Error("--runs must be a positive integer");
  if (!(Number.isInteger(opts.chunk) && opts.chunk > 0)) throw new Error("--chunk must be a positive integer");
  return opts;
}

interface Result {
  target: string;
  cases: number;
  failures: number;
  seconds: number;
}

async function runTarget(target: FuzzTarget, opts: Options): Promise<Result> {
  const { property, dispose } = target.build();
  const start = performance.now();
  let cases = 0;
  let failures = 0;
  let lastReport = start;
  try {
    // A target that fails keeps failing the same way: three counterexamples are enough.
    for (let chunkIndex = 0; cases < opts.runs && failures < MAX_FAILURES; chunkIndex++) {
      const seed = (opts.seed + chunkIndex) | 0;
      const numRuns = Math.min(opts.chunk, opts.runs - cases);
      const details = fc.check(property, runParameters(seed, numRuns, opts.path));
      // A failed chunk stops at its counterexample; count the cases it actually ran.
      cases += details.failed ? details.numRuns : numRuns;
      if (details.failed) {
        failures++;
        const error = details.errorInstance as Error | undefined;
        console.log(`\n${target.name}: FAILED in chunk seed ${seed}\n${fc.defaultReportMessage(details)}`);
        console.log(`error: ${error?.stack ?? String(error)}`);
        console.log(`replay (with stack traces): node build/tools/fuzz.mjs --target ${target.name} --seed ${seed} --path ${details.counterexamplePath} --runs 1`);
      }
      if (opts.path !== undefined) break; // a replay is one case
      // Let the event loop run: work a target's devices queued (socket callbacks, promise
      // jobs, as the network stack's) is released only then, not at the end of the run.
      await new Promise((resolve) => setImmediate(resolve));
      const now = performance.now();
      if (now - lastReport > 30_000) {
        lastReport = now;
        console.log(`  ${target.name}: ${cases} cases, ${failures} failures, ${((now - start) / 1000).toFixed(0)} s`);
      }
    }
  } finally {
    dispose?.();
  }
  return { target: target.name, cases, failures, seconds: (performance.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  // Devices answer bad guest input by throwing and catching GuestErrors, millions of times;
  // capturing a stack for each is most of their cost. A replay (--path) keeps the stacks.
  if (opts.path === undefined) Error.stackTraceLimit = 0;
  console.log(`fuzz: seed ${opts.seed}, ${opts.runs} cases per target, targets: ${opts.targets.map((t) => t.name).join(", ")}`);
  const results: Result[] = [];
  for (const target of opts.targets) {
    console.log(`${target.name}: ${target.description}`);
    const r = await runTarget(target, opts);
    console.log(`${r.target}: ${r.cases} cases, ${r.failures} failures, ${r.seconds.toFixed(1)} s`);
    results.push(r);
  }
  console.log(`\n${"target".padEnd(16)} ${"cases".padStart(10)} ${"failures".padStart(8)} ${"seconds".padStart(8)}`);
  for (const r of results) {
    console.log(`${r.target.padEnd(16)} ${String(r.cases).padStart(10)} ${String(r.failures).padStart(8)} ${r.seconds.toFixed(0).padStart(8)}`);
  }
  if (results.some((r) => r.failures > 0)) process.exitCode = 1;
}

await main();
