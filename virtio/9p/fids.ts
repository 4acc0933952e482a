// The fid table: the guest's handles on files in the share. A fid is a path below the root
// (never resolved on the host, see share.ts) and, once lopen'ed or lcreate'd, a host file
// descriptor. The table is capped so a guest cannot grow it without bound.

import * as fs from "node:fs";
import { EBADF, EMFILE, P9Errno } from "./errno.ts";
import type { GuestPath } from "./share.ts";

export const MAX_FIDS = 1 << 16;
/** Host descriptors a guest may hold open at once, so it cannot starve the VMM of them. */
export const MAX_OPEN_FDS = 4096;

export interface Fid {
  path: GuestPath;
  /** Host descriptor once opened; -1 before. */
  fd: number;
  isDir: boolean;
  /** Directory entries as of the first Treaddir at offset 0 (offsets index into it). */
  entries?: { name: string }[];
}

export class FidTable {
  private readonly fids = new Map<number, Fid>();
  private openFds = 0;

  get size(): number {
    return this.fids.size;
  }

  get(fid: number): Fid {
    const f = this.fids.get(fid);
    if (!f) throw new P9Errno(EBADF, `unknown fid ${fid}`);
    return f;
  }

  /** Opens a host descriptor for `f` with `open`, within the MAX_OPEN_FDS budget. */
  open(f: Fid, open: () => number): number {
    if (this.openFds >= MAX_OPEN_FDS) throw new P9Errno(EMFILE, `more than ${MAX_OPEN_FDS} open files`);
    f.fd = open();
    this.openFds++;
    return f.fd;
  }

  has(fid: number): boolean {
    return this.fids.has(fid);
  }

  /** Binds `fid` to `path`; an existing fid of that number is clunked first (walk newfid == fid). */
  set(fid: number, path: GuestPath, isDir: boolean): Fid {
    if (!this.fids.has(fid) && this.fids.size >= MAX_FIDS) throw new P9Errno(EMFILE, `more than ${MAX_FIDS} fids`);
    this.clunk(fid);
    const f: Fid = { path, fd: -1, isDir };
    this.fids.set(fid, f);
    return f;
  }

  clunk(fid: number): boolean {
    const f = this.fids.get(fid);
    if (!f) return false;
    if (f.fd >= 0) {
      fs.closeSync(f.fd);
      this.openFds--;
    }
    this.fids.delete(fid);
    return true;
  }

  /** After a rename, every fid at or below `from` now lives below `to`. */
  moved(from: GuestPath, to: GuestPath): void {
    for (const f of this.fids.values()) {
      if (f.path.length >= from.length && from.every((n, i) => f.path[i] === n)) f.path = [...to, ...f.path.slice(from.length)];
    }
  }

  clear(): void {
    for (const fid of [...this.fids.keys()]) this.clunk(fid);
  }
}
