// Every `lkvm run` option with a missing, empty, repeated and garbage value: the parser users
// get (src/cli/command-line.ts) either accepts the command line or refuses it with one line
// that names the value as typed, never another exception. A sample of the same mistakes goes
// through bin/lkvm too, to see the one line and the exit status a user sees.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunCommandLine } from "../../src/cli/command-line.ts";
import { runOptions } from "../../src/cli/options.ts";
import { validateConfig } from "../../src/cli/config.ts";
import { ConfigError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "lkvm-walk-"));
const kernel = join(dir, "Image");
writeFileSync(kernel, new Uint8Array(4096));

/** Accepted, or refused with a ConfigError of one readable line. */
async function outcome(args: string[]): Promise<string> {
  try {
    await parseRunCommandLine(args);
    return "accepted";
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`${JSON.stringify(args)} threw ${(e as Error).name}: ${(e as Error).message}`);
    expect(e.message, JSON.stringify(args)).not.toMatch(/\n|NaN|undefined|\[object|ERR_[A-Z_]+/);
    return e.message;
  }
}

const spell = (o: (typeof runOptions)[number]) => [`--${o.name}`, ...(o.alias ? [`-${o.alias}`] : [])];

describe("every run option with bad values", () => {
  for (const opt of runOptions) {
    it(`${spell(opt).join(", ")}: missing, empty, repeated and garbage values`, async () => {
      for (const flag of spell(opt)) {
        const base = opt.name === "kernel" ? [] : ["-k", kernel];
        const missing = await outcome([...base, flag]);
        if (opt.type !== "boolean") expect(missing).toMatch(/needs a value/);
        await outcome([...base, `${flag.startsWith("--") ? `${flag}=` : flag}`, ...(flag.startsWith("--") ? [] : [""])]);
        await outcome([...base, flag, "%%garbage%%", flag, "%%garbage%%"]);
        await outcome([...base, `${flag}=%%garbage%%`]);
      }
    });
  }
});

describe("kvmtool's spellings", () => {
  it("--no-dhcp and --no-pvtime are options of their own, not negations of unknown ones", async () => {
    for (const opt of runOptions.filter((o) => o.name.startsWith("no-") && !o.unsupported)) {
      expect(await outcome(["-k", kernel, `--${opt.name}`]), opt.name).toBe("accepted");
    }
    expect(runOptions.map((o) => o.name)).toEqual(expect.arrayContaining(["no-dhcp", "no-pvtime", "no-jit"]));
    expect((await parseRunCommandLine(["-k", kernel, "--no-jit"])).jit).toBe(false);
    expect((await parseRunCommandLine(["-k", kernel, "--jit"])).jit).toBe(true);
    expect(await outcome(["-k", kernel, "--jit", "--no-jit"])).toMatch(/contradict/);
    expect((await parseRunCommandLine(["-k", kernel, "--jit=false"])).jit).toBe(false);
    expect(validateConfig({ kernel, jit: false }).jit).toBe(false);
  });

  it("--vnc, --gtk and --sdl are accepted and give the kernel console=tty0, as on kvmtool arm64", async () => {
    for (const flag of ["--vnc", "--gtk", "--sdl"]) expect((await parseRunCommandLine(["-k", kernel, flag])).framebuffer).toBe(true);
    expect((await parseRunCommandLine(["-k", kernel])).framebuffer).toBe(false);
  });

  it("--irqchip defaults to auto, which is still lkvm's plain GICv3; gicv3 and gicv3-its may be named", async () => {
    expect((await parseRunCommandLine(["-k", kernel])).irqchip).toBe("gicv3");
    expect((await parseRunCommandLine(["-k", kernel, "--irqchip", "auto"])).irqchip).toBe("gicv3");
    expect((await parseRunCommandLine(["-k", kernel, "--irqchip", "gicv3"])).irqchip).toBe("gicv3");
    expect((await parseRunCommandLine(["-k", kernel, "--irqchip", "gicv3-its"])).irqchip).toBe("gicv3-its");
    expect(await outcome(["-k", kernel, "--irqchip", "gicv4"])).toMatch(/invalid irqchip 'gicv4'/);
  });

  it("--irqchip gicv2 and gicv2m are accepted, with at most 8 vCPUs (the GICv2 limit); auto stays GICv3", async () => {
    expect((await parseRunCommandLine(["-k", kernel, "--irqchip", "gicv2", "-c", "8"])).irqchip).toBe("gicv2");
    expect((await parseRunCommandLine(["-k", kernel, "--irqchip", "gicv2m"])).irqchip).toBe("gicv2m");
    expect((await parseRunCommandLine(["-k", kernel])).irqchip).toBe("gicv3");
    expect(await outcome(["-k", kernel, "--irqchip", "gicv2", "-c", "9"])).toMatch(/--irqchip gicv2 supports at most 8 vCPUs/);
    expect(await outcome(["-k", kernel, "--irqchip", "gicv2m", "-c", "9"])).toMatch(/--irqchip gicv2m supports at most 8 vCPUs/);
  });
});

