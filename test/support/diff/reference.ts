// The reference side of the differential tests: runs cases under qemu-aarch64 (user mode) in
// the static harness test/support/diff/harness/harness.c and decodes what it reports.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Case, type Result, END_MAGIC, decodeResult, encodeCases, validateCase } from "./case.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..", "..");
const HARNESS_SRC_DIR = join(HERE, "harness");
export const HARNESS_PATH = join(ROOT, "build", "diff", "harness");

/**
 * The CPU model qemu runs: the one our core models (an ARMv8.0 Cortex-A57 with CRC32), so that
 * extensions we leave unallocated are UNDEFINED on both sides. `max,sve=off,sme=off` (every
 * feature qemu 7.2 has; SVE/SME off because their signal-frame state would override the V
 * registers) is useful for probing the harness itself.
 */
export const DEFAULT_CPU = "cortex-a57";
export const MAX_CPU = "max,sve=off,sme=off";

export interface ReferenceOptions {
  /** qemu -cpu value (default DEFAULT_CPU). */
  cpu?: string;
  /** qemu-user binary (default "qemu-aarch64"). */
  qemu?: string;
  /** Cases per qemu process (default 4096); chunks run one after another. */
  chunkSize?: number;
}

const CC = "aarch64-linux-gnu-gcc";
const CFLAGS = [
  "-static",
  "-O2",
  "-Wall",
  "-Wextra",
  "-fno-stack-protector",
  // Keep the harness image far from small and power-of-two addresses, so a stray case store
  // through a "random" pointer is unlikely to hit it.
  "-Wl,-Ttext-segment=0x5a5a5a0000",
];

/** Build build/diff/harness if it is missing or older than its sources. Returns its path. */
export function buildHarness(): string {
  const srcs = readdirSync(HARNESS_SRC_DIR)
    .filter((f) => /\.(c|S|h)$/.test(f))
    .map((f) => join(HARNESS_SRC_DIR, f));
  const newest = Math.max(...srcs.map((f) => statSync(f).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
  if (existsSync(HARNESS_PATH) && statSync(HARNESS_PATH).mtimeMs >= newest) return HARNESS_PATH;
  mkdirSync(dirname(HARNESS_PATH), { recursive: true });
  // Build under a private name and rename: parallel test workers may race to build.
  const tmp = `${HARNESS_PATH}.${process.pid}.tmp`;
  try {
    execFileSync(CC, [...CFLAGS, "-o", tmp, ...srcs.filter((f) => !f.endsWith(".h"))], { stdio: "pipe" });
    renameSync(tmp, HARNESS_PATH);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`building the diff harness failed: ${err.stderr?.toString() || err.message}`);
  }
  return HARNESS_PATH;
}

function runChunk(cases: Case[], opts: Required<ReferenceOptions>): Promise<Result[]> {
  const input = encodeCases(cases);
  return new Promise((resolve, reject) => {
    const child = spawn(opts.qemu, ["-cpu", opts.cpu, HARNESS_PATH], {
      stdio: ["pipe", "pipe", "pipe"],
      // Deterministic guest randomness (AT_RANDOM, pointer-auth keys, RNDR).
      env: { ...process.env, QEMU_RAND_SEED: "1" },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.stdin.on("error", () => {}); // EPIPE if the harness dies early; reported below
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const buf = Buffer.concat(out);
      const results: Result[] = [];
      let off = 0;
      let failure: string | undefined;
      try {
        while (results.length < cases.length && off + 4 <= buf.length && buf.readUInt32LE(off) !== END_MAGIC) {
          const { value, next } = decodeResult(buf, off, cases[results.length].mem);
          results.push(value);
          off = next;
        }
        if (results.length !== cases.length || off + 4 !== buf.length || buf.readUInt32LE(off) !== END_MAGIC)
          failure = `got ${results.length} of ${cases.length} results`;
      } catch (e) {
        failure = `${(e as Error).message} after ${results.length} results`;
      }
      if (code !== 0 || failure) {
        reject(
          new Error(
            `reference harness failed (exit ${code ?? signal}): ${failure ?? ""} ` +
              `(case ${results.length} may be the culprit) ${Buffer.concat(err).toString().trim()}`,
          ),
        );
      } else resolve(results);
    });
    child.stdin.end(input);
  });
}

/**
 * Run the cases on qemu-aarch64 and return one Result per case, in order.
 * Throws (before running anything) if a case is malformed or contains an SVC.
 */
export async function runReference(cases: Case[], options: ReferenceOptions = {}): Promise<Result[]> {
  for (const c of cases) validateCase(c);
  buildHarness();
  const opts: Required<ReferenceOptions> = {
    cpu: options.cpu ?? DEFAULT_CPU,
    qemu: options.qemu ?? "qemu-aarch64",
    chunkSize: options.chunkSize ?? 4096,
  };
  const results: Result[] = [];
  for (let i = 0; i < cases.length; i += opts.chunkSize)
    results.push(...(await runChunk(cases.slice(i, i + opts.chunkSize), opts)));
  return results;
}
