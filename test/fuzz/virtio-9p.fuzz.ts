// The 9P2000.L server (virtio/9p/server.ts) on a real temporary share, fed message sequences a
// hostile guest could send: well-formed messages of every type with fids, names, offsets,
// counts and flags drawn from a vocabulary that includes the traps (symlinks out of the share,
// a FIFO, '..', '/', over-long names, unknown fids, counts past msize), then optionally torn:
// truncated, size field changed, or replaced by random bytes; reply rooms small and large.
//
// Must hold, for every sequence:
// - only a reply comes back (no exception), never longer than the room given or than msize,
//   with a size field that matches and the request's tag;
// - nothing outside the share changes: the sibling directory keeps exactly its one file with
//   its bytes, and nothing new appears beside the share.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { P9Server } from "../../virtio/9p/server.ts";
import { Share } from "../../virtio/9p/share.ts";
import { T, tmsg, type Field } from "../support/p9-client.ts";
import { check, type FuzzTarget } from "./harness.ts";

const SECRET = "host secret\n";

type Kind = "fid" | "u8" | "u16" | "u32" | "u64" | "name" | "names" | "count" | "offset" | "flags" | "mode" | "data" | "str";

/** Each T-message's fields after the header (9P2000.L). */
const SCHEMA: Record<number, Kind[]> = {
  [T.version]: ["count", "str"],
  [T.attach]: ["fid", "fid", "str", "str", "u32"],
  [T.walk]: ["fid", "fid", "names"],
  [T.lopen]: ["fid", "flags"],
  [T.lcreate]: ["fid", "name", "flags", "mode", "u32"],
  [T.read]: ["fid", "offset", "count"],
  [T.write]: ["fid", "offset", "data"],
  [T.clunk]: ["fid"],
  [T.remove]: ["fid"],
  [T.rename]: ["fid", "fid", "name"],
  [T.renameat]: ["fid", "name", "fid", "name"],
  [T.readdir]: ["fid", "offset", "count"],
  [T.statfs]: ["fid"],
  [T.getattr]: ["fid", "u64"],
  [T.setattr]: ["fid", "u32", "mode", "u32", "u32", "offset", "u64", "u64", "u64", "u64"],
  [T.mknod]: ["fid", "name", "mode", "u32", "u32", "u32"],
  [T.mkdir]: ["fid", "name", "mode", "u32"],
  [T.symlink]: ["fid", "name", "str", "u32"],
  [T.link]: ["fid", "fid", "name"],
  [T.readlink]: ["fid"],
  [T.unlinkat]: ["fid", "name", "u32"],
  [T.fsync]: ["fid", "u32"],
  [T.flush]: ["u16"],
  [T.lock]: ["fid", "u8", "u32", "u64", "u64", "u32", "str"],
  [T.getlock]: ["fid", "u8", "u64", "u64", "u32", "str"],
  [T.xattrwalk]: ["fid", "fid", "str"],
  [T.xattrcreate]: ["fid", "str", "u64", "u32"],
  [T.auth]: ["fid", "str", "str", "u32"],
};

const NAMES = ["f", "d", "out", "file-out", "fifo", "..", ".", "", "new", "d/f", "a\0b", "n".repeat(255), "n".repeat(256), "../outside"];
const u32Arb = fc.oneof(fc.constantFrom(0, 1, 0x200, 0xffff_ffff), fc.nat({ max: 0xffff_ffff }));
const u64Arb = fc.oneof(fc.constantFrom(0n, 1n, 2n ** 53n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

function fieldArb(kind: Kind): fc.Arbitrary<Field[]> {
  const one = (a: fc.Arbitrary<Field>) => a.map((f) => [f]);
  switch (kind) {
    case "fid": return one(fc.oneof(fc.constantFrom(0, 1, 2, 3, 0xffff_ffff), fc.nat({ max: 0xffff_ffff })).map((u32) => ({ u32 })));
    case "u8": return one(fc.nat({ max: 255 }).map((u8) => ({ u8 })));
    case "u16": return one(fc.nat({ max: 0xffff }).map((u16) => ({ u16 })));
    case "u32": return one(u32Arb.map((u32) => ({ u32 })));
    case "u64": case "offset": return one(u64Arb.map((u64) => ({ u64 })));
    case "count": return one(fc.oneof(fc.constantFrom(0, 7, 11, 4096, 65536, 1 << 20, 0xffff_ffff), fc.nat({ max: 1 << 17 })).map((u32) => ({ u32 })));
    case "flags": return one(fc.oneof(fc.constantFrom(0, 1, 2, 0o1000, 0o200000, 0o100 | 0o200 | 2), u32Arb).map((u32) => ({ u32 })));
    case "mode": return one(fc.oneof(fc.constantFrom(0o100644, 0o20666, 0o60666, 0o10644, 0o140644, 0o755, 0o7777), u32Arb).map((u32) => ({ u32 })));
    case "name": return one(fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 8 })).map((s) => ({ s })));
    case "str": return one(fc.oneof(fc.constantFrom("9P2000.L", "", "/tmp", "../outside/secret"), fc.string({ maxLength: 8 })).map((s) => ({ s })));
    case "names": return fc.array(fc.constantFrom(...NAMES), { maxLength: 18 }).map((ns) => [{ u16: ns.length }, ...ns.map((s) => ({ s }))]);
    case "data": return fc.uint8Array({ maxLength: 64 }).chain((d) => fc.constantFrom(d.length, 0, 1 << 20).map((n) => [{ u32: n }, { raw: d }]));
  }
}

