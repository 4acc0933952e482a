// A 9P2000.L client for tests: builds T-messages byte by byte (independently of
// virtio/9p/protocol.ts, so a codec bug cannot hide itself) and reads R-messages.

export const T = {
  statfs: 8, lopen: 12, lcreate: 14, symlink: 16, mknod: 18, rename: 20, readlink: 22,
  getattr: 24, setattr: 26, xattrwalk: 30, xattrcreate: 32, readdir: 40, fsync: 50, lock: 52,
  getlock: 54, link: 70, mkdir: 72, renameat: 74, unlinkat: 76, version: 100, auth: 102,
  attach: 104, flush: 108, walk: 110, read: 116, write: 118, clunk: 120, remove: 122,
} as const;
export const RLERROR = 7;
export const NOFID = 0xffff_ffff;

export type Field = { u8: number } | { u16: number } | { u32: number } | { u64: bigint | number } | { s: string | Uint8Array } | { raw: Uint8Array };

/** size[4] type[1] tag[2] fields… */
export function tmsg(type: number, tag: number, fields: Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    if ("u8" in f) parts.push(Buffer.of(f.u8));
    else if ("u16" in f) { const b = Buffer.alloc(2); b.writeUInt16LE(f.u16); parts.push(b); }
    else if ("u32" in f) { const b = Buffer.alloc(4); b.writeUInt32LE(f.u32 >>> 0); parts.push(b); }
    else if ("u64" in f) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(f.u64)); parts.push(b); }
    else if ("s" in f) {
      const s = typeof f.s === "string" ? Buffer.from(f.s) : Buffer.from(f.s);
      const n = Buffer.alloc(2);
      n.writeUInt16LE(s.length);
      parts.push(n, s);
    } else parts.push(Buffer.from(f.raw));
  }
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(7);
  head.writeUInt32LE(7 + body.length);
  head[4] = type;
  head.writeUInt16LE(tag, 5);
  return Buffer.concat([head, body]);
}

/** A reply being read field by field. */
export class Reply {
  at = 7;
  readonly type: number;
  readonly tag: number;
  constructor(readonly b: Buffer) {
    if (b.readUInt32LE(0) !== b.length) throw new Error(`reply size field ${b.readUInt32LE(0)} != ${b.length}`);
    this.type = b[4]!;
    this.tag = b.readUInt16LE(5);
  }
  u8() { return this.b[this.at++]!; }
  u16() { const v = this.b.readUInt16LE(this.at); this.at += 2; return v; }
  u32() { const v = this.b.readUInt32LE(this.at); this.at += 4; return v; }
  u64() { const v = this.b.readBigUInt64LE(this.at); this.at += 8; return v; }
  s() { const n = this.u16(); const v = this.b.subarray(this.at, this.at + n).toString(); this.at += n; return v; }
  bytes(n: number) { const v = this.b.subarray(this.at, this.at + n); this.at += n; return v; }
  qid() { return { type: this.u8(), version: this.u32(), path: this.u64() }; }
  get done() { return this.at === this.b.length; }
}

/** Anything that serves a message: the server directly, or the device through a ring. */
export type Transport = (msg: Buffer, replyRoom?: number) => Buffer | undefined;

/** 9P failed: the reply was Rlerror with this errno. */
export class Rlerror extends Error {
  constructor(readonly errno: number) {
    super(`Rlerror ${errno}`);
  }
}

export class P9TestClient {
  private tag = 1;
  constructor(private readonly transport: Transport) {}

  /** Sends one message; returns the reply, or throws Rlerror. */
  rpc(type: number, fields: Field[]): Reply {
    const tag = this.tag++ & 0x7fff;
    const out = this.transport(tmsg(type, tag, fields));
    if (!out) throw new Error("no reply");
    const r = new Reply(out);
    if (r.tag !== tag) throw new Error(`reply tag ${r.tag} != ${tag}`);
    if (r.type === RLERROR) throw new Rlerror(r.u32());
    if (r.type !== type + 1) throw new Error(`reply type ${r.type} to ${type}`);
    return r;
  }

  /** The errno a call fails with (or an Error if it succeeds). */
  errno(fn: () => unknown): number {
    try {
      fn();
    } catch (e) {
      if (e instanceof Rlerror) return e.errno;
      throw e;
    }
    throw new Error("expected Rlerror, got a reply");
  }

