// The 9P2000.L server: one request in, one reply out, every operation on the host done with
// Node's synchronous fs calls. Synchronous, as virtio-blk does its I/O: the request is served
// during the guest's QueueNotify on the one thread every vCPU runs on, so no guest code runs
// between the checks in share.ts and the calls they guard, and replies go back in order.
//
// The message set is kvmtool's: version, attach, walk, lopen, lcreate, read, write, clunk,
// remove, rename, renameat, readdir, statfs, getattr, setattr, mknod, mkdir, symlink, link,
// readlink, unlinkat, fsync, flush, lock, getlock; xattrwalk, xattrcreate, auth and anything
// else are answered Rlerror(EOPNOTSUPP). Failures are Rlerror with Linux's errno.
//
// Differences from kvmtool, forced by Node having no mknod(2) or fcntl(2) locks:
// - Tmknod makes regular files only; FIFOs and sockets get EOPNOTSUPP, devices EPERM.
// - Tlock always grants and Tgetlock always says unlocked (locks are not shared with the host;
//   kvmtool does the same).
// - uid/gid of new files are the VMM's own (no chown of what the guest creates); Tsetattr's
//   uid/gid go to lchown and fail with EPERM unless the VMM may chown.

import * as fs from "node:fs";
import {
  EBADF, EBUSY, EINVAL, EISDIR, ENOTDIR, EOPNOTSUPP, EPERM, EPROTO, ERANGE, EFBIG,
  ConfinementRefused, P9Errno, linuxErrno,
} from "./errno.ts";
import { FidTable, type Fid } from "./fids.ts";
import {
  MalformedMessage, MessageReader, MessageWriter, P9, P9_HEADER_BYTES, P9_MAXWELEM, P9_NOFID,
  P9_QTDIR, P9_QTFILE, P9_QTSYMLINK, P9_VERSION_L, ReplyTooLarge, type Qid,
} from "./protocol.ts";
import { Share, type GuestPath } from "./share.ts";

/** The largest msize offered; Linux's virtio transport asks for at most ~500 KiB. */
export const P9_MAX_MSIZE = 512 * 1024;
/** The least msize that leaves room for a useful read (Linux refuses less than 4096). */
export const P9_MIN_MSIZE = 4096;
/** size[4] type[1] tag[2] count[4]: the bytes before Rread's and Rreaddir's data. */
export const P9_IOHDR_BYTES = 11;

// 9P2000.L open flags (include/net/9p/9p.h P9_DOTL_*), as the client sends them.
const DOTL_ACCMODE = 3;
const DOTL_WRONLY = 1;
const DOTL_RDWR = 2;
const DOTL_CREATE = 0o100;
const DOTL_EXCL = 0o200;
const DOTL_TRUNC = 0o1000;
const DOTL_DSYNC = 0o10000;
const DOTL_DIRECTORY = 0o200000;
const DOTL_SYNC = 0o4000000;

// Tsetattr's valid bits.
const SETATTR_MODE = 1;
const SETATTR_UID = 2;
const SETATTR_GID = 4;
const SETATTR_SIZE = 8;
const SETATTR_ATIME = 16;
const SETATTR_MTIME = 32;
const SETATTR_ATIME_SET = 128;
const SETATTR_MTIME_SET = 256;

/** Rgetattr's valid mask: the basic fields (mode … blocks, the three times). */
const GETATTR_BASIC = 0x7ffn;
const AT_REMOVEDIR = 0x200;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFIFO = 0o10000;
const S_IFSOCK = 0o140000;
const LOCK_SUCCESS = 0;
const F_UNLCK = 2;

export interface P9ServerOptions {
  share: Share;
  /** Called once per kind of guest mistake or refusal worth knowing about. */
  log?: (line: string) => void;
}

export class P9Server {
  readonly share: Share;
  readonly fids = new FidTable();
  /** Negotiated by Tversion; no other message is served before it. */
  msize = 0;
  private readonly log: (line: string) => void;
  private readonly logged = new Set<string>();

  constructor(opts: P9ServerOptions) {
    this.share = opts.share;
    this.log = opts.log ?? (() => {});
  }

  /** Forgets every fid and the session (device reset, or a new Tversion). */
  reset(): void {
    this.fids.clear();
    this.msize = 0;
  }