const types = Object.keys(SCHEMA).map(Number);

/** A message: well formed, then maybe torn. */
const messageArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  {
    weight: 9,
    arbitrary: fc
      .constantFrom(...types)
      .chain((type) => fc.tuple(fc.constant(type), fc.nat({ max: 0xffff }), fc.tuple(...SCHEMA[type]!.map(fieldArb))))
      .chain(([type, tag, fields]) =>
        fc.oneof(
          { weight: 6, arbitrary: fc.constant(tmsg(type, tag, fields.flat())) },
          { weight: 1, arbitrary: fc.nat({ max: 40 }).map((n) => tmsg(type, tag, fields.flat()).subarray(0, n)) },
          { weight: 1, arbitrary: u32Arb.map((size) => { const m = tmsg(type, tag, fields.flat()); m.writeUInt32LE(size, 0); return m; }) },
        ),
      ),
  },
);

const sessionArb = fc.record({
  msize: fc.constantFrom(4096, 8192, 65536, 1 << 20, 100),
  steps: fc.array(fc.record({ msg: messageArb, room: fc.constantFrom(0, 7, 11, 64, 4096, 1 << 20) }), { maxLength: 25 }),
});

export const virtio9pTarget: FuzzTarget = {
  name: "virtio-9p-messages",
  description: "9P2000.L messages of every type, hostile fields and torn framing, against a real share beside a host secret",
  quickRuns: 150,
  build() {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "lkvm-fuzz-9p-"));
    const dir = path.join(base, "share");
    const outside = path.join(base, "outside");
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, "secret"), SECRET);
    fs.chmodSync(path.join(outside, "secret"), 0o600);
    const fresh = () => {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "f"), "file");
      fs.mkdirSync(path.join(dir, "d"));
      fs.writeFileSync(path.join(dir, "d/f"), "inner");
      fs.symlinkSync(outside, path.join(dir, "out"));
      fs.symlinkSync("../outside/secret", path.join(dir, "file-out"));
      fs.symlinkSync(path.join(outside, "secret"), path.join(dir, "d/abs-out"));
    };
    fresh();
    const property = fc.property(sessionArb, ({ msize, steps }) => {
      fresh();
      const server = new P9Server({ share: new Share(dir, false) });
      const attach = [tmsg(T.version, 0xffff, [{ u32: msize }, { s: "9P2000.L" }]), tmsg(T.attach, 1, [{ u32: 0 }, { u32: 0xffff_ffff }, { s: "" }, { s: "" }, { u32: 0 }])];
      for (const { msg, room } of [...attach.map((msg) => ({ msg, room: 1 << 20 })), ...steps]) {
        const reply = server.handle(msg, room);
        if (reply === undefined) {
          check(room < 11, () => `no reply with ${room} bytes of room`);
          continue;
        }
        check(reply.length <= room, () => `a ${reply.length}-byte reply in ${room} bytes of room`);
        check(server.msize === 0 || reply.length <= Math.max(server.msize, 11), () => `a ${reply.length}-byte reply over msize ${server.msize}`);
        check(Buffer.from(reply).readUInt32LE(0) === reply.length, "reply size field");
        if (msg.length >= 7) check(Buffer.from(reply).readUInt16LE(5) === msg.readUInt16LE(5), "reply tag");
      }
      server.reset();
      check(fs.readdirSync(outside).join() === "secret", () => `outside now holds ${fs.readdirSync(outside).join()}`);
      check(fs.readFileSync(path.join(outside, "secret"), "utf8") === SECRET, "the secret changed");
      check((fs.statSync(path.join(outside, "secret")).mode & 0o777) === 0o600, "the secret's mode changed");
      check(fs.readdirSync(base).sort().join() === "outside,share", () => `beside the share: ${fs.readdirSync(base).join()}`);
    });
    return { property, dispose: () => fs.rmSync(base, { recursive: true, force: true }) };
  },
};
