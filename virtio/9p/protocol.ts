// The 9P2000.L wire format (Linux's include/net/9p/9p.h and Documentation/filesystems/9p.rst;
// the message layouts are those of diod's protocol.md): little-endian integers, strings as a
// u16 length and bytes, qids of 13 bytes. A message is size[4] type[1] tag[2] then its fields.
//
// The reader distrusts every length: a field that runs past the message end is a
// MalformedMessage, a guest error answered with EPROTO. The writer refuses to grow past the
// negotiated msize, so no reply can be larger than the client accepts.

import { GuestError } from "../../src/errors.ts";

export const P9_HEADER_BYTES = 7; // size[4] type[1] tag[2]
export const P9_NOTAG = 0xffff;
export const P9_NOFID = 0xffff_ffff;
export const P9_QID_BYTES = 13;
export const P9_MAXWELEM = 16;
export const P9_VERSION_L = "9P2000.L";

/** Message types: each T is answered by T + 1 (R), or by Rlerror. */
export const P9 = {
  Rlerror: 7,
  Tstatfs: 8,
  Tlopen: 12,
  Tlcreate: 14,
  Tsymlink: 16,
  Tmknod: 18,
  Trename: 20,
  Treadlink: 22,
  Tgetattr: 24,
  Tsetattr: 26,
  Txattrwalk: 30,
  Txattrcreate: 32,
  Treaddir: 40,
  Tfsync: 50,
  Tlock: 52,
  Tgetlock: 54,
  Tlink: 70,
  Tmkdir: 72,
  Trenameat: 74,
  Tunlinkat: 76,
  Tversion: 100,
  Tauth: 102,
  Tattach: 104,
  Tflush: 108,
  Twalk: 110,
  Tread: 116,
  Twrite: 118,
  Tclunk: 120,
  Tremove: 122,
} as const;

/** Qid types. */
export const P9_QTDIR = 0x80;
export const P9_QTSYMLINK = 0x02;
export const P9_QTFILE = 0x00;

export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

/** A message, or a field in it, that does not fit the bytes the guest sent. */
export class MalformedMessage extends GuestError {
  override name = "MalformedMessage";
}

export class MessageReader {
  private at = P9_HEADER_BYTES;
  readonly sizeBytes: number;
  readonly type: number;
  readonly tag: number;
  private readonly dv: DataView;

  /** `bytes` holds one whole message; its size field must match its length. */
  constructor(private readonly bytes: Uint8Array) {
    if (bytes.length < P9_HEADER_BYTES) throw new MalformedMessage(`a ${bytes.length}-byte message is shorter than the 7-byte header`);
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.sizeBytes = this.dv.getUint32(0, true);
    this.type = bytes[4]!;
    this.tag = this.dv.getUint16(5, true);
    if (this.sizeBytes !== bytes.length) throw new MalformedMessage(`size field ${this.sizeBytes} does not match the ${bytes.length} bytes given`);
  }

  private take(n: number): number {
    if (n > this.bytes.length - this.at) throw new MalformedMessage(`message type ${this.type} ends inside a field`);
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(): number {
    return this.bytes[this.take(1)]!;
  }
  u16(): number {
    return this.dv.getUint16(this.take(2), true);
  }
  u32(): number {
    return this.dv.getUint32(this.take(4), true);
  }
  u64(): bigint {
    return this.dv.getBigUint64(this.take(8), true);
  }
  /** The raw bytes of a string (names are compared and limited in bytes, not characters). */
  strBytes(): Uint8Array {
    const n = this.u16();
    const at = this.take(n);
    return this.bytes.subarray(at, at + n);
  }
  str(): string {
    return Buffer.from(this.strBytes()).toString("utf8");
  }
  /** `n` bytes of payload, without copying. */
  data(n: number): Uint8Array {
    const at = this.take(n);
    return this.bytes.subarray(at, at + n);
  }
}

/** The reply would be larger than the negotiated msize. */
export class ReplyTooLarge extends Error {
  override name = "ReplyTooLarge";
}

export class MessageWriter {
  private buf: Buffer;
  private at = P9_HEADER_BYTES;

  constructor(type: number, tag: number, readonly maxBytes: number, initialBytes = 256) {
    this.buf = Buffer.alloc(Math.min(Math.max(initialBytes, P9_HEADER_BYTES), maxBytes));
    this.buf[4] = type;
    this.buf.writeUInt16LE(tag, 5);
  }

  get lengthBytes(): number {
    return this.at;
  }

  private room(n: number): number {
    if (this.at + n > this.maxBytes) throw new ReplyTooLarge(`reply of more than ${this.maxBytes} bytes`);
    if (this.at + n > this.buf.length) {
      const grown = Buffer.alloc(Math.min(this.maxBytes, Math.max(this.buf.length * 2, this.at + n)));
      this.buf.copy(grown, 0, 0, this.at);
      this.buf = grown;
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  // room() may replace this.buf, so it runs before this.buf is read.
  u8(v: number): this {
    const at = this.room(1);
    this.buf[at] = v;
    return this;
  }
  u16(v: number): this {
    const at = this.room(2);
    this.buf.writeUInt16LE(v, at);
    return this;
  }
  u32(v: number): this {
    const at = this.room(4);
    this.buf.writeUInt32LE(v >>> 0, at);
    return this;
  }
  u64(v: bigint | number): this {
    const at = this.room(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), at);
    return this;
  }
  str(s: string | Uint8Array): this {
    const bytes = typeof s === "string" ? Buffer.from(s, "utf8") : s;
    if (bytes.length > 0xffff) throw new ReplyTooLarge("a string longer than 65535 bytes");
    this.u16(bytes.length);
    const at = this.room(bytes.length);
    this.buf.set(bytes, at);
    return this;
  }
  qid(q: Qid): this {
    return this.u8(q.type).u32(q.version).u64(q.path);
  }
  data(bytes: Uint8Array): this {
    const at = this.room(bytes.length);
    this.buf.set(bytes, at);
    return this;
  }
  /** Reserves `n` bytes for the caller to fill (a file read lands there directly). */
  reserve(n: number): Uint8Array {
    const at = this.room(n);
    return this.buf.subarray(at, at + n);
  }
  /** Gives back the last `n` reserved bytes (a short read). */
  unreserve(n: number): void {
    this.at -= n;
  }
  /** Position of the next byte, to patch a count written before its data. */
  mark(): number {
    return this.at;
  }
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, at);
  }

  finish(): Uint8Array {
    this.buf.writeUInt32LE(this.at, 0);
    return this.buf.subarray(0, this.at);
  }
}
