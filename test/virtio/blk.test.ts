import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileError, GuestError } from "../../src/errors.ts";
import {
  BLK_QUEUE_SIZE,
  BLK_SEG_MAX,
  BlkRequestRefused,
  InvalidDataLength,
  MissingStatusByte,
  ReadableAfterWritableDescriptor,
  RequestHeaderTooShort,
  SECTOR_BYTES,
  SectorOutOfRange,
  UnexpectedReadableData,
  UnexpectedWritableData,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VirtioBlk,
  WriteToReadOnlyDisk,
  parseBlkRequest,
  type BlkRequest,
} from "../../virtio/blk.ts";
import { VIRTIO_ID_BLOCK, VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC, featureBit } from "../../virtio/device.ts";
import type { Descriptor } from "../../virtio/queue.ts";
import { Rng } from "../support/diff/random.ts";
import { DriverQueue, MMIO_BASE, RAM_BASE, VERSION_1, guestRam, mmioRig, type Buffer as GuestBuffer } from "../support/virtio-driver.ts";

const HDR = RAM_BASE + 0x10_0000;
const DATA = RAM_BASE + 0x11_0000;
const STATUS = RAM_BASE + 0x1f_0000;
const DISK_SECTORS = 64;

/** A disk image whose every byte says where it is: byte i of sector s is (s * 7 + i) & 0xff. */
function diskImage(sectors = DISK_SECTORS): { path: string; pattern: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "lkvm-blk-"));
  const path = join(dir, "disk.img");
  const pattern = Buffer.alloc(sectors * SECTOR_BYTES);
  for (let i = 0; i < pattern.length; i++) pattern[i] = ((i >> 9) * 7 + i) & 0xff;
  writeFileSync(path, pattern);
  return { path, pattern };
}

function rig(opts: { readOnly?: boolean; sectors?: number } = {}) {
  const { path, pattern } = diskImage(opts.sectors);
  const deviceLog: string[] = [];
  const device = new VirtioBlk({ path, readOnly: opts.readOnly ?? false, log: (l) => deviceLog.push(l) });
  const r = mmioRig(device);
  const q = new DriverQueue(r.mem, BLK_QUEUE_SIZE);
  r.bringUp([q], VERSION_1 | featureBit(VIRTIO_BLK_F_FLUSH) | featureBit(VIRTIO_RING_F_INDIRECT_DESC));
  /** A request as Linux's virtio_blk lays it out: header, data buffers, status byte. */
  const submit = (type: number, sector: number | bigint, data: GuestBuffer[] = []): { id: number; len: number; status: number } => {
    r.mem.setU32(HDR, type);
    r.mem.setU32(HDR + 4, 0);
    const s = BigInt(sector);
    r.mem.setU32(HDR + 8, Number(s & 0xffff_ffffn));
    r.mem.setU32(HDR + 12, Number(s >> 32n));
    r.mem.write(STATUS, Uint8Array.of(0xee));
    q.add([{ gpa: HDR, lengthBytes: 16 }, ...data, { gpa: STATUS, lengthBytes: 1, writable: true }]);
    r.wr("QueueNotify", 0);
    const used = q.takeUsed();
    expect(used).toHaveLength(1);
    return { ...used[0]!, status: r.mem.read(STATUS, 1)[0]! };
  };
  return { ...r, q, device, deviceLog, path, pattern, submit };
}

