// The lkvm command line: kvmtool's commands and `run` options (src/cli/options.ts).

import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { ConfigError, FatalError } from "../errors.ts";
import { addRunOptions, checkFlagValues, instanceOptions, lastOptionWins, runConfigFromArgv, yargsMessage } from "./command-line.ts";
import { describeRun } from "./config.ts";
import { attachConsole } from "./console.ts";
import { Vm } from "../kvm/vm.ts";
import { IpcServer } from "../ipc/server.ts";
import { debugCommand, listCommand, pauseCommand, resumeCommand, stopCommand } from "../ipc/commands.ts";
import { balloonCommand, statCommand } from "../ipc/balloon-commands.ts";
import pkg from "../../package.json" with { type: "json" };

/**
 * Signals that end a VM, as kvmtool's term.c handles them: restore the terminal, clean up (the
 * control socket), say so, and exit with the shell's status for death by that signal.
 */
const ENDING_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 } as const;
/** The status of a writer killed by SIGPIPE, which Node ignores in favour of EPIPE errors. */
const EPIPE_STATUS = 128 + 13;

/**
 * Leaves the process: one line on stderr, then exit. The terminal has been restored already
 * (ConsoleHandle.close). Node would restore it once more at exit, and aborts (a failed
 * assertion in ResetStdio) when that fails because the terminal hung up; so standard streams
 * that are character devices (terminals, even hung-up ones, which isatty no longer
 * recognises) are pointed at /dev/null first, which Node then leaves alone.
 */
function leave(status: number, line?: string): never {
  if (line !== undefined) {
    try {
      writeSync(2, `${line}\n`);
    } catch {
      // stderr is gone too
    }
  }
  for (const fd of [0, 1, 2]) {
    try {
      if (!fstatSync(fd).isCharacterDevice()) continue;
      closeSync(fd);
    } catch {
      continue; // closed already
    }
    openSync("/dev/null", "r+"); // takes the lowest free descriptor: fd
  }
  process.exit(status);
}

/**
 * Waits until what we wrote to stdout and stderr has left the process: a pipe whose reader is
 * slower than the guest fills, Node queues the rest, and process.exit() would drop it (the end
 * of the guest's output, or of a --trace-mmio log). Gives up after a few seconds, in case the
 * reader has stopped reading altogether.
 */
async function drainOutput(): Promise<void> {
  const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0 && !s.destroyed);
  if (pending.length === 0) return;
  // The timer stays referenced: a stream whose writes Node did synchronously after all emits
  // no "drain", and with nothing else left in the event loop Node would end the process with
  // status 13 (a top-level await that never settled) instead of waiting.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(pending.map((s) => new Promise((resolve) => s.once("drain", resolve).once("error", resolve)))),
    new Promise((resolve) => (timer = setTimeout(resolve, 5000))),
  ]);
  clearTimeout(timer);
}

function fail(message: string): never {
  leave(1, `lkvm: error: ${message}`);
}

// SIGUSR1 would open Node's inspector on 127.0.0.1:9229 to anyone on this machine who can
// send lkvm a signal or connect to that port; a listener of our own keeps it closed.
// Debugging lkvm itself: `node --inspect bin/lkvm run ...` (README, "Debugging lkvm itself").
process.on("SIGUSR1", () => {});

async function runCommand(argv: Record<string, unknown>): Promise<void> {
  const cfg = runConfigFromArgv(argv);
  const info = cfg.loglevel === "info" || cfg.loglevel === "debug";
  if (info) process.stderr.write(`  Info: ${describeRun(cfg)}\n`);
  if (cfg.firmware !== undefined && argv.initrd !== undefined && cfg.loglevel !== "error") {
    process.stderr.write("  Warning: --initrd is ignored with --firmware (the firmware loads what it needs)\n");
  }
  const vm = new Vm(cfg);
  vm.on("log", (line) => {
    if (cfg.loglevel !== "error") process.stderr.write(`${line}\n`);
  });
  const ipc = await IpcServer.start(vm, cfg.name, (line) => vm.emit("log", line));

  // Why the VM ended, when the host ended it rather than the guest.
  let ending: { status: number; line?: string } | undefined;
  const endWith = (status: number, line?: string) => {
    ending ??= { status, line };
    vm.stop();
  };
  const terminal = attachConsole(vm, {
    onHangup: () => endWith(128 + ENDING_SIGNALS.SIGHUP, "lkvm: the terminal hung up; VM stopped"),
    onOutputClosed: () => endWith(EPIPE_STATUS),
  });
  const onSignal = (signal: NodeJS.Signals) => {
    const number = ENDING_SIGNALS[signal as keyof typeof ENDING_SIGNALS];
    endWith(128 + number, `lkvm: ${signal} received; VM stopped`);
  };
  for (const signal of Object.keys(ENDING_SIGNALS)) process.on(signal, onSignal);
  let exit;
  try {
    exit = await vm.run();
  } finally {
    terminal.close();
    ipc.close();
  }
  await drainOutput();
  if (ending) leave(ending.status, ending.line);
  if (exit.reason === "error") fail(exit.message ?? "the VM stopped on an error");
  if (info) process.stderr.write("  Info: KVM session ended normally.\n");
  await drainOutput();
  leave(0);
}

