import { spawnSync } from "node:child_process";
import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function lkvm(...args: string[]) {
  return lkvmWith({}, ...args);
}

function lkvmWith(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync("bin/lkvm", args, { encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "lkvm-cli-"));
const image = join(dir, "Image");
writeFileSync(image, new Uint8Array(4096));

/** A user error is exactly one line on stderr, no stack trace, and a non-zero exit. */
function expectOneLineError(r: ReturnType<typeof lkvm>, pattern: RegExp) {
  expect(r.status).not.toBe(0);
  // (The run banner comes first when the error is found after the options were accepted.)
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("  Info: # lkvm run"));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^lkvm: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("lkvm CLI", () => {
  it("--help lists the run command, in the words kvm-unit-tests probes for", () => {
    const r = lkvm("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/The most commonly used lkvm commands are:/);
    expect(r.stdout).toMatch(/lkvm run/);
  });

  it("run --help shows kvmtool's option groups and options", () => {
    const r = lkvm("run", "--help");
    expect(r.status).toBe(0);
    for (const s of ["Basic options:", "Kernel options:", "Debug options:", "ARM options:", "--kernel", "--initrd", "--params", "--mem", "--cpus", "--dump-dtb", "--debug-mmio"]) {
      expect(r.stdout).toContain(s);
    }
    // --pmu is supported: described, not marked "(not supported yet)".
    expect(r.stdout).toMatch(/--pmu\s+Create a PMUv3 device: 6 event counters and the cycle counter\s+per vCPU, overflow interrupt on PPI 23/);
  });

  it("version prints the package version", () => {
    const r = lkvm("version");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^lkvm version \d+\.\d+\.\d+\n$/);
  });

  it("a kernel or initrd it cannot open: kvmtool's die() line, status 128", () => {
    const missing = join(dir, "missing");
    for (const [args, line] of [
      [["-k", missing], `  Fatal: Unable to open kernel ${missing}`],
      [["-k", dir], `  Fatal: Unable to open kernel ${dir}`],
      [["-k", image, "-i", missing], `  Fatal: Unable to open initrd ${missing}`],
    ] as const) {
      const r = lkvm("run", ...args);
      expect(r.status).toBe(128);
      expect(r.stderr.split("\n").filter((l) => l && !l.startsWith("  Info: # lkvm run"))).toEqual([line]);
    }
  });

  it("checks every option before opening the kernel: a probe gets the option's answer", () => {
    const missing = join(dir, "missing");
    expectOneLineError(lkvm("run", "-k", missing, "--irqchip", "gicv4"), /invalid irqchip 'gicv4'/);
    expectOneLineError(lkvm("run", "-k", missing, "--irqchip", "gicv2", "-c", "9"), /--irqchip gicv2 supports at most 8 vCPUs/);
    expectOneLineError(lkvm("run", "-k", missing, "-m", "64G"), /more than lkvm can give a guest/);
    expectOneLineError(lkvm("run", "-k", missing, "-c", "0"), /invalid number of vCPUs/);
    expectOneLineError(lkvm("run", "-k", missing, "--console", "hv"), /--console hv is a PowerPC console; arm64 has none/);
    expectOneLineError(lkvm("run", "-k", missing, "-d", join(dir, "missing.img")), /cannot open disk image/);
  });

  it("bare lkvm prints the help and exits 0; --version is the version command", () => {
    const bare = spawnSync("bin/lkvm", [], { encoding: "utf8" });
    expect(bare.status).toBe(0);
    expect(bare.stdout).toMatch(/The most commonly used lkvm commands are:/);
    const v = spawnSync("bin/lkvm", ["--version"], { encoding: "utf8" });
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^lkvm version \d+\.\d+\.\d+\n$/);
  });

  it("prints kvmtool's Info lines: the run banner and the normal end", () => {
    // -n mode=none, as kvm-unit-tests passes: the bare-metal guest never drives the default NIC.
    const r = spawnSync("bin/lkvm", ["run", "-k", "build/guests/hello.bin", "--nodefaults", "-n", "mode=none", "-m", "64", "-c", "1", "--name", "banner"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr.split("\n").filter((l) => l)).toEqual([
      "  Info: # lkvm run -k build/guests/hello.bin -m 64 -c 1 --name banner",
      "  Info: KVM session ended normally.",
    ]);
  });

  it("gives kvmtool's hint for the implicit NIC when the guest never set it up", () => {
    const r = spawnSync("bin/lkvm", ["run", "-k", "build/guests/hello.bin", "-m", "64", "-c", "1"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/virtio-net: not initialized by the guest; is CONFIG_VIRTIO_NET .* enabled/);
  });

  it("refuses a run with no kernel at all", () => {
    expectOneLineError(lkvm("run"), /no kernel given/);
  });

  it("refuses images that do not fit, before reading them into guest RAM: one line each", () => {
    // Sparse files: their size is what counts, and nothing of them is read.
    const bigKernel = join(dir, "big-kernel");
    const bigInitrd = join(dir, "big-initrd");
    writeFileSync(bigKernel, "");
    truncateSync(bigKernel, 300 * 1024 * 1024);
    writeFileSync(bigInitrd, "");
    truncateSync(bigInitrd, 600 * 1024 * 1024);
    expectOneLineError(lkvm("run", "-k", bigKernel, "-m", "512"), /kernel image too big: 314572800 bytes do not fit in the first 256 MiB/);
    expectOneLineError(lkvm("run", "-k", image, "-i", bigInitrd, "-m", "512"), /not enough RAM: the initrd would overlap the kernel image/);
    expectOneLineError(lkvm("run", "-f", bigInitrd, "-m", "512"), /firmware image too big/);
  });

  it("refuses --kernel together with --firmware, as kvmtool does", () => {
    expectOneLineError(lkvm("run", "-k", image, "-f", image), /only one of --kernel or --firmware/);
  });

  it("refuses impossible and malformed memory sizes", () => {
    expectOneLineError(lkvm("run", "-k", image, "-m", "64G"), /more than lkvm can give a guest/);
    expectOneLineError(lkvm("run", "-k", image, "-m", "lots"), /invalid memory size/);
    expectOneLineError(lkvm("run", "-k", image, "-m", "256@1G"), /below 2G/);
  });

  it("refuses an unsupported option instead of ignoring it", () => {
    expectOneLineError(lkvm("run", "-k", image, "--vsock", "3"), /--vsock is not supported/);
    expectOneLineError(lkvm("run", "-k", image, "--irqchip", "gicv4"), /invalid irqchip 'gicv4': expected auto, gicv2, gicv2m, gicv3, gicv3-its/);
    expectOneLineError(lkvm("run", "-k", image, "--vfio-pci", "0000:01:00.0"), /--vfio-pci does not apply/);
  });

  it("refuses -n options it cannot honour, each in one line: tap (no ioctl from Node), a bad key, a bad hostfwd, two user NICs", () => {
    expectOneLineError(lkvm("run", "-k", image, "-n", "mode=tap"), /tap networking needs the TUNSETIFF ioctl on \/dev\/net\/tun, which lkvm cannot open without native code/);
    expectOneLineError(lkvm("run", "-k", image, "-n", "tapif=tap0"), /tap networking needs/);
    expectOneLineError(lkvm("run", "-k", image, "-n", "mode=user,colour=blue"), /unknown network parameter 'colour'/);
    expectOneLineError(lkvm("run", "-k", image, "-n", "hostfwd=tcp:127.0.0.1:22"), /invalid hostfwd/);
    expectOneLineError(lkvm("run", "-k", image, "-n", "mode=user", "-n", "mode=user"), /only one user-mode network device/);
  });

  it("refuses disks it cannot use: a ~/.lkvm rootfs name, two root directories, a missing image, ,direct, a fifth disk", () => {
    expectOneLineError(lkvm("run", "-k", image, "-d", "no-such-rootfs-name-" + process.pid), /cannot open disk image/);
    expectOneLineError(lkvm("run", "-k", image, "-d", dir, "-d", dir), /only one can be the root/);
    expectOneLineError(lkvm("run", "-k", image, "-d", `${dir},ro`), /a root directory takes no options/);
    expectOneLineError(lkvm("run", "-k", image, "-d", join(dir, "missing.img")), /cannot open disk image .*no such file/);
    expectOneLineError(lkvm("run", "-k", image, "-d", `${image},direct`), /,direct .* not supported/);
    expectOneLineError(lkvm("run", "-k", image, "-d", `${image},rw`), /invalid disk option 'rw'/);
    const five = Array.from({ length: 5 }, () => ["-d", `${image},ro`]).flat();
    expectOneLineError(lkvm("run", "-k", image, ...five), /at most 4/);
  });

  it("refuses --9p shares it cannot make: a missing or non-directory path, a bad or repeated tag", () => {
    expectOneLineError(lkvm("run", "-k", image, "--9p", join(dir, "missing")), /cannot share .* no such directory/);
    expectOneLineError(lkvm("run", "-k", image, "--9p", image), /cannot share .* not a directory/);
    expectOneLineError(lkvm("run", "-k", image, "--9p", `${dir},${"t".repeat(33)}`), /invalid --9p tag .* 1 to 32/);
    expectOneLineError(lkvm("run", "-k", image, "--9p", `${dir},`), /invalid --9p tag/);
    expectOneLineError(lkvm("run", "-k", image, "--9p", `${dir},a,b`), /expected dir\[,tag\]\[,ro\]/);
    expectOneLineError(lkvm("run", "-k", image, "--9p", dir, "--9p", `${dir},kvm_9p,ro`), /tag 'kvm_9p' is given twice/);
    expectOneLineError(lkvm("run", "-k", image, "-d", dir, "--9p", `${dir},/dev/root`), /tag '\/dev\/root' is given twice/);
  });

  it("refuses a virtio transport kvmtool does not have, naming the four it does", () => {
    expectOneLineError(lkvm("run", "-k", image, "--virtio-transport", "virtio-ccw"), /invalid virtio transport 'virtio-ccw': expected pci, pci-legacy, mmio, mmio-legacy/);
  });

  it("--trace-mmio logs every access: the UART writes spell what the guest printed", () => {
    const r = spawnSync("bin/lkvm", ["run", "-k", "build/guests/hello.bin", "--nodefaults", "-m", "64", "-c", "1", "--trace-mmio"], { encoding: "latin1" });
    expect(r.status).toBe(0);
    const thr = [...r.stderr.matchAll(/^mmio vcpu0 W1 0x1000000 = 0x([0-9a-f]{2}) serial8250@0x1000000$/gm)];
    const text = String.fromCharCode(...thr.map((m) => parseInt(m[1]!, 16)));
    expect(text).toBe(r.stdout);
    expect(text).toMatch(/^hello from a bare-metal guest/);
    // The guest waits for THRE before each byte: a read of LSR (offset 5) precedes every write.
    expect(r.stderr).toMatch(/^mmio vcpu0 R1 0x1000005 = 0x60 serial8250@0x1000000$/m);
  });

  it("LKVM_JIT=0 makes runs interpret unless --jit is given; LKVM_JIT=1 translates; other values are one error line", () => {
    const hello = ["run", "-k", "build/guests/hello.bin", "--nodefaults", "-m", "64", "-c", "1", "--debug-jit"];
    const off = lkvmWith({ LKVM_JIT: "0" }, ...hello);
    expect(off.status, off.stderr).toBe(0);
    expect(off.stdout).toMatch(/hello from a bare-metal guest/);
    expect(off.stderr).toMatch(/# JIT: off \(--no-jit, or LKVM_JIT=0\)/);
    for (const [env, extra] of [[{ LKVM_JIT: "0" }, ["--jit"]], [{ LKVM_JIT: "1" }, []]] as const) {
      const on = lkvmWith(env, ...hello, ...extra);
      expect(on.status, on.stderr).toBe(0);
      expect(on.stderr).toMatch(/# JIT: \d+ modules/);
    }
    expectOneLineError(lkvmWith({ LKVM_JIT: "maybe" }, ...hello), /LKVM_JIT='maybe'.*expected 0 .* or 1/);
  });

  it("refuses an unknown option", () => {
    expectOneLineError(lkvm("run", "-k", image, "--frobnicate"), /frobnicate/);
  });
});
