// Parses a blob into an FdtNode tree. The blob may come from the user (--dtb), so every
// header field, offset, length and token is checked before use: a malformed blob throws
// FdtError, nothing is read out of bounds, and every loop advances toward a fixed end.

import { FdtError } from "./errors.ts";
import {
  FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_MAGIC, FDT_MAX_DEPTH, FDT_NOP, FDT_OLDEST_READABLE_VERSION,
  FDT_PROP, FDT_VERSION, HDR_BOOT_CPUID_PHYS, HDR_LAST_COMP_VERSION, HDR_MAGIC, HDR_OFF_DT_STRINGS,
  HDR_OFF_DT_STRUCT, HDR_OFF_MEM_RSVMAP, HDR_SIZE_DT_STRINGS, HDR_SIZE_DT_STRUCT, HDR_TOTALSIZE,
  HDR_VERSION, HEADER_V16_BYTES, HEADER_V17_BYTES, RSVMAP_ALIGN, RSV_ENTRY_BYTES, STRUCT_ALIGN,
  alignUp, type MemReservation,
} from "./format.ts";
import { FdtNode, nameProblem } from "./tree.ts";

export interface ParsedFdt {
  root: FdtNode;
  /** boot_cpuid_phys from the header. */
  bootCpuId: number;
  memReserve: MemReservation[];
}

/** A byte range [start, end) of the blob. */
interface Block {
  start: number;
  end: number;
}

function fail(message: string): never {
  throw new FdtError(`bad device tree blob: ${message}`);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

export function readFdt(blob: Uint8Array): ParsedFdt {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < 4) fail(`only ${blob.length} bytes long`);
  const magic = view.getUint32(HDR_MAGIC);
  if (magic !== FDT_MAGIC) fail(`magic is ${hex(magic)}, not ${hex(FDT_MAGIC)}`);
  if (blob.length < HEADER_V16_BYTES) fail(`only ${blob.length} bytes long, shorter than a header`);

  const version = view.getUint32(HDR_VERSION);
  const lastCompVersion = view.getUint32(HDR_LAST_COMP_VERSION);
  if (version < FDT_OLDEST_READABLE_VERSION) fail(`version ${version} is older than ${FDT_OLDEST_READABLE_VERSION}`);
  if (lastCompVersion > FDT_VERSION) fail(`needs a reader of version ${lastCompVersion}; we read ${FDT_VERSION}`);
  if (lastCompVersion > version) fail(`last compatible version ${lastCompVersion} is newer than version ${version}`);
  const headerBytes = version >= 17 ? HEADER_V17_BYTES : HEADER_V16_BYTES;
  if (blob.length < headerBytes) fail(`only ${blob.length} bytes long, shorter than a v${version} header`);

  const totalBytes = view.getUint32(HDR_TOTALSIZE);
  if (totalBytes < headerBytes) fail(`totalsize ${totalBytes} is smaller than the header`);
  if (totalBytes > blob.length) fail(`totalsize ${totalBytes} but only ${blob.length} bytes present`);

  // A block lies after the header and inside totalsize. Sums of two u32s are exact in a double.
  const block = (what: string, offset: number, lengthBytes: number, alignment: number): Block => {
    if (offset % alignment !== 0) fail(`${what} offset ${hex(offset)} is not ${alignment}-byte aligned`);
    if (offset < headerBytes) fail(`${what} offset ${hex(offset)} overlaps the header`);
    if (offset + lengthBytes > totalBytes) fail(`${what} (${hex(offset)}+${lengthBytes}) runs past totalsize ${totalBytes}`);
    return { start: offset, end: offset + lengthBytes };
  };
  const offStruct = view.getUint32(HDR_OFF_DT_STRUCT);
  // Version 16 does not record the structure block's size; it can run to the end of the blob.
  const structBytes = version >= 17 ? view.getUint32(HDR_SIZE_DT_STRUCT) : Math.max(0, totalBytes - offStruct);
  const struct = block("structure block", offStruct, structBytes, STRUCT_ALIGN);
  const strings = block("strings block", view.getUint32(HDR_OFF_DT_STRINGS), view.getUint32(HDR_SIZE_DT_STRINGS), 1);
  // The reservation block's length is known only once its terminator is found.
  const rsvmap = block("memory reservation block", view.getUint32(HDR_OFF_MEM_RSVMAP), 0, RSVMAP_ALIGN);

  return {
    root: readStructure(blob, view, struct, strings),
    bootCpuId: view.getUint32(HDR_BOOT_CPUID_PHYS),
    memReserve: readReservations(view, rsvmap.start, totalBytes),
  };
}

