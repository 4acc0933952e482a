// The default Debian guest for boot tests (built by `make guest`), and the one way they drive
// its shell: type a command, wait for what it should print, then for the prompt.

import type { GuestSession } from "../../src/testing/guest-session.ts";

export const IMAGE = "cache/guest/Image";
export const INITRD = "cache/guest/initramfs.cpio.gz";
/** How long a boot to the shell may take on a busy machine. */
export const BOOT_MS = 240_000;
/** busybox ash's prompt as the default initramfs sets it (busybox may send a cursor-position query right before it). */
export const PROMPT = /[~/] ?# /;

/** Types `command`, waits for `expected` and then the prompt; returns the match. */
export async function run(s: GuestSession, command: string, expected: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  s.send(`${command}\n`);
  const m = await s.waitFor(expected, timeoutMs);
  await s.waitFor(PROMPT, timeoutMs);
  return m;
}
