// --console virtio under Debian's kernel: the guest's console is hvc0 (virtio_console, loaded
// by the default initramfs), and the scripted-test API drives its shell exactly as it drives
// ttyS0's. Input typed before the driver is up waits in lkvm until the guest posts receive
// buffers, so a script piped in at once still arrives whole.

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";

const IMAGE = "cache/guest/Image";
const INITRD = "cache/guest/initramfs.cpio.gz";
const BOOT_MS = 240_000;
const PROMPT = /[~/] ?# /;

function boot(): GuestSession {
  if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
  return GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "1", "--loglevel", "warning", "--console", "virtio"]);
}

describe("--console virtio", () => {
  it("boots the default guest to a shell on hvc0 that the scripted API drives", async () => {
    const s = boot();
    try {
      await s.waitFor(PROMPT, BOOT_MS);
      s.send("echo RESULT-$((6 * 7)) $(tty) $(cat /sys/class/tty/console/active) $(cat /proc/cmdline)\n");
      const m = await s.waitFor(/RESULT-42 (\S+) (\S+) (.*)\r?\n/, 30_000);
      expect(m[1]).toBe("/dev/hvc0");
      expect(m[2]).toBe("hvc0");
      expect(m[3]).toMatch(/(^| )console=hvc0( |$)/);
      expect(m[3]).not.toMatch(/console=ttyS0/);
      // The UARTs stay, as in kvmtool: the 8250 driver still finds ttyS0.
      s.send("echo UARTS-$(ls /sys/class/tty | grep -c ttyS)\n");
      expect(Number((await s.waitFor(/UARTS-(\d+)/, 30_000))[1])).toBeGreaterThanOrEqual(1);
      s.send("poweroff -f\n");
      expect((await s.exited(60_000)).code).toBe(0);
    } finally {
      s.kill();
    }
  }, BOOT_MS + 120_000);

  it("a script piped in before the guest boots arrives whole on hvc0", async () => {
    const s = boot();
    try {
      const lines = Array.from({ length: 50 }, (_, i) => `echo $((${i} + 1000)) >> /tmp/lines`);
      s.send(["stty -echo", ...lines, "echo RESULT $(tr '\\n' ' ' < /tmp/lines)END", "poweroff -f", ""].join("\n"));
      s.endInput();
      const { code, output } = await s.exited(BOOT_MS);
      expect(code, output.slice(-1500)).toBe(0);
      const result = /RESULT ([\d ]*)END/.exec(output);
      expect(result, output.slice(-1500)).not.toBeNull();
      expect(result![1]!.trim().split(" ").map(Number)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1000));
    } finally {
      s.kill();
    }
  }, BOOT_MS + 60_000);
});
