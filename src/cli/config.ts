// Turns parsed `lkvm run` options into a validated RunConfig: kvmtool's defaults, its -m
// syntax, its conflicts, and lkvm's own limits. Every refusal is a ConfigError (one line).

import { accessSync, constants, existsSync, statSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { ConfigError, FatalError, FileError } from "../errors.ts";
import { runOptions } from "./options.ts";
import { MAX_RAM_BYTES, MAX_RAM_BYTES_CHECKED } from "../../arm/host/core.ts";
import { RAM_DEFAULT_BASE } from "../../arm/machine/memory-map.ts";
import { MMIO_SYNDROME_MODES, type MmioSyndromeMode } from "../kvm/mmio-syndrome.ts";
import { CpuFeatureError, parseCpuFeatures } from "../../arm/host/cpu-features.ts";
import { ROOT_9P_TAG } from "../kvm/loader.ts";
import { checkIrqchipVcpuCount, resolveIrqchip, type IrqchipKind } from "../../arm/machine/irqchip.ts";
import { parseNetworkOptions, type NicConfig } from "./network-option.ts";

const MiB = 1024 * 1024;
export const MAX_VCPUS = 64;

export interface RunConfig {
  name: string;
  cpus: number;
  ramBase: number;
  ramSizeBytes: number;
  kernel?: string;
  initrd?: string;
  firmware?: string;
  firmwareAddress?: number;
  flash?: string;
  params: string;
  nodefaults: boolean;
  console: "serial" | "virtio";
  /** --vnc, --gtk or --sdl: arm64 has no framebuffer; kvmtool then gives the kernel console=tty0. */
  framebuffer: boolean;
  loglevel: "error" | "warning" | "info" | "debug";
  dumpDtb?: string;
  irqchip: IrqchipKind;
  kaslrSeed: bigint;
  debugMmio: boolean;
  debugIoport: boolean;
  /** --trace-mmio: log every trapped access (TrapBus.onAccess). */
  traceMmio: boolean;
  /** -d: virtio-blk disk images, in command-line order. */
  disks: DiskConfig[];
  /** --9p: virtio-9p shares, in command-line order (a -d DIR root first). */
  shares: ShareConfig[];
  /** -d DIR: the guest's root is that directory over 9p (kernelCommandLine says so). */
  rootShare: boolean;
  /** -n: virtio-net NICs (kvmtool's implicit user-mode one unless -n mode=none). */
  nics: NicConfig[];
  /** --rng: a virtio-rng device. */
  rng: boolean;
  /** --balloon: a virtio-balloon device (lkvm balloon, lkvm stat). */
  balloon: boolean;
  /** Where virtio devices sit: virtio-pci (modern) or virtio-mmio (version 2). */
  virtioTransport: VirtioTransportKind;
  /** Translate hot code to WebAssembly (docs/jit.md). */
  jit: boolean;
  /** Interpreted visits before a block is translated; undefined: the core's default. */
  jitThreshold?: number;
  /** Print the JIT's statistics at exit. */
  debugJit: boolean;
  /** Print performance counters at exit (src/kvm/perf-report.ts). */
  debugPerf: boolean;
  /** --check-cache-maintenance: report what missing cache maintenance would break (arm/core/cache-check.ts). */
  checkCacheMaintenance: boolean;
  /** What to do with MMIO accesses KVM could not emulate (src/kvm/mmio-syndrome.ts). */
  mmioSyndrome: MmioSyndromeMode;
  /** --cpu-features: abi.CPU_FEAT_* bits on top of the Cortex-A57 model. */
  cpuFeatures: number;
  /** --pmu: PMUv3 on every vCPU (ID_AA64DFR0_EL1.PMUVer = 1) and a /pmu DT node. */
  pmu: boolean;
  /** --ls64-work-queue: the 64-byte work-queue device (hw/ls64-work-queue.ts). */
  ls64WorkQueue: boolean;
}

/** --9p dir[,tag][,ro]: a host directory shared over virtio-9p. */
export interface ShareConfig {
  dir: string;
  tag: string;
  readOnly: boolean;
}

export interface DiskConfig {
  path: string;
  readOnly: boolean;
}

/** kvmtool's four: virtio-pci and virtio-mmio, each modern (virtio 1.x) or legacy (0.9.5). */
export const VIRTIO_TRANSPORTS = ["pci", "pci-legacy", "mmio", "mmio-legacy"] as const;
export type VirtioTransportKind = (typeof VIRTIO_TRANSPORTS)[number];
/**
 * --virtio-transport, or kvmtool's deprecated spellings: --force-pci for pci, --virtio-legacy
 * for pci-legacy (virtio/core.c's virtio_transport_parser).
 */
function parseVirtioTransport(argv: Record<string, unknown>): VirtioTransportKind {
  const given = argv["virtio-transport"] ?? (argv["virtio-legacy"] ? "pci-legacy" : argv["force-pci"] ? "pci" : DEFAULT_VIRTIO_TRANSPORT);
  const transport = String(given);
  if (!(VIRTIO_TRANSPORTS as readonly string[]).includes(transport)) {
    throw new ConfigError(`invalid virtio transport '${transport}': expected ${VIRTIO_TRANSPORTS.join(", ")}`);
  }
  return transport as VirtioTransportKind;
}

/** kvmtool's default transport on arm64 since 2023 (9b46ebc), and lkvm's. */
export const DEFAULT_VIRTIO_TRANSPORT: VirtioTransportKind = "pci";

/** kvmtool's MAX_DISK_IMAGES. */
export const MAX_DISKS = 4;

/** Whether `lkvm run` translates hot code when neither --jit nor --no-jit is given. */
export const JIT_BY_DEFAULT = true;

/**
 * The JIT's default, unless the environment overrides it: LKVM_JIT=0 makes every run that
 * gives neither --jit nor --no-jit interpret (`make test-nojit` runs the suites that way).
 */
export function jitByDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.LKVM_JIT;
  if (v === undefined || v === "") return JIT_BY_DEFAULT;
  if (v === "0" || v === "off") return false;
  if (v === "1" || v === "on") return true;
  throw new ConfigError(`LKVM_JIT='${v}' is not understood: expected 0 (interpret) or 1 (translate)`);
}