describe("virtio-blk on a file", () => {
  it("is device 2 and offers SEG_MAX, FLUSH, EVENT_IDX and INDIRECT_DESC; capacity in 512-byte sectors", () => {
    const { rd, features, cpu } = rig();
    expect(rd("DeviceID")).toBe(VIRTIO_ID_BLOCK);
    const f = features();
    for (const bit of [VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_FLUSH, VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC]) {
      expect(f & featureBit(bit), `bit ${bit}`).not.toBe(0n);
    }
    expect(f & featureBit(VIRTIO_BLK_F_RO)).toBe(0n);
    expect(cpu.read64(MMIO_BASE + 0x100)).toBe(BigInt(DISK_SECTORS));
    expect(cpu.read32(MMIO_BASE + 0x100 + 12)).toBe(BLK_SEG_MAX);
  });

  it("reads the sectors the guest asks for into its buffers (IN)", () => {
    const { submit, mem, pattern } = rig();
    const r = submit(VIRTIO_BLK_T_IN, 3, [
      { gpa: DATA, lengthBytes: 512, writable: true },
      { gpa: DATA + 0x1000, lengthBytes: 1024, writable: true },
    ]);
    expect(r).toEqual({ id: 0, len: 1537, status: VIRTIO_BLK_S_OK });
    expect(Buffer.from(mem.read(DATA, 512)).equals(pattern.subarray(3 * 512, 4 * 512))).toBe(true);
    expect(Buffer.from(mem.read(DATA + 0x1000, 1024)).equals(pattern.subarray(4 * 512, 6 * 512))).toBe(true);
  });

  it("writes the guest's buffers to the file (OUT), and FLUSH answers OK", () => {
    const { submit, mem, path, pattern } = rig();
    mem.write(DATA, new Uint8Array(1024).fill(0x5a));
    expect(submit(VIRTIO_BLK_T_OUT, 10, [{ gpa: DATA, lengthBytes: 1024 }])).toMatchObject({ len: 1, status: VIRTIO_BLK_S_OK });
    expect(submit(VIRTIO_BLK_T_FLUSH, 0)).toMatchObject({ len: 1, status: VIRTIO_BLK_S_OK });
    const after = readFileSync(path);
    const expected = Buffer.from(pattern);
    expected.fill(0x5a, 10 * 512, 12 * 512);
    expect(after.equals(expected)).toBe(true);
  });

  it("answers GET_ID with a 20-byte serial", () => {
    const { submit, mem } = rig();
    const r = submit(VIRTIO_BLK_T_GET_ID, 0, [{ gpa: DATA, lengthBytes: 20, writable: true }]);
    expect(r).toMatchObject({ len: 21, status: VIRTIO_BLK_S_OK });
    expect(Buffer.from(mem.read(DATA, 20)).toString("latin1")).toMatch(/^\d+\0*$/);
  });

  it("answers a request type it does not know with UNSUPP", () => {
    const { submit } = rig();
    expect(submit(11 /* DISCARD */, 0, [{ gpa: DATA, lengthBytes: 16 }])).toMatchObject({ len: 1, status: VIRTIO_BLK_S_UNSUPP });
  });

  it("answers a read past the end of the disk with IOERR and goes on", () => {
    const { submit, rd, deviceLog } = rig();
    expect(submit(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, [{ gpa: DATA, lengthBytes: 1024, writable: true }])).toMatchObject({ len: 1, status: VIRTIO_BLK_S_IOERR });
    expect(submit(VIRTIO_BLK_T_IN, 2n ** 64n - 1n, [{ gpa: DATA, lengthBytes: 512, writable: true }])).toMatchObject({ status: VIRTIO_BLK_S_IOERR });
    expect(submit(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, [{ gpa: DATA, lengthBytes: 512, writable: true }])).toMatchObject({ status: VIRTIO_BLK_S_OK });
    expect(rd("Status") & 64).toBe(0);
    expect(deviceLog.filter((l) => /run past/.test(l))).toHaveLength(1);
  });

  it("with ,ro offers VIRTIO_BLK_F_RO, reads, and answers writes with IOERR leaving the file alone", () => {
    const { submit, features, path, pattern, mem } = rig({ readOnly: true });
    expect(features() & featureBit(VIRTIO_BLK_F_RO)).not.toBe(0n);
    expect(submit(VIRTIO_BLK_T_IN, 0, [{ gpa: DATA, lengthBytes: 512, writable: true }]).status).toBe(VIRTIO_BLK_S_OK);
    mem.write(DATA, new Uint8Array(512).fill(1));
    expect(submit(VIRTIO_BLK_T_OUT, 0, [{ gpa: DATA, lengthBytes: 512 }]).status).toBe(VIRTIO_BLK_S_IOERR);
    expect(readFileSync(path).equals(pattern)).toBe(true);
  });

  it("reads a request whose header is split across descriptors and whose status shares the data buffer", () => {
    const { q, wr, mem, pattern } = rig();
    mem.setU32(HDR, VIRTIO_BLK_T_IN);
    mem.setU32(HDR + 4, 0);
    mem.setU32(HDR + 8, 5);
    mem.setU32(HDR + 12, 0);
    q.add([
      { gpa: HDR, lengthBytes: 6 },
      { gpa: HDR + 6, lengthBytes: 10 },
      { gpa: DATA, lengthBytes: 513, writable: true },
    ]);
    wr("QueueNotify", 0);
    expect(q.takeUsed()).toEqual([{ id: 0, len: 513 }]);
    expect(Buffer.from(mem.read(DATA, 512)).equals(pattern.subarray(5 * 512, 6 * 512))).toBe(true);
    expect(mem.read(DATA + 512, 1)[0]).toBe(VIRTIO_BLK_S_OK);
  });

  it("serves a request through an indirect table", () => {
    const { q, wr, mem, pattern } = rig();
    mem.setU32(HDR, VIRTIO_BLK_T_IN);
    mem.setU32(HDR + 8, 7);
    const head = q.indirectChain(RAM_BASE + 0x8_0000, [
      { gpa: HDR, lengthBytes: 16 },
      { gpa: DATA, lengthBytes: 512, writable: true },
      { gpa: STATUS, lengthBytes: 1, writable: true },
    ]);
    q.makeAvailable(head);
    wr("QueueNotify", 0);
    expect(q.takeUsed()).toEqual([{ id: head, len: 513 }]);
    expect(Buffer.from(mem.read(DATA, 512)).equals(pattern.subarray(7 * 512, 8 * 512))).toBe(true);
  });

  it("marks the device NEEDS_RESET when a data descriptor points outside RAM, before touching the file", () => {
    const { q, wr, mem, rd, path, pattern } = rig();
    mem.setU32(HDR, VIRTIO_BLK_T_OUT);
    q.add([{ gpa: HDR, lengthBytes: 16 }, { gpa: 0x1000_0000, lengthBytes: 512 }, { gpa: STATUS, lengthBytes: 1, writable: true }]);
    wr("QueueNotify", 0);
    expect(q.takeUsed()).toEqual([]);
    expect(rd("Status") & 64).toBe(64);
    expect(readFileSync(path).equals(pattern)).toBe(true);
  });

  it("refuses an image it cannot open as a FileError", () => {
    expect(() => new VirtioBlk({ path: "/nonexistent/disk.img", readOnly: false })).toThrow(FileError);
  });
});

