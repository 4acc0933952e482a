// The shared directory, and the rules that keep the guest inside it.
//
// A guest path is a list of names below the root; it never holds "", ".", ".." or "/", so the
// host path is always root + "/" + names, and ".." is handled by dropping a name (at the root
// there is none to drop: ".." stays there). Node has no openat(), so the host resolves that
// path again at each use; the guest must not be able to slip a symlink into it:
//
// - Every name the guest sends is checked (checkName): no "/" or NUL, not "." or "..", at most
//   255 bytes (ENAMETOOLONG).
// - Walking looks at each step with lstat and refuses to go *through* a symlink (the guest's
//   kernel follows symlinks itself, by readlink and a new walk); a walk may end on one.
// - Before an operation acts on a name in a directory, realDir() asks the host for the
//   directory's real path and requires it to be exactly root + names: then no component is a
//   symlink, and the operation's own call (unlink, rename, mkdir, symlink, link, lchown,
//   lutimes) does not follow its last component either.
// - Opens use O_NOFOLLOW (a symlink as the last component fails with ELOOP) and O_NONBLOCK
//   (a FIFO cannot block the VMM), then the descriptor's own path is read back from
//   /proc/self/fd and must be root + names: a directory swapped for a symlink between the
//   check and the open (by a host process; the guest cannot run while its request is served,
//   as every vCPU shares this thread) is caught after the fact and the file closed, before
//   O_TRUNC is applied (by ftruncate, once the check has passed). A file created through such a
//   swapped directory is not caught this way; creation relies on the realDir() check.
// - Only regular files and directories are opened: device nodes, FIFOs and sockets are refused
//   with EPERM (kvmtool's fix for CVE-2023-2861: a guest-made device node would otherwise
//   open host devices).
// - A read-only share refuses every change with EROFS before touching the host.

import * as fs from "node:fs";
import { ConfigError } from "../../src/errors.ts";
import { ConfinementRefused, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EPERM, EROFS, EINVAL, P9Errno } from "./errno.ts";

export const NAME_MAX_BYTES = 255;

/** A path below the root, as names. */
export type GuestPath = readonly string[];

const PROC_FD = "/proc/self/fd";

export class Share {
  /** The root's real path: symlinks in what the user typed are resolved once, here. */
  readonly root: string;
  readonly readOnly: boolean;
  private readonly canCheckFds: boolean;

  constructor(dir: string, readOnly: boolean) {
    let st: fs.Stats;
    try {
      this.root = fs.realpathSync.native(dir);
      st = fs.statSync(this.root);
    } catch (e) {
      throw new ConfigError(`cannot share '${dir}': ${(e as NodeJS.ErrnoException).code}`);
    }
    if (!st.isDirectory()) throw new ConfigError(`cannot share '${dir}': not a directory`);
    this.readOnly = readOnly;
    this.canCheckFds = fs.existsSync(PROC_FD);
  }

  /** Whether opens are re-checked through /proc/self/fd (Linux hosts). */
  protected get checksOpenedPaths(): boolean {
    return this.canCheckFds;
  }

  hostPath(p: GuestPath): string {
    return p.length === 0 ? this.root : `${this.root}/${p.join("/")}`;
  }

  /** A name the guest sent for one directory entry. */
  checkName(name: Uint8Array): string {
    if (name.length > NAME_MAX_BYTES) throw new P9Errno(ENAMETOOLONG, `a ${name.length}-byte name`);
    if (name.length === 0 || name.includes(0x2f) || name.includes(0)) throw new P9Errno(EINVAL, "a name with '/' or NUL, or empty");
    const s = Buffer.from(name).toString("utf8");
    // Names that are not UTF-8 would not round-trip through a JS string: refuse them.
    if (!Buffer.from(s, "utf8").equals(name)) throw new P9Errno(EINVAL, "a name that is not UTF-8");
    if (s === "." || s === "..") throw new P9Errno(EINVAL, `the name '${s}'`);
    return s;
  }

  refuseIfReadOnly(): void {
    if (this.readOnly) throw new P9Errno(EROFS, "the share is read-only");
  }

  /** Throws unless the host resolves `dir` to exactly root + names (no symlink on the way). */
  realDir(dir: GuestPath): string {
    const expected = this.hostPath(dir);
    const real = fs.realpathSync.native(expected);
    if (real !== expected) throw new ConfinementRefused(ELOOP, `'${expected}' resolves to '${real}', through a symlink`);
    if (!fs.statSync(real).isDirectory()) throw new P9Errno(ENOTDIR);
    return real;
  }

  /** lstat of `p`, with its parent checked: the stats of what the guest names, never of a symlink's target. */
  lstat(p: GuestPath): fs.BigIntStats {
    if (p.length > 0) this.realDir(p.slice(0, -1));
    return fs.lstatSync(this.hostPath(p), { bigint: true });
  }

  /** One step of a walk from the directory `dir` (whose chain was already checked). */
  step(dir: GuestPath, dirStats: fs.BigIntStats, name: string): { path: GuestPath; stats: fs.BigIntStats } {
    if (name === "..") {
      const up = dir.slice(0, -1);
      return { path: up, stats: fs.lstatSync(this.hostPath(up), { bigint: true }) };
    }
    if (dirStats.isSymbolicLink()) throw new ConfinementRefused(ELOOP, `a walk through the symlink '${this.hostPath(dir)}'`);
    if (!dirStats.isDirectory()) throw new P9Errno(ENOTDIR);
    const path = [...dir, name];
    return { path, stats: fs.lstatSync(this.hostPath(path), { bigint: true }) };
  }

  /**
   * Opens `p` without following a symlink anywhere on it; only regular files and directories.
   * `flags` are host open flags.
   */
  open(p: GuestPath, flags: number, mode = 0o644): number {
    const { O_NOFOLLOW, O_NONBLOCK } = fs.constants;
    if (p.length > 0) this.realDir(p.slice(0, -1));
    const expected = this.hostPath(p);
    if (!(flags & fs.constants.O_CREAT)) {
      const before = fs.lstatSync(expected);
      if (!before.isFile() && !before.isDirectory() && !before.isSymbolicLink()) {
        throw new ConfinementRefused(EPERM, `opening the special file '${expected}'`);
      }
    }
    // Truncation waits until the descriptor has been checked: O_TRUNC would act at once.
    const { O_TRUNC } = fs.constants;
    const fd = fs.openSync(expected, (flags & ~O_TRUNC) | O_NOFOLLOW | O_NONBLOCK, mode);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() && !st.isDirectory()) throw new ConfinementRefused(EPERM, `opening the special file '${expected}'`);
      if (this.checksOpenedPaths) {
        const real = fs.readlinkSync(`${PROC_FD}/${fd}`);
        if (real !== expected) throw new ConfinementRefused(ELOOP, `'${expected}' was opened as '${real}'`);
      }
      if (flags & O_TRUNC) fs.ftruncateSync(fd, 0);
      return fd;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Whether the thing at `p` exists (without following a last symlink). */
  exists(p: GuestPath): boolean {
    try {
      this.lstat(p);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e instanceof P9Errno && e.errno === ENOENT)) return false;
      throw e;
    }
  }
}
