// QEMU driven through the same scripted-session API as lkvm (GuestSession), so a benchmark can
// type the same commands into both: a wrapper script drops the "run" GuestSession puts first.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestSession } from "../src/testing/guest-session.ts";

export const QEMU = "qemu-system-aarch64";
/** The machine every comparison uses: QEMU's virt board with the CPU lkvm models. */
export const QEMU_MACHINE = ["-M", "virt", "-cpu", "cortex-a57", "-nographic", "-no-reboot"];

let wrapper: string | undefined;

export function startQemuSession(args: string[]): GuestSession {
  if (!wrapper) {
    wrapper = join(mkdtempSync(join(tmpdir(), "lkvm-qemu-session-")), "qemu");
    writeFileSync(wrapper, `#!/bin/sh\nshift\nexec ${QEMU} "$@"\n`, { mode: 0o755 });
  }
  return GuestSession.start(args, { lkvm: wrapper });
}