// ---- property test: random requests, each generated together with the verdict it must get ----

type Verdict = BlkRequest["kind"] | (new (...args: never[]) => GuestError);

const CAPACITY = 64n;

interface Generated {
  descriptors: Descriptor[];
  readOnly: boolean;
  verdict: Verdict;
  /** For accepted IN/OUT/GET_ID: the data bytes the request should carry. */
  dataBytes?: number;
  why: string;
}

/** Splits n bytes into 1..4 pieces (some possibly empty). */
function split(rng: Rng, n: number): number[] {
  const pieces = rng.range(1, 4);
  const cuts = Array.from({ length: pieces - 1 }, () => rng.range(0, n)).sort((a, b) => a - b);
  const out: number[] = [];
  let prev = 0;
  for (const c of [...cuts, n]) {
    out.push(c - prev);
    prev = c;
  }
  return out;
}

/**
 * Builds a request with exactly one kind of fault (or none) and says what parsing must answer.
 * The header goes at the start of the readable stream; both streams are cut at random points.
 */
function generate(rng: Rng, mem: ReturnType<typeof guestRam>["mem"]): Generated {
  const sectors = rng.range(0, 4);
  const aligned = sectors * SECTOR_BYTES;
  const ragged = aligned + rng.range(1, SECTOR_BYTES - 1);
  const inRange = () => BigInt(rng.range(0, Number(CAPACITY) - sectors));
  const fault = rng.pick(["none", "order", "noStatus", "shortHeader", "readableData", "writableData", "badLength", "outOfRange", "readOnly"] as const);
  let type = rng.pick([VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, 11, 0x7fff_ffff]);
  let sector = inRange();
  let readOnly = rng.chance(0.2) && type !== VIRTIO_BLK_T_OUT;
  let headerBytes = 16;
  let outBytes = 0; // readable after the header
  let inBytes = 0; // writable before the status
  let status = 1;
  let trailingReadable = 0;
  let verdict: Verdict;
  let dataBytes: number | undefined;
  const kinds: Record<number, BlkRequest["kind"]> = { [VIRTIO_BLK_T_IN]: "in", [VIRTIO_BLK_T_OUT]: "out", [VIRTIO_BLK_T_FLUSH]: "flush", [VIRTIO_BLK_T_GET_ID]: "get-id" };
  switch (fault) {
    case "none":
      if (type === VIRTIO_BLK_T_IN) inBytes = aligned;
      if (type === VIRTIO_BLK_T_OUT) outBytes = aligned;
      if (type === VIRTIO_BLK_T_GET_ID) inBytes = rng.range(0, 40);
      verdict = kinds[type] ?? "unsupported";
      dataBytes = type === VIRTIO_BLK_T_GET_ID ? Math.min(inBytes, 20) : aligned;
      break;
    case "order":
      trailingReadable = rng.range(0, 64);
      inBytes = rng.range(0, 600);
      verdict = ReadableAfterWritableDescriptor;
      break;
    case "noStatus":
      type = rng.pick([VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH]);
      status = 0;
      outBytes = rng.range(0, 1024);
      verdict = MissingStatusByte;
      break;
    case "shortHeader":
      headerBytes = rng.range(0, 15);
      inBytes = rng.range(0, 1024);
      verdict = RequestHeaderTooShort;
      break;
    case "readableData":
      type = rng.pick([VIRTIO_BLK_T_IN, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID]);
      outBytes = rng.range(1, 1024);
      inBytes = type === VIRTIO_BLK_T_FLUSH ? 0 : aligned;
      verdict = UnexpectedReadableData;
      break;
    case "writableData":
      type = rng.pick([VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH]);
      inBytes = rng.range(1, 1024);
      outBytes = type === VIRTIO_BLK_T_OUT ? aligned : 0;
      verdict = UnexpectedWritableData;
      break;
    case "badLength":
      type = rng.pick([VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT]);
      if (type === VIRTIO_BLK_T_IN) inBytes = ragged;
      else outBytes = ragged;
      sector = rng.chance() ? inRange() : 2n ** 64n - 1n; // the length is checked before the range
      verdict = InvalidDataLength;
      break;
    case "outOfRange": {
      type = rng.pick([VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT]);
      const n = Math.max(sectors, 1);
      if (type === VIRTIO_BLK_T_IN) inBytes = n * SECTOR_BYTES;
      else outBytes = n * SECTOR_BYTES;
      sector = rng.pick([CAPACITY - BigInt(n) + 1n, CAPACITY, 2n ** 63n, 2n ** 64n - BigInt(n)]);
      readOnly = rng.chance(0.3); // the range is checked before read-only
      verdict = SectorOutOfRange;
      break;
    }
    case "readOnly":
      type = VIRTIO_BLK_T_OUT;
      outBytes = aligned;
      readOnly = true;
      verdict = WriteToReadOnlyDisk;
      break;
  }

  // Lay the two streams out in guest memory, cut into descriptors at random points.
  let next = RAM_BASE + 0x10_0000;
  const descriptors: Descriptor[] = [];
  const place = (n: number, writable: boolean): number[] => {
    const gpas: number[] = [];
    for (const len of split(rng, n)) {
      descriptors.push({ gpa: next, lengthBytes: len, writable });
      for (let i = 0; i < len; i++) gpas.push(next + i);
      next += len + rng.range(0, 64);
    }
    return gpas;
  };
  const header = new Uint8Array(16);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, type, true);
  hv.setUint32(4, rng.u32(), true);
  hv.setBigUint64(8, sector, true);
  const readableGpas = place(headerBytes + outBytes, false);
  readableGpas.slice(0, headerBytes).forEach((gpa, i) => mem.write(gpa, header.subarray(i, i + 1)));
  place(inBytes + status, true);
  if (trailingReadable > 0 || fault === "order") place(trailingReadable, false);
  return { descriptors, readOnly, verdict, dataBytes, why: `${fault}: type ${type}, sector ${sector}, header ${headerBytes}, out ${outBytes}, in ${inBytes}, status ${status}, ro ${readOnly}` };
}