const SUFFIX: Record<string, number> = { B: 1, K: 1024, M: MiB, G: 1024 * MiB, T: 1024 ** 4, P: 1024 ** 5 };

/**
 * kvmtool's size syntax: decimal digits with an optional B/K/M/G/T/P suffix, MiB when there is
 * none. lkvm also takes 0x hexadecimal, as addresses are usually written: in bytes when there
 * is no suffix (`-m 512@0x100000000`).
 */
export function parseSize(text: string, what: string): number {
  const m = /^(0x[0-9a-f]+|\d+)([BKMGTP])?$/i.exec(text.trim());
  if (!m) throw new ConfigError(`invalid ${what} '${text}': expected a number (decimal, or 0x hex) with an optional B, K, M, G, T or P suffix`);
  const hex = /^0x/i.test(m[1]!);
  const n = Number(m[1]) * (m[2] ? SUFFIX[m[2].toUpperCase()]! : hex ? 1 : MiB);
  if (!Number.isSafeInteger(n)) throw new ConfigError(`${what} '${text}' is too large`);
  return n;
}

/** A whole number option (-c, --jit-threshold): decimal digits, reported as typed when not. */
export function parseCount(value: unknown, what: string, min: number, max: number): number {
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`invalid ${what} '${String(value)}': expected a whole number from ${min}`);
  if (n > max) throw new ConfigError(`${what} ${n} is too large: at most ${max}`);
  return n;
}