function readReservations(view: DataView, start: number, totalBytes: number): MemReservation[] {
  const entries: MemReservation[] = [];
  for (let off = start; ; off += RSV_ENTRY_BYTES) {
    if (off + RSV_ENTRY_BYTES > totalBytes) fail("memory reservation block has no terminating entry");
    const address = view.getBigUint64(off);
    const size = view.getBigUint64(off + 8);
    if (address === 0n && size === 0n) return entries;
    entries.push({ address, size });
  }
}

/** The NUL-terminated ASCII name starting at `start`, which must end before `end`. */
function readName(blob: Uint8Array, start: number, end: number, what: string): string {
  const nul = blob.subarray(start, end).indexOf(0);
  if (nul < 0) fail(`${what} at ${hex(start)} is not NUL-terminated`);
  let name = "";
  for (let i = start; i < start + nul; i++) name += String.fromCharCode(blob[i]);
  return name;
}

function readStructure(blob: Uint8Array, view: DataView, struct: Block, strings: Block): FdtNode {
  let off = struct.start;
  const token = (): number => {
    if (off + 4 > struct.end) fail("structure block ends without an FDT_END token");
    const t = view.getUint32(off);
    off += 4;
    return t;
  };

  let root: FdtNode | undefined;
  const open: FdtNode[] = []; // the nodes begun and not yet ended, innermost last
  for (;;) {
    const at = off;
    const t = token();
    switch (t) {
      case FDT_BEGIN_NODE: {
        const name = readName(blob, off, struct.end, "node name");
        off = alignUp(off + name.length + 1, STRUCT_ALIGN);
        const parent = open.at(-1);
        if (parent === undefined) {
          if (root !== undefined) fail(`second root node at ${hex(at)}`);
          if (name !== "") fail(`root node is named ${JSON.stringify(name)}, not ""`);
          root = new FdtNode("");
          open.push(root);
          break;
        }
        const problem = nameProblem(name);
        if (problem) fail(`node at ${hex(at)}: ${problem}`);
        if (parent.children.some((c) => c.name === name)) fail(`node ${JSON.stringify(name)} appears twice in one parent`);
        if (open.length >= FDT_MAX_DEPTH) fail(`nodes nest deeper than ${FDT_MAX_DEPTH}`);
        open.push(parent.child(name));
        break;
      }
      case FDT_END_NODE:
        if (open.pop() === undefined) fail(`FDT_END_NODE at ${hex(at)} with no node open`);
        break;
      case FDT_PROP: {
        const lengthBytes = token();
        const nameOffset = token();
        const node = open.at(-1);
        if (node === undefined) fail(`property at ${hex(at)} outside any node`);
        if (lengthBytes > struct.end - off) fail(`property at ${hex(at)} (${lengthBytes} bytes) runs past the structure block`);
        if (nameOffset >= strings.end - strings.start) fail(`property at ${hex(at)} names string offset ${hex(nameOffset)}, outside the strings block`);
        const name = readName(blob, strings.start + nameOffset, strings.end, "property name");
        const problem = nameProblem(name);
        if (problem) fail(`property at ${hex(at)}: ${problem}`);
        if (node.props.has(name)) fail(`property ${JSON.stringify(name)} appears twice in one node`);
        node.prop(name, blob.subarray(off, off + lengthBytes));
        off = alignUp(off + lengthBytes, STRUCT_ALIGN);
        break;
      }
      case FDT_NOP:
        break;
      case FDT_END:
        if (root === undefined) fail("structure block has no root node");
        if (open.length > 0) fail(`FDT_END at ${hex(at)} with ${open.length} node(s) still open`);
        return root;
      default:
        fail(`unknown token ${hex(t)} at ${hex(at)}`);
    }
  }
}
