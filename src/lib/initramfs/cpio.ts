// The "newc" cpio format (magic 070701), the only one the Linux kernel unpacks as an
// initramfs. Each entry is a 110-byte ASCII header of 13 eight-digit hex fields, the
// NUL-terminated name, padding so header+name is a multiple of 4, then the data padded to a
// multiple of 4. The archive ends with an entry named TRAILER!!!.

import { gunzipSync, gzipSync } from "node:zlib";
import { ConfigError, FileError } from "../../errors.ts";

/** A cpio archive (or its gzip wrapper) that cannot be parsed. */
export class CpioFormatError extends FileError {
  override name = "CpioFormatError";
}

export type CpioType = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

/** What the writer takes. Paths are relative to the archive root ("bin/sh", not "/bin/sh"). */
export interface CpioEntry {
  path: string;
  type: CpioType;
  /** Permission bits (0o7777); the file-type bits come from `type`. */
  mode?: number;
  /** File contents; only for type "file". */
  data?: Uint8Array;
  /** Link target; only for type "symlink". */
  target?: string;
  /** Device number; only for "char" and "block". */
  rdevMajor?: number;
  rdevMinor?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; defaults to the writer's mtime option. */
  mtime?: number;
}

/** What the reader returns: every header field, decoded. */
export interface CpioRecord {
  path: string;
  type: CpioType;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  ino: number;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  /** Raw data: file contents, or the link target's bytes for a symlink. */
  data: Uint8Array;
  target?: string;
}

const MAGIC = "070701";
const MAGIC_CRC = "070702"; // same layout plus a byte-sum checksum; the kernel accepts both
const HEADER = 110;
/** Longest name field, NUL included: the kernel's PATH_MAX, and what readCpio accepts. */
export const CPIO_MAX_NAME_BYTES = 4096;
const TRAILER = "TRAILER!!!";

const S_IFMT = 0o170000;
const TYPE_BITS: Record<CpioType, number> = {
  socket: 0o140000,
  symlink: 0o120000,
  file: 0o100000,
  block: 0o060000,
  dir: 0o040000,
  char: 0o020000,
  fifo: 0o010000,
};
const BITS_TYPE = new Map(Object.entries(TYPE_BITS).map(([t, b]) => [b, t as CpioType]));

const DEFAULT_MODE: Record<CpioType, number> = {
  file: 0o644, dir: 0o755, symlink: 0o777, char: 0o600, block: 0o600, fifo: 0o644, socket: 0o644,
};

const pad4 = (n: number) => (4 - (n % 4)) % 4;
const utf8 = new TextEncoder();

/** Normalise and check an archive path: no leading "/", no empty, "." or ".." components. */
export function cpioPath(path: string): string {
  const p = path.replace(/^\/+/, "").replace(/\/+$/, "");
  if (p === "" || p === ".") return ".";
  if (p.includes("\0")) throw new ConfigError(`cpio: path contains a NUL byte: ${JSON.stringify(path)}`);
  for (const part of p.split("/")) {
    if (part === "" || part === "." || part === "..") {
      throw new ConfigError(`cpio: invalid path ${JSON.stringify(path)}`);
    }
  }
  return p;
}

function u32(value: number, what: string, path: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ConfigError(`cpio: ${what} ${value} of ${path} does not fit the newc header`);
  }
  return value;
}

function header(fields: number[]): string {
  return MAGIC + fields.map((f) => f.toString(16).padStart(8, "0")).join("");
}

export interface WriteOptions {
  /** mtime for entries that do not set one; a fixed default keeps output reproducible. */
  mtime?: number;
}

/** Serialise entries, in order, followed by the trailer. Parents must precede children. */
export function writeCpio(entries: readonly CpioEntry[], opts: WriteOptions = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    total += b.length;
  };
  const zeros = new Uint8Array(4);
  const seen = new Set<string>();
  let ino = 1;

  const emit = (fields: number[], name: Uint8Array, data: Uint8Array) => {
    push(utf8.encode(header(fields)));
    push(name);
    push(zeros.subarray(0, pad4(HEADER + name.length)));
    push(data);
    push(zeros.subarray(0, pad4(data.length)));
  };

  for (const e of entries) {
    const path = cpioPath(e.path);
    if (path === TRAILER) throw new ConfigError(`cpio: ${TRAILER} is reserved`);
    if (seen.has(path)) throw new ConfigError(`cpio: duplicate path ${path}`);
    seen.add(path);
    const typeBits = TYPE_BITS[e.type];
    if (typeBits === undefined) throw new ConfigError(`cpio: unknown type ${String(e.type)} for ${path}`);
    const perm = e.mode ?? DEFAULT_MODE[e.type];
    if (!Number.isInteger(perm) || perm < 0 || perm > 0o7777) {
      throw new ConfigError(`cpio: mode ${perm} of ${path} is not a permission mask`);
    }
    let data: Uint8Array;
    if (e.type === "file") data = e.data ?? new Uint8Array(0);
    else if (e.type === "symlink") {
      if (!e.target) throw new ConfigError(`cpio: symlink ${path} has no target`);
      data = utf8.encode(e.target);
    } else data = new Uint8Array(0);
    if (e.data && e.type !== "file") throw new ConfigError(`cpio: ${e.type} ${path} cannot carry data`);
    const name = utf8.encode(path + "\0");
    if (name.length > CPIO_MAX_NAME_BYTES) {
      throw new ConfigError(`cpio: path ${path.slice(0, 40)}… is ${name.length - 1} bytes; the kernel takes at most ${CPIO_MAX_NAME_BYTES - 1}`);
    }
    const isDev = e.type === "char" || e.type === "block";
    emit(
      [
        ino++,
        typeBits | perm,
        u32(e.uid ?? 0, "uid", path),
        u32(e.gid ?? 0, "gid", path),
        // Directories get 2 so the kernel never mistakes anything for a hard link: it only
        // looks for links among regular files with nlink >= 2.
        e.type === "dir" ? 2 : 1,
        u32(e.mtime ?? opts.mtime ?? 0, "mtime", path),
        u32(data.length, "size", path),
        0, 0,
        u32(isDev ? (e.rdevMajor ?? 0) : 0, "rdev major", path),
        u32(isDev ? (e.rdevMinor ?? 0) : 0, "rdev minor", path),
        name.length,
        0,
      ],
      name,
      data,
    );
  }
  const trailer = utf8.encode(TRAILER + "\0");
  emit([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, trailer.length, 0], trailer, new Uint8Array(0));

  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** writeCpio, gzip'd at the highest level: initramfs images are written once, read often. */
