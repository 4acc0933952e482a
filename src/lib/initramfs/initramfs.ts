// Builds the default guest's initramfs: a static busybox with its applet links, the virtio
// (and 9p) kernel modules with their dependencies, and an /init that mounts the pseudo
// filesystems, loads the modules and hands the console to a shell (or, for a 9p root, mounts
// it and hands over to its init).

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { gunzipSync } from "node:zlib";
import { FileError, ConfigError } from "../../errors.ts";
import { cpioPath, writeCpio, writeCpioGz, type CpioEntry } from "./cpio.ts";

export interface ExtraFile {
  /** Absolute or archive-relative path; parent directories are created as needed. */
  path: string;
  data: Uint8Array | string;
  mode?: number;
}

export interface InitramfsOptions {
  /** The static arm64 busybox binary. */
  busyboxPath: string;
  /** A kernel's /lib/modules/<kver> tree; without it the archive carries no modules. */
  modulesDir?: string;
  /** Kernel release for lib/modules/<kver>; read from the modules' vermagic if omitted. */
  kernelVersion?: string;
  /** Replaces the default /init script (test guests). */
  init?: string;
  /** Added last, so they may replace default files (e.g. etc/profile). */
  extraFiles?: ExtraFile[];
  /** Modules to include (dependencies are added); defaults to DEFAULT_MODULES. */
  modules?: readonly string[];
  /**
   * Applet links to create, as busybox --list-full prints them. Default: ask busybox itself
   * under qemu-aarch64; null (or no qemu) means /init's `busybox --install -s` makes them.
   */
  applets?: readonly string[] | null;
  /** mtime of every entry; fixed so identical inputs give identical archives. */
  mtime?: number;
}

export interface Initramfs {
  entries: CpioEntry[];
  kernelVersion: string | null;
  /** Module paths (relative to lib/modules/<kver>) in load order. */
  modules: string[];
  /** Requested modules that are built into the kernel, so need no file. */
  builtin: string[];
  /** Requested modules found neither as files nor as built-ins. */
  missing: string[];
  applets: number;
  /** The uncompressed newc archive. */
  cpio(): Uint8Array;
  /** The gzip'd archive, as handed to the kernel. */
  cpioGz(): Uint8Array;
}

/** What lkvm's devices need: virtio transports, block, net, console, rng, balloon and 9p. */
export const DEFAULT_MODULES: readonly string[] = [
  "virtio", "virtio_ring", "virtio_mmio", "virtio_pci",
  "virtio_blk", "virtio_net", "virtio_console", "virtio_rng", "virtio_balloon",
  "9pnet", "9pnet_virtio", "9p",
];

/** What udhcpc runs on each lease event: configure the interface, route and resolver. */
export const UDHCPC_SCRIPT = "usr/share/udhcpc/default.script";

/** Where /init finds the modules to insmod, one path per line, dependencies first. */
export const MODULE_LIST = "etc/lkvm/modules";