/**
 * yargs renders the whole help text after starting a command's handler, to have it at hand if
 * the handler fails later (about 30 ms, before `lkvm run`'s first guest instruction). lkvm's
 * fail() never prints help, so the rendering is skipped. (An internal of yargs 17: if it is
 * gone, nothing changes but the time.)
 */
function skipHelpCaching(cli: object): void {
  const internals = (cli as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internals?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => {};
}

/** The instance commands' options never repeat: the last of each wins. */
const lastOnly = <T extends Record<string, unknown>>(argv: T): T => lastOptionWins(argv, new Set());

export async function main(args: string[]): Promise<void> {
  // As kvmtool: a bare `lkvm` is a request for help, and --version names the version command.
  if (args.length === 0) args = ["--help"];
  else if (args[0] === "--version") args = ["version", ...args.slice(1)];
  const cli = yargs(args)
    .scriptName("lkvm")
    .usage(
      "usage: lkvm <command> [<args>]\n\nThe most commonly used lkvm commands are:\n" +
        "   run        Start the virtual machine\n" +
        "   list       Print a list of running instances on the host\n" +
        "   stop       Stop a running instance\n" +
        "   pause      Pause the virtual machine\n" +
        "   resume     Resume the virtual machine\n" +
        "   debug      Print debug information from a running instance\n" +
        "   balloon    Inflate or deflate the virtio balloon (--balloon)\n" +
        "   stat       Print statistics about a running instance\n" +
        "   version    Print the version of lkvm\n   help       Display help",
    )
    .command("run [kernel-image]", "Start the virtual machine", addRunOptions, async (argv) => {
      await runCommand(argv as Record<string, unknown>);
    })
    .command(
      "list",
      "Print a list of running instances on the host",
      (y) =>
        y
          .option("run", { alias: "i", type: "boolean", describe: "List running instances" })
          .option("rootfs", { alias: "r", type: "boolean", describe: "List rootfs instances (lkvm has none)" }),
      (argv) => listCommand(lastOnly(argv)),
    )
    .command("stop", "Stop a running instance", instanceOptions("Stop all instances"), (argv) => stopCommand(lastOnly(argv)))
    .command("pause", "Pause the virtual machine", instanceOptions("Pause all instances"), (argv) => pauseCommand(lastOnly(argv)))
    .command("resume", "Resume the virtual machine", instanceOptions("Resume all instances"), (argv) => resumeCommand(lastOnly(argv)))
    .command(
      "debug",
      "Print debug information from a running instance",
      (y) =>
        instanceOptions("Debug all instances")(y)
          .option("dump", { alias: "d", type: "boolean", group: "General options:", describe: "Generate a debug dump from guest" })
          .option("nmi", { alias: "m", type: "string", group: "General options:", requiresArg: true, describe: "Generate NMI on VCPU (does nothing on arm64, as in kvmtool)" })
          .option("sysrq", { alias: "s", type: "string", group: "General options:", requiresArg: true, describe: "Inject a sysrq" }),
      (argv) => debugCommand(lastOnly(argv)),
    )
    .command(
      "balloon",
      "Inflate or deflate the virtio balloon (--balloon)",
      (y) =>
        y
          .option("name", { alias: "n", type: "string", group: "Instance options:", requiresArg: true, describe: "Instance name" })
          .option("inflate", { alias: "i", type: "string", group: "Balloon options:", requiresArg: true, describe: "Amount to inflate (in MB): the guest gives up that much RAM" })
          .option("deflate", { alias: "d", type: "string", group: "Balloon options:", requiresArg: true, describe: "Amount to deflate (in MB): the guest gets that much back" }),
      (argv) => balloonCommand(lastOnly(argv)),
    )
    .command(
      "stat",
      "Print statistics about a running instance",
      (y) =>
        y
          .option("memory", { alias: "m", type: "boolean", group: "Commands options:", describe: "Display memory statistics (from the guest's virtio-balloon driver)" })
          .option("all", { alias: "a", type: "boolean", group: "Instance options:", describe: "All instances" })
          .option("name", { alias: "n", type: "string", group: "Instance options:", requiresArg: true, describe: "Instance name" }),
      (argv) => statCommand(lastOnly(argv)),
    )
    .command("version", "Print the version of lkvm", {}, () => {
      process.stdout.write(`lkvm version ${pkg.version}\n`);
    })
    .command("help [command]", "Display help", {}, (argv) => {
      const command = argv.command as string | undefined;
      void main(command ? [command, "--help"] : ["--help"]);
    })
    .demandCommand(1, "name a command; try 'lkvm --help'")
    .strict()
    .version(false)
    .help("help")
    .alias("help", "h")
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(yargsMessage(msg, err));
    });
  skipHelpCaching(cli);
  try {
    checkFlagValues(args);
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof FatalError) leave(128, `  Fatal: ${e.message}`);
    if (e instanceof ConfigError) fail(e.message);
    // Our bug, not the user's: still one line, with the stack on request.
    const err = e as Error;
    if (process.env.LKVM_DEBUG) process.stderr.write(`${err.stack}\n`);
    fail(`internal error: ${err.message} (LKVM_DEBUG=1 shows where)`);
  }
}

await main(hideBin(process.argv));
