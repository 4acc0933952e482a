import { describe, expect, it } from "vitest";
import { gunzipSync, gzipSync } from "node:zlib";
import { CpioFormatError, readCpio, writeCpio, writeCpioGz, type CpioEntry } from "../../src/lib/initramfs/cpio.ts";
import { ConfigError, FileError } from "../../src/errors.ts";

const enc = new TextEncoder();
const ascii = (b: Uint8Array, from: number, to: number) => Buffer.from(b.subarray(from, to)).toString("latin1");

describe("newc cpio writer/reader", () => {
  it("round-trips directories, files, symlinks and device nodes", () => {
    const entries: CpioEntry[] = [
      { path: "dev", type: "dir" },
      { path: "dev/console", type: "char", mode: 0o600, rdevMajor: 5, rdevMinor: 1 },
      { path: "dev/vda", type: "block", rdevMajor: 254, rdevMinor: 0 },
      { path: "etc", type: "dir", mode: 0o700 },
      { path: "etc/empty", type: "file" },
      { path: "etc/hello", type: "file", mode: 0o640, data: enc.encode("hello\n"), mtime: 1234567 },
      { path: "sh", type: "symlink", target: "/bin/busybox" },
    ];
    const recs = readCpio(writeCpio(entries, { mtime: 42 }));
    expect(recs.map((r) => [r.path, r.type, r.mode])).toEqual([
      ["dev", "dir", 0o755],
      ["dev/console", "char", 0o600],
      ["dev/vda", "block", 0o600],
      ["etc", "dir", 0o700],
      ["etc/empty", "file", 0o644],
      ["etc/hello", "file", 0o640],
      ["sh", "symlink", 0o777],
    ]);
    const by = new Map(recs.map((r) => [r.path, r]));
    expect(by.get("dev/console")).toMatchObject({ rdevMajor: 5, rdevMinor: 1, nlink: 1, uid: 0, gid: 0, mtime: 42 });
    expect(by.get("dev")!.nlink).toBe(2);
    expect(by.get("etc/empty")!.data.length).toBe(0);
    expect(Buffer.from(by.get("etc/hello")!.data).toString()).toBe("hello\n");
    expect(by.get("etc/hello")!.mtime).toBe(1234567);
    expect(by.get("sh")!.target).toBe("/bin/busybox");
    // Every entry gets its own inode number, so nothing looks like a hard link.
    expect(new Set(recs.map((r) => r.ino)).size).toBe(recs.length);
  });

  it("pads header+name and data to 4 bytes for every remainder", () => {
    // namesize = len+1; 110+namesize covers all four residues mod 4 over these lengths,
    // and data lengths 0..7 cover all data paddings.
    for (let nameLen = 1; nameLen <= 8; nameLen++) {
      for (let dataLen = 0; dataLen <= 7; dataLen++) {
        const path = "f".repeat(nameLen);
        const data = new Uint8Array(dataLen).map((_, i) => i + 1);
        const archive = writeCpio([{ path, type: "file", data }, { path: "z", type: "symlink", target: "abc" }]);
        expect(archive.length % 4).toBe(0);
        // The second header starts on a 4-byte boundary right after the padded first entry.
        const second = 110 + nameLen + 1 + ((4 - ((111 + nameLen) % 4)) % 4);
        const afterData = second + dataLen + ((4 - (dataLen % 4)) % 4);
        expect(ascii(archive, afterData, afterData + 6)).toBe("070701");
        const recs = readCpio(archive);
        expect(recs.map((r) => r.path)).toEqual([path, "z"]);
        expect([...recs[0]!.data]).toEqual([...data]);
        expect(recs[1]!.target).toBe("abc");
      }
    }
  });

  it("writes the header fields and trailer as the kernel expects", () => {
    const a = writeCpio([{ path: "/init", type: "file", mode: 0o755, data: enc.encode("x") }]);
    expect(ascii(a, 0, 6)).toBe("070701");
    expect(ascii(a, 14, 22)).toBe("000081ed"); // S_IFREG | 0755
    expect(ascii(a, 54, 62)).toBe("00000001"); // filesize
    expect(ascii(a, 94, 102)).toBe("00000005"); // namesize "init\0" (leading '/' dropped)
    const text = Buffer.from(a).toString("latin1");
    expect(text.endsWith("TRAILER!!!\0\0\0\0")).toBe(true); // NUL + 3 bytes of padding
    expect(a.length % 4).toBe(0);
  });

  it("reads a gzip'd archive and concatenated archives", () => {
    const one = writeCpio([{ path: "a", type: "file", data: enc.encode("1") }]);
    const two = writeCpio([{ path: "b", type: "dir" }]);
    const cat = new Uint8Array(one.length + 512 + two.length);
    cat.set(one, 0);
    cat.set(two, one.length + 512); // zero padding between, as the kernel tolerates
    expect(readCpio(cat).map((r) => r.path)).toEqual(["a", "b"]);
    const gz = writeCpioGz([{ path: "c", type: "file" }]);
    expect(gz[0]).toBe(0x1f);
    expect(readCpio(gz).map((r) => r.path)).toEqual(["c"]);
    expect(readCpio(gunzipSync(gz)).map((r) => r.path)).toEqual(["c"]);
  });

  it("refuses bad input to the writer", () => {
    expect(() => writeCpio([{ path: "a/../b", type: "file" }])).toThrow(ConfigError);
    expect(() => writeCpio([{ path: "a", type: "file" }, { path: "/a", type: "dir" }])).toThrow(ConfigError);
    expect(() => writeCpio([{ path: "l", type: "symlink" }])).toThrow(ConfigError);
    expect(() => writeCpio([{ path: "f", type: "file", mode: 0o100644 }])).toThrow(ConfigError);
    expect(() => writeCpio([{ path: "TRAILER!!!", type: "file" }])).toThrow(ConfigError);
  });

  // Found by the cpio fuzz target: the writer wrote names the reader (and the kernel) refuse.
  it("writes paths up to 4095 bytes, the longest the reader and the kernel take, and refuses longer ones", () => {
    const longest = "d/" + "x".repeat(4093);
    expect(readCpio(writeCpio([{ path: longest, type: "file" }])).map((r) => r.path)).toEqual([longest]);
    expect(() => writeCpio([{ path: longest + "x", type: "file" }])).toThrow(ConfigError);
    expect(() => writeCpio([{ path: "é".repeat(2048), type: "dir" }])).toThrow(ConfigError); // 4096 bytes of UTF-8
  });
});