export const DEFAULT_INIT = `#!/bin/busybox sh
# lkvm default init: the kernel runs this as PID 1.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
# devtmpfs is not mounted automatically inside an initramfs; mdev is the fallback.
$bb mount -t devtmpfs devtmpfs /dev 2>/dev/null || $bb mdev -s
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts devpts /dev/pts
# Safety net for archives built without applet links; existing links are left alone.
$bb --install -s 2>/dev/null
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root
kver=$(uname -r)
# Plain insmod in a precomputed order: no modprobe database needed at boot.
if [ -f /${MODULE_LIST} ]; then
  while read -r m; do
    insmod "/lib/modules/$kver/$m" || echo "init: failed to load $m"
  done < /${MODULE_LIST}
fi
# With console=hvc0 (lkvm --console virtio) the console's driver is virtio_console, a module:
# the kernel had no console to give PID 1, so its standard streams are closed. Now that the
# module is loaded, /dev/console is hvc0.
[ -t 0 ] || exec 0<>/dev/console 1>&0 2>&0
# A 9p root (lkvm -d DIR puts root=/dev/root rootfstype=9p on the command line): the kernel
# cannot mount it itself when 9p is a module, so mount it here and hand over to its init.
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    root=*) root=\${arg#root=} ;;
    rootfstype=*) rootfstype=\${arg#rootfstype=} ;;
    rootflags=*) rootflags=\${arg#rootflags=} ;;
    init=*) rootinit=\${arg#init=} ;;
  esac
done
if [ "$rootfstype" = 9p ]; then
  $bb mkdir -p /newroot
  if $bb mount -t 9p -o "$rootflags" "$root" /newroot; then
    $bb umount /dev/pts /dev /sys /proc 2>/dev/null
    exec $bb switch_root /newroot "\${rootinit:-/sbin/init}"
  fi
  echo "init: cannot mount the 9p root $root; staying in the initramfs"
fi
hostname lkvm
$bb ip link set lo up 2>/dev/null
# A NIC (lkvm gives one unless -n mode=none): DHCP from lkvm's user-mode network, which
# answers at once; with no NIC this costs nothing, and a silent network costs ~3 s.
if [ -e /sys/class/net/eth0 ]; then
  udhcpc -i eth0 -f -q -n -t 3 -T 1 -A 1 -s /${UDHCPC_SCRIPT} >/dev/null 2>&1 || echo "init: no DHCP answer on eth0"
fi
echo "lkvm: Linux $kver is up; exit the shell to power off"
cd /root
# busybox's poweroff, reboot and halt signal PID 1 (USR2, TERM, USR1) and leave the rest to
# it: this script is PID 1, so it does what busybox init would. halt powers off too: a halted
# VM can only be killed from the host. The shell runs in the background so that the traps
# run at once (a shell runs traps only between commands, and wait is interruptible); its
# input is the console (fd 3), not the /dev/null a background job gets.
trap '$bb poweroff -f' USR2 USR1
trap '$bb reboot -f' TERM
exec 3<&0
# setsid+cttyhack give the shell a controlling tty, so job control and ^C work.
setsid cttyhack sh -l <&3 3<&- &
shell=$!
exec 3<&-
while kill -0 $shell 2>/dev/null; do wait $shell; done
poweroff -f
`;

const UDHCPC_SCRIPT_TEXT = `#!/bin/sh
# udhcpc's hook (busybox): $interface, $ip, $subnet, $router, $dns come from the lease.
case "$1" in
  deconfig) ifconfig "$interface" 0.0.0.0 up ;;
  bound|renew)
    ifconfig "$interface" "$ip" netmask "\${subnet:-255.255.255.0}" up
    for r in $router; do route add default gw "$r" dev "$interface"; break; done
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    ;;
esac
exit 0
`;

const PROFILE = `export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root
PS1='lkvm:\\w\\$ '
`;

const BASE_DIRS: [string, number][] = [
  ["bin", 0o755], ["sbin", 0o755], ["usr", 0o755], ["usr/bin", 0o755], ["usr/sbin", 0o755],
  ["lib", 0o755], ["lib/modules", 0o755], ["etc", 0o755], ["etc/lkvm", 0o755],
  ["dev", 0o755], ["proc", 0o555], ["sys", 0o555], ["run", 0o755], ["tmp", 0o1777],
  ["var", 0o755], ["mnt", 0o755], ["root", 0o700],
];

const utf8 = new TextEncoder();

