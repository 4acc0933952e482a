// The console on a real terminal: lkvm puts it in raw mode, Ctrl-A x stops the VM, Ctrl-A
// Ctrl-A reaches the guest as one Ctrl-A, and the terminal is restored afterwards. `script`
// (util-linux) gives lkvm a pseudo-terminal, as an interactive user would.

import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

/** Runs a shell command line on a pty; resolves with its output and exit code. */
function onTerminal(command: string, input: (write: (s: string) => void, output: () => string) => Promise<void>) {
  const child = spawn("script", ["-qefc", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString("latin1")));
  child.stderr.on("data", (d: Buffer) => (out += d.toString("latin1")));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on("close", (code) => resolve({ code, output: out })));
  return input((s) => child.stdin.write(s), () => out).then(() => done);
}

async function until(output: () => string, re: RegExp, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!re.test(output())) {
    if (Date.now() > end) throw new Error(`${re} did not appear; output: ${JSON.stringify(output())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the console on a terminal", () => {
  it("Ctrl-A x stops the VM cleanly and restores the terminal", async () => {
    // `stty -g` before and after: the terminal settings must be the same once lkvm has exited.
    const cmd = "stty -g; bin/lkvm run -k build/guests/idle.bin --nodefaults -m 64 -c 1; echo rc=$?; stty -g";
    const { code, output } = await onTerminal(cmd, async (write, out) => {
      await until(out, /idle/, 20_000);
      write("\x01x");
    });
    expect(code).toBe(0);
    expect(output).toMatch(/rc=0/);
    expect(output).toMatch(/KVM session ended normally/);
    const settings = output.split(/\r?\n/).filter((l) => /^[0-9a-f]+(:[0-9a-f]+){10,}/.test(l.trim()));
    expect(settings).toHaveLength(2);
    expect(settings[1]!.trim()).toBe(settings[0]!.trim());
  }, 60_000);
});
