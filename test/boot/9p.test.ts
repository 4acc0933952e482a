// virtio-9p from Debian's kernel: the initramfs loads 9pnet_virtio and 9p, the guest mounts
// the share by its tag, and files made on either side are seen on the other with the same
// bytes, modes and sizes; `cp -r` of a tree in the guest gives the same tree on the host.

import { createHash, randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { BOOT_MS, IMAGE, INITRD, PROMPT, run } from "../support/debian-guest.ts";


const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

/** Every file below `dir`: relative path → [mode, size, md5]. */
function snapshot(dir: string, out = new Map<string, string>(), root = dir): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const st = statSync(p);
    if (e.isDirectory()) {
      out.set(relative(root, p) + "/", (st.mode & 0o7777).toString(8));
      snapshot(p, out, root);
    } else out.set(relative(root, p), `${(st.mode & 0o7777).toString(8)} ${st.size} ${md5(readFileSync(p))}`);
  }
  return out;
}

describe("virtio-9p from Debian's kernel", () => {
  it("shares a directory both ways, with the same bytes, modes and sizes; cp -r copies a tree intact", async () => {
    if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
    const dir = mkdtempSync(join(tmpdir(), "lkvm-9p-"));
    const hostText = "made on the host\n";
    writeFileSync(join(dir, "host.txt"), hostText);
    chmodSync(join(dir, "host.txt"), 0o640);
    // A tree of a few MiB: files of odd sizes, nested directories, one of them empty.
    const tree = join(dir, "tree");
    for (const sub of ["a", "a/b", "a/b/c", "empty"]) mkdirSync(join(tree, sub), { recursive: true });
    const sizes = [0, 1, 4095, 4096, 4097, 65_537, 1_000_003, 2_500_000];
    sizes.forEach((n, i) => writeFileSync(join(tree, ["", "a", "a/b", "a/b/c"][i % 4]!, `f${i}`), randomBytes(n)));
    chmodSync(join(tree, "a/f1"), 0o755);

    const roDir = mkdtempSync(join(tmpdir(), "lkvm-9p-ro-"));
    writeFileSync(join(roDir, "keep.txt"), "read-only\n");

    const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "1", "-p", "quiet", "--9p", `${dir},share`, "--9p", `${roDir},ro_share,ro`]);
    try {
      await s.waitFor(/lkvm: Linux \S+ is up/, BOOT_MS);
      await s.waitFor(PROMPT, 60_000);
      await run(s, "mkdir -p /mnt && mount -t 9p -o trans=virtio,version=9p2000.L share /mnt; echo mount-status-$?", /mount-status-0/);

      // The host's file, as the guest sees it.
      await run(s, "cat /mnt/host.txt", /made on the host/);
      await run(s, "stat -c '%a %s' /mnt/host.txt", new RegExp(`\\n640 ${hostText.length}\\r?\\n`));

      // Files the guest makes: text, a mode, 1 MiB of random bytes whose md5 the guest prints.
      await run(s, "echo made in the guest > /mnt/guest.txt && chmod 604 /mnt/guest.txt; echo status-$?", /status-0/);
      await run(s, "dd if=/dev/urandom of=/mnt/random.bin bs=4096 count=256 2>/dev/null; echo status-$?", /status-0/);
      const guestMd5 = (await run(s, "md5sum /mnt/random.bin", /\n([0-9a-f]{32}) {2}\/mnt\/random\.bin/))[1]!;
      await run(s, "mkdir -m 750 /mnt/gdir && ln -s ../guest.txt /mnt/gdir/link && ln /mnt/guest.txt /mnt/hard; echo status-$?", /status-0/);

      // cp -r of the tree, and the guest's view of a file's checksum.
      await run(s, "cp -r /mnt/tree /mnt/copy; echo status-$?", /status-0/, 120_000);
      const f7 = readFileSync(join(tree, "a/b/c/f7"));
      await run(s, "md5sum /mnt/tree/a/b/c/f7", new RegExp(`\\n${md5(f7)}  /mnt/tree/a/b/c/f7`));
      await run(s, "sync; echo synced", /synced/);

      // Seen on the host while the guest runs.
      expect(readFileSync(join(dir, "guest.txt"), "utf8")).toBe("made in the guest\n");
      expect(statSync(join(dir, "guest.txt")).mode & 0o777).toBe(0o604);
      expect(md5(readFileSync(join(dir, "random.bin")))).toBe(guestMd5);
      expect(statSync(join(dir, "random.bin")).size).toBe(1024 * 1024);
      expect(statSync(join(dir, "gdir")).mode & 0o777).toBe(0o750);
      expect(readlinkSync(join(dir, "gdir/link"))).toBe("../guest.txt");
      expect(readFileSync(join(dir, "gdir/link"), "utf8")).toBe("made in the guest\n");
      expect(statSync(join(dir, "hard")).ino).toBe(statSync(join(dir, "guest.txt")).ino);
      const want = snapshot(tree);
      const got = snapshot(join(dir, "copy"));
      // cp -r without -p gives new files the umask's modes; bytes and sizes must match.
      const strip = (m: Map<string, string>) => [...m].map(([k, v]) => [k, v.split(" ").slice(1).join(" ")]);
      expect(strip(got)).toEqual(strip(want));

      // A file the host makes after the mount, and a host change to the guest's file.
      writeFileSync(join(dir, "later.txt"), "host wrote this later\n");
      chmodSync(join(dir, "later.txt"), 0o600);
      await run(s, "cat /mnt/later.txt; stat -c '%a %s' /mnt/later.txt", /host wrote this later\r?\n600 22\r?\n/);
      // Renames and removals from the guest.
      await run(s, "mv /mnt/later.txt /mnt/gdir/moved.txt && rm /mnt/hard && rmdir /mnt/copy/empty; echo status-$?", /status-0/);
      expect(existsSync(join(dir, "later.txt"))).toBe(false);
      expect(readFileSync(join(dir, "gdir/moved.txt"), "utf8")).toBe("host wrote this later\n");
      expect(existsSync(join(dir, "hard"))).toBe(false);
      expect(existsSync(join(dir, "copy/empty"))).toBe(false);
      await run(s, "df /mnt | tail -1", /share\s+\d+/);

      // Refused from the guest: a device node in the share, and any change to a ,ro share.
      await run(s, "mknod /mnt/null c 1 3; echo status-$?", /Operation not permitted[\s\S]*status-1/);
      expect(existsSync(join(dir, "null"))).toBe(false);
      await run(s, "mkdir -p /ro && mount -t 9p -o trans=virtio,version=9p2000.L ro_share /ro; cat /ro/keep.txt", /\nread-only\r?\n/);
      await run(s, "echo x > /ro/new.txt; echo x >> /ro/keep.txt; rm /ro/keep.txt; echo done", /Read-only file system[\s\S]*done/);
      expect(readdirSync(roDir)).toEqual(["keep.txt"]);
      expect(readFileSync(join(roDir, "keep.txt"), "utf8")).toBe("read-only\n");

      await run(s, "umount /mnt; echo status-$?", /status-0/);
      s.send("poweroff -f\n");
      const exit = await s.exited(60_000);
      expect(exit.code).toBe(0);
      expect(exit.output).not.toMatch(/not initialized by the guest/);
    } finally {
      s.kill();
    }
  }, BOOT_MS + 400_000);

  it("-d DIR boots the directory as the root over 9p (tag /dev/root), and the guest's writes land in it", async () => {
    if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
    // A minimal root: busybox and an init that reports what it sees and writes a file.
    const root = mkdtempSync(join(tmpdir(), "lkvm-9p-root-"));
    for (const d of ["bin", "sbin", "proc"]) mkdirSync(join(root, d));
    copyFileSync("cache/guest/busybox", join(root, "bin/busybox"));
    chmodSync(join(root, "bin/busybox"), 0o755);
    writeFileSync(join(root, "sbin/init"), [
      "#!/bin/busybox sh",
      "bb=/bin/busybox",
      "$bb mount -t proc proc /proc",
      "$bb echo \"root-is: $($bb grep ' / ' /proc/mounts)\"",
      "$bb echo \"cmdline: $($bb cat /proc/cmdline)\"",
      "$bb echo written-from-the-9p-root > /from-guest",
      "$bb sync",
      "$bb poweroff -f",
      "",
    ].join("\n"));
    chmodSync(join(root, "sbin/init"), 0o755);

    const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "1", "-p", "quiet", "-d", root]);
    try {
      // Up to the dump and pass fields: the console may deliver the line in pieces.
      const m = await s.waitFor(/root-is: (\S+) \/ (\S+) (\S+) \d+ \d+/, BOOT_MS);
      expect([m[1], m[2]]).toEqual(["/dev/root", "9p"]);
      expect(m[3]).toMatch(/(^|,)rw(,|$)/);
      expect(m[3]).toMatch(/trans=virtio/);
      const exit = await s.exited(60_000);
      expect(exit.code).toBe(0);
      expect(exit.output).toMatch(/cmdline: .*root=\/dev\/root rw rootflags=trans=virtio,version=9p2000.L,cache=loose rootfstype=9p/);
    } finally {
      s.kill();
    }
    expect(readFileSync(join(root, "from-guest"), "utf8")).toBe("written-from-the-9p-root\n");
  }, BOOT_MS + 120_000);
});
