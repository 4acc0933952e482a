// virtio-blk (virtio 1.2 §5.2) on a host file: `-d disk.img` or `-d disk.img,ro`.
//
// One request queue of 256. Offered: SEG_MAX (254, as kvmtool: a request's segments plus its
// header and status fit the queue), FLUSH, RO for `,ro`, and the ring features EVENT_IDX and
// INDIRECT_DESC. Requests: IN, OUT, FLUSH, GET_ID; any other type is answered UNSUPP.
//
// A request is read without assuming how the driver split it into descriptors (§2.7.4): the
// device-readable buffers form one byte stream that starts with the 16-byte header (and, for
// OUT, continues with the data); the device-writable buffers form another that ends with the
// status byte (and, for IN and GET_ID, starts with the data). `parseBlkRequest` checks every
// rule before the file is touched: 512-byte multiples, the sector range (in bigint, so it
// cannot overflow), a status byte to write to, data only where the type allows it.
//
// A request that breaks a rule is answered with VIRTIO_BLK_S_IOERR (when it has a status byte)
// and logged once per kind; the queue goes on. A broken queue (bad addresses, loops) is the
// transport's business: it marks the device DEVICE_NEEDS_RESET.
//
// Differences from kvmtool:
// - `,ro` advertises VIRTIO_BLK_F_RO and answers writes with IOERR, leaving the file untouched;
//   kvmtool maps the file privately, so writes succeed and vanish at exit.
// - `,direct` (O_DIRECT) is not supported.
// - The file is read and written synchronously, on the vCPU thread, during QueueNotify.

import * as fs from "node:fs";
import { FileError, GuestError } from "../src/errors.ts";
import type { GuestMemory } from "../src/kvm/guest-memory.ts";
import {
  VIRTIO_ID_BLOCK,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  featureBit,
  type ActivateContext,
  type VirtioDevice,
  type VirtioLifecycle,
} from "./device.ts";
import type { Descriptor, DescriptorChain } from "./queue.ts";

// Feature bits (bit numbers).
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_FLUSH = 9;

// Request types and status values.
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

export const SECTOR_BYTES = 512;
export const BLK_REQUEST_HEADER_BYTES = 16; // { type u32, reserved u32, sector u64 }
export const VIRTIO_BLK_ID_BYTES = 20;
export const BLK_QUEUE_SIZE = 256;
export const BLK_SEG_MAX = BLK_QUEUE_SIZE - 2;

// Configuration space (struct virtio_blk_config): the fields up to write_zeroes_may_unmap.
export const BLK_CONFIG_CAPACITY = 0; // u64, in 512-byte sectors
export const BLK_CONFIG_SEG_MAX = 12; // u32
export const BLK_CONFIG_BYTES = 60;

// ---- what the guest did wrong in a request ----

export class ReadableAfterWritableDescriptor extends GuestError {
  override name = "ReadableAfterWritableDescriptor";
  constructor() {
    super("a device-readable buffer follows a device-writable one");
  }
}

export class MissingStatusByte extends GuestError {
  override name = "MissingStatusByte";
  constructor() {
    super("the request has no device-writable byte for its status");
  }
}

export class RequestHeaderTooShort extends GuestError {
  override name = "RequestHeaderTooShort";
  constructor(readonly readableBytes: number) {
    super(`the request's device-readable part has ${readableBytes} bytes, less than the ${BLK_REQUEST_HEADER_BYTES}-byte header`);
  }
}

export class UnexpectedReadableData extends GuestError {
  override name = "UnexpectedReadableData";
  constructor(readonly type: number, readonly bytes: number) {
    super(`request type ${type} carries ${bytes} device-readable bytes after its header`);
  }
}

export class UnexpectedWritableData extends GuestError {
  override name = "UnexpectedWritableData";
  constructor(readonly type: number, readonly bytes: number) {
    super(`request type ${type} has ${bytes} device-writable bytes besides its status`);
  }
}

export class InvalidDataLength extends GuestError {
  override name = "InvalidDataLength";
  constructor(readonly bytes: number) {
    super(`data length ${bytes} is not a multiple of ${SECTOR_BYTES}`);
  }
}