function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new FileError(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Module name as the kernel spells it: file names may use '-', module names use '_'. */
const modName = (file: string) => posix.basename(file).replace(/\.ko(\.(gz|xz|zst))?$/, "").replace(/-/g, "_");

/** The strings in an ELF64 module's .modinfo section ("depends=...", "vermagic=..."). */
export function readModinfo(ko: Uint8Array): Map<string, string> {
  const dv = new DataView(ko.buffer, ko.byteOffset, ko.byteLength);
  const info = new Map<string, string>();
  if (ko.length < 64 || dv.getUint32(0) !== 0x7f454c46 || ko[4] !== 2 || ko[5] !== 1) return info;
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);
  const shstrndx = dv.getUint16(0x3e, true);
  const sect = (i: number) => {
    const b = shoff + i * shentsize;
    return { name: dv.getUint32(b, true), off: Number(dv.getBigUint64(b + 0x18, true)), size: Number(dv.getBigUint64(b + 0x20, true)) };
  };
  if (shoff + shnum * shentsize > ko.length || shstrndx >= shnum) return info;
  const strtab = sect(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = sect(i);
    const nameAt = strtab.off + s.name;
    const end = ko.indexOf(0, nameAt);
    if (Buffer.from(ko.subarray(nameAt, end)).toString("latin1") !== ".modinfo") continue;
    for (const kv of Buffer.from(ko.subarray(s.off, s.off + s.size)).toString("utf8").split("\0")) {
      const eq = kv.indexOf("=");
      if (eq > 0 && !info.has(kv.slice(0, eq))) info.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
  }
  return info;
}

/** Module file contents, decompressed: busybox insmod only takes plain ELF. */
function loadModule(modulesDir: string, rel: string): Uint8Array {
  const raw = readInput(join(modulesDir, rel), "kernel module");
  if (rel.endsWith(".ko")) return raw;
  if (rel.endsWith(".ko.gz")) return gunzipSync(raw);
  // Debian 12's kernels ship plain .ko files; xz/zstd would need a decompressor we lack.
  throw new ConfigError(`kernel module ${rel} is compressed in a format the initramfs builder cannot unpack`);
}

function walkModules(dir: string, rel = "", out = new Map<string, string>()): Map<string, string> {
  for (const ent of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${ent.name}` : ent.name;
    if (ent.isDirectory()) walkModules(dir, r, out);
    else if (/\.ko(\.(gz|xz|zst))?$/.test(ent.name)) out.set(modName(ent.name), r);
  }
  return out;
}

interface ModuleSet {
  kernelVersion: string | null;
  order: string[]; // relative paths, dependencies first
  files: Map<string, Uint8Array>;
  builtin: string[];
  missing: string[];
  depLines: string[];
}

function collectModules(modulesDir: string, wanted: readonly string[], kver?: string): ModuleSet {
  if (!existsSync(modulesDir) || !statSync(modulesDir).isDirectory()) {
    throw new FileError(`modules directory ${modulesDir} does not exist`);
  }
  const byName = walkModules(modulesDir);
  const builtinFile = join(modulesDir, "modules.builtin");
  const builtins = new Set(
    existsSync(builtinFile) ? readFileSync(builtinFile, "utf8").split("\n").filter(Boolean).map(modName) : [],
  );
  // Prefer depmod's modules.dep; the .deb does not ship one (its postinst runs depmod), so
  // fall back to the "depends=" that modpost records in each module's .modinfo.
  const depFile = join(modulesDir, "modules.dep");
  const depTable = new Map<string, string[]>();
  if (existsSync(depFile)) {
    for (const line of readFileSync(depFile, "utf8").split("\n")) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      depTable.set(modName(line.slice(0, colon)), line.slice(colon + 1).split(/\s+/).filter(Boolean).map(modName));
    }
  }

  const files = new Map<string, Uint8Array>();
  const order: string[] = [];
  const builtin: string[] = [];
  const missing: string[] = [];
  const directDeps = new Map<string, string[]>();
  let version = kver ?? null;
  const state = new Map<string, "visiting" | "done">();

  const visit = (name: string) => {
    const n = modName(name);
    if (state.get(n) === "done") return;
    if (state.get(n) === "visiting") throw new ConfigError(`kernel module dependency cycle through ${n}`);
    state.set(n, "visiting");
    const rel = byName.get(n);
    if (!rel) {
      (builtins.has(n) ? builtin : missing).push(n);
    } else {
      const data = loadModule(modulesDir, rel);
      const info = readModinfo(data);
      version ??= info.get("vermagic")?.split(" ")[0] ?? null;
      const deps = depTable.get(n) ?? (info.get("depends") ?? "").split(",").filter(Boolean).map(modName);
      directDeps.set(n, deps);
      for (const d of deps) visit(d);
      const plain = rel.replace(/\.ko\.(gz|xz|zst)$/, ".ko");
      files.set(plain, data);
      order.push(plain);
    }
    state.set(n, "done");
  };
  for (const w of wanted) visit(w);

  // A modules.dep for just these modules, so `modprobe` works from the guest's shell.
  const pathOf = new Map(order.map((p) => [modName(p), p]));
  const depLines = order.map((p) => {
    const closure: string[] = [];
    const add = (n: string) => {
      for (const d of directDeps.get(n) ?? []) {
        const dp = pathOf.get(d);
        if (dp && !closure.includes(dp)) {
          closure.push(dp);
          add(d);
        }
      }
    };
    add(modName(p));
    return `${p}:${closure.map((c) => " " + c).join("")}`;
  });
  return { kernelVersion: version, order, files, builtin, missing, depLines };
}

/** Ask the arm64 busybox, under qemu-user, where its applets live. */
export function listApplets(busyboxPath: string, qemu = "qemu-aarch64"): string[] | null {
  let out: string;
  try {
    out = execFileSync(qemu, [busyboxPath, "--list-full"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return null; // no qemu-user: /init's --install -s covers it
  }
  return out.split("\n").map((l) => l.trim()).filter(Boolean);
}

export function buildInitramfs(opts: InitramfsOptions): Initramfs {
  const mtime = opts.mtime ?? 0;
  const tree = new Map<string, CpioEntry>();
  const put = (e: CpioEntry) => {
    const path = cpioPath(e.path);
    // Parents first: the kernel creates each entry in order and never makes directories.
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      const have = tree.get(dir);
      if (!have) tree.set(dir, { path: dir, type: "dir", mode: 0o755 });
      else if (have.type !== "dir") throw new ConfigError(`initramfs: ${dir} is not a directory (needed for ${path})`);
    }
    tree.set(path, { ...e, path });
  };

  for (const [d, mode] of BASE_DIRS) put({ path: d, type: "dir", mode });
  put({ path: "dev/console", type: "char", mode: 0o600, rdevMajor: 5, rdevMinor: 1 });
  put({ path: "bin/busybox", type: "file", mode: 0o755, data: readInput(opts.busyboxPath, "busybox") });

  const applets = opts.applets === undefined ? listApplets(opts.busyboxPath) : opts.applets;
  let appletCount = 0;
  for (const line of applets ?? []) {
    const p = cpioPath(line);
    if (p === "bin/busybox" || tree.has(p)) continue;
    put({ path: p, type: "symlink", target: "/bin/busybox" });
    appletCount++;
  }

  let mods: ModuleSet | null = null;
  if (opts.modulesDir) {
    mods = collectModules(opts.modulesDir, opts.modules ?? DEFAULT_MODULES, opts.kernelVersion);
    if (mods.order.length > 0 || mods.kernelVersion) {
      if (!mods.kernelVersion) throw new ConfigError("initramfs: cannot tell the kernel version of the modules");
      const base = `lib/modules/${mods.kernelVersion}`;
      put({ path: base, type: "dir" });
      for (const [rel, data] of mods.files) put({ path: `${base}/${rel}`, type: "file", data });
      put({ path: `${base}/modules.dep`, type: "file", data: utf8.encode(mods.depLines.map((l) => l + "\n").join("")) });
      const builtinFile = join(opts.modulesDir, "modules.builtin");
      if (existsSync(builtinFile)) put({ path: `${base}/modules.builtin`, type: "file", data: readFileSync(builtinFile) });
      put({ path: MODULE_LIST, type: "file", data: utf8.encode(mods.order.map((p) => p + "\n").join("")) });
    }
  }

  put({ path: "init", type: "file", mode: 0o755, data: utf8.encode(opts.init ?? DEFAULT_INIT) });
  put({ path: "etc/profile", type: "file", data: utf8.encode(PROFILE) });
  put({ path: UDHCPC_SCRIPT, type: "file", mode: 0o755, data: utf8.encode(UDHCPC_SCRIPT_TEXT) });
  put({ path: "etc/passwd", type: "file", data: utf8.encode("root:x:0:0:root:/root:/bin/sh\n") });
  put({ path: "etc/group", type: "file", data: utf8.encode("root:x:0:\n") });

  for (const f of opts.extraFiles ?? []) {
    const data = typeof f.data === "string" ? utf8.encode(f.data) : f.data;
    put({ path: f.path, type: "file", mode: f.mode ?? 0o644, data });
  }

  // A plain sort puts every directory before its contents (a prefix sorts first) and makes
  // the archive independent of insertion order.
  const entries = [...tree.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    entries,
    kernelVersion: mods?.kernelVersion ?? opts.kernelVersion ?? null,
    modules: mods?.order ?? [],
    builtin: mods?.builtin ?? [],
    missing: mods?.missing ?? [],
    applets: appletCount,
    cpio: () => writeCpio(entries, { mtime }),
    cpioGz: () => writeCpioGz(entries, { mtime }),
  };
}