describe("cpio reader on damaged archives", () => {
  const good = writeCpio([
    { path: "bin", type: "dir" },
    { path: "bin/file", type: "file", data: enc.encode("some file contents") },
    { path: "bin/sh", type: "symlink", target: "busybox" },
  ]);
  const patch = (at: number, s: string) => {
    const b = good.slice();
    b.set(enc.encode(s), at);
    return b;
  };

  it("throws CpioFormatError (a FileError) for every truncation", () => {
    // Cutting anywhere before the end of the trailer's name must be caught.
    const trailerEnd = good.length - 3; // "TRAILER!!!\0" then 3 padding bytes
    for (let len = 0; len < trailerEnd; len++) {
      expect(() => readCpio(good.subarray(0, len)), `cut at ${len}`).toThrow(CpioFormatError);
    }
    expect(() => readCpio(good.subarray(0, 10))).toThrow(FileError);
  });

  it("rejects bad magic, non-hex fields, bad names and impossible sizes", () => {
    expect(() => readCpio(patch(0, "070707"))).toThrow(CpioFormatError); // old binary/odc magic
    expect(() => readCpio(patch(6, "zzzzzzzz"))).toThrow(CpioFormatError); // ino not hex
    expect(() => readCpio(patch(54, "ffffffff"))).toThrow(CpioFormatError); // dir with a huge size
    expect(() => readCpio(patch(94, "00000000"))).toThrow(CpioFormatError); // namesize 0
    expect(() => readCpio(patch(94, "00000002"))).toThrow(CpioFormatError); // name not NUL-terminated
    expect(() => readCpio(patch(14, "0000f1ed"))).toThrow(CpioFormatError); // unknown file type
  });

  it("rejects a gzip stream that is cut short or garbage after the trailer", () => {
    const gz = gzipSync(good);
    expect(() => readCpio(gz.subarray(0, gz.length - 20))).toThrow(CpioFormatError);
    const junk = new Uint8Array(good.length + 8);
    junk.set(good);
    junk.set(enc.encode("garbage!"), good.length);
    expect(() => readCpio(junk)).toThrow(CpioFormatError);
  });
});
