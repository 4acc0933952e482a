// `lkvm run` options: one table, grouped as kvmtool's builtin-run.c groups them, with
// kvmtool's names, meanings and defaults. Options kvmtool has that lkvm does not support yet
// are listed too, so that using one gives a clear refusal instead of being ignored.

// Numbers are taken as strings and parsed by config.ts, so that a mistyped value is reported
// as typed ("invalid number of vCPUs 'abc'"), not as yargs' NaN.
export type OptionType = "string" | "boolean";

export interface RunOption {
  name: string;
  alias?: string;
  type: OptionType;
  group: "Basic options:" | "Kernel options:" | "Networking options:" | "Debug options:" | "ARM options:";
  describe: string;
  /** Shown in --help as the argument's shape. */
  arg?: string;
  choices?: string[];
  /** Not supported yet: using it is refused with this reason. */
  unsupported?: string;
  /** May be given more than once, each adding a device (kvmtool's -d, -n, --9p); any other
   * repeated option keeps its last value, as in kvmtool. */
  repeatable?: true;
}

const notYet = "is not supported by lkvm yet";

export const runOptions: RunOption[] = [
  // Basic options
  { name: "name", type: "string", group: "Basic options:", arg: "guest name", describe: "A name for the guest (default guest-<pid>)" },
  { name: "cpus", alias: "c", type: "string", group: "Basic options:", arg: "n", describe: "Number of vCPUs (default: the host's CPU count)" },
  { name: "mem", alias: "m", type: "string", group: "Basic options:", arg: "size[BKMGTP][@addr[BKMGTP]]", describe: "Guest RAM size, in MiB unless a suffix is given; @addr moves the RAM base (>= 2G)" },
  { name: "console", type: "string", group: "Basic options:", arg: "serial|virtio|hv", describe: "Console device the guest's input and console= go to: serial (ttyS0, the default) or virtio (hvc0; the UARTs stay). hv is PowerPC's and refused" },
  { name: "nodefaults", type: "boolean", group: "Basic options:", describe: "Do not amend the kernel command line: it is exactly --params" },
  { name: "loglevel", type: "string", group: "Basic options:", choices: ["error", "warning", "info", "debug"], describe: "How much lkvm itself prints (default info)" },
  { name: "disk", alias: "d", type: "string", group: "Basic options:", arg: "image[,ro]|dir", describe: "Disk image as a virtio-blk device (up to 4; ,ro refuses guest writes), or a directory to boot as the root over virtio-9p (tag /dev/root)", repeatable: true },
  { name: "balloon", type: "boolean", group: "Basic options:", describe: "Enable virtio balloon: resize it with `lkvm balloon`, read the guest's memory statistics with `lkvm stat -m`" },
  { name: "rng", type: "boolean", group: "Basic options:", describe: "Enable virtio random number generator" },
  { name: "9p", type: "string", group: "Basic options:", arg: "dir[,tag][,ro]", describe: "Share a host directory over virtio-9p (9P2000.L; tag default kvm_9p, up to 32 characters; ,ro refuses guest changes); repeatable", repeatable: true },
  { name: "vsock", type: "string", group: "Basic options:", arg: "cid", describe: "Add a virtio-vsock device", unsupported: `--vsock ${notYet}` },
  { name: "tty", type: "string", group: "Basic options:", arg: "n", describe: "Move guest terminal n to a new pty", unsupported: `--tty ${notYet}` },
  { name: "virtio-transport", type: "string", group: "Basic options:", arg: "pci|pci-legacy|mmio|mmio-legacy", describe: "Virtio transport for every virtio device: pci (the default, as in kvmtool: virtio-pci modern, with MSI-X when the irqchip has an MSI controller), pci-legacy (virtio 0.9.5 registers in an I/O BAR), mmio (virtio-mmio version 2) or mmio-legacy (version 1)" },
  { name: "sandbox", type: "string", group: "Basic options:", arg: "script", describe: "Run a script in a sandboxed guest", unsupported: `--sandbox ${notYet}` },
  { name: "hugetlbfs", type: "string", group: "Basic options:", arg: "path", describe: "Back guest RAM with hugetlbfs", unsupported: "--hugetlbfs does not apply: guest RAM is WebAssembly memory" },
  { name: "vnc", type: "boolean", group: "Basic options:", describe: "Enable VNC framebuffer (arm64 has none: as in kvmtool, only console=tty0 replaces the serial console in the kernel command line)" },
  { name: "gtk", type: "boolean", group: "Basic options:", describe: "Enable GTK framebuffer (arm64: as --vnc)" },
  { name: "sdl", type: "boolean", group: "Basic options:", describe: "Enable SDL framebuffer (arm64: as --vnc)" },
  { name: "dev", type: "string", group: "Basic options:", arg: "path", describe: "KVM device file", unsupported: "--dev does not apply: lkvm needs no /dev/kvm" },

  // Kernel options
  { name: "kernel", alias: "k", type: "string", group: "Kernel options:", arg: "file", describe: "Kernel Image (or flat binary) to boot" },
  { name: "initrd", alias: "i", type: "string", group: "Kernel options:", arg: "file", describe: "Initial RAM disk image" },
  { name: "params", alias: "p", type: "string", group: "Kernel options:", arg: "params", describe: "Kernel command line arguments" },
  { name: "firmware", alias: "f", type: "string", group: "Kernel options:", arg: "file", describe: "Firmware image to boot in the guest" },
  { name: "flash", alias: "F", type: "string", group: "Kernel options:", arg: "file", describe: "CFI flash image, at 0x2000000; guest writes persist" },

  // Networking options
  { name: "network", alias: "n", type: "string", group: "Networking options:", arg: "params", describe: "Create a virtio-net device: mode=user|none (tap needs native code), guest_ip (default 192.168.33.15), host_ip (gateway, default 192.168.33.1), guest_mac (default 02:15:15:15:15:15), trans=mmio|pci, hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport (repeatable; hostaddr defaults to 127.0.0.1). Without -n: one user-mode NIC; the gateway address reaches the host's 127.0.0.1", repeatable: true },
  { name: "no-dhcp", type: "boolean", group: "Networking options:", describe: "Disable kernel DHCP in rootfs mode (lkvm never adds ip=dhcp)" },

  // Debug options
  { name: "debug", type: "boolean", group: "Debug options:", describe: "Deprecated: same as --loglevel=debug" },
  { name: "debug-mmio", type: "boolean", group: "Debug options:", describe: "Report accesses to unclaimed MMIO addresses" },
  { name: "debug-ioport", type: "boolean", group: "Debug options:", describe: "Report accesses to unclaimed I/O ports (0x0-0xffff)" },
  { name: "trace-mmio", type: "boolean", group: "Debug options:", describe: "Print every MMIO and I/O-port access: vCPU, device, address, size, value (lkvm only)" },
  { name: "debug-single-step", type: "boolean", group: "Debug options:", describe: "Single-step vCPUs", unsupported: `--debug-single-step ${notYet}` },
  { name: "debug-iodelay", type: "string", group: "Debug options:", arg: "ms", describe: "Delay disk I/O", unsupported: `--debug-iodelay ${notYet}` },
  { name: "mmio-syndrome", type: "string", group: "Debug options:", choices: ["emulate", "warn", "kvm", "nisv-exit"], describe: "MMIO by instructions KVM cannot emulate (no valid syndrome: writeback, LDP/STP, SIMD&FP, exclusives): emulate silently, warn once per PC (default), kvm: stop as KVM_RUN would, nisv-exit: give the guest an external abort (lkvm only)" },
  { name: "jit", type: "boolean", group: "Debug options:", describe: "Translate hot guest code to WebAssembly (the default)" },
  { name: "no-jit", type: "boolean", group: "Debug options:", describe: "Interpret every instruction: translate nothing (LKVM_JIT=0 in the environment makes it the default)" },
  { name: "debug-jit", type: "boolean", group: "Debug options:", describe: "Print the JIT's statistics at exit" },
  { name: "debug-perf", type: "boolean", group: "Debug options:", describe: "Print performance counters at exit: guest instructions per main-thread CPU-ms, wall and CPU time, time to the first guest instruction, peak RSS, resident guest memory, vCPU switches (lkvm only)" },
  { name: "check-cache-maintenance", type: "boolean", group: "Debug options:", describe: "Model the data and instruction caches and report accesses that would see stale data for want of a clean, invalidate or ISB (interpreter only; lkvm only)" },
  { name: "jit-threshold", type: "string", group: "Debug options:", arg: "n", describe: "Times a block start is interpreted before it is translated (0: at once)" },

  // ARM options
  { name: "dump-dtb", type: "string", group: "ARM options:", arg: "file", describe: "Write the generated device tree blob to a file" },
  { name: "irqchip", type: "string", group: "ARM options:", arg: "auto|gicv2|gicv2m|gicv3|gicv3-its", describe: "Interrupt controller to emulate: gicv3; gicv3-its (gicv3 with an ITS and LPIs: MSI-X for PCI devices); gicv2 (memory-mapped CPU interface, at most 8 vCPUs); gicv2m (gicv2 with an MSI frame, which keeps 64 SPIs). Default auto: kvmtool's pick, in lkvm gicv3 for now" },
  { name: "firmware-address", type: "string", group: "ARM options:", arg: "addr", describe: "Load address for --firmware (default: the RAM base)" },
  { name: "kaslr-seed", type: "string", group: "ARM options:", arg: "u64", describe: "Value for /chosen/kaslr-seed (default 0)" },
  { name: "override-bad-firmware-cntfrq", type: "string", group: "ARM options:", arg: "Hz", describe: "Add clock-frequency to the timer node", unsupported: `--override-bad-firmware-cntfrq ${notYet}` },
  { name: "aarch32", type: "boolean", group: "ARM options:", describe: "Run the guest in AArch32 mode", unsupported: "--aarch32 is not supported: the core implements AArch64 only" },
  { name: "pmu", type: "boolean", group: "ARM options:", describe: "Create a PMUv3 device: 6 event counters and the cycle counter per vCPU, overflow interrupt on PPI 23, a /pmu DT node" },
  { name: "cpu-features", type: "string", group: "ARM options:", arg: "+feat,-feat", describe: "Optional CPU features on top of the Cortex-A57 model: ls64 (LD64B/ST64B), ls64_v (+ST64BV), ls64_accdata (+ST64BV0, ACCDATA_EL1) (lkvm only)" },
  { name: "ls64-work-queue", type: "boolean", group: "ARM options:", describe: "Add a work-queue device at 0x1030000 whose portal takes 64-byte ST64B/ST64BV/ST64BV0 descriptors (lkvm only)" },
  { name: "disable-mte", type: "boolean", group: "ARM options:", describe: "Disable MTE (never enabled by lkvm)" },
  { name: "vcpu-affinity", type: "string", group: "ARM options:", arg: "cpulist", describe: "Pin vCPU threads", unsupported: "--vcpu-affinity does not apply: vCPUs share one thread" },
  { name: "no-pvtime", type: "boolean", group: "ARM options:", describe: "Disable stolen time (never enabled by lkvm)" },
  { name: "sve-max-vl", type: "string", group: "ARM options:", arg: "bits", describe: "Largest SVE vector length", unsupported: "--sve-max-vl is not supported: the core has no SVE" },
  { name: "force-pci", type: "boolean", group: "ARM options:", describe: "Deprecated: same as --virtio-transport=pci" },
  { name: "virtio-legacy", type: "boolean", group: "ARM options:", describe: "Deprecated: same as --virtio-transport=pci-legacy" },
  { name: "vfio-pci", type: "string", group: "Basic options:", arg: "[domain:]bus:dev.fn", describe: "Assign a PCI device to the virtual machine", unsupported: "--vfio-pci does not apply: lkvm cannot pass host devices through" },
];