export class SectorOutOfRange extends GuestError {
  override name = "SectorOutOfRange";
  constructor(readonly sector: bigint, readonly sectors: number, readonly capacity: bigint) {
    super(`sectors [${sector}, +${sectors}) run past the disk's ${capacity} sectors`);
  }
}

export class WriteToReadOnlyDisk extends GuestError {
  override name = "WriteToReadOnlyDisk";
  constructor() {
    super("write to a read-only disk");
  }
}

// ---- requests ----

/** A stretch of guest memory. */
export interface Segment {
  gpa: number;
  lengthBytes: number;
}

export type BlkRequest =
  | { kind: "in"; sector: bigint; data: Segment[]; dataBytes: number; statusGpa: number }
  | { kind: "out"; sector: bigint; data: Segment[]; dataBytes: number; statusGpa: number }
  | { kind: "flush"; statusGpa: number }
  | { kind: "get-id"; data: Segment[]; dataBytes: number; statusGpa: number }
  | { kind: "unsupported"; type: number; statusGpa: number };

export interface BlkRequestContext {
  capacitySectors: bigint;
  readOnly: boolean;
}

/** A request that broke a rule; `statusGpa` is where to answer IOERR, if there is a status byte. */
export class BlkRequestRefused extends Error {
  override name = "BlkRequestRefused";
  constructor(
    readonly error: GuestError,
    readonly statusGpa: number | undefined,
  ) {
    super(error.message);
  }
}

/** [from, from + lengthBytes) of the byte stream the segments form, as segments. */
function carve(segs: readonly Segment[], from: number, lengthBytes: number): Segment[] {
  const out: Segment[] = [];
  let skip = from;
  let want = lengthBytes;
  for (const s of segs) {
    if (want === 0) break;
    if (skip >= s.lengthBytes) {
      skip -= s.lengthBytes;
      continue;
    }
    const n = Math.min(s.lengthBytes - skip, want);
    if (n > 0) out.push({ gpa: s.gpa + skip, lengthBytes: n });
    want -= n;
    skip = 0;
  }
  return out;
}

const total = (segs: readonly Segment[]): number => segs.reduce((n, s) => n + s.lengthBytes, 0);

/** Where the last byte of a byte stream lies. */
function lastByte(segs: readonly Segment[]): number {
  for (let i = segs.length - 1; i >= 0; i--) if (segs[i]!.lengthBytes > 0) return segs[i]!.gpa + segs[i]!.lengthBytes - 1;
  throw new Error("lastByte of an empty stream");
}

/**
 * Checks a request against every rule, touching nothing but its header. Throws
 * BlkRequestRefused carrying the GuestError for the first rule broken, in this order: buffer
 * order, status byte, header, then the type's own rules.
 */
