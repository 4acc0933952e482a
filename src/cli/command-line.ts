// From argv to a validated RunConfig: the yargs definitions of `lkvm run` (from the option
// table in options.ts), kvmtool's "the last one wins" for repeated options, and yargs' own
// complaints turned into one-line ConfigErrors. main.ts and the CLI tests share it, so the
// tests walk exactly the parser users get.

import yargs, { type Argv } from "yargs";
import { ConfigError } from "../errors.ts";
import { runOptions } from "./options.ts";
import { validateConfig, type RunConfig } from "./config.ts";

/** The `lkvm run` options, grouped as kvmtool groups them. */
export function addRunOptions(y: Argv): Argv {
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
    // kvmtool's options include --no-dhcp and --no-pvtime: literal names, not negations.
    .parserConfiguration({ "boolean-negation": false })
    .positional("kernel-image", { type: "string", describe: "Kernel to boot (same as -k)" })
    .example("$0 run -k Image -i initrd.img -p \"quiet\" -m 512 -c 2", "Boot a kernel with an initramfs")
    .example("$0 run --kernel test.flat --nodefaults --params \"…\"", "Run a bare-metal test payload");
}

/** -a/--all and -n/--name, the way kvmtool's stop, pause, resume and debug pick a VM. */
export function instanceOptions(allDescription: string) {
  return (y: Argv) =>
    y
      .option("all", { alias: "a", type: "boolean", group: "Instance options:", describe: allDescription })
      .option("name", { alias: "n", type: "string", group: "Instance options:", requiresArg: true, describe: "Instance name" });
}

/** yargs' own complaints, in lkvm's words where they would puzzle a user. */
export function yargsMessage(msg: string | undefined, err: Error | undefined): string {
  const text = msg ?? err?.message ?? "invalid command line";
  const missing = /^Not enough arguments following: (.+)$/.exec(text);
  const choice = /^Invalid values:\s+Argument: (\S+), Given: "(.*)", Choices: (.*)$/s.exec(text);
  if (choice) return `invalid --${choice[1]} '${choice[2]}': expected one of ${choice[3]!.replace(/"/g, "")}`;
  if (missing) {
    const key = missing[1]!;
    return `option ${key.length === 1 ? "-" : "--"}${key} needs a value`;
  }
  return text.replace(/\s*\n\s*/g, " ");
}

/** Names and aliases of the `lkvm run` options that may repeat (-d, -n, --9p). */
const REPEATABLE = new Set(runOptions.filter((o) => o.repeatable).flatMap((o) => [o.name, o.alias ?? o.name]));

/**
 * kvmtool parses options with parse-options.c, where a repeated option simply overwrites the
 * earlier value; yargs collects repeats into an array. Options that kvmtool lets accumulate
 * (`repeatable`) stay arrays.
 */
export function lastOptionWins<T extends Record<string, unknown>>(argv: T, repeatable: ReadonlySet<string> = REPEATABLE): T {
  const out: Record<string, unknown> = { ...argv };
  for (const [key, value] of Object.entries(out)) {
    if (key !== "_" && Array.isArray(value) && !repeatable.has(key)) out[key] = value[value.length - 1];
  }
  return out as T;
}

/** Flags of every lkvm command (run's table, then list's, stop's…, and debug's). */
const FLAGS = new Set([...runOptions.filter((o) => o.type === "boolean").map((o) => o.name), "all", "dump", "run", "rootfs"]);

/**
 * yargs reads `--rng=garbage` as false without a word; kvmtool says the option takes no
 * value. Refuse any `--flag=value` other than true and false, before yargs sees it.
 */
export function checkFlagValues(args: readonly string[]): void {
  for (const arg of args) {
    if (arg === "--") return;
    const m = /^--([^=]+)=(.*)$/s.exec(arg);
    if (m && FLAGS.has(m[1]!) && !/^(true|false)$/.test(m[2]!)) throw new ConfigError(`option --${m[1]} takes no value (got '${arg}')`);
  }
}

/** The run command's argv (after yargs) as a RunConfig: the kernel named once, repeats settled. */
export function runConfigFromArgv(parsed: Record<string, unknown>): RunConfig {
  const argv = lastOptionWins(parsed);
  const positional = argv["kernel-image"];
  if (positional !== undefined) {
    if (argv.kernel !== undefined) throw new ConfigError("give the kernel once: either -k FILE or a plain argument");
    argv.kernel = positional;
  }
  return validateConfig(argv);
}

/** `lkvm run ARGS` parsed and validated as main() does, without running anything. */
export async function parseRunCommandLine(args: string[]): Promise<RunConfig> {
  let config: RunConfig | undefined;
  checkFlagValues(args);
  await yargs(args)
    .command("$0 [kernel-image]", "Start the virtual machine", addRunOptions, (argv) => {
      config = runConfigFromArgv(argv as Record<string, unknown>);
    })
    .strict()
    .version(false)
    .help(false)
    .exitProcess(false)
    .fail((msg, err) => {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(yargsMessage(msg, err));
    })
    .parseAsync();
  if (!config) throw new ConfigError("invalid command line");
  return config;
}
