// The lkvm command line: kvmtool's commands and `run` options (src/cli/options.ts).

import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { ConfigError } from "../errors.ts";
import { runOptions } from "./options.ts";
import { describeRun, validateConfig } from "./config.ts";
import { attachConsole } from "./console.ts";
import { Vm } from "../kvm/vm.ts";
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
  const terminal = attachConsole(vm);
  const stopOnSignal = () => vm.stop();
  process.once("SIGTERM", stopOnSignal);
  process.once("SIGHUP", stopOnSignal);
  let exit;
  try {
    exit = await vm.run();
  } finally {
    terminal.close();
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
        "   run        Start the virtual machine\n   version    Print the version of lkvm\n   help       Display help",
    )
    .command("run [kernel-image]", "Start the virtual machine", addRunOptions, async (argv) => {
      await runCommand(argv as Record<string, unknown>);
    })
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