export function writeCpioGz(entries: readonly CpioEntry[], opts: WriteOptions = {}): Uint8Array {
  return gzipSync(writeCpio(entries, opts), { level: 9 });
}

const HEX8 = /^[0-9A-Fa-f]{8}$/;
const latin1 = new TextDecoder("latin1");
const utf8d = new TextDecoder("utf-8");

/**
 * Parse an archive (plain or gzip'd) into its entries, trailer excluded. Concatenated
 * archives, separated by zero padding, are read as one, as the kernel does.
 */
export function readCpio(input: Uint8Array): CpioRecord[] {
  let buf = input;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (err) {
      throw new CpioFormatError(`cpio: bad gzip data: ${(err as Error).message}`);
    }
  }
  const records: CpioRecord[] = [];
  let off = 0;
  let sawTrailer = false;
  while (true) {
    if (sawTrailer) {
      // After a trailer only zero padding or another archive may follow.
      while (off < buf.length && buf[off] === 0) off++;
      if (off === buf.length) break;
      sawTrailer = false;
    }
    if (off === buf.length) throw new CpioFormatError("cpio: archive is truncated (no TRAILER!!! entry)");
    if (off + HEADER > buf.length) {
      throw new CpioFormatError(`cpio: truncated header at offset ${off}`);
    }
    const hdr = latin1.decode(buf.subarray(off, off + HEADER));
    const magic = hdr.slice(0, 6);
    if (magic !== MAGIC && magic !== MAGIC_CRC) {
      throw new CpioFormatError(`cpio: bad magic ${JSON.stringify(magic)} at offset ${off} (want ${MAGIC})`);
    }
    const f: number[] = [];
    for (let i = 0; i < 13; i++) {
      const s = hdr.slice(6 + i * 8, 14 + i * 8);
      if (!HEX8.test(s)) throw new CpioFormatError(`cpio: bad header field ${JSON.stringify(s)} at offset ${off}`);
      f.push(parseInt(s, 16));
    }
    const [ino, mode, uid, gid, nlink, mtime, size, devMajor, devMinor, rdevMajor, rdevMinor, namesize, check] =
      f as [number, number, number, number, number, number, number, number, number, number, number, number, number];
    const nameStart = off + HEADER;
    if (namesize < 2 || namesize > CPIO_MAX_NAME_BYTES) {
      throw new CpioFormatError(`cpio: bad name size ${namesize} at offset ${off}`);
    }
    if (nameStart + namesize > buf.length) throw new CpioFormatError(`cpio: truncated name at offset ${off}`);
    const nameBytes = buf.subarray(nameStart, nameStart + namesize);
    if (nameBytes[namesize - 1] !== 0 || nameBytes.indexOf(0) !== namesize - 1) {
      throw new CpioFormatError(`cpio: name at offset ${off} is not NUL-terminated`);
    }
    const path = utf8d.decode(nameBytes.subarray(0, namesize - 1));
    const dataStart = nameStart + namesize + pad4(HEADER + namesize);
    const dataEnd = dataStart + size;
    if (dataStart > buf.length || dataEnd > buf.length) {
      throw new CpioFormatError(`cpio: truncated data for ${path} (${size} bytes declared)`);
    }
    const data = buf.subarray(dataStart, dataEnd);
    if (magic === MAGIC_CRC) {
      let sum = 0;
      for (const b of data) sum = (sum + b) >>> 0;
      if (sum !== check) throw new CpioFormatError(`cpio: checksum mismatch for ${path}`);
    }
    off = dataEnd + pad4(size);
    if (path === TRAILER) {
      // The padding after the trailer may be cut off; nothing else may be.
      off = Math.min(off, buf.length);
      sawTrailer = true;
      continue;
    }
    if (off > buf.length) throw new CpioFormatError(`cpio: truncated padding after ${path}`);
    const type = BITS_TYPE.get(mode & S_IFMT);
    if (type === undefined) {
      throw new CpioFormatError(`cpio: unknown file type in mode ${mode.toString(8)} of ${path}`);
    }
    if (size !== 0 && type !== "file" && type !== "symlink") {
      throw new CpioFormatError(`cpio: ${type} ${path} has ${size} bytes of data`);
    }
    if (type === "symlink" && size === 0) throw new CpioFormatError(`cpio: symlink ${path} has no target`);
    records.push({
      path, type, mode: mode & 0o7777, uid, gid, nlink, mtime, ino,
      devMajor, devMinor, rdevMajor, rdevMinor, data,
      ...(type === "symlink" ? { target: utf8d.decode(data) } : {}),
    });
  }
  return records;
}