  /**
   * Serves one message. `replyRoomBytes` is how much the guest gave for the reply; the reply is
   * never longer than that or than msize. Returns undefined if not even an error fits.
   */
  handle(request: Uint8Array, replyRoomBytes: number): Uint8Array | undefined {
    const limit = Math.min(replyRoomBytes, this.msize || P9_MAX_MSIZE);
    // Without room for an Rlerror the guest could not learn the outcome: do nothing.
    if (limit < P9_IOHDR_BYTES) {
      this.once("no-room", `virtio-9p: a request with ${replyRoomBytes} bytes for its reply was dropped`);
      return undefined;
    }
    let type = 0;
    let tag = 0;
    if (request.length >= P9_HEADER_BYTES) {
      type = request[4]!;
      tag = request[5]! | (request[6]! << 8);
    }
    try {
      const m = new MessageReader(request);
      const w = new MessageWriter(m.type + 1, m.tag, limit);
      this.dispatch(m, w);
      return w.finish();
    } catch (e) {
      let errno: number;
      if (e instanceof MalformedMessage) {
        this.once(`malformed-${type}`, `virtio-9p: malformed message (type ${type}): ${e.message}`);
        errno = EPROTO;
      } else if (e instanceof ReplyTooLarge) {
        errno = ERANGE;
      } else if (e instanceof ConfinementRefused) {
        errno = e.errno;
        this.once(`confine-${e.errno}`, `virtio-9p: refused: ${e.message}`);
      } else if (e instanceof P9Errno || isSystemError(e)) {
        errno = linuxErrno(e);
      } else {
        throw e; // our bug
      }
      return new MessageWriter(P9.Rlerror, tag, limit).u32(errno).finish();
    }
  }

  private dispatch(m: MessageReader, w: MessageWriter): void {
    if (m.type === P9.Tversion) return this.version(m, w);
    if (this.msize === 0) throw new P9Errno(EPROTO, "no Tversion yet");
    switch (m.type) {
      case P9.Tattach: return this.attach(m, w);
      case P9.Twalk: return this.walk(m, w);
      case P9.Tclunk: if (!this.fids.clunk(m.u32())) throw new P9Errno(EBADF, "clunk of an unknown fid"); return;
      case P9.Tflush: m.u16(); return; // requests are served in order: nothing is ever pending
      case P9.Tgetattr: return this.getattr(m, w);
      case P9.Tsetattr: return this.setattr(m);
      case P9.Tlopen: return this.lopen(m, w);
      case P9.Tlcreate: return this.lcreate(m, w);
      case P9.Tread: return this.read(m, w);
      case P9.Twrite: return this.write(m, w);
      case P9.Treaddir: return this.readdir(m, w);
      case P9.Tstatfs: return this.statfs(m, w);
      case P9.Tmkdir: return this.mkdir(m, w);
      case P9.Tsymlink: return this.symlink(m, w);
      case P9.Tmknod: return this.mknod(m, w);
      case P9.Treadlink: return this.readlink(m, w);
      case P9.Tlink: return this.link(m);
      case P9.Trename: return this.rename(m);
      case P9.Trenameat: return this.renameat(m);
      case P9.Tunlinkat: return this.unlinkat(m);
      case P9.Tremove: return this.remove(m);
      case P9.Tfsync: return this.fsync(m);
      case P9.Tlock: return this.lock(m, w);
      case P9.Tgetlock: return this.getlock(m, w);
      default:
        throw new P9Errno(EOPNOTSUPP, `message type ${m.type}`);
    }
  }

  // ---- session ----

  private version(m: MessageReader, w: MessageWriter): void {
    const clientMsize = m.u32();
    const version = m.str();
    this.reset();
    // A msize below the minimum or an unknown version: answer "unknown", as the spec says.
    const msize = Math.min(clientMsize, P9_MAX_MSIZE);
    if (version !== P9_VERSION_L || msize < P9_MIN_MSIZE) {
      w.u32(msize).str("unknown");
      return;
    }
    this.msize = msize;
    w.u32(msize).str(P9_VERSION_L);
  }

  private attach(m: MessageReader, w: MessageWriter): void {
    const fid = m.u32();
    const afid = m.u32();
    m.str(); // uname
    m.str(); // aname: one share per device, so it is ignored (as kvmtool does)
    m.u32(); // n_uname
    if (afid !== P9_NOFID) throw new P9Errno(EOPNOTSUPP, "authentication");
    const st = this.share.lstat([]);
    this.fids.set(fid, [], true);
    w.qid(qidOf(st));
  }