  version(msize = 65536, version = "9P2000.L") {
    const r = this.rpc(T.version, [{ u32: msize }, { s: version }]);
    return { msize: r.u32(), version: r.s() };
  }
  attach(fid: number) {
    return this.rpc(T.attach, [{ u32: fid }, { u32: NOFID }, { s: "root" }, { s: "" }, { u32: 0 }]).qid();
  }
  walk(fid: number, newfid: number, names: (string | Uint8Array)[]) {
    const r = this.rpc(T.walk, [{ u32: fid }, { u32: newfid }, { u16: names.length }, ...names.map((s) => ({ s }))]);
    const n = r.u16();
    return Array.from({ length: n }, () => r.qid());
  }
  lopen(fid: number, flags: number) {
    const r = this.rpc(T.lopen, [{ u32: fid }, { u32: flags }]);
    return { qid: r.qid(), iounit: r.u32() };
  }
  lcreate(fid: number, name: string | Uint8Array, flags: number, mode: number) {
    return this.rpc(T.lcreate, [{ u32: fid }, { s: name }, { u32: flags }, { u32: mode }, { u32: 0 }]).qid();
  }
  read(fid: number, offset: number, count: number) {
    const r = this.rpc(T.read, [{ u32: fid }, { u64: offset }, { u32: count }]);
    return Buffer.from(r.bytes(r.u32()));
  }
  write(fid: number, offset: number, data: Uint8Array) {
    return this.rpc(T.write, [{ u32: fid }, { u64: offset }, { u32: data.length }, { raw: data }]).u32();
  }
  clunk(fid: number) {
    this.rpc(T.clunk, [{ u32: fid }]);
  }
  remove(fid: number) {
    this.rpc(T.remove, [{ u32: fid }]);
  }
  mkdir(dfid: number, name: string | Uint8Array, mode: number) {
    return this.rpc(T.mkdir, [{ u32: dfid }, { s: name }, { u32: mode }, { u32: 0 }]).qid();
  }
  symlink(dfid: number, name: string, target: string) {
    return this.rpc(T.symlink, [{ u32: dfid }, { s: name }, { s: target }, { u32: 0 }]).qid();
  }
  mknod(dfid: number, name: string, mode: number, major = 0, minor = 0) {
    return this.rpc(T.mknod, [{ u32: dfid }, { s: name }, { u32: mode }, { u32: major }, { u32: minor }, { u32: 0 }]).qid();
  }
  readlink(fid: number) {
    return this.rpc(T.readlink, [{ u32: fid }]).s();
  }
  link(dfid: number, fid: number, name: string) {
    this.rpc(T.link, [{ u32: dfid }, { u32: fid }, { s: name }]);
  }
  rename(fid: number, dfid: number, name: string) {
    this.rpc(T.rename, [{ u32: fid }, { u32: dfid }, { s: name }]);
  }
  renameat(olddfid: number, oldname: string, newdfid: number, newname: string) {
    this.rpc(T.renameat, [{ u32: olddfid }, { s: oldname }, { u32: newdfid }, { s: newname }]);
  }
  unlinkat(dfid: number, name: string, flags = 0) {
    this.rpc(T.unlinkat, [{ u32: dfid }, { s: name }, { u32: flags }]);
  }
  getattr(fid: number) {
    const r = this.rpc(T.getattr, [{ u32: fid }, { u64: 0x3fff }]);
    const valid = r.u64();
    const qid = r.qid();
    const mode = r.u32(), uid = r.u32(), gid = r.u32();
    const nlink = r.u64(), rdev = r.u64(), size = r.u64(), blksize = r.u64(), blocks = r.u64();
    const atime = [r.u64(), r.u64()], mtime = [r.u64(), r.u64()];
    return { valid, qid, mode, uid, gid, nlink, rdev, size, blksize, blocks, atime, mtime };
  }
  setattr(fid: number, a: { valid: number; mode?: number; uid?: number; gid?: number; size?: number; atime?: [number, number]; mtime?: [number, number] }) {
    this.rpc(T.setattr, [
      { u32: fid }, { u32: a.valid }, { u32: a.mode ?? 0 }, { u32: a.uid ?? 0 }, { u32: a.gid ?? 0 }, { u64: a.size ?? 0 },
      { u64: a.atime?.[0] ?? 0 }, { u64: a.atime?.[1] ?? 0 }, { u64: a.mtime?.[0] ?? 0 }, { u64: a.mtime?.[1] ?? 0 },
    ]);
  }
  /** Directory entries from one Treaddir: name, type and the offset of the next. */
  readdir(fid: number, offset: number, count: number) {
    const r = this.rpc(T.readdir, [{ u32: fid }, { u64: offset }, { u32: count }]);
    const end = r.at + 4 + r.u32();
    const out: { name: string; type: number; offset: bigint; qid: ReturnType<Reply["qid"]> }[] = [];
    while (r.at < end) {
      const qid = r.qid();
      const off = r.u64();
      const type = r.u8();
      out.push({ qid, offset: off, type, name: r.s() });
    }
    return out;
  }
  /** Every entry name, paging through with `count`-byte replies. */
  list(fid: number, count = 8192): string[] {
    const names: string[] = [];
    let offset = 0;
    for (;;) {
      const ents = this.readdir(fid, offset, count);
      if (ents.length === 0) return names;
      names.push(...ents.map((e) => e.name));
      offset = Number(ents[ents.length - 1]!.offset);
    }
  }
  statfs(fid: number) {
    const r = this.rpc(T.statfs, [{ u32: fid }]);
    return { type: r.u32(), bsize: r.u32(), blocks: r.u64(), bfree: r.u64(), bavail: r.u64(), files: r.u64(), ffree: r.u64(), fsid: r.u64(), namelen: r.u32() };
  }
  fsync(fid: number) {
    this.rpc(T.fsync, [{ u32: fid }, { u32: 0 }]);
  }
  lock(fid: number, type: number) {
    return this.rpc(T.lock, [{ u32: fid }, { u8: type }, { u32: 0 }, { u64: 0 }, { u64: 0 }, { u32: 42 }, { s: "client" }]).u8();
  }
  getlock(fid: number) {
    const r = this.rpc(T.getlock, [{ u32: fid }, { u8: 0 }, { u64: 5 }, { u64: 10 }, { u32: 42 }, { s: "client" }]);
    return { type: r.u8(), start: r.u64(), length: r.u64(), procId: r.u32(), clientId: r.s() };
  }
}
