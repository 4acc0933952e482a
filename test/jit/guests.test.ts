// Bare-metal guests run translated (docs/jit.md): every TAP guest gives the same report with
// the JIT forced on (threshold 0: every block is translated before it first runs) as it gives
// interpreted, and the integer benchmark guest computes the same results.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { GUEST_DIR, runGuest, type GuestRun } from "../support/run-guest.ts";
import { GuestSession } from "../../src/testing/guest-session.ts";

const SOURCE_DIR = fileURLToPath(new URL("../guests/", import.meta.url));

// Guests that print a TAP report and exit on their own, whatever their timing.
const GUESTS = [
  "hello", "mmu-perms", "tlb", "granules", "el0", "dabort", "exceptions", "timer", "alignment",
  "bigendian", "selfmod", "unpriv", "tbi", "rtc", "fdt", "uart", "debug",
].filter((name) => existsSync(`${SOURCE_DIR}${name}.c`) && existsSync(`${GUEST_DIR}${name}.bin`));

function outcome(run: GuestRun) {
  return { status: run.status, ok: run.ok, notOk: run.notOk, code: run.code };
}

describe("bare-metal guests report the same translated as interpreted", () => {
  for (const name of GUESTS) {
    it(name, async () => {
      const interpreted = await runGuest(name, { extra: ["--no-jit"] });
      const translated = await runGuest(name, { extra: ["--jit", "--jit-threshold", "0", "--debug-jit"] });
      expect(outcome(translated), translated.output).toEqual(outcome(interpreted));
      expect(translated.output).toMatch(/# JIT: \d+ modules, [1-9]\d* blocks/);
    });
  }
});

describe("the integer benchmark guest runs translated", () => {
  const image = fileURLToPath(new URL("../../build/bench/int.bin", import.meta.url));

  async function checks(extra: string[]): Promise<string[]> {
    const s = GuestSession.start(["-k", image, "--nodefaults", "-m", "256", "-c", "1", ...extra]);
    await s.waitFor(/bench end/, 120_000);
    const exit = await s.exited(30_000);
    return [...exit.output.matchAll(/bench (\w+) .*check=(0x[0-9a-f]+)/g)].map((m) => `${m[1]} ${m[2]}`);
  }

  it.skipIf(!existsSync(image))("with the same results (needs build/bench/int.bin: make guests)", async () => {
    const interpreted = await checks(["--no-jit"]);
    expect(interpreted.length).toBeGreaterThanOrEqual(6);
    expect(await checks(["--jit"])).toEqual(interpreted);
    expect(await checks(["--jit", "--jit-threshold", "0"])).toEqual(interpreted);
  }, 300_000);
});
