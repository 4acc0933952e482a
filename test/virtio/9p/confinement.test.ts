// Confinement: nothing outside the shared directory is reachable. Each case is an attack a
// guest could try; each test fails if the host file beside the share ("outside/secret") is
// read, written or linked, or if a host device is opened.

import { execFileSync } from "node:child_process";
import {
  existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Share } from "../../../virtio/9p/share.ts";
import { hasTool } from "../../support/tools.ts";
import {
  EINVAL, ELOOP, ENAMETOOLONG, ENOENT, EPERM, EROFS, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, ROOT, p9Rig,
} from "./rig.ts";

const S_IFCHR = 0o020000, S_IFBLK = 0o060000, S_IFREG = 0o100000;
const SECRET = "host secret\n";

describe("9p confinement", () => {
  it("'..' at the root stays at the root", () => {
    const { client, dir } = p9Rig();
    const up = client.walk(ROOT, 1, ["..", "..", ".."]);
    expect(up.map((q) => q.path)).toEqual(Array(3).fill(BigInt(statSync(dir).ino)));
    // From the root, '../outside' is the share's own 'outside', which does not exist: the walk
    // stops after '..' and binds nothing.
    expect(client.walk(ROOT, 2, ["..", "outside", "secret"])).toHaveLength(1);
    expect(client.errno(() => client.getattr(2))).toBe(9);
    expect(client.errno(() => client.walk(ROOT, 2, ["outside"]))).toBe(ENOENT);
    mkdirSync(join(dir, "sub"));
    expect(client.walk(ROOT, 3, ["sub", "..", "..", ".."]).at(-1)!.path).toBe(BigInt(statSync(dir).ino));
  });

  for (const [kind, target] of [["absolute", (o: string) => o], ["relative", () => "../outside"]] as const) {
    it(`an ${kind} symlink out of the share is never followed by the host`, () => {
      const { client, dir, outside, log } = p9Rig();
      symlinkSync(target(outside), join(dir, "out"));
      symlinkSync(target(outside) + "/secret", join(dir, "file-out"));
      // Walking through it is refused; walking *to* it gives the link itself.
      // (A walk that fails after its first name stops there and binds nothing.)
      expect(client.walk(ROOT, 1, ["out", "secret"])).toHaveLength(1);
      expect(client.errno(() => client.getattr(1))).toBe(9);
      client.walk(ROOT, 1, ["out"]);
      expect(client.errno(() => client.walk(1, 4, ["secret"]))).toBe(ELOOP);
      const [q] = client.walk(ROOT, 2, ["file-out"]);
      expect(q!.type).toBe(0x02);
      expect(client.getattr(2).size).toBe(BigInt(lstatSync(join(dir, "file-out")).size)); // the link's, not the secret's
      expect(client.readlink(2)).toBe(target(outside) + "/secret"); // text only: the guest resolves it in its own tree
      // Opening it fails (O_NOFOLLOW), for reading and for writing.
      expect(client.errno(() => client.lopen(2, O_RDONLY))).toBe(ELOOP);
      expect(client.errno(() => client.lopen(2, O_WRONLY | O_TRUNC))).toBe(ELOOP);
      // Creating, making and removing things inside the linked directory are refused.
      client.walk(ROOT, 3, ["out"]);
      expect(client.errno(() => client.lcreate(3, "planted", O_RDWR, 0o644))).toBe(ELOOP);
      expect(client.errno(() => client.mkdir(3, "planted-dir", 0o755))).toBe(ELOOP);
      expect(client.errno(() => client.symlink(3, "planted-link", "x"))).toBe(ELOOP);
      expect(client.errno(() => client.unlinkat(3, "secret"))).toBe(ELOOP);
      expect(client.errno(() => client.renameat(3, "secret", ROOT, "stolen"))).toBe(ELOOP);
      expect(client.errno(() => client.renameat(ROOT, "file-out", 3, "x"))).toBe(ELOOP);
      expect(client.errno(() => client.lopen(3, O_RDONLY))).toBe(ELOOP);
      // Setting a size or mode on the link does not reach its target.
      client.setattr(2, { valid: 32 | 256, mtime: [1, 0] }); // times: lutimes, the link's own
      expect(client.errno(() => client.setattr(2, { valid: 8, size: 0 }))).toBe(EINVAL);
      expect(client.errno(() => client.setattr(2, { valid: 1, mode: 0o777 }))).not.toBe(0);
      // A hard link to the symlink is a second symlink, not a link to the secret.
      client.link(ROOT, 2, "hard");
      expect(lstatSync(join(dir, "hard")).isSymbolicLink()).toBe(true);

      expect(readdirSync(outside)).toEqual(["secret"]);
      expect(readFileSync(join(outside, "secret"), "utf8")).toBe(SECRET);
      expect(statSync(join(outside, "secret")).mode & 0o777).not.toBe(0o777);
      expect(log.join("\n")).toMatch(/refused/);
    });
  }

  it("a directory swapped for a symlink after the walk is caught at open (walk-to-open race)", () => {
    const { client, dir, outside } = p9Rig();
    mkdirSync(join(dir, "d"));
    writeFileSync(join(dir, "d/secret"), "inside\n");
    client.walk(ROOT, 1, ["d", "secret"]);
    client.walk(ROOT, 2, ["d"]);
    // The host side changes under the guest's fids: d now points out of the share.
    renameSync(join(dir, "d"), join(dir, "d-old"));
    symlinkSync(outside, join(dir, "d"));
    expect(client.errno(() => client.lopen(1, O_RDONLY))).toBe(ELOOP);
    expect(client.errno(() => client.lopen(1, O_WRONLY | O_TRUNC))).toBe(ELOOP);
    expect(client.errno(() => client.getattr(1))).toBe(ELOOP);
    expect(client.errno(() => client.lcreate(2, "planted", O_RDWR, 0o644))).toBe(ELOOP);
    expect(client.errno(() => client.unlinkat(2, "secret"))).toBe(ELOOP);
    expect(client.errno(() => client.setattr(1, { valid: 8, size: 0 }))).toBe(ELOOP);
    // A directory opened before the swap is not listed through the symlink either.
    mkdirSync(join(dir, "e"));
    client.walk(ROOT, 5, ["e"]);
    client.lopen(5, O_RDONLY);
    renameSync(join(dir, "e"), join(dir, "e-old"));
    symlinkSync(outside, join(dir, "e"));
    expect(client.errno(() => client.readdir(5, 0, 8192))).toBe(ELOOP);
    expect(readFileSync(join(outside, "secret"), "utf8")).toBe(SECRET);
    expect(readdirSync(outside)).toEqual(["secret"]);
  });

  it("the open re-checks its descriptor's path, should the directory checks be passed by", () => {
    // A share whose directory check always passes: only the /proc/self/fd check is left.
    class NoDirCheck extends Share {
      override realDir(): string {
        return this.root;
      }
    }
    const { client, dir, outside } = p9Rig({ share: (d, ro) => new NoDirCheck(d, ro) });
    mkdirSync(join(dir, "d"));
    writeFileSync(join(dir, "d/secret"), "inside\n");
    client.walk(ROOT, 1, ["d", "secret"]);
    rmSync(join(dir, "d"), { recursive: true });
    symlinkSync(outside, join(dir, "d"));
    expect(client.errno(() => client.lopen(1, O_RDONLY))).toBe(ELOOP);
    expect(client.errno(() => client.lopen(1, O_WRONLY | O_TRUNC))).toBe(ELOOP);
    expect(readFileSync(join(outside, "secret"), "utf8")).toBe(SECRET);
  });

  it("opens do not follow a last symlink even without the /proc/self/fd re-check (O_NOFOLLOW)", () => {
    class NoFdCheck extends Share {
      protected override get checksOpenedPaths(): boolean {
        return false;
      }
    }
    const { client, dir, outside } = p9Rig({ share: (d, ro) => new NoFdCheck(d, ro) });
    symlinkSync(join(outside, "secret"), join(dir, "file-out"));
    client.walk(ROOT, 1, ["file-out"]);
    client.walk(ROOT, 2, ["file-out"]);
    expect(client.errno(() => client.lopen(1, O_RDONLY))).toBe(ELOOP);
    expect(client.errno(() => client.lopen(2, O_WRONLY | O_TRUNC))).toBe(ELOOP);
    expect(readFileSync(join(outside, "secret"), "utf8")).toBe(SECRET);
  });

  it("hard links only join fids of the share: an unknown fid is refused", () => {
    const { client, dir } = p9Rig();
    expect(client.errno(() => client.link(ROOT, 77, "x"))).toBe(9);
    expect(existsSync(join(dir, "x"))).toBe(false);
  });

  it("names with '/', NUL, '.', '..' or over 255 bytes are refused", () => {
    const { client, dir, outside } = p9Rig();
    client.walk(ROOT, 1, []);
    for (const bad of ["../outside/secret", "a/b", "a\0b", ".", "..", ""]) {
      expect(client.errno(() => client.lcreate(1, bad, O_RDWR, 0o644))).toBe(EINVAL);
      expect(client.errno(() => client.mkdir(ROOT, bad, 0o755))).toBe(EINVAL);
    }
    expect(client.errno(() => client.walk(ROOT, 2, ["../outside"]))).toBe(EINVAL);
    expect(client.errno(() => client.renameat(ROOT, "x", ROOT, "../outside/secret"))).toBe(EINVAL);
    const long = "n".repeat(256);
    expect(client.errno(() => client.lcreate(1, long, O_RDWR, 0o644))).toBe(ENAMETOOLONG);
    expect(client.errno(() => client.mkdir(ROOT, long, 0o755))).toBe(ENAMETOOLONG);
    expect(client.errno(() => client.walk(ROOT, 2, [long]))).toBe(ENAMETOOLONG);
    expect(client.errno(() => client.symlink(ROOT, long, "x"))).toBe(ENAMETOOLONG);
    client.mkdir(ROOT, "n".repeat(255), 0o755); // 255 is allowed
    expect(readdirSync(dir)).toEqual(["n".repeat(255)]);
    expect(readdirSync(outside)).toEqual(["secret"]);
  });

  it("device nodes are never opened, and cannot be made (CVE-2023-2861)", () => {
    const { client, dir, log } = p9Rig();
    // A FIFO: opening it must neither block nor succeed.
    execFileSync("mkfifo", [join(dir, "fifo")]);
    client.walk(ROOT, 1, ["fifo"]);
    expect(client.errno(() => client.lopen(1, O_RDONLY))).toBe(EPERM);
    expect(client.errno(() => client.lopen(1, O_WRONLY))).toBe(EPERM);
    // A host device node in the share (made by root on the host): /dev/null's numbers.
    if (process.getuid?.() === 0 && hasTool("mknod")) {
      execFileSync("mknod", [join(dir, "null"), "c", "1", "3"]);
      client.walk(ROOT, 2, ["null"]);
      expect(client.errno(() => client.lopen(2, O_RDWR))).toBe(EPERM);
    }
    // The guest cannot make one: character or block, by any major/minor.
    expect(client.errno(() => client.mknod(ROOT, "mem", S_IFCHR | 0o666, 1, 1))).toBe(EPERM);
    expect(client.errno(() => client.mknod(ROOT, "sda", S_IFBLK | 0o666, 8, 0))).toBe(EPERM);
    expect(existsSync(join(dir, "mem")) || existsSync(join(dir, "sda"))).toBe(false);
    client.mknod(ROOT, "plain", S_IFREG | 0o644); // a regular file is fine
    expect(log.join("\n")).toMatch(/special file|device node/);
  });

  it("a read-only share refuses every change with EROFS and the host is untouched", () => {
    const { client, dir } = p9Rig({ readOnly: true });
    writeFileSync(join(dir, "f"), "original");
    mkdirSync(join(dir, "d"));
    client.walk(ROOT, 1, ["f"]);
    client.walk(ROOT, 2, ["f"]);
    client.walk(ROOT, 3, ["d"]);
    const attempts: [string, () => unknown][] = [
      ["lopen for writing", () => client.lopen(1, O_WRONLY)],
      ["lopen read-write", () => client.lopen(1, O_RDWR)],
      ["lopen truncating", () => client.lopen(1, O_RDONLY | O_TRUNC)],
      ["lcreate", () => client.lcreate(3, "new", O_RDWR, 0o644)],
      ["mkdir", () => client.mkdir(ROOT, "new", 0o755)],
      ["symlink", () => client.symlink(ROOT, "new", "f")],
      ["mknod", () => client.mknod(ROOT, "new", S_IFREG | 0o644)],
      ["link", () => client.link(ROOT, 1, "new")],
      ["rename", () => client.rename(1, ROOT, "new")],
      ["renameat", () => client.renameat(ROOT, "f", ROOT, "new")],
      ["unlinkat", () => client.unlinkat(ROOT, "f")],
      ["unlinkat dir", () => client.unlinkat(ROOT, "d", 0x200)],
      ["setattr mode", () => client.setattr(1, { valid: 1, mode: 0o777 })],
      ["setattr size", () => client.setattr(1, { valid: 8, size: 0 })],
      ["setattr times", () => client.setattr(1, { valid: 16 | 32 })],
      ["remove", () => client.remove(2)],
    ];
    for (const [what, attempt] of attempts) expect([what, client.errno(attempt)]).toEqual([what, EROFS]);
    // Reading still works, and a write through a read-only open is refused too.
    client.walk(ROOT, 4, ["f"]);
    client.lopen(4, O_RDONLY);
    expect(client.read(4, 0, 100).toString()).toBe("original");
    expect(client.errno(() => client.write(4, 0, Buffer.from("x")))).toBe(EROFS);
    expect(readdirSync(dir).sort()).toEqual(["d", "f"]);
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("original");
    expect(statSync(join(dir, "f")).mode & 0o777).not.toBe(0o777);
  });
});
