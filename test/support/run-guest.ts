// Runs a bare-metal test guest (test/guests/NAME.c, built by `make guests` into
// build/guests/NAME.bin) under `lkvm run` and collects its TAP-like report: "ok - ..." and
// "not ok - ..." lines and kvm-unit-tests' "EXIT: STATUS=n" line, where n = (failures << 1) | 1.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { GuestSession, type SessionExit } from "../../src/testing/guest-session.ts";

export const GUEST_DIR = fileURLToPath(new URL("../../build/guests/", import.meta.url));

export function guestPath(name: string): string {
  const path = `${GUEST_DIR}${name}.bin`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make build guests\``);
  return path;
}

export interface GuestRun extends SessionExit {
  /** The value of the EXIT: STATUS= line. */
  status: number;
  /** Descriptions of the "ok - " lines, in order. */
  ok: string[];
  /** Descriptions of the "not ok - " lines, with the "#" detail lines after each. */
  notOk: string[];
}

/** lkvm arguments for a guest: `-k guest.bin --nodefaults -m 64 -c cpus`, then `extra`. */
export function guestArgs(name: string, opts: { cpus?: number; mem?: number; extra?: string[] } = {}): string[] {
  return ["-k", guestPath(name), "--nodefaults", "-m", String(opts.mem ?? 64), "-c", String(opts.cpus ?? 1), ...(opts.extra ?? [])];
}

/** Parses a finished session's output. */
export function report(exit: SessionExit): GuestRun {
  const text = exit.output.replace(/\r/g, "");
  const m = /EXIT: STATUS=(\d+)/.exec(text);
  const lines = text.split("\n");
  const ok: string[] = [];
  const notOk: string[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith("ok - ")) ok.push(line.slice(5));
    else if (line.startsWith("not ok - ")) {
      let detail = line.slice(9);
      for (let j = i + 1; j < lines.length && lines[j]!.startsWith("#   "); j++) detail += ` (${lines[j]!.slice(4)})`;
      notOk.push(detail);
    }
  });
  return { ...exit, status: m ? Number(m[1]) : -1, ok, notOk };
}

/** Starts the guest, waits for its EXIT line and for lkvm to exit. */
export async function runGuest(
  name: string,
  opts: { cpus?: number; mem?: number; extra?: string[]; timeoutMs?: number } = {},
): Promise<GuestRun> {
  const session = GuestSession.start(guestArgs(name, opts));
  const timeoutMs = opts.timeoutMs ?? 20_000;
  try {
    await session.waitFor(/EXIT: STATUS=\d+/, timeoutMs);
  } catch (e) {
    session.kill();
    throw e;
  }
  return report(await session.exited(timeoutMs));
}

/**
 * The usual assertions: no "not ok" lines, status 1 (no failures), lkvm exited 0 after the
 * guest's PSCI SYSTEM_OFF, and every `expectOk` line present.
 *
 * `knownFailures` lists checks that fail because of a reported, not yet fixed bug outside these
 * tests: each must still fail (so the entry is removed when the bug is fixed), and nothing else
 * may. The status then counts exactly those failures.
 */
export function expectPassed(run: GuestRun, expectOk: (string | RegExp)[] = [], knownFailures: (string | RegExp)[] = []): void {
  const matches = (want: string | RegExp, line: string) => (typeof want === "string" ? line.startsWith(want) : want.test(line));
  const unexpected = run.notOk.filter((l) => !knownFailures.some((k) => matches(k, l)));
  expect(unexpected, run.output).toEqual([]);
  for (const k of knownFailures) {
    expect(run.notOk.some((l) => matches(k, l)), `known failure "${k}" now passes: remove it from the list`).toBe(true);
  }
  expect(run.status, run.output).toBe((run.notOk.length << 1) | 1);
  expect(run.code, run.output).toBe(0);
  for (const want of expectOk) {
    const found = run.ok.some((l) => (typeof want === "string" ? l === want : want.test(l)));
    expect(found, `missing "ok - ${want}" in:\n${run.output}`).toBe(true);
  }
}
