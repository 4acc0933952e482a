// The lkvm command line: kvmtool's commands and `run` options (src/cli/options.ts).

import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { ConfigError } from "../errors.ts";
import { runOptions } from "./options.ts";
import { describeRun, validateConfig } from "./config.ts";
import { attachConsole } from "./console.ts";
import { Vm } from "../kvm/vm.ts";
import { IpcServer } from "../ipc/server.ts";
import { debugCommand, listCommand, pauseCommand, resumeCommand, stopCommand } from "../ipc/commands.ts";
import pkg from "../../package.json" with { type: "json" };

function fail(message: string): never {
  process.stderr.write(`lkvm: error: ${message}\n`);
  process.exit(1);
}

function addRunOptions(y: Argv): Argv {
  for (const opt of runOptions) {
    y.option(opt.name, {
      alias: opt.alias,
      type: opt.type,
      group: opt.group,
      describe: opt.unsupported ? `${opt.describe} (not supported yet)` : opt.describe,
      requiresArg: opt.type !== "boolean",
      choices: opt.choices,
    });
  }
  return y
    .positional("kernel-image", { type: "string", describe: "Kernel to boot (same as -k)" })
    .example("$0 run -k Image -i initrd.img -p \"quiet\" -m 512 -c 2", "Boot a kernel with an initramfs")
    .example("$0 run --kernel test.flat --nodefaults --params \"…\"", "Run a bare-metal test payload");
}

/** -a/--all and -n/--name, the way kvmtool's stop, pause, resume and debug pick a VM. */
function instanceOptions(allDescription: string) {
  return (y: Argv) =>
    y
      .option("all", { alias: "a", type: "boolean", group: "Instance options:", describe: allDescription })
      .option("name", { alias: "n", type: "string", group: "Instance options:", requiresArg: true, describe: "Instance name" });
}

async function runCommand(argv: Record<string, unknown>): Promise<void> {
  const positional = argv["kernel-image"];
  if (positional !== undefined) {
    if (argv.kernel !== undefined) throw new ConfigError("give the kernel once: either -k FILE or a plain argument");
    argv.kernel = positional;
  }
  const cfg = validateConfig(argv);
  const info = cfg.loglevel === "info" || cfg.loglevel === "debug";
  if (info) process.stderr.write(`${describeRun(cfg)}\n`);
  const vm = new Vm(cfg);
  vm.on("log", (line) => {
    if (cfg.loglevel !== "error") process.stderr.write(`${line}\n`);
  });
  const ipc = await IpcServer.start(vm, cfg.name, (line) => vm.emit("log", line));
  const terminal = attachConsole(vm);
  const stopOnSignal = () => vm.stop();
  process.once("SIGTERM", stopOnSignal);
  process.once("SIGHUP", stopOnSignal);
  let exit;
  try {
    exit = await vm.run();
  } finally {
    terminal.close();
    ipc.close();
    process.off("SIGTERM", stopOnSignal);
    process.off("SIGHUP", stopOnSignal);
  }
  if (exit.reason === "error") fail(exit.message ?? "the VM stopped on an error");
  if (info) process.stderr.write("\n  # KVM session ended normally.\n");
  process.exit(0);
}

export async function main(args: string[]): Promise<void> {
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
      (argv) => listCommand(argv),
    )
    .command("stop", "Stop a running instance", instanceOptions("Stop all instances"), (argv) => stopCommand(argv))
    .command("pause", "Pause the virtual machine", instanceOptions("Pause all instances"), (argv) => pauseCommand(argv))
    .command("resume", "Resume the virtual machine", instanceOptions("Resume all instances"), (argv) => resumeCommand(argv))
    .command(
      "debug",
      "Print debug information from a running instance",
      (y) =>
        instanceOptions("Debug all instances")(y)
          .option("dump", { alias: "d", type: "boolean", group: "General options:", describe: "Generate a debug dump from guest" })
          .option("nmi", { alias: "m", type: "number", group: "General options:", requiresArg: true, describe: "Generate NMI on VCPU (does nothing on arm64, as in kvmtool)" })
          .option("sysrq", { alias: "s", type: "string", group: "General options:", requiresArg: true, describe: "Inject a sysrq" }),
      (argv) => debugCommand(argv),
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
      if (err instanceof ConfigError) fail(err.message);
      if (err) throw err;
      fail(msg);
    });
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
}

await main(hideBin(process.argv));
