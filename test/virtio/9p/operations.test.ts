// Every 9P2000.L operation the server implements, against a temporary directory, checked on
// the host side with node:fs (and the guest side through the replies).

import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { T } from "../../support/p9-client.ts";
import {
  EBADF, EEXIST, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EOPNOTSUPP, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, ROOT, p9Rig,
} from "./rig.ts";

const QTDIR = 0x80, QTSYMLINK = 0x02;
const S_IFREG = 0o100000, S_IFDIR = 0o040000, S_IFLNK = 0o120000;

describe("9P2000.L operations", () => {
  it("version: takes the client's msize up to 512 KiB, and answers 'unknown' to other protocols", () => {
    const { client } = p9Rig();
    expect(client.version(8192)).toEqual({ msize: 8192, version: "9P2000.L" });
    expect(client.version(4 << 20)).toEqual({ msize: 512 * 1024, version: "9P2000.L" });
    expect(client.version(65536, "9P2000.u").version).toBe("unknown");
    // After an unknown version, nothing but Tversion is served.
    expect(client.errno(() => client.attach(1))).toBe(71);
  });

  it("attach gives the root's qid; walk with no names clones a fid; clunk forgets it", () => {
    const { client, dir } = p9Rig();
    const root = client.attach(9);
    expect(root.type).toBe(QTDIR);
    expect(root.path).toBe(BigInt(statSync(dir).ino));
    expect(client.walk(9, 10, [])).toEqual([]);
    expect(client.getattr(10).qid.path).toBe(root.path);
    client.clunk(10);
    expect(client.errno(() => client.getattr(10))).toBe(EBADF);
    expect(client.errno(() => client.clunk(10))).toBe(EBADF);
  });

  it("walk: qids of each step; a missing first name fails, a later one gives a partial walk", () => {
    const { client, dir } = p9Rig();
    mkdirSync(join(dir, "a/b"), { recursive: true });
    writeFileSync(join(dir, "a/b/f"), "x");
    const qids = client.walk(ROOT, 1, ["a", "b", "f"]);
    expect(qids.map((q) => q.type)).toEqual([QTDIR, QTDIR, 0]);
    expect(qids[2]!.path).toBe(BigInt(statSync(join(dir, "a/b/f")).ino));
    expect(client.errno(() => client.walk(ROOT, 2, ["nope"]))).toBe(ENOENT);
    expect(client.walk(ROOT, 2, ["a", "nope", "x"])).toHaveLength(1);
    expect(client.errno(() => client.getattr(2))).toBe(EBADF); // not bound by a partial walk
    expect(client.errno(() => client.walk(1, 3, ["f", "g"]))).toBe(ENOTDIR); // from a file
  });

  it("lcreate, write and read: the bytes and the mode land on the host", () => {
    const { client, dir } = p9Rig();
    client.walk(ROOT, 1, []);
    const qid = client.lcreate(1, "new.txt", O_RDWR, 0o640);
    expect(qid.type).toBe(0);
    const data = Buffer.from("hello, 9p world");
    expect(client.write(1, 0, data)).toBe(data.length);
    expect(client.write(1, 100, Buffer.from("!"))).toBe(1);
    expect(client.read(1, 0, 15).toString()).toBe("hello, 9p world");
    expect(client.read(1, 95, 100)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0x21]));
    expect(client.read(1, 1000, 10)).toHaveLength(0);
    client.fsync(1);
    const host = readFileSync(join(dir, "new.txt"));
    expect(host.subarray(0, 15).toString()).toBe("hello, 9p world");
    expect(host.length).toBe(101);
    expect(statSync(join(dir, "new.txt")).mode & 0o777).toBe(0o640 & ~process.umask());
    // lcreate of an existing name with O_EXCL fails, as open(2) does.
    client.walk(ROOT, 2, []);
    expect(client.errno(() => client.lcreate(2, "new.txt", O_RDWR | 0o200, 0o600))).toBe(EEXIST);
  });

  it("lopen: read-only, truncating, directories; read of a directory fid is EISDIR", () => {
    const { client, dir } = p9Rig();
    writeFileSync(join(dir, "f"), "0123456789");
    mkdirSync(join(dir, "d"));
    client.walk(ROOT, 1, ["f"]);
    client.lopen(1, O_RDONLY);
    expect(client.read(1, 2, 3).toString()).toBe("234");
    expect(client.errno(() => client.lopen(1, O_RDONLY))).toBe(EBADF); // already open
    client.walk(ROOT, 2, ["f"]);
    client.lopen(2, O_WRONLY | O_TRUNC);
    expect(statSync(join(dir, "f")).size).toBe(0);
    client.walk(ROOT, 3, ["d"]);
    expect(client.errno(() => client.lopen(3, O_WRONLY))).toBe(EISDIR);
    client.lopen(3, O_RDONLY | O_DIRECTORY);
    expect(client.errno(() => client.read(3, 0, 10))).toBe(EISDIR);
    client.walk(ROOT, 4, ["f"]);
    expect(client.errno(() => client.lopen(4, O_DIRECTORY))).toBe(ENOTDIR);
    expect(client.errno(() => client.read(4, 0, 1))).toBe(EBADF); // not open
  });

  it("readdir lists every entry with its type, paging by offset through small replies", () => {
    const { client, dir } = p9Rig();
    const names = Array.from({ length: 40 }, (_, i) => `file-with-a-long-name-${i}`);
    for (const n of names) writeFileSync(join(dir, n), n);
    mkdirSync(join(dir, "sub"));
    client.walk(ROOT, 1, []);
    client.lopen(1, O_RDONLY);
    const all = client.list(1, 200); // a few entries per reply
    expect(all.sort()).toEqual([".", "..", ...names, "sub"].sort());
    const first = client.readdir(1, 0, 8192);
    expect(first.find((e) => e.name === "sub")!.type).toBe(4);
    expect(first.find((e) => e.name === "sub")!.qid.type).toBe(QTDIR);
    expect(first.find((e) => e.name === names[0])!.type).toBe(8);
    // A reply too small for one entry holds none, rather than a torn one.
    expect(client.readdir(1, 0, 10)).toEqual([]);
  });

  it("getattr and setattr: mode, size, times; a symlink's own attributes", () => {
    const { client, dir } = p9Rig();
    writeFileSync(join(dir, "f"), "abcdef");
    client.walk(ROOT, 1, ["f"]);
    let a = client.getattr(1);
    expect(a.mode).toBe(S_IFREG | (statSync(join(dir, "f")).mode & 0o7777));
    expect(a.size).toBe(6n);
    expect(a.nlink).toBe(1n);
    client.setattr(1, { valid: 1, mode: 0o600 });
    client.setattr(1, { valid: 8, size: 3 });
    client.setattr(1, { valid: 16 | 32 | 128 | 256, atime: [1_000_000, 5], mtime: [1_234_567_890, 500_000_000] });
    const st = statSync(join(dir, "f"));
    expect(st.mode & 0o7777).toBe(0o600);
    expect(st.size).toBe(3);
    expect(st.mtimeMs).toBe(1_234_567_890_500);
    expect(st.atimeMs).toBe(1_000_000_000);
    a = client.getattr(1);
    expect(a.mtime).toEqual([1_234_567_890n, 500_000_000n]);
    client.walk(ROOT, 2, []);
    expect(client.getattr(2).mode & 0o170000).toBe(S_IFDIR);
  });

  it("mkdir, symlink and readlink; mknod of a regular file", () => {
    const { client, dir } = p9Rig();
    expect(client.mkdir(ROOT, "d", 0o751).type).toBe(QTDIR);
    expect(statSync(join(dir, "d")).mode & 0o777).toBe(0o751 & ~process.umask());
    expect(client.symlink(ROOT, "l", "d/target").type).toBe(QTSYMLINK);
    expect(readlinkSync(join(dir, "l"))).toBe("d/target");
    client.walk(ROOT, 1, ["l"]);
    expect(client.readlink(1)).toBe("d/target");
    expect(client.getattr(1).mode & 0o170000).toBe(S_IFLNK);
    client.mknod(ROOT, "plain", S_IFREG | 0o600);
    expect(lstatSync(join(dir, "plain")).isFile()).toBe(true);
    expect(client.errno(() => client.mkdir(ROOT, "d", 0o755))).toBe(EEXIST);
  });

  it("link makes a hard link to a file of the share", () => {
    const { client, dir } = p9Rig();
    writeFileSync(join(dir, "f"), "x");
    client.walk(ROOT, 1, ["f"]);
    client.link(ROOT, 1, "g");
    expect(statSync(join(dir, "g")).ino).toBe(statSync(join(dir, "f")).ino);
    expect(client.getattr(1).nlink).toBe(2n);
  });

  it("rename and renameat move files; fids follow the move", () => {
    const { client, dir } = p9Rig();
    mkdirSync(join(dir, "d"));
    mkdirSync(join(dir, "e"));
    writeFileSync(join(dir, "d/f"), "moved");
    client.walk(ROOT, 1, ["d"]);
    client.walk(ROOT, 2, ["d", "f"]);
    client.walk(ROOT, 3, ["e"]);
    client.rename(1, 3, "d2"); // d → e/d2
    expect(existsSync(join(dir, "e/d2/f"))).toBe(true);
    client.lopen(2, O_RDONLY); // fid 2 was d/f, now e/d2/f
    expect(client.read(2, 0, 10).toString()).toBe("moved");
    client.renameat(3, "d2", ROOT, "top");
    expect(readFileSync(join(dir, "top/f"), "utf8")).toBe("moved");
    expect(client.errno(() => client.renameat(ROOT, "missing", ROOT, "x"))).toBe(ENOENT);
  });

  it("unlinkat and remove: files, empty directories; a full directory is ENOTEMPTY", () => {
    const { client, dir } = p9Rig();
    mkdirSync(join(dir, "d"));
    writeFileSync(join(dir, "d/f"), "x");
    writeFileSync(join(dir, "g"), "x");
    expect(client.errno(() => client.unlinkat(ROOT, "d", 0x200))).toBe(ENOTEMPTY);
    client.walk(ROOT, 1, ["d"]);
    client.unlinkat(1, "f");
    client.unlinkat(ROOT, "d", 0x200);
    expect(existsSync(join(dir, "d"))).toBe(false);
    client.walk(ROOT, 2, ["g"]);
    client.remove(2);
    expect(existsSync(join(dir, "g"))).toBe(false);
    expect(client.errno(() => client.getattr(2))).toBe(EBADF); // remove clunks
  });

  it("statfs reports the host filesystem's numbers", () => {
    const { client, dir } = p9Rig();
    const s = client.statfs(ROOT);
    expect(s.bsize).toBeGreaterThan(0);
    expect(s.blocks).toBeGreaterThan(0n);
    expect(s.namelen).toBe(255);
    const { statfsSync } = require("node:fs") as typeof import("node:fs");
    expect(BigInt(statfsSync(dir).blocks)).toBe(s.blocks);
  });

  it("lock is granted, getlock says unlocked; flush answers at once; xattrs are EOPNOTSUPP", () => {
    const { client, dir } = p9Rig();
    writeFileSync(join(dir, "f"), "x");
    client.walk(ROOT, 1, ["f"]);
    client.lopen(1, O_RDWR);
    expect(client.lock(1, 1)).toBe(0);
    expect(client.getlock(1)).toEqual({ type: 2, start: 5n, length: 10n, procId: 42, clientId: "client" });
    expect(client.rpc(T.flush, [{ u16: 3 }]).done).toBe(true);
    expect(client.errno(() => client.rpc(T.xattrwalk, [{ u32: 1 }, { u32: 5 }, { s: "user.x" }]))).toBe(EOPNOTSUPP);
    expect(client.errno(() => client.rpc(T.xattrcreate, [{ u32: 1 }, { s: "user.x" }, { u64: 1 }, { u32: 0 }]))).toBe(EOPNOTSUPP);
    expect(client.errno(() => client.rpc(T.auth, [{ u32: 7 }, { s: "u" }, { s: "" }, { u32: 0 }]))).toBe(EOPNOTSUPP);
  });

  it("holds at most 4096 host files open for the guest (EMFILE), and clunk gives them back", () => {
    const { client, dir } = p9Rig();
    writeFileSync(join(dir, "f"), "x");
    for (let fid = 1; fid <= 4096; fid++) {
      client.walk(ROOT, fid, ["f"]);
      client.lopen(fid, O_RDONLY);
    }
    client.walk(ROOT, 5000, ["f"]);
    expect(client.errno(() => client.lopen(5000, O_RDONLY))).toBe(24);
    expect(client.errno(() => client.lcreate(ROOT, "g", O_RDWR, 0o644))).toBe(24);
    client.clunk(1);
    client.lopen(5000, O_RDONLY);
    expect(client.read(5000, 0, 1).toString()).toBe("x");
  });

  it("a device reset closes every fid", () => {
    const { client, server, dir } = p9Rig();
    writeFileSync(join(dir, "f"), "x");
    client.walk(ROOT, 1, ["f"]);
    client.lopen(1, O_RDONLY);
    server.reset();
    expect(server.fids.size).toBe(0);
    client.version();
    expect(client.errno(() => client.getattr(1))).toBe(EBADF);
  });
});
