// What the host does to a running lkvm: signals, a reader of its output that goes away, a
// terminal that hangs up, SIGUSR1. Each ends the VM (or not) with the terminal restored, the
// control socket removed, one line naming the cause, the shell's status for it, and no stack
// trace or native abort.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const IDLE = "build/guests/idle.bin";
const CHATTER = "build/guests/chatter.bin";

/** A HOME of its own, so the control socket's path is known and private to the test. */
function freshHome(): string {
  return mkdtempSync(join(tmpdir(), "lkvm-home-"));
}

function startIdle(home: string, name: string) {
  const child = spawn("bin/lkvm", ["run", "-k", IDLE, "--nodefaults", "-m", "64", "-c", "1", "--name", name], {
    env: { ...process.env, HOME: home },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString("latin1")));
  child.stderr.on("data", (d: Buffer) => (out += d.toString("latin1")));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

async function until(what: () => boolean, ms: number, why: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out: ${why()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 } as const;

describe("signals end the VM as kvmtool's term.c does", () => {
  for (const [signal, number] of Object.entries(NUMBERS)) {
    it(`${signal}: one line naming it, status ${128 + number}, socket removed`, async () => {
      const home = freshHome();
      const vm = startIdle(home, "sig");
      const sock = join(home, ".lkvm", "sig.sock");
      await until(() => /idle\r\n/.test(vm.output()) && existsSync(sock), 20_000, vm.output);
      vm.child.kill(signal as NodeJS.Signals);
      const { code } = await vm.exited;
      expect(code).toBe(128 + number);
      expect(vm.output()).toContain(`lkvm: ${signal} received; VM stopped`);
      expect(vm.output()).not.toMatch(/KVM session ended normally|\n\s+at |Error/);
      expect(existsSync(sock)).toBe(false);
    }, 40_000);
  }
});

describe("the process exposes nothing", () => {
  it("SIGUSR1 opens no inspector: nothing listens on 127.0.0.1:9229 and the VM runs on", async () => {
    const home = freshHome();
    const vm = startIdle(home, "usr1");
    await until(() => /idle\r\n/.test(vm.output()), 20_000, vm.output);
    vm.child.kill("SIGUSR1");
    await new Promise((r) => setTimeout(r, 1000));
    const reached = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port: 9229 });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    expect(reached).toBe(false);
    expect(vm.child.exitCode).toBe(null);
    vm.child.kill("SIGTERM");
    await vm.exited;
    expect(vm.output()).not.toMatch(/Debugger listening|inspector/i);
  }, 40_000);

  it("the control socket and its directory are owner-only; a directory others can write is refused", async () => {
    const home = freshHome();
    const vm = startIdle(home, "perm");
    const sock = join(home, ".lkvm", "perm.sock");
    await until(() => existsSync(sock), 20_000, vm.output);
    expect(statSync(join(home, ".lkvm")).mode & 0o777).toBe(0o700);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    vm.child.kill("SIGTERM");
    await vm.exited;

    const open = freshHome();
    mkdirSync(join(open, ".lkvm"), { mode: 0o777 });
    spawnSync("chmod", ["0777", join(open, ".lkvm")]);
    const r = spawnSync("bin/lkvm", ["run", "-k", IDLE, "--nodefaults", "-m", "64"], { env: { ...process.env, HOME: open }, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/lkvm: error: the lkvm state directory .* is writable by others/);
  }, 40_000);
});

describe("the host side going away", () => {
  it("`lkvm run | head -3` ends the VM quietly with SIGPIPE's status, no EPIPE trace", () => {
    const r = spawnSync("bash", ["-c", `bin/lkvm run -k ${CHATTER} --nodefaults -m 64 -c 1 --loglevel warning | head -3; echo "status=\${PIPESTATUS[0]}" >&2`], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.stdout).toBe("chatter\r\nchatter\r\nchatter\r\n");
    expect(r.stderr).toMatch(/status=141/);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });

  it("a terminal that hangs up ends the VM without a native abort, and the socket is removed", async () => {
    const home = freshHome();
    const err = join(home, "stderr.txt");
    // script(1) gives lkvm a pseudo-terminal; killing script closes its master side: a hangup.
    const script = spawn("script", ["-qefc", `bin/lkvm run -k ${IDLE} --nodefaults -m 64 -c 1 --name hup 2>${err}`, "/dev/null"], {
      env: { ...process.env, HOME: home },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    script.stdout.on("data", (d: Buffer) => (out += d.toString("latin1")));
    const sock = join(home, ".lkvm", "hup.sock");
    await until(() => /idle\r+\n/.test(out) && existsSync(sock), 20_000, () => out);
    script.kill("SIGKILL");
    await until(() => !existsSync(sock), 20_000, () => `socket still there; stderr: ${readFileSync(err, "latin1")}`);
    // The socket goes just before the process exits: give it a moment to finish.
    await until(() => spawnSync("pgrep", ["-f", "--name hup"]).status !== 0, 10_000, () => "lkvm still running");
    const stderr = readFileSync(err, "latin1");
    expect(stderr).not.toMatch(/Assertion failed|Native stack trace|\n\s+at /);
    expect(stderr).toMatch(/lkvm: (SIGHUP received|the terminal hung up); VM stopped/);
  }, 60_000);
});
