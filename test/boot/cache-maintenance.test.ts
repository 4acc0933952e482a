// Debian's kernel under --check-cache-maintenance, with two vCPUs so that a secondary's boot
// with the MMU off is checked too. Linux cleans and invalidates where the architecture says it
// must, so its data accesses give no findings. Instruction fetches may: ftrace turns each
// traced function's first NOP into `mov x9, x30` at boot and does its DC CVAU/IC IVAU after
// the write, so a function that runs in between (on the patching path itself) is reported.
// The old NOP running there is harmless, and Linux accepts it; see README, "Checking cache
// maintenance".

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";

const IMAGE = "cache/guest/Image";
const INITRD = "cache/guest/initramfs.cpio.gz";
const BOOT_MS = 400_000;
const PROMPT = /[~/] ?# /;

describe("Debian's kernel under --check-cache-maintenance", () => {
  it("boots with two vCPUs and reads no data a real cache would have made stale", async () => {
    if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
    const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "512", "-c", "2", "-p", "quiet", "--check-cache-maintenance"]);
    try {
      await s.waitFor(PROMPT, BOOT_MS);
      s.send("cat /sys/devices/system/cpu/online\n");
      await s.waitFor(/\n0-1\r?\n/, 60_000);
      s.send("poweroff -f\n");
      const exit = await s.exited(60_000);
      expect(exit.code).toBe(0);
      const summary = /cache maintenance: (?:no findings|\d+ findings? \((\d+) non-cacheable reads of uncleaned lines, (\d+) cacheable reads of stale lines, (\d+) fetches)/.exec(exit.output);
      expect(summary, exit.output.slice(-3000)).not.toBeNull();
      const dataFindings = exit.output.split("\n").filter((l) => /^cache maintenance: vcpu\d+ .*(non-cacheable|cacheable) read/.test(l));
      expect(dataFindings).toEqual([]);
      expect(Number(summary![1] ?? 0) + Number(summary![2] ?? 0)).toBe(0);
    } finally {
      s.kill();
    }
  }, BOOT_MS + 120_000);
});
