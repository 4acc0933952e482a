// --check-cache-maintenance: the guest test/guests/cache-maintenance.c walks three boot steps
// that need cache maintenance (page tables written with the MMU off then walked with it on,
// code written as data then run, data written with the MMU on then read with it off), with
// the maintenance or, under "cmo=skip", without it. The addresses below are the guest's.

import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { expectPassed, guestPath, runGuest } from "../support/run-guest.ts";

const CHECK = ["--check-cache-maintenance"];
const POOL = [0x8080_0000, 0x80c0_0000]; // the guest library's page-table pool
const CODE_PA = "0x81000000";
const DATA_PA = "0x81100000";

const findings = (output: string) => output.split("\n").filter((l) => l.startsWith("cache maintenance: vcpu"));

describe("--check-cache-maintenance", () => {
  it("finds nothing in a boot path that cleans, invalidates and synchronizes where it must", async () => {
    const run = await runGuest("cache-maintenance", { extra: CHECK });
    expectPassed(run, ["the MMU is on", "the code written as data runs", "the data written with the MMU on reads back with it off"]);
    expect(findings(run.output)).toEqual([]);
    expect(run.output).toContain("cache maintenance: no findings");
  });

  it("reports each missing step once, with the PC and the physical address", async () => {
    const run = await runGuest("cache-maintenance", { extra: [...CHECK, "-p", "cmo=skip"] });
    // The guest still passes: lkvm has no caches. Only the checker sees what hardware would do.
    expectPassed(run, ["the MMU is on", "the code written as data runs", "the data written with the MMU on reads back with it off"]);
    const lines = findings(run.output);

    // 1. The table walk reads a page table written with the MMU off and never invalidated.
    const staleTables = lines
      .map((l) => /cacheable read of 0x([0-9a-f]+), a line last written non-cacheably/.exec(l))
      .filter((m) => m !== null)
      .map((m) => Number.parseInt(m[1]!, 16))
      .filter((pa) => pa >= POOL[0]! && pa < POOL[1]!);
    expect(staleTables.length, lines.join("\n")).toBeGreaterThan(0);

    // 2. The code written as data runs without DC CVAU (the first missing step).
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`pc ${CODE_PA}: instruction fetch from ${CODE_PA}, written as data with no DC CVAU since`)));

    // 3. The data written with the MMU on is read with it off, never cleaned.
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`non-cacheable read of ${DATA_PA}, a line last written through the data cache and not cleaned`)));

    // Once per line and kind: no line is reported twice for the same reason.
    const keys = lines.map((l) => l.replace(/^cache maintenance: vcpu\d+ pc 0x[0-9a-f]+: /, "").replace(/0x([0-9a-f]+)/, (_, pa: string) => (Number.parseInt(pa, 16) & ~63).toString(16)));
    expect(new Set(keys).size).toBe(keys.length);

    // The summary counts what was printed.
    const m = /cache maintenance: (\d+) findings \((\d+) non-cacheable reads of uncleaned lines, (\d+) cacheable reads of stale lines, (\d+) fetches of unsynchronized code\)/.exec(run.output);
    expect(m, run.output).not.toBeNull();
    const [total, uncleaned, stale, fetch] = m!.slice(1).map(Number);
    expect(total).toBe(lines.length);
    expect(uncleaned! + stale! + fetch!).toBe(total);
    expect(fetch).toBe(1);
  });

  it("takes a set/way clean of every cache level (the firmware way) as cleaning every line", async () => {
    const run = await runGuest("cache-maintenance", { extra: [...CHECK, "-p", "cmo=setway"] });
    expectPassed(run, ["the data written with the MMU on reads back with it off"]);
    expect(findings(run.output)).toEqual([]);
  });

  for (const [mode, missing] of [["cmo=no-isb", "ISB"], ["cmo=ic-before-dc", "IC IVAU"]] as const) {
    it(`names the step a wrong instruction-cache sequence misses (${mode}: no ${missing})`, async () => {
      const run = await runGuest("cache-maintenance", { extra: [...CHECK, "-p", mode] });
      expectPassed(run);
      expect(findings(run.output)).toEqual([
        `cache maintenance: vcpu0 pc ${CODE_PA}: instruction fetch from ${CODE_PA}, written as data with no ${missing} since (the sequence is DC CVAU, DSB, IC IVAU, DSB, ISB): the old instruction may run`,
      ]);
    });
  }

  it("is off by default: the same guest prints no findings and no summary", async () => {
    const run = await runGuest("cache-maintenance", { extra: ["-p", "cmo=skip"] });
    expectPassed(run);
    expect(run.output).not.toContain("cache maintenance");
  });

  it("refuses --jit, whose translated code it could not check", () => {
    const r = spawnSync("bin/lkvm", ["run", "-k", guestPath("cache-maintenance"), ...CHECK, "--jit"], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual(["lkvm: error: --check-cache-maintenance runs the interpreter only (translated code is not checked): drop --jit"]);
  });
});