describe("parseBlkRequest on random requests", () => {
  it("gives every generated request the verdict its generator predicted", () => {
    const seed = Number(process.env.BLK_PROPERTY_SEED ?? 0x5eed);
    const rng = new Rng(seed);
    const counts = new Map<string, number>();
    const { mem } = guestRam();
    for (let n = 0; n < 3000; n++) {
      const g = generate(rng, mem);
      let got: Verdict;
      let req: BlkRequest | undefined;
      try {
        req = parseBlkRequest(mem, g.descriptors, { capacitySectors: CAPACITY, readOnly: g.readOnly });
        got = req.kind;
      } catch (e) {
        if (!(e instanceof BlkRequestRefused)) throw e;
        got = e.error.constructor as Verdict;
        // A refused request with a status byte can still be answered.
        const writable = g.descriptors.filter((d) => d.writable && d.lengthBytes > 0);
        expect(e.statusGpa === undefined, g.why).toBe(writable.length === 0);
      }
      const name = typeof g.verdict === "string" ? g.verdict : g.verdict.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      expect(got, `seed ${seed}, case ${n}: ${g.why}`).toBe(g.verdict);
      if (req && "data" in req) {
        expect(req.data.reduce((s, d) => s + d.lengthBytes, 0), g.why).toBe(g.dataBytes);
        expect(req.dataBytes).toBe(g.dataBytes);
      }
      if (req) {
        const lastWritable = g.descriptors.filter((d) => d.writable && d.lengthBytes > 0).at(-1)!;
        expect(req.statusGpa).toBe(lastWritable.gpa + lastWritable.lengthBytes - 1);
      }
    }
    // Every verdict came up.
    expect(counts.size).toBe(13);
  });
});
