// `lkvm list`, `stop`, `pause`, `resume` and `debug` through the real CLI, against VMs started
// with `lkvm run --name`. Every lkvm process gets a temporary HOME, so ~/.lkvm is never touched.

import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { guestArgs } from "../support/run-guest.ts";

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh HOME for one test. */
function newHome(): string {
  return mkdtempSync(join(tmpdir(), "lkvm-ipc-"));
}

function lkvm(home: string, ...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile("bin/lkvm", args, { env: { ...process.env, HOME: home }, timeout: 20_000 }, (err, stdout, stderr) => {
      const status = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ status: typeof status === "number" ? status : null, stdout, stderr });
    });
  });
}

const sessions: GuestSession[] = [];

/** `lkvm run` of a bare-metal guest named `name`, once it has printed `ready`. */
async function startVm(home: string, name: string, guest = "idle", ready: RegExp = /^idle\r?$/m, cpus = 2): Promise<GuestSession> {
  const s = GuestSession.start([...guestArgs(guest, { cpus }), "--name", name], { env: { HOME: home } });
  sessions.push(s);
  await s.waitFor(ready, 20_000);
  return s;
}

/** The rows of `lkvm list` after its two header lines, as [pid, name, state]. */
function rows(r: Result): string[][] {
  const lines = r.stdout.split("\n");
  expect(lines[0]).toMatch(/^ +PID NAME +STATE$/);
  expect(lines[1]).toMatch(/^-{36}$/);
  return lines.slice(2).filter((l) => l.trim() !== "").map((l) => l.trim().split(/\s+/));
}

/** A user error: one line on stderr, exit 1. */
function expectOneLineError(r: Result, pattern: RegExp) {
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("  Info: # lkvm run"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^lkvm: error: /);
  expect(lines[0]).toMatch(pattern);
}

