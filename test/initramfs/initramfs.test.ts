import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCpio, type CpioRecord } from "../../src/lib/initramfs/cpio.ts";
import { buildInitramfs, DEFAULT_MODULES, MODULE_LIST } from "../../src/lib/initramfs/initramfs.ts";
import { hasTool } from "../support/tools.ts";

// `make test` runs `make guest` first, so the real Debian guest is expected here.
const GUEST = join(import.meta.dirname, "../../cache/guest");
const BUSYBOX = join(GUEST, "busybox");
const MODULES = join(GUEST, "modules");

function requireGuest(): void {
  for (const p of [BUSYBOX, MODULES, join(GUEST, "kernel-version")]) {
    if (!existsSync(p)) throw new Error(`${p} is missing: run \`make guest\` (tools/fetch-guest.sh cache/guest) first`);
  }
}

const text = (r: CpioRecord | undefined) => Buffer.from(r!.data).toString("utf8");

describe("default initramfs from cache/guest", () => {
  let byPath: Map<string, CpioRecord>;
  let records: CpioRecord[];
  let kver: string;
  let built: ReturnType<typeof buildInitramfs>;

  beforeAll(() => {
    requireGuest();
    kver = readFileSync(join(GUEST, "kernel-version"), "utf8").trim();
    built = buildInitramfs({ busyboxPath: BUSYBOX, modulesDir: MODULES });
    records = readCpio(built.cpioGz());
    byPath = new Map(records.map((r) => [r.path, r]));
  });

  it("has an executable /init that mounts, loads modules, greets and powers off", () => {
    const init = byPath.get("init")!;
    expect(init.type).toBe("file");
    expect(init.mode).toBe(0o755);
    const s = text(init);
    expect(s.startsWith("#!/bin/busybox sh\n")).toBe(true);
    for (const fs of ["proc", "sysfs", "devtmpfs"]) expect(s).toMatch(new RegExp(`mount -t ${fs} `));
    expect(s).toContain(`/${MODULE_LIST}`);
    expect(s).toMatch(/echo "lkvm: .*\$kver/);
    expect(s).toContain("setsid cttyhack sh");
    expect(s.trimEnd().endsWith("poweroff -f")).toBe(true);
  });

  it("carries the cache's busybox byte for byte, and its applet links", () => {
    const bb = byPath.get("bin/busybox")!;
    expect(bb.mode).toBe(0o755);
    expect(Buffer.from(bb.data).equals(readFileSync(BUSYBOX))).toBe(true);
    for (const applet of ["bin/sh", "bin/mount", "sbin/insmod", "sbin/poweroff", "bin/cttyhack", "usr/bin/setsid"]) {
      expect(byPath.get(applet), applet).toMatchObject({ type: "symlink", target: "/bin/busybox" });
    }
    expect(built.applets).toBeGreaterThan(100);
  });

  it("lists every directory before its contents", () => {
    const seen = new Set<string>();
    for (const r of records) {
      const parent = r.path.includes("/") ? r.path.slice(0, r.path.lastIndexOf("/")) : null;
      if (parent) expect(seen.has(parent), `${r.path} before ${parent}`).toBe(true);
      seen.add(r.path);
    }
    for (const d of ["dev", "proc", "sys", "tmp", "etc", "root", `lib/modules/${kver}`]) {
      expect(byPath.get(d)?.type, d).toBe("dir");
    }
    expect(byPath.get("tmp")!.mode).toBe(0o1777);
    expect(byPath.get("dev/console")).toMatchObject({ type: "char", rdevMajor: 5, rdevMinor: 1 });
  });

  it("includes the virtio and 9p modules with their dependencies first", () => {
    expect(built.kernelVersion).toBe(kver);
    expect(built.missing).toEqual([]);
    const order = text(byPath.get(MODULE_LIST)).trim().split("\n");
    expect(order).toEqual(built.modules);
    const names = order.map((p) => p.split("/").pop()!.replace(/\.ko$/, "").replace(/-/g, "_"));
    for (const m of DEFAULT_MODULES) expect(names.includes(m) || built.builtin.includes(m), m).toBe(true);
    const before = (a: string, b: string) => expect(names.indexOf(a), `${a} before ${b}`).toBeLessThan(names.indexOf(b));
    before("failover", "net_failover");
    before("net_failover", "virtio_net");
    before("9pnet", "9pnet_virtio");
    before("9pnet", "9p");
    for (const p of order) {
      const ko = byPath.get(`lib/modules/${kver}/${p}`);
      expect(ko?.type, p).toBe("file");
      expect(Buffer.from(ko!.data.subarray(0, 4)).toString("latin1")).toBe("\x7fELF");
    }
    expect(text(byPath.get(`lib/modules/${kver}/modules.dep`))).toMatch(/virtio_net\.ko: .*net_failover\.ko/);
  });

  it.skipIf(!hasTool("qemu-aarch64"))("writes a shell script busybox itself accepts (needs qemu-aarch64: make deps)", () => {
    const dir = mkdtempSync(join(tmpdir(), "lkvm-init-"));
    try {
      writeFileSync(join(dir, "init"), byPath.get("init")!.data);
      execFileSync("qemu-aarch64", [BUSYBOX, "sh", "-n", join(dir, "init")], { stdio: "pipe" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is reproducible", () => {
    const again = buildInitramfs({ busyboxPath: BUSYBOX, modulesDir: MODULES });
    expect(Buffer.from(again.cpio()).equals(Buffer.from(built.cpio()))).toBe(true);
  });
});

describe("test-variant initramfs", () => {
  beforeAll(requireGuest);

  it("takes a custom /init and extra files, replacing defaults", () => {
    const init = "#!/bin/busybox sh\necho variant\n/bin/busybox poweroff -f\n";
    const ramfs = buildInitramfs({
      busyboxPath: BUSYBOX,
      init,
      applets: null,
      extraFiles: [
        { path: "/opt/test/data.bin", data: new Uint8Array([1, 2, 3]), mode: 0o600 },
        { path: "etc/profile", data: "PS1='t# '\n" },
      ],
    });
    const recs = readCpio(ramfs.cpio());
    const by = new Map(recs.map((r) => [r.path, r]));
    expect(text(by.get("init"))).toBe(init);
    expect(by.get("opt")?.type).toBe("dir");
    expect(by.get("opt/test")?.type).toBe("dir");
    expect(by.get("opt/test/data.bin")).toMatchObject({ type: "file", mode: 0o600 });
    expect([...by.get("opt/test/data.bin")!.data]).toEqual([1, 2, 3]);
    expect(text(by.get("etc/profile"))).toBe("PS1='t# '\n");
    // No applet links and no modules: /init's `busybox --install -s` is the fallback.
    expect(ramfs.applets).toBe(0);
    expect(by.has("bin/sh")).toBe(false);
    expect(by.has(MODULE_LIST)).toBe(false);
    expect(by.get("bin/busybox")?.type).toBe("file");
  });
});