  private walk(m: MessageReader, w: MessageWriter): void {
    const from = this.fids.get(m.u32());
    const newfid = m.u32();
    const n = m.u16();
    if (n > P9_MAXWELEM) throw new P9Errno(EINVAL, `a walk of ${n} names`);
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const raw = m.strBytes();
      names.push(raw.length === 2 && raw[0] === 0x2e && raw[1] === 0x2e ? ".." : this.share.checkName(raw));
    }
    let path = from.path;
    // One check of the starting point: its whole chain when the walk goes on from it (it must
    // be a real directory then), else its parent's.
    let stats = n > 0 && path.length > 0
      ? fs.lstatSync(this.share.realDir(path), { bigint: true })
      : this.share.lstat(path);
    const qids: Qid[] = [];
    for (const name of names) {
      try {
        ({ path, stats } = this.share.step(path, stats, name));
      } catch (e) {
        if (qids.length === 0) throw e;
        break; // a partial walk: the qids so far, and newfid is not bound
      }
      qids.push(qidOf(stats));
    }
    if (qids.length === n) this.fids.set(newfid, path, stats.isDirectory());
    w.u16(qids.length);
    for (const q of qids) w.qid(q);
  }

  // ---- attributes ----

  private getattr(m: MessageReader, w: MessageWriter): void {
    const f = this.fids.get(m.u32());
    m.u64(); // request mask: the basic set is always answered
    const st = f.fd >= 0 ? fs.fstatSync(f.fd, { bigint: true }) : this.share.lstat(f.path);
    w.u64(GETATTR_BASIC).qid(qidOf(st));
    w.u32(Number(st.mode)).u32(Number(st.uid)).u32(Number(st.gid));
    w.u64(st.nlink).u64(st.rdev).u64(st.size).u64(st.blksize).u64(st.blocks);
    for (const ns of [st.atimeNs, st.mtimeNs, st.ctimeNs]) w.u64(ns / 1_000_000_000n).u64(ns % 1_000_000_000n);
    w.u64(0).u64(0); // btime
    w.u64(0).u64(0); // gen, data_version
  }

  private setattr(m: MessageReader): void {
    const f = this.fids.get(m.u32());
    const valid = m.u32();
    const mode = m.u32();
    const uid = m.u32();
    const gid = m.u32();
    const size = m.u64();
    const atime = timeOf(m.u64(), m.u64());
    const mtime = timeOf(m.u64(), m.u64());
    this.share.refuseIfReadOnly();
    const st = this.share.lstat(f.path);
    const host = this.share.hostPath(f.path);
    if (valid & (SETATTR_MODE | SETATTR_SIZE)) {
      if (st.isSymbolicLink()) throw new P9Errno(valid & SETATTR_SIZE ? EINVAL : EOPNOTSUPP, "mode or size of a symlink");
      // Through a descriptor opened without following symlinks, never through the path.
      const fd = f.fd >= 0 ? f.fd : this.share.open(f.path, valid & SETATTR_SIZE ? fs.constants.O_WRONLY : fs.constants.O_RDONLY);
      try {
        if (valid & SETATTR_MODE) fs.fchmodSync(fd, mode & 0o7777);
        if (valid & SETATTR_SIZE) {
          if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new P9Errno(EFBIG);
          fs.ftruncateSync(fd, Number(size));
        }
      } finally {
        if (fd !== f.fd) fs.closeSync(fd);
      }
    }
    if (valid & (SETATTR_UID | SETATTR_GID)) {
      fs.lchownSync(host, valid & SETATTR_UID ? uid : -1, valid & SETATTR_GID ? gid : -1);
    }
    if (valid & (SETATTR_ATIME | SETATTR_MTIME)) {
      const now = Date.now() / 1000;
      const cur = fs.lstatSync(host);
      const a = valid & SETATTR_ATIME ? (valid & SETATTR_ATIME_SET ? atime : now) : cur.atimeMs / 1000;
      const mt = valid & SETATTR_MTIME ? (valid & SETATTR_MTIME_SET ? mtime : now) : cur.mtimeMs / 1000;
      fs.lutimesSync(host, a, mt);
    }
  }

  private statfs(m: MessageReader, w: MessageWriter): void {
    const f = this.fids.get(m.u32());
    // statfs follows symlinks: ask about a directory whose path has been checked.
    const st = this.share.lstat(f.path);
    const dir = st.isDirectory() ? f.path : f.path.slice(0, -1);
    const s = fs.statfsSync(this.share.realDir(dir), { bigint: true });
    w.u32(Number(s.type & 0xffff_ffffn)).u32(Number(s.bsize)).u64(s.blocks).u64(s.bfree).u64(s.bavail);
    w.u64(s.files).u64(s.ffree).u64(0).u32(255);
  }

  // ---- files ----

  private lopen(m: MessageReader, w: MessageWriter): void {
    const f = this.fids.get(m.u32());
    const flags = m.u32();
    if (f.fd >= 0) throw new P9Errno(EBADF, "fid already open");
    const writes = (flags & DOTL_ACCMODE) !== 0 || (flags & DOTL_TRUNC) !== 0;
    if (writes) this.share.refuseIfReadOnly();
    const st = this.share.lstat(f.path);
    if (st.isDirectory() && writes) throw new P9Errno(EISDIR);
    if (!st.isDirectory() && flags & DOTL_DIRECTORY) throw new P9Errno(ENOTDIR);
    this.fids.open(f, () => this.share.open(f.path, hostOpenFlags(flags & ~(DOTL_CREATE | DOTL_EXCL))));
    f.isDir = st.isDirectory();
    f.entries = undefined;
    w.qid(qidOf(fs.fstatSync(f.fd, { bigint: true }))).u32(0);
  }

  private lcreate(m: MessageReader, w: MessageWriter): void {
    const f = this.fids.get(m.u32());
    const name = this.share.checkName(m.strBytes());
    const flags = m.u32();
    const mode = m.u32();
    m.u32(); // gid
    this.share.refuseIfReadOnly();
    if (f.fd >= 0) throw new P9Errno(EBADF, "fid already open");
    const path = [...f.path, name]; // share.open checks f.path's chain
    const fd = this.fids.open(f, () => this.share.open(path, hostOpenFlags(flags | DOTL_CREATE), mode & 0o7777));
    // The fid now stands for the new file, opened (9P2000.L's lcreate semantics).
    f.path = path;
    f.isDir = false;
    w.qid(qidOf(fs.fstatSync(fd, { bigint: true }))).u32(0);
  }

  private read(m: MessageReader, w: MessageWriter): void {
    const f = this.openFid(m.u32());
    const offset = position(m.u64());
    const count = m.u32();
    if (f.isDir) throw new P9Errno(EISDIR);
    const n = Math.min(count, this.room(w));
    w.u32(0);
    const countAt = w.mark() - 4;
    const buf = w.reserve(n);
    let done = 0;
    while (done < n) {
      const got = fs.readSync(f.fd, buf, done, n - done, offset + done);
      if (got === 0) break;
      done += got;
    }
    w.unreserve(n - done);
    w.patchU32(countAt, done);
  }

  private write(m: MessageReader, w: MessageWriter): void {
    const f = this.openFid(m.u32());
    const offset = position(m.u64());
    const count = m.u32();
    const data = m.data(count);
    this.share.refuseIfReadOnly();
    if (f.isDir) throw new P9Errno(EISDIR);
    let done = 0;
    while (done < count) done += fs.writeSync(f.fd, data, done, count - done, offset + done);
    w.u32(done);
  }

  private readdir(m: MessageReader, w: MessageWriter): void {
    const f = this.openFid(m.u32());
    const offset = m.u64();
    const count = m.u32();
    if (!f.isDir) throw new P9Errno(ENOTDIR);
    // Entries are read once per pass (offset 0) so offsets stay stable while the guest pages
    // through them; an offset is the index of the next entry.
    if (offset === 0n || !f.entries) {
      this.share.realDir(f.path); // the directory may have been swapped for a symlink since lopen
      f.entries = [{ name: "." }, { name: ".." }, ...fs.readdirSync(this.share.hostPath(f.path)).map((name) => ({ name }))];
    }
    const room = Math.min(count, this.room(w));
    w.u32(0);
    const countAt = w.mark() - 4;
    const start = w.mark();
    for (let i = offset > BigInt(f.entries.length) ? f.entries.length : Number(offset); i < f.entries.length; i++) {
      const name = f.entries[i]!.name;
      const nameBytes = Buffer.from(name, "utf8");
      const entryBytes = 13 + 8 + 1 + 2 + nameBytes.length;
      if (w.mark() - start + entryBytes > room) break;
      let st: fs.BigIntStats;
      try {
        const p = name === "." ? f.path : name === ".." ? f.path.slice(0, -1) : [...f.path, name];
        st = fs.lstatSync(this.share.hostPath(p), { bigint: true });
      } catch {
        continue; // gone since the listing
      }
      const q = qidOf(st);
      w.qid(q).u64(i + 1).u8(direntType(st)).str(nameBytes);
    }
    w.patchU32(countAt, w.mark() - start);
  }

  private fsync(m: MessageReader): void {
    const f = this.openFid(m.u32());
    fs.fsyncSync(f.fd);
  }

  private lock(m: MessageReader, w: MessageWriter): void {
    this.openFid(m.u32());
    m.u8(); m.u32(); m.u64(); m.u64(); m.u32(); m.str();
    w.u8(LOCK_SUCCESS);
  }

  private getlock(m: MessageReader, w: MessageWriter): void {
    this.openFid(m.u32());
    m.u8();
    const start = m.u64();
    const length = m.u64();
    const procId = m.u32();
    const clientId = m.strBytes();
    w.u8(F_UNLCK).u64(start).u64(length).u32(procId).str(clientId);
  }

  // ---- names ----

  private mkdir(m: MessageReader, w: MessageWriter): void {
    const dir = this.fids.get(m.u32());
    const name = this.share.checkName(m.strBytes());
    const mode = m.u32();
    m.u32(); // gid
    const path = this.inDir(dir, name);
    fs.mkdirSync(this.share.hostPath(path), mode & 0o7777);
    w.qid(qidOf(fs.lstatSync(this.share.hostPath(path), { bigint: true })));
  }

  private symlink(m: MessageReader, w: MessageWriter): void {
    const dir = this.fids.get(m.u32());
    const name = this.share.checkName(m.strBytes());
    const target = m.strBytes();
    m.u32(); // gid
    if (target.includes(0)) throw new P9Errno(EINVAL, "a symlink target with NUL");
    const path = this.inDir(dir, name);
    // The target is only text: the host never follows it (see share.ts), the guest does.
    fs.symlinkSync(Buffer.from(target), this.share.hostPath(path));
    w.qid(qidOf(fs.lstatSync(this.share.hostPath(path), { bigint: true })));
  }

  private mknod(m: MessageReader, w: MessageWriter): void {
    const dir = this.fids.get(m.u32());
    const name = this.share.checkName(m.strBytes());
    const mode = m.u32();
    m.u32(); // major
    m.u32(); // minor
    m.u32(); // gid
    const type = mode & S_IFMT;
    if (type !== S_IFREG && type !== 0) {
      const special = type === S_IFIFO || type === S_IFSOCK;
      if (special) throw new P9Errno(EOPNOTSUPP, "mknod of a FIFO or socket");
      throw new ConfinementRefused(EPERM, `mknod of the device node '${name}'`);
    }
    const path = this.inDir(dir, name);
    const { O_CREAT, O_EXCL, O_WRONLY } = fs.constants;
    fs.closeSync(this.share.open(path, O_CREAT | O_EXCL | O_WRONLY, mode & 0o7777));
    w.qid(qidOf(fs.lstatSync(this.share.hostPath(path), { bigint: true })));
  }

  private readlink(m: MessageReader, w: MessageWriter): void {
    const f = this.fids.get(m.u32());
    this.share.lstat(f.path); // checks the parent chain
    w.str(fs.readlinkSync(this.share.hostPath(f.path), { encoding: "buffer" }));
  }

  private link(m: MessageReader): void {
    const dir = this.fids.get(m.u32());
    const target = this.fids.get(m.u32());
    const name = this.share.checkName(m.strBytes());
    // Both ends are fids, so both are inside the share: a guest cannot link to a host file.
    const path = this.inDir(dir, name);
    const st = this.share.lstat(target.path);
    if (st.isDirectory()) throw new P9Errno(EPERM, "a hard link to a directory");
    fs.linkSync(this.share.hostPath(target.path), this.share.hostPath(path));
  }

  private rename(m: MessageReader): void {
    const f = this.fids.get(m.u32());
    const dir = this.fids.get(m.u32());
    const name = this.share.checkName(m.strBytes());
    if (f.path.length === 0) throw new P9Errno(EBUSY, "renaming the root");
    this.move(f.path, this.inDir(dir, name));
  }

  private renameat(m: MessageReader): void {
    const oldDir = this.fids.get(m.u32());
    const oldName = this.share.checkName(m.strBytes());
    const newDir = this.fids.get(m.u32());
    const newName = this.share.checkName(m.strBytes());
    this.move(this.inDir(oldDir, oldName), this.inDir(newDir, newName));
  }

  private move(from: GuestPath, to: GuestPath): void {
    this.share.realDir(from.slice(0, -1));
    fs.renameSync(this.share.hostPath(from), this.share.hostPath(to));
    this.fids.moved(from, to);
  }

  private unlinkat(m: MessageReader): void {
    const dir = this.fids.get(m.u32());
    const name = this.share.checkName(m.strBytes());
    const flags = m.u32();
    const path = this.inDir(dir, name);
    if (flags & AT_REMOVEDIR) fs.rmdirSync(this.share.hostPath(path));
    else fs.unlinkSync(this.share.hostPath(path));
  }

  private remove(m: MessageReader): void {
    const fid = m.u32();
    const f = this.fids.get(fid);
    try {
      this.share.refuseIfReadOnly();
      if (f.path.length === 0) throw new P9Errno(EBUSY, "removing the root");
      const st = this.share.lstat(f.path);
      if (st.isDirectory()) fs.rmdirSync(this.share.hostPath(f.path));
      else fs.unlinkSync(this.share.hostPath(f.path));
    } finally {
      this.fids.clunk(fid); // Tremove clunks the fid whether or not the file went
    }
  }

  // ---- helpers ----

  private once(key: string, line: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log(line);
  }

  /** `name` in the directory fid `dir`, for an operation that changes the share. */
  private inDir(dir: Fid, name: string): GuestPath {
    this.share.refuseIfReadOnly();
    this.share.realDir(dir.path);
    return [...dir.path, name];
  }

  private openFid(fid: number): Fid {
    const f = this.fids.get(fid);
    if (f.fd < 0) throw new P9Errno(EBADF, `fid ${fid} is not open`);
    return f;
  }

  /** Bytes left in the reply for data after the 4-byte count. */
  private room(w: MessageWriter): number {
    return Math.max(0, Math.min(this.msize, w.maxBytes) - P9_IOHDR_BYTES);
  }
}

