// Lays an FdtNode tree out as a version 17 blob, in the block order dtc and libfdt use:
// header, memory reservation block, structure block, strings block. For the same tree, the
// bytes match `dtc -O dtb` exactly (the tests hold us to that), so dtc is a usable oracle.

import { FdtError } from "./errors.ts";
import {
  FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_LAST_COMP_VERSION, FDT_MAGIC, FDT_PROP, FDT_VERSION,
  HDR_BOOT_CPUID_PHYS, HDR_LAST_COMP_VERSION, HDR_MAGIC, HDR_OFF_DT_STRINGS, HDR_OFF_DT_STRUCT,
  HDR_OFF_MEM_RSVMAP, HDR_SIZE_DT_STRINGS, HDR_SIZE_DT_STRUCT, HDR_TOTALSIZE, HDR_VERSION,
  HEADER_V17_BYTES, RSVMAP_ALIGN, RSV_ENTRY_BYTES, STRUCT_ALIGN, alignUp, type MemReservation,
} from "./format.ts";
import type { FdtNode } from "./tree.ts";

export interface WriteFdtOptions {
  /** boot_cpuid_phys: the physical id (reg) of the boot CPU. Default 0. */
  bootCpuId?: number;
  /** /memreserve/ entries, in order. kvmtool emits none. */
  memReserve?: readonly MemReservation[];
  /** Pad the blob (and totalsize) to exactly this many bytes; FdtError if the tree is larger. */
  padToBytes?: number;
}

const U64_MAX = (1n << 64n) - 1n;

/** A byte buffer that grows as it is written; padding bytes are left zero. */
class ByteSink {
  private buf = new Uint8Array(256);
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      bigger.set(this.buf.subarray(0, at));
      this.buf = bigger;
    }
    this.length += n;
    return at;
  }

  u32(v: number): void {
    const at = this.reserve(4);
    new DataView(this.buf.buffer).setUint32(at, v);
  }

  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length); // before touching buf: reserve may replace it
    this.buf.set(b, at);
  }

  align(alignment: number): void {
    this.reserve(alignUp(this.length, alignment) - this.length);
  }

  contents(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * Property names, each stored once. A name that is the tail of one already stored ("cells" in
 * "#address-cells") points into it, as dtc does; we keep every stored tail in a map rather than
 * rescanning the table.
 */
class StringTable {
  readonly sink = new ByteSink();
  private readonly offsets = new Map<string, number>();

  offsetOf(name: string): number {
    const known = this.offsets.get(name);
    if (known !== undefined) return known;
    const at = this.sink.length;
    this.sink.bytes(asciiZ(name));
    // First writer wins, so a lookup finds the lowest offset, as dtc's linear scan would.
    for (let i = 0; i < name.length; i++) {
      const tail = name.slice(i);
      if (!this.offsets.has(tail)) this.offsets.set(tail, at + i);
    }
    return at;
  }
}

/** Node and property names are printable ASCII (FdtNode checks), so one byte per char. */
function asciiZ(name: string): Uint8Array {
  const out = new Uint8Array(name.length + 1);
  for (let i = 0; i < name.length; i++) out[i] = name.charCodeAt(i);
  return out;
}

function emitNode(node: FdtNode, struct: ByteSink, strings: StringTable): void {
  struct.u32(FDT_BEGIN_NODE);
  struct.bytes(asciiZ(node.name));
  struct.align(STRUCT_ALIGN);
  for (const [name, value] of node.props) {
    struct.u32(FDT_PROP);
    struct.u32(value.length);
    struct.u32(strings.offsetOf(name));
    struct.bytes(value);
    struct.align(STRUCT_ALIGN);
  }
  for (const child of node.children) emitNode(child, struct, strings);
  struct.u32(FDT_END_NODE);
}

function checkU32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`${what} is not a u32: ${v}`);
}

export function writeFdt(root: FdtNode, opts: WriteFdtOptions = {}): Uint8Array {
  if (root.name !== "") throw new Error(`writeFdt: the root node must be named "", not ${JSON.stringify(root.name)}`);
  const bootCpuId = opts.bootCpuId ?? 0;
  checkU32("boot CPU id", bootCpuId);
  const memReserve = opts.memReserve ?? [];
  for (const { address, size } of memReserve) {
    if (address < 0n || address > U64_MAX || size < 0n || size > U64_MAX) {
      throw new RangeError(`memory reservation ${address}+${size} does not fit in 64 bits`);
    }
    // An all-zero entry is the block's terminator: readers would stop there and lose the rest.
    if (address === 0n && size === 0n) throw new RangeError("memory reservation 0+0 would read as the end of the list");
  }

  const struct = new ByteSink();
  const strings = new StringTable();
  emitNode(root, struct, strings);
  struct.u32(FDT_END);

  // The reservation block ends with an all-zero entry.
  const offRsvmap = alignUp(HEADER_V17_BYTES, RSVMAP_ALIGN);
  const offStruct = offRsvmap + (memReserve.length + 1) * RSV_ENTRY_BYTES;
  const offStrings = offStruct + struct.length;
  const usedBytes = offStrings + strings.sink.length;
  let totalBytes = usedBytes;
  if (opts.padToBytes !== undefined) {
    checkU32("padToBytes", opts.padToBytes);
    if (opts.padToBytes < usedBytes) {
      throw new FdtError(`device tree needs ${usedBytes} bytes, more than the ${opts.padToBytes} available`);
    }
    totalBytes = opts.padToBytes;
  }

  const blob = new Uint8Array(totalBytes);
  const view = new DataView(blob.buffer);
  view.setUint32(HDR_MAGIC, FDT_MAGIC);
  view.setUint32(HDR_TOTALSIZE, totalBytes);
  view.setUint32(HDR_OFF_DT_STRUCT, offStruct);
  view.setUint32(HDR_OFF_DT_STRINGS, offStrings);
  view.setUint32(HDR_OFF_MEM_RSVMAP, offRsvmap);
  view.setUint32(HDR_VERSION, FDT_VERSION);
  view.setUint32(HDR_LAST_COMP_VERSION, FDT_LAST_COMP_VERSION);
  view.setUint32(HDR_BOOT_CPUID_PHYS, bootCpuId);
  view.setUint32(HDR_SIZE_DT_STRINGS, strings.sink.length);
  view.setUint32(HDR_SIZE_DT_STRUCT, struct.length);
  memReserve.forEach(({ address, size }, i) => {
    view.setBigUint64(offRsvmap + i * RSV_ENTRY_BYTES, address);
    view.setBigUint64(offRsvmap + i * RSV_ENTRY_BYTES + 8, size);
  });
  blob.set(struct.contents(), offStruct);
  blob.set(strings.sink.contents(), offStrings);
  return blob;
}
