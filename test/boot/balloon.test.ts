// virtio-balloon under Debian's kernel, driven the way a user drives it: `lkvm run --balloon`,
// then `lkvm balloon -i/-d` and `lkvm stat -m` from another process. Linux 6.1's driver
// without DEFLATE_ON_OOM takes inflated pages out of totalram (adjust_managed_page_count), so
// the guest's own MemTotal is the oracle: it falls by the inflated amount and comes back.

import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";

const IMAGE = "cache/guest/Image";
const INITRD = "cache/guest/initramfs.cpio.gz";
const BOOT_MS = 240_000;
const PROMPT = /[~/] ?# /;

function lkvm(home: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bin/lkvm", args, { env: { ...process.env, HOME: home }, timeout: 60_000 }, (err, stdout, stderr) => {
      const status = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ status: typeof status === "number" ? status : null, stdout, stderr });
    });
  });
}

/** The guest's MemTotal in kB, read by its shell. */
async function memTotalKb(s: GuestSession): Promise<number> {
  s.send("echo MT=$(grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2)=\n");
  const m = await s.waitFor(/MT=(\d+)=/, 30_000);
  return Number(m[1]);
}

/** Reads MemTotal until `done` holds (the driver works in the background), up to 60 s. */
async function memTotalUntil(s: GuestSession, done: (kb: number) => boolean): Promise<number> {
  let kb = await memTotalKb(s);
  for (let i = 0; i < 30 && !done(kb); i++) {
    await new Promise((r) => setTimeout(r, 2000));
    kb = await memTotalKb(s);
  }
  return kb;
}

describe("virtio-balloon (--balloon) with lkvm balloon and lkvm stat", () => {
  it("-i 64 takes 64 MiB from the guest's MemTotal, -d 64 gives it back, stat -m shows the guest's numbers", async () => {
    if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
    const home = mkdtempSync(join(tmpdir(), "lkvm-balloon-"));
    const name = "balloon-boot";
    const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "1", "-p", "quiet", "--loglevel", "warning", "--balloon", "--name", name], {
      env: { HOME: home },
    });
    try {
      await s.waitFor(PROMPT, BOOT_MS);
      s.send("stty -echo\n");
      await s.waitFor(PROMPT, 30_000);
      const before = await memTotalKb(s);
      expect(before).toBeGreaterThan(128 * 1024);

      let r = await lkvm(home, "balloon", "-n", name, "-i", "64");
      expect(r).toMatchObject({ status: 0, stdout: "", stderr: "" });
      const inflated = await memTotalUntil(s, (kb) => before - kb >= 64 * 1024);
      expect(before - inflated).toBe(64 * 1024);

      r = await lkvm(home, "stat", "-m", "-n", name);
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.split("\n");
      expect(lines.slice(0, 4)).toEqual(["", "", "\t*** Guest memory statistics ***", ""]);
      expect(r.stdout.endsWith("\n\n")).toBe(true);
      const total = /^The total amount of memory \(in bytes\):(\d+)$/m.exec(r.stdout);
      expect(total, r.stdout).not.toBeNull();
      expect(Number(total![1])).toBe(inflated * 1024);
      const free = /^The amount of memory not being used for any purpose \(in bytes\):(\d+)$/m.exec(r.stdout);
      expect(Number(free![1])).toBeGreaterThan(0);
      expect(Number(free![1])).toBeLessThan(inflated * 1024);
      for (const label of [/^The number of minor page faults that have occurred:\d+$/m, /^The estimated available memory \(in bytes\):\d+$/m]) {
        expect(r.stdout).toMatch(label);
      }

      r = await lkvm(home, "balloon", "-n", name, "-d", "64");
      expect(r).toMatchObject({ status: 0, stdout: "" });
      const deflated = await memTotalUntil(s, (kb) => kb >= before);
      expect(deflated).toBe(before);

      s.send("poweroff -f\n");
      expect((await s.exited(60_000)).code).toBe(0);
    } finally {
      s.kill();
    }
  }, BOOT_MS + 300_000);
});