function qidOf(st: fs.BigIntStats): Qid {
  const type = st.isDirectory() ? P9_QTDIR : st.isSymbolicLink() ? P9_QTSYMLINK : P9_QTFILE;
  // The version changes when the file does, so the guest's cache can tell (as QEMU does).
  return { type, version: Number((st.mtimeNs ^ st.size) & 0xffff_ffffn), path: st.ino };
}

/** The d_type byte of a directory entry (DT_*). */
function direntType(st: fs.BigIntStats): number {
  if (st.isDirectory()) return 4;
  if (st.isSymbolicLink()) return 10;
  if (st.isFile()) return 8;
  if (st.isFIFO()) return 1;
  if (st.isCharacterDevice()) return 2;
  if (st.isBlockDevice()) return 6;
  if (st.isSocket()) return 12;
  return 0;
}

/** A failed host call (it names its syscall), as opposed to a bug of ours. */
function isSystemError(e: unknown): boolean {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === "string";
}

function timeOf(sec: bigint, nsec: bigint): number {
  return Number(sec) + Number(nsec % 1_000_000_000n) / 1e9;
}

function position(offset: bigint): number {
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new P9Errno(EINVAL, "an offset past 2^53");
  return Number(offset);
}

/** 9P2000.L open flags to the host's, keeping only what a plain file open needs. */
function hostOpenFlags(flags: number): number {
  const c = fs.constants;
  let host = (flags & DOTL_ACCMODE) === DOTL_RDWR ? c.O_RDWR : (flags & DOTL_ACCMODE) === DOTL_WRONLY ? c.O_WRONLY : c.O_RDONLY;
  if (flags & DOTL_CREATE) host |= c.O_CREAT;
  if (flags & DOTL_EXCL) host |= c.O_EXCL;
  if (flags & DOTL_TRUNC) host |= c.O_TRUNC;
  if (flags & DOTL_DSYNC) host |= c.O_DSYNC;
  if (flags & DOTL_SYNC) host |= c.O_SYNC;
  // O_APPEND is left out: the client sends the offset of every write (it appends by i_size),
  // and a host O_APPEND would ignore that offset.
  return host;
}