/** A Unix socket file nobody listens on: what a VM that was killed leaves behind. */
function makeGhostSocket(path: string): void {
  spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`]);
  expect(existsSync(path)).toBe(true);
}

afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

describe("lkvm list/stop/pause/resume/debug", () => {
  it("lists a running VM, pauses and resumes it, dumps both vCPUs, and stops it", async () => {
    const home = newHome();
    const vm = await startVm(home, "ipc-main");
    const sock = join(home, ".lkvm", "ipc-main.sock");
    expect(existsSync(sock)).toBe(true);

    let r = await lkvm(home, "list");
    expect(r.status).toBe(0);
    const [row] = rows(r);
    expect(row).toEqual([expect.stringMatching(/^\d+$/), "ipc-main", "running"]);

    r = await lkvm(home, "pause", "-n", "ipc-main");
    expect(r).toMatchObject({ status: 0, stdout: "Guest ipc-main paused\n" });
    expect(rows(await lkvm(home, "list", "--run"))).toEqual([[row![0], "ipc-main", "paused"]]);
    expect((await lkvm(home, "pause", "-n", "ipc-main")).stdout).toBe("Guest ipc-main is already paused.\n");

    r = await lkvm(home, "resume", "-n", "ipc-main");
    expect(r).toMatchObject({ status: 0, stdout: "Guest ipc-main resumed\n" });
    expect(rows(await lkvm(home, "list", "-i"))).toEqual([[row![0], "ipc-main", "running"]]);
    expect((await lkvm(home, "resume", "-n", "ipc-main")).stdout).toBe("Guest ipc-main is still running.\n");

    r = await lkvm(home, "debug", "-n", "ipc-main", "-d");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/# vCPU #0's dump:\n #\n\n Registers:\n PC: +0x8008001c\n PSTATE: +0x3c5\n SP_EL1: +0x0\n LR: +0x0\n/);
    expect(r.stdout).toMatch(/# vCPU #1's dump:\n #\n\n Registers:\n PC: +0x0\n/);

    r = await lkvm(home, "stop", "-n", "ipc-main");
    expect(r).toMatchObject({ status: 0, stdout: "" });
    const exit = await vm.exited(20_000);
    expect(exit.code).toBe(0);
    expect(exit.output).toMatch(/KVM session ended normally/);
    expect(existsSync(sock)).toBe(false);
    expect(rows(await lkvm(home, "list"))).toEqual([]);
  }, 90_000);

  it("pause stops guest execution while the console stays alive", async () => {
    const home = newHome();
    const vm = await startVm(home, "ipc-echo", "uart-echo", /^uart-echo: ready/m, 1);
    expect((await lkvm(home, "pause", "-n", "ipc-echo")).status).toBe(0);
    vm.send("paused line\n");
    await new Promise((r) => setTimeout(r, 1500));
    expect(vm.output).not.toMatch(/^echo: /m);
    expect((await lkvm(home, "resume", "-n", "ipc-echo")).status).toBe(0);
    await vm.waitFor(/echo: paused line/, 20_000);
    vm.send("polled line\n");
    await vm.waitFor(/EXIT: STATUS=1/, 20_000);
    expect((await vm.exited(20_000)).code).toBe(0);
    expect(existsSync(join(home, ".lkvm", "ipc-echo.sock"))).toBe(false);
  }, 90_000);

  it("refuses a second `lkvm run` with a live name, and leaves the first VM alone", async () => {
    const home = newHome();
    const first = await startVm(home, "ipc-dup");
    const second = GuestSession.start([...guestArgs("idle"), "--name", "ipc-dup"], { env: { HOME: home } });
    sessions.push(second);
    const exit = await second.exited(20_000);
    expect(exit.code).toBe(1);
    const errors = exit.output.split("\n").filter((l) => l.startsWith("lkvm: error: "));
    expect(errors).toEqual([expect.stringMatching(/a guest named 'ipc-dup' is already running/)]);
    expect(exit.output).not.toMatch(/\n\s+at /);
    expect(rows(await lkvm(home, "list")).map((r) => r.slice(1))).toEqual([["ipc-dup", "running"]]);
    await lkvm(home, "stop", "-n", "ipc-dup");
    expect((await first.exited(20_000)).code).toBe(0);
  }, 90_000);

  it("cleans up a stale socket: `lkvm run` takes its name, `lkvm list` drops it", async () => {
    const home = newHome();
    const dir = join(home, ".lkvm");
    mkdirSync(dir);
    makeGhostSocket(join(dir, "ipc-ghost.sock"));
    makeGhostSocket(join(dir, "ipc-other.sock"));
    writeFileSync(join(dir, "notes.txt"), "not a socket\n");

    const r = await lkvm(home, "list");
    expect(rows(r)).toEqual([]);
    expect(existsSync(join(dir, "ipc-other.sock"))).toBe(false);
    expect(existsSync(join(dir, "notes.txt"))).toBe(true);

    expect(existsSync(join(dir, "ipc-ghost.sock"))).toBe(false);

    makeGhostSocket(join(dir, "ipc-other.sock"));
    expectOneLineError(await lkvm(home, "stop", "-n", "ipc-other"), /no running guest named 'ipc-other'/);
    expect(existsSync(join(dir, "ipc-other.sock"))).toBe(false);

    makeGhostSocket(join(dir, "ipc-ghost.sock"));
    const vm = await startVm(home, "ipc-ghost");
    expect(vm.output).toMatch(/removed ghost socket file/);
    expect(rows(await lkvm(home, "list")).map((row) => row.slice(1))).toEqual([["ipc-ghost", "running"]]);
    await lkvm(home, "stop", "--name", "ipc-ghost");
    expect((await vm.exited(20_000)).code).toBe(0);
    expect(existsSync(join(dir, "ipc-ghost.sock"))).toBe(false);
  }, 90_000);

  it("-a acts on every VM", async () => {
    const home = newHome();
    const a = await startVm(home, "ipc-all-a", "idle", undefined, 1);
    const b = await startVm(home, "ipc-all-b", "idle", undefined, 1);
    const r = await lkvm(home, "pause", "-a");
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual(["Guest ipc-all-a paused", "Guest ipc-all-b paused"]);
    expect(rows(await lkvm(home, "list")).map((row) => row.slice(1)).sort()).toEqual([
      ["ipc-all-a", "paused"],
      ["ipc-all-b", "paused"],
    ]);
    expect((await lkvm(home, "stop", "--all")).status).toBe(0);
    expect((await a.exited(20_000)).code).toBe(0);
    expect((await b.exited(20_000)).code).toBe(0);
  }, 90_000);

  it("refuses an unknown name, or no name at all, with one line", async () => {
    const home = newHome();
    for (const cmd of ["stop", "pause", "resume"]) {
      expectOneLineError(await lkvm(home, cmd, "-n", "nobody"), /no running guest named 'nobody'/);
      expectOneLineError(await lkvm(home, cmd), /-n NAME, or use -a/);
    }
    expectOneLineError(await lkvm(home, "debug", "-n", "nobody", "-d"), /no running guest named 'nobody'/);
    expectOneLineError(await lkvm(home, "debug", "-n", "nobody"), /nothing to do/);
    // -r lists rootfs guests, which lkvm does not have.
    expect(rows(await lkvm(home, "list", "-r"))).toEqual([]);
  }, 60_000);
});

describe("lkvm balloon and lkvm stat", () => {
  it("refuse bad options with one line each", async () => {
    const home = newHome();
    expectOneLineError(await lkvm(home, "balloon", "-n", "x"), /nothing to do: give -i\/--inflate MB or -d\/--deflate MB/);
    expectOneLineError(await lkvm(home, "balloon", "-n", "x", "-i", "5", "-d", "5"), /give one of -i\/--inflate and -d\/--deflate, not both/);
    expectOneLineError(await lkvm(home, "balloon", "-n", "x", "-i", "lots"), /invalid --inflate 'lots': expected a whole number of MB from 1 to 8388607/);
    expectOneLineError(await lkvm(home, "balloon", "-n", "x", "-d", "0"), /invalid --deflate '0'/);
    expectOneLineError(await lkvm(home, "balloon", "-n", "x", "-i", "8388608"), /invalid --inflate/);
    expectOneLineError(await lkvm(home, "balloon", "-i", "5"), /name a guest with -n NAME/);
    expectOneLineError(await lkvm(home, "balloon", "-n", "nosuch", "-i", "5"), /no running guest named 'nosuch'/);
    expectOneLineError(await lkvm(home, "stat", "-n", "x"), /nothing to show: give -m\/--memory/);
    expectOneLineError(await lkvm(home, "stat", "-m"), /name a guest with -n NAME, or use -a/);
    expectOneLineError(await lkvm(home, "stat", "-m", "-n", "nosuch"), /no running guest named 'nosuch'/);
  }, 60_000);

  it("say so when the guest has no balloon, or no driver for it, and leave the VM running", async () => {
    const home = newHome();
    await startVm(home, "ipc-noballoon");
    expectOneLineError(await lkvm(home, "balloon", "-n", "ipc-noballoon", "-i", "8"), /guest 'ipc-noballoon' has no virtio-balloon \(run it with --balloon\)/);
    expectOneLineError(await lkvm(home, "stat", "-m", "-n", "ipc-noballoon"), /sent no memory statistics: it has no virtio-balloon/);
    // A bare-metal guest has a balloon with --balloon, but no driver: the target is set for
    // when one comes, and there are no statistics yet.
    await startVm(home, "ipc-other", "idle", /^idle\r?$/m, 1);
    const started = GuestSession.start([...guestArgs("idle"), "--balloon", "--name", "ipc-balloon"], { env: { HOME: home } });
    sessions.push(started);
    await started.waitFor(/^idle\r?$/m, 20_000);
    expect(await lkvm(home, "balloon", "-n", "ipc-balloon", "-i", "8")).toMatchObject({ status: 0, stdout: "", stderr: "" });
    expectOneLineError(await lkvm(home, "stat", "-m", "-n", "ipc-balloon"), /its driver has not set up the statistics queue/);
    const all = await lkvm(home, "stat", "-m", "-a");
    expect(all.status).toBe(0);
    expect(all.stdout).toBe("");
    expect(all.stderr.trim().split("\n")).toHaveLength(3);
    expect(rows(await lkvm(home, "list")).map((r) => r[2])).toEqual(["running", "running", "running"]);
  }, 90_000);
});
