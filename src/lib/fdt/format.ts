// Constants of the flattened device tree format (Devicetree Specification v0.4, chapter 5).
// Every multi-byte field in a blob is big-endian.

export const FDT_MAGIC = 0xd00dfeed;

/** The version we write, and the oldest version a reader of ours must understand. */
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
/** Version 16 lacks size_dt_struct; older ones put full paths in node names, so we stop at 16. */
export const FDT_OLDEST_READABLE_VERSION = 16;

/** Header byte offsets. */
export const HDR_MAGIC = 0;
export const HDR_TOTALSIZE = 4;
export const HDR_OFF_DT_STRUCT = 8;
export const HDR_OFF_DT_STRINGS = 12;
export const HDR_OFF_MEM_RSVMAP = 16;
export const HDR_VERSION = 20;
export const HDR_LAST_COMP_VERSION = 24;
export const HDR_BOOT_CPUID_PHYS = 28;
export const HDR_SIZE_DT_STRINGS = 32;
export const HDR_SIZE_DT_STRUCT = 36;
export const HEADER_V16_BYTES = 36;
export const HEADER_V17_BYTES = 40;

/** One memory reservation entry: a u64 address and a u64 size. */
export const RSV_ENTRY_BYTES = 16;

/** Structure block tokens. */
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;

/** Structure tokens and the reservation block are aligned to these. */
export const STRUCT_ALIGN = 4;
export const RSVMAP_ALIGN = 8;

/**
 * Deepest node nesting the reader accepts. Real trees are under ten deep; the cap keeps a
 * hostile blob from building a tree that recursive consumers (writer, printer) overflow on.
 */
export const FDT_MAX_DEPTH = 64;

/** A /memreserve/ entry: guest-physical bytes the OS must leave alone. */
export interface MemReservation {
  address: bigint;
  size: bigint;
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
