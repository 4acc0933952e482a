// Console input that arrives before the guest is ready, and the guest's own ways out: piped
// input reaches Debian's kernel whole however early it comes (the UART holds it until the
// driver listens), plain poweroff/reboot/halt end the VM, and what the guest flushed to a
// virtio-blk disk is on the host's disk even when lkvm is killed right after.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";

const IMAGE = "cache/guest/Image";
const INITRD = "cache/guest/initramfs.cpio.gz";
const BOOT_MS = 240_000;
const PROMPT = /[~/] ?# /;
/** The number: piped input was lost on every boot, so 20 clean runs in a row show it is not. */
const REPETITIONS = 20;

function boot(extra: string[] = []): GuestSession {
  if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
  return GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "1", "-p", "quiet", "--loglevel", "warning", ...extra]);
}

/** `echo INPUT | lkvm run ...`: all input written at once, before the kernel has even started. */
async function piped(input: string, extra: string[] = []) {
  const s = boot(extra);
  s.send(input);
  s.endInput();
  return s.exited(BOOT_MS);
}

describe("piped console input is never lost", () => {
  for (const [mode, flags] of [["JIT on", []], ["JIT off", ["--no-jit"]]] as const) {
    it(`echo 'poweroff -f' | lkvm run: exits 0, ${REPETITIONS} times in a row (${mode})`, async () => {
      for (let i = 0; i < REPETITIONS; i++) {
        const { code, output } = await piped("poweroff -f\n", [...flags]);
        expect(code, `run ${i + 1}; output ends:\n${output.slice(-1500)}`).toBe(0);
      }
    }, REPETITIONS * BOOT_MS);
  }

  it("a 200-line script arrives whole and in order", async () => {
    // Each line appends its number to a file, and the last prints the file on one line: the
    // tty echoes input typed ahead while a command runs, which could split a result printed
    // line by line, so nothing but that last line is read back (and echo is off for it).
    const lines = Array.from({ length: 200 }, (_, i) => `echo $((${i} + 1000)) >> /tmp/lines`);
    const script = ["stty -echo", ...lines, "echo RESULT $(tr '\\n' ' ' < /tmp/lines)END", "poweroff -f"];
    const { code, output } = await piped(`${script.join("\n")}\n`);
    expect(code).toBe(0);
    const result = /RESULT ([\d ]*)END/.exec(output);
    expect(result, output.slice(-1500)).not.toBeNull();
    expect(result![1]!.trim().split(" ").map(Number)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1000));
  }, BOOT_MS);
});

describe("the default guest's own poweroff, reboot and halt", () => {
  for (const command of ["poweroff", "reboot", "halt"]) {
    it(`plain \`${command}\` ends the VM with status 0`, async () => {
      const s = boot();
      try {
        await s.waitFor(PROMPT, BOOT_MS);
        s.send(`${command}\n`);
        const { code, output } = await s.exited(60_000);
        expect(code).toBe(0);
        expect(output).toMatch(command === "reboot" ? /reboot: Restarting system/ : /reboot: Power down/);
      } finally {
        s.kill();
      }
    }, BOOT_MS + 60_000);
  }
});

describe("durability", () => {
  it("bytes the guest wrote and synced to virtio-blk survive SIGKILL of lkvm", async () => {
    const disk = join(mkdtempSync(join(tmpdir(), "lkvm-durable-")), "disk.img");
    writeFileSync(disk, Buffer.alloc(1024 * 1024));
    const s = boot(["-d", disk]);
    try {
      await s.waitFor(PROMPT, BOOT_MS);
      // Sector 5; `sync` makes the kernel send FLUSH, which lkvm answers after fsync.
      s.send("printf 'DURABLE-%s' $((6 * 7)) | dd of=/dev/vda bs=512 seek=5 conv=notrunc 2>/dev/null; sync; echo synced-$((1 + 1))\n");
      await s.waitFor(/synced-2/, 60_000);
      s.kill("SIGKILL");
      await s.exited(10_000);
    } finally {
      s.kill();
    }
    expect(readFileSync(disk).subarray(5 * 512, 5 * 512 + 10).toString("latin1")).toBe("DURABLE-42");
  }, BOOT_MS + 60_000);
});