export function parseBlkRequest(mem: GuestMemory, descriptors: readonly Descriptor[], ctx: BlkRequestContext): BlkRequest {
  const readable: Segment[] = [];
  const writable: Segment[] = [];
  let orderBroken = false;
  for (const d of descriptors) {
    if (d.writable) writable.push(d);
    else if (writable.length > 0) orderBroken = true;
    else readable.push(d);
  }
  const writableBytes = total(writable);
  const statusGpa = writableBytes > 0 ? lastByte(writable) : undefined;
  const refuse = (e: GuestError): never => {
    throw new BlkRequestRefused(e, statusGpa);
  };
  if (orderBroken) refuse(new ReadableAfterWritableDescriptor());
  if (statusGpa === undefined) return refuse(new MissingStatusByte());
  const readableBytes = total(readable);
  if (readableBytes < BLK_REQUEST_HEADER_BYTES) refuse(new RequestHeaderTooShort(readableBytes));

  const header = new Uint8Array(BLK_REQUEST_HEADER_BYTES);
  let at = 0;
  for (const s of carve(readable, 0, BLK_REQUEST_HEADER_BYTES)) {
    header.set(mem.view(s.gpa, s.lengthBytes), at);
    at += s.lengthBytes;
  }
  const hv = new DataView(header.buffer);
  const type = hv.getUint32(0, true);
  const sector = hv.getBigUint64(8, true);
  const inBytes = writableBytes - 1; // device-writable bytes before the status
  const outBytes = readableBytes - BLK_REQUEST_HEADER_BYTES; // device-readable bytes after the header

  const checkRange = (dataBytes: number) => {
    if (dataBytes % SECTOR_BYTES !== 0) refuse(new InvalidDataLength(dataBytes));
    const sectors = dataBytes / SECTOR_BYTES;
    if (sector + BigInt(sectors) > ctx.capacitySectors) refuse(new SectorOutOfRange(sector, sectors, ctx.capacitySectors));
  };

  switch (type) {
    case VIRTIO_BLK_T_IN:
      if (outBytes !== 0) refuse(new UnexpectedReadableData(type, outBytes));
      checkRange(inBytes);
      return { kind: "in", sector, data: carve(writable, 0, inBytes), dataBytes: inBytes, statusGpa };
    case VIRTIO_BLK_T_OUT:
      if (inBytes !== 0) refuse(new UnexpectedWritableData(type, inBytes));
      checkRange(outBytes);
      if (ctx.readOnly) refuse(new WriteToReadOnlyDisk());
      return { kind: "out", sector, data: carve(readable, BLK_REQUEST_HEADER_BYTES, outBytes), dataBytes: outBytes, statusGpa };
    case VIRTIO_BLK_T_FLUSH:
      if (outBytes !== 0) refuse(new UnexpectedReadableData(type, outBytes));
      if (inBytes !== 0) refuse(new UnexpectedWritableData(type, inBytes));
      return { kind: "flush", statusGpa };
    case VIRTIO_BLK_T_GET_ID: {
      if (outBytes !== 0) refuse(new UnexpectedReadableData(type, outBytes));
      const n = Math.min(inBytes, VIRTIO_BLK_ID_BYTES);
      return { kind: "get-id", data: carve(writable, 0, n), dataBytes: n, statusGpa };
    }
    default:
      return { kind: "unsupported", type, statusGpa };
  }
}

// ---- the device ----

export interface VirtioBlkOptions {
  path: string;
  readOnly: boolean;
  log?: (line: string) => void;
}

export class VirtioBlk implements VirtioDevice {
  static readonly description = { name: "virtio-blk", level: "virtioDev" } as const;

  readonly name = "virtio-blk";
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly features: bigint;
  readonly queueSizesMax = [BLK_QUEUE_SIZE];
  readonly config = new Uint8Array(BLK_CONFIG_BYTES);
  readonly kernelConfig = "CONFIG_VIRTIO_BLK";
  readonly path: string;
  readonly readOnly: boolean;
  readonly capacitySectors: bigint;
  /** GET_ID's answer: up to 20 bytes, NUL-padded. */
  readonly serial: Uint8Array;
  private fd: number;
  private lifecycle: VirtioLifecycle = { state: "inactive" };
  private readonly log: (line: string) => void;
  private readonly logged = new Set<string>();

  constructor(opts: VirtioBlkOptions) {
    this.path = opts.path;
    this.readOnly = opts.readOnly;
    this.log = opts.log ?? (() => {});
    let st: fs.Stats;
    try {
      this.fd = fs.openSync(opts.path, opts.readOnly ? "r" : "r+");
      st = fs.fstatSync(this.fd);
    } catch (e) {
      throw new FileError(`cannot open disk image '${opts.path}': ${(e as NodeJS.ErrnoException).code}`);
    }
    if (!st.isFile()) {
      fs.closeSync(this.fd);
      throw new FileError(`disk image '${opts.path}' is not a regular file`);
    }
    this.capacitySectors = BigInt(Math.floor(st.size / SECTOR_BYTES));
    // Like kvmtool, the serial number is made from the file's identity (device and inode).
    this.serial = new Uint8Array(VIRTIO_BLK_ID_BYTES);
    this.serial.set(new TextEncoder().encode(`${st.dev}${st.rdev}${st.ino}`).subarray(0, VIRTIO_BLK_ID_BYTES));

    let features = featureBit(VIRTIO_BLK_F_SEG_MAX) | featureBit(VIRTIO_BLK_F_FLUSH);
    features |= featureBit(VIRTIO_RING_F_EVENT_IDX) | featureBit(VIRTIO_RING_F_INDIRECT_DESC);
    if (opts.readOnly) features |= featureBit(VIRTIO_BLK_F_RO);
    this.features = features;
    const cv = new DataView(this.config.buffer);
    cv.setBigUint64(BLK_CONFIG_CAPACITY, this.capacitySectors, true);
    cv.setUint32(BLK_CONFIG_SEG_MAX, BLK_SEG_MAX, true);
  }