/** -m size[@addr]. */
export function parseMem(text: string): { sizeBytes: number; base?: number } {
  const [size, addr, extra] = text.split("@");
  if (extra !== undefined || size === undefined || size === "") throw new ConfigError(`invalid memory size '${text}'`);
  return { sizeBytes: parseSize(size, "memory size"), base: addr === undefined ? undefined : parseSize(addr, "memory address") };
}

/** An unsigned integer in C's strtoull(…, 0) syntax (decimal, 0x hex, 0 octal), as kvmtool accepts. */
export function parseU64(text: string, what: string): bigint {
  const t = text.trim();
  let v: bigint;
  try {
    if (!/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.test(t)) throw new Error();
    v = /^0[0-7]+$/.test(t) ? BigInt("0o" + t.slice(1)) : BigInt(t);
  } catch {
    throw new ConfigError(`invalid ${what} '${text}': expected an unsigned integer`);
  }
  if (v >= 1n << 64n) throw new ConfigError(`${what} '${text}' does not fit in 64 bits`);
  return v;
}

/** kvmtool's open of the kernel or initrd: `  Fatal: Unable to open kernel <path>` if it fails. */
function openableOrFatal(path: string, what: "kernel" | "initrd"): void {
  try {
    checkReadable(path, what);
  } catch (e) {
    if (e instanceof FileError) throw new FatalError(`Unable to open ${what} ${path}`);
    throw e;
  }
}