describe("repeated options: the last one wins, as in kvmtool", () => {
  it("-m, -c, -k and -p take their last value", async () => {
    const cfg = await parseRunCommandLine(["-k", join(dir, "missing"), "-k", kernel, "-m", "512", "-m", "256", "-c", "4", "-c", "1", "-p", "a", "-p", "b"]);
    expect(cfg.kernel).toBe(kernel);
    expect(cfg.ramSizeBytes).toBe(256 * 1024 * 1024);
    expect(cfg.cpus).toBe(1);
    expect(cfg.params).toBe("b");
  });

  it("-d accumulates, one disk per -d", async () => {
    const a = join(dir, "a.img");
    const b = join(dir, "b.img");
    writeFileSync(a, new Uint8Array(512));
    writeFileSync(b, new Uint8Array(512));
    const cfg = await parseRunCommandLine(["-k", kernel, "-d", a, "-d", b]);
    expect(cfg.disks.map((d) => d.path)).toEqual([a, b]);
  });

  it("the same disk twice is refused unless both are read-only", async () => {
    const a = join(dir, "shared.img");
    writeFileSync(a, new Uint8Array(512));
    expect(await outcome(["-k", kernel, "-d", a, "-d", join(dir, ".", "shared.img")])).toMatch(/is given twice .*add ,ro to both/);
    expect(await outcome(["-k", kernel, "-d", a, "-d", `${a},ro`])).toMatch(/is given twice/);
    expect(await outcome(["-k", kernel, "-d", `${a},ro`, "-d", `${a},ro`])).toBe("accepted");
  });

  it("numbers are reported as typed, flags refuse values", async () => {
    expect(await outcome(["-k", kernel, "-c", "abc"])).toMatch(/invalid number of vCPUs 'abc'/);
    expect(await outcome(["-k", kernel, "--jit-threshold", "1.5"])).toMatch(/invalid JIT threshold '1.5'/);
    expect(await outcome(["-k", kernel, "--rng=garbage"])).toMatch(/--rng takes no value/);
    expect(await outcome(["-k", kernel, "-m", "512@0x100000000"])).toBe("accepted");
  });
});

function lkvm(...args: string[]) {
  const r = spawnSync("bin/lkvm", args, { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stderr: r.stderr };
}

describe("bin/lkvm: one line and status 1 for command-line mistakes", () => {
  const cases: [string[], RegExp][] = [
    [["run", "-k", kernel, "-k"], /option -k needs a value/],
    [["run", "-k", kernel, "-m"], /option -m needs a value/],
    [["stop", "-n"], /option -n needs a value/],
    [["run", "-k", kernel, "-c", "abc"], /invalid number of vCPUs 'abc'/],
    [["run", "-k", kernel, "-k", kernel, "-m", "512", "-m", "garbage"], /invalid memory size 'garbage'/],
    [["debug", "-a", "-m", "x"], /invalid vCPU number 'x'/],
  ];
  for (const [args, message] of cases) {
    it(args.join(" "), () => {
      const r = lkvm(...args);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("  Info: # lkvm run"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^lkvm: error: /);
      expect(lines[0]).toMatch(message);
    });
  }
});

describe("the KVM-fidelity options", () => {
  it("--cpu-features takes +name/-name lists (with = for a list that starts with -); --mmio-syndrome defaults to warn", async () => {
    expect((await parseRunCommandLine(["-k", kernel, "--cpu-features", "+ls64_v"])).cpuFeatures).toBe(3);
    expect((await parseRunCommandLine(["-k", kernel, "--cpu-features=+ls64_accdata,-ls64_v"])).cpuFeatures).toBe(1);
    expect((await parseRunCommandLine(["-k", kernel, "--cpu-features=-ls64"])).cpuFeatures).toBe(0);
    expect(await outcome(["-k", kernel, "--cpu-features", "+mte"])).toMatch(/invalid CPU feature '\+mte'/);
    const cfg = await parseRunCommandLine(["-k", kernel]);
    expect([cfg.mmioSyndrome, cfg.cpuFeatures, cfg.ls64WorkQueue]).toEqual(["warn", 0, false]);
    expect((await parseRunCommandLine(["-k", kernel, "--mmio-syndrome", "nisv-exit", "--ls64-work-queue"])).ls64WorkQueue).toBe(true);
  });
});