  activate(ctx: ActivateContext): void {
    this.lifecycle = { state: "active", ...ctx };
  }

  reset(): void {
    this.lifecycle = { state: "inactive" };
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  notify(queueIndex: number): void {
    const l = this.lifecycle;
    if (l.state !== "active") return;
    const q = l.queues[queueIndex]!;
    try {
      for (let chain = q.pop(l.mem); chain !== null; chain = q.pop(l.mem)) {
        q.pushUsed(l.mem, chain.head, this.handle(l.mem, chain));
      }
    } finally {
      // Requests served before a broken chain still get their interrupt.
      if (q.needsInterrupt(l.mem)) l.interrupt.usedBuffer(queueIndex);
    }
  }

  /** Serves one request; returns the bytes written into the chain (data and status). */
  private handle(mem: GuestMemory, chain: DescriptorChain): number {
    let req: BlkRequest;
    try {
      req = parseBlkRequest(mem, chain.descriptors, { capacitySectors: this.capacitySectors, readOnly: this.readOnly });
    } catch (e) {
      if (!(e instanceof BlkRequestRefused)) throw e;
      this.once(e.error.name, `${e.error.message}; answered IOERR`);
      if (e.statusGpa === undefined) return 0;
      mem.write(e.statusGpa, Uint8Array.of(VIRTIO_BLK_S_IOERR));
      return 1;
    }
    let status = VIRTIO_BLK_S_OK;
    let dataBytes = 0;
    try {
      switch (req.kind) {
        case "in":
          this.read(mem, req.data, Number(req.sector) * SECTOR_BYTES);
          dataBytes = req.dataBytes;
          break;
        case "out":
          this.write(mem, req.data, Number(req.sector) * SECTOR_BYTES);
          break;
        case "flush":
          fs.fsyncSync(this.fd);
          break;
        case "get-id":
          for (let i = 0, at = 0; i < req.data.length; i++) {
            const s = req.data[i]!;
            mem.write(s.gpa, this.serial.subarray(at, at + s.lengthBytes));
            at += s.lengthBytes;
          }
          dataBytes = req.dataBytes;
          break;
        case "unsupported":
          this.once(`type-${req.type}`, `request type ${req.type} is not supported; answered UNSUPP`);
          status = VIRTIO_BLK_S_UNSUPP;
          break;
      }
    } catch (e) {
      if (e instanceof GuestError) throw e; // a guest address the queue checks missed: NEEDS_RESET
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      this.once(`io-${code}`, `${req.kind} of '${this.path}' failed: ${code}; answered IOERR`);
      status = VIRTIO_BLK_S_IOERR;
    }
    mem.write(req.statusGpa, Uint8Array.of(status));
    return dataBytes + 1;
  }

  private read(mem: GuestMemory, data: readonly Segment[], position: number): void {
    for (const s of data) {
      mem.fill(s.gpa, s.lengthBytes, (view) => {
        let done = 0;
        while (done < view.length) {
          const n = fs.readSync(this.fd, view, done, view.length - done, position + done);
          if (n === 0) break;
          done += n;
        }
        // The file shrank under us: what is past its end reads as zeros.
        view.fill(0, done);
      });
      position += s.lengthBytes;
    }
  }

  private write(mem: GuestMemory, data: readonly Segment[], position: number): void {
    for (const s of data) {
      const view = mem.view(s.gpa, s.lengthBytes);
      let done = 0;
      while (done < view.length) done += fs.writeSync(this.fd, view, done, view.length - done, position + done);
      position += s.lengthBytes;
    }
  }

  private once(key: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log(`${this.name} (${this.path}): ${message}`);
  }
}