function checkReadable(path: string, what: string): void {
  try {
    accessSync(path, constants.R_OK);
    if (!statSync(path).isFile()) throw new FileError(`${what} '${path}' is not a regular file`);
  } catch (e) {
    if (e instanceof FileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileError(`cannot read ${what} '${path}': ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code}`);
  }
}

/**
 * One -d argument, as kvmtool reads it: `file[,ro][,direct]`, a directory (the 9p root), the
 * name of a rootfs in ~/.lkvm, or `scsi:<wwpn>`. Image files and directories are supported.
 */
export function parseDisk(text: string): DiskConfig | { rootDir: string } {
  if (text.startsWith("scsi:")) throw new ConfigError(`--disk ${text}: vhost-scsi is not supported by lkvm`);
  const [path, ...flags] = text.split(",");
  if (!path) throw new ConfigError(`invalid disk '${text}': expected file[,ro]`);
  let readOnly = false;
  for (const f of flags) {
    if (f === "ro") readOnly = true;
    else if (f === "direct") throw new ConfigError(`--disk ${text}: ,direct (O_DIRECT) is not supported by lkvm yet`);
    else throw new ConfigError(`invalid disk option '${f}' in '${text}': expected ro`);
  }
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Not a path: kvmtool would look for a rootfs of that name in ~/.lkvm.
    if (!path.includes("/")) {
      try {
        isDir = statSync(join(os.homedir(), ".lkvm", path)).isDirectory();
      } catch {
        // neither: reported as a missing image below
      }
    }
  }
  if (isDir) {
    if (!existsSync(path)) throw new ConfigError(`--disk ${path}: rootfs names from ~/.lkvm (lkvm setup) are not supported by lkvm yet; give the directory's path`);
    if (flags.length > 0) throw new ConfigError(`--disk ${text}: a root directory takes no options`);
    return { rootDir: path };
  }
  try {
    accessSync(path, readOnly ? constants.R_OK : constants.R_OK | constants.W_OK);
    if (!statSync(path).isFile()) throw new FileError(`disk image '${path}' is not a regular file`);
  } catch (e) {
    if (e instanceof FileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? `permission denied${readOnly ? "" : " (use ,ro for read-only)"}` : code;
    throw new FileError(`cannot open disk image '${path}': ${why}`);
  }
  return { path, readOnly };
}

/** kvmtool's default --9p tag, and its MAX_TAG_LEN. */
export const DEFAULT_9P_TAG = "kvm_9p";
export const MAX_9P_TAG_BYTES = 32;

/** One --9p argument: `dir[,tag][,ro]` (kvmtool takes `dir,tag`; `,ro` is lkvm's). */
export function parseShare(text: string): ShareConfig {
  const parts = text.split(",");
  const dir = parts[0]!;
  let readOnly = false;
  if (parts.length > 1 && parts[parts.length - 1] === "ro") {
    readOnly = true;
    parts.pop();
  }
  if (parts.length > 2) throw new ConfigError(`invalid --9p '${text}': expected dir[,tag][,ro]`);
  const tag = parts[1] ?? DEFAULT_9P_TAG;
  if (!dir) throw new ConfigError(`invalid --9p '${text}': no directory`);
  if (tag.length === 0 || Buffer.byteLength(tag) > MAX_9P_TAG_BYTES) {
    throw new ConfigError(`invalid --9p tag '${tag}': 1 to ${MAX_9P_TAG_BYTES} characters`);
  }
  try {
    if (!statSync(dir).isDirectory()) throw new FileError(`cannot share '${dir}' over 9p: not a directory`);
  } catch (e) {
    if (e instanceof FileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileError(`cannot share '${dir}' over 9p: ${code === "ENOENT" ? "no such directory" : code}`);
  }
  return { dir, tag, readOnly };
}

function refuseDuplicateTags(shares: ShareConfig[]): void {
  const seen = new Set<string>();
  for (const s of shares) {
    if (seen.has(s.tag)) throw new ConfigError(`9p tag '${s.tag}' is given twice: each --9p share needs its own tag`);
    seen.add(s.tag);
  }
}

/**
 * Two virtio-blk devices on one file each cache and write it on their own: the guest sees two
 * disks and corrupts both. The same file (by device and inode, so links and other spellings
 * count) may appear more than once only if every use is read-only.
 */
function refuseSharedWritableDisks(disks: DiskConfig[]): void {
  const seen = new Map<string, DiskConfig>();
  for (const disk of disks) {
    const st = statSync(disk.path);
    const key = `${st.dev}:${st.ino}`;
    const first = seen.get(key);
    if (first && !(first.readOnly && disk.readOnly)) {
      throw new ConfigError(`disk image '${disk.path}' is given twice (also as '${first.path}'): two writable devices on one file would corrupt it; add ,ro to both`);
    }
    seen.set(key, disk);
  }
}

export function validateConfig(argv: Record<string, unknown>): RunConfig {
  for (const opt of runOptions) {
    if (!opt.unsupported || argv[opt.name] === undefined || argv[opt.name] === false) continue;
    throw new ConfigError(opt.unsupported);
  }
  const kernel = argv.kernel as string | undefined;
  const firmware = argv.firmware as string | undefined;
  if (kernel !== undefined && firmware !== undefined) throw new ConfigError("only one of --kernel or --firmware can be specified");
  if (kernel === undefined && firmware === undefined) {
    throw new ConfigError("no kernel given: use -k/--kernel <Image> (or --firmware <file>)");
  }
  const initrd = argv.initrd as string | undefined;
  const flash = argv.flash as string | undefined;

  const diskArgs = argv.disk === undefined ? [] : ([] as unknown[]).concat(argv.disk).map(String);
  if (diskArgs.length > MAX_DISKS) throw new ConfigError(`${diskArgs.length} disks given; at most ${MAX_DISKS} are supported`);
  const disks: DiskConfig[] = [];
  const rootDirs: string[] = [];
  for (const d of diskArgs.map(parseDisk)) {
    if ("rootDir" in d) rootDirs.push(d.rootDir);
    else disks.push(d);
  }
  if (rootDirs.length > 1) throw new ConfigError(`${rootDirs.length} root directories given (${rootDirs.join(", ")}): only one can be the root`);
  refuseSharedWritableDisks(disks);
  const shareArgs = argv["9p"] === undefined ? [] : ([] as unknown[]).concat(argv["9p"]).map(String);
  // -d DIR is kvmtool's 9p root: the first share, tag /dev/root.
  const shares = [...rootDirs.map((dir) => ({ dir, tag: ROOT_9P_TAG, readOnly: false })), ...shareArgs.map(parseShare)];
  refuseDuplicateTags(shares);
  const nics = parseNetworkOptions(argv.network === undefined ? [] : ([] as unknown[]).concat(argv.network).map(String));
  const transport = parseVirtioTransport(argv);

  const cpus = argv.cpus === undefined ? Math.min(MAX_VCPUS, os.availableParallelism()) : parseCount(argv.cpus, "number of vCPUs", 1, MAX_VCPUS);

  let ramSizeBytes: number;
  let ramBase = RAM_DEFAULT_BASE;
  if (argv.mem !== undefined) {
    const m = parseMem(String(argv.mem));
    ramSizeBytes = m.sizeBytes;
    if (m.base !== undefined) ramBase = m.base;
  } else {
    // kvmtool: 64 MiB per vCPU plus 192 MiB, at most 80 % of host RAM.
    ramSizeBytes = Math.min(64 * MiB * (cpus + 3), Math.floor((os.totalmem() * 0.8) / MiB) * MiB);
  }
  if (ramSizeBytes < MiB) throw new ConfigError(`memory size ${ramSizeBytes} bytes is too small: at least 1M`);
  if (ramSizeBytes % 4096) throw new ConfigError(`memory size must be a multiple of 4K`);
  const checkCaches = Boolean(argv["check-cache-maintenance"]);
  const maxRam = checkCaches ? MAX_RAM_BYTES_CHECKED : MAX_RAM_BYTES;
  if (ramSizeBytes > maxRam) {
    const why = checkCaches ? "a WebAssembly memory limit, with --check-cache-maintenance's state" : "a WebAssembly memory limit";
    throw new ConfigError(`memory size ${Math.round(ramSizeBytes / MiB)}M is more than lkvm can give a guest (${Math.floor(maxRam / MiB)}M, ${why})`);
  }
  if (argv.jit === true && argv["no-jit"] === true) throw new ConfigError("--jit and --no-jit contradict each other: give one");
  if (checkCaches && argv.jit === true) {
    throw new ConfigError("--check-cache-maintenance runs the interpreter only (translated code is not checked): drop --jit");
  }
  if (ramBase < RAM_DEFAULT_BASE) throw new ConfigError(`RAM address 0x${ramBase.toString(16)} is below 2G (0x${RAM_DEFAULT_BASE.toString(16)})`);
  if (ramBase % (2 * MiB)) throw new ConfigError(`RAM address 0x${ramBase.toString(16)} is not 2M-aligned`);
  if (ramBase + ramSizeBytes > 2 ** 48) throw new ConfigError("RAM ends above the 48-bit physical address space");

  let firmwareAddress: number | undefined;
  if (argv["firmware-address"] !== undefined) {
    firmwareAddress = Number(parseU64(String(argv["firmware-address"]), "firmware address"));
    if (firmware === undefined) throw new ConfigError("--firmware-address needs --firmware");
    if (firmwareAddress < ramBase || firmwareAddress >= ramBase + ramSizeBytes) {
      throw new ConfigError(`firmware address 0x${firmwareAddress.toString(16)} is outside RAM`);
    }
  }

  const consoleArg = String(argv.console ?? "serial");
  let consoleDev: "serial" | "virtio";
  if ("serial".startsWith(consoleArg) && consoleArg) consoleDev = "serial";
  else if ("virtio".startsWith(consoleArg) && consoleArg) consoleDev = "virtio";
  else if ("hv".startsWith(consoleArg) && consoleArg) throw new ConfigError("--console hv is a PowerPC console; arm64 has none");
  else throw new ConfigError(`invalid console '${consoleArg}': expected serial, virtio or hv`);

  // kvmtool's auto picks the best irqchip the host's KVM offers; lkvm's is the best it builds.
  const irqchip = resolveIrqchip(String(argv.irqchip ?? "auto"));
  checkIrqchipVcpuCount(irqchip, cpus);

  const jitThreshold = argv["jit-threshold"] === undefined ? undefined : parseCount(argv["jit-threshold"], "JIT threshold", 0, 0xffff_ffff);

  const mmioSyndrome = String(argv["mmio-syndrome"] ?? "warn") as MmioSyndromeMode;
  if (!MMIO_SYNDROME_MODES.includes(mmioSyndrome)) {
    throw new ConfigError(`invalid --mmio-syndrome '${mmioSyndrome}': expected ${MMIO_SYNDROME_MODES.join(", ")}`);
  }

  let cpuFeatures = 0;
  try {
    cpuFeatures = argv["cpu-features"] === undefined ? 0 : parseCpuFeatures(String(argv["cpu-features"]));
  } catch (e) {
    if (e instanceof CpuFeatureError) throw new ConfigError(e.message);
    throw e;
  }

  const loglevel = (argv.debug ? "debug" : String(argv.loglevel ?? "info")) as RunConfig["loglevel"];
  const name = argv.name !== undefined ? String(argv.name) : `guest-${process.pid}`;
  if (!/^[\w.-]{1,64}$/.test(name)) throw new ConfigError(`invalid guest name '${name}': use letters, digits, '.', '_' and '-'`);

  // Files last, as kvmtool opens them after checking every option: a harness probing for an
  // option gets that option's answer whatever kernel it names.
  if (kernel !== undefined) openableOrFatal(kernel, "kernel");
  if (firmware !== undefined) checkReadable(firmware, "firmware");
  if (initrd !== undefined && firmware === undefined) openableOrFatal(initrd, "initrd");
  if (flash !== undefined) checkReadable(flash, "flash image");

  return {
    name,
    cpus,
    ramBase,
    ramSizeBytes,
    kernel,
    initrd: firmware !== undefined ? undefined : initrd,
    firmware,
    firmwareAddress,
    flash,
    params: argv.params !== undefined ? String(argv.params) : "",
    nodefaults: Boolean(argv.nodefaults),
    console: consoleDev,
    framebuffer: Boolean(argv.vnc || argv.gtk || argv.sdl),
    loglevel,
    dumpDtb: argv["dump-dtb"] as string | undefined,
    irqchip,
    kaslrSeed: argv["kaslr-seed"] !== undefined ? parseU64(String(argv["kaslr-seed"]), "kaslr seed") : 0n,
    debugMmio: Boolean(argv["debug-mmio"]),
    debugIoport: Boolean(argv["debug-ioport"]),
    traceMmio: Boolean(argv["trace-mmio"]),
    disks,
    shares,
    rootShare: rootDirs.length > 0,
    nics,
    rng: Boolean(argv.rng),
    balloon: Boolean(argv.balloon),
    virtioTransport: transport,
    // --no-jit, or jit: false from a program that builds the options itself (tools/bench.ts).
    jit: checkCaches || argv["no-jit"] === true || argv.jit === false ? false : argv.jit === true || jitByDefault(),
    jitThreshold,
    debugJit: Boolean(argv["debug-jit"]),
    debugPerf: Boolean(argv["debug-perf"]),
    checkCacheMaintenance: checkCaches,
    mmioSyndrome,
    cpuFeatures,
    pmu: Boolean(argv.pmu),
    ls64WorkQueue: Boolean(argv["ls64-work-queue"]),
  };
}

/** kvmtool's echo of what will run: `# lkvm run -k … -m … -c … --name …`. */
export function describeRun(cfg: RunConfig): string {
  const image = cfg.kernel !== undefined ? `-k ${cfg.kernel}` : `-f ${cfg.firmware}`;
  return `# lkvm run ${image} -m ${Math.round(cfg.ramSizeBytes / MiB)} -c ${cfg.cpus} --name ${cfg.name}`;
}
