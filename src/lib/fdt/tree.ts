// An in-memory device tree: nodes hold properties (already encoded to their blob bytes) and
// ordered children. Building a bad tree (a bad name, a u32 out of range) is our bug and throws
// a plain Error; decoding a property of the wrong shape from a user's blob throws FdtError.

import { FdtError } from "./errors.ts";

/**
 * A property value as code writes it:
 * - null: an empty property (`interrupt-controller;`)
 * - string: NUL-terminated text; string[]: a string list, each NUL-terminated
 * - number[]: big-endian u32 cells; bigint: one u64 as two cells
 * - Uint8Array: raw bytes, as read back from a blob
 */
export type FdtValue = null | string | string[] | number[] | bigint | Uint8Array;

const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Splits a u64 into the [hi, lo] cell pair that `reg` and `ranges` use. */
export function u64Cells(v: bigint | number): number[] {
  if (typeof v === "number" && !Number.isSafeInteger(v)) {
    throw new RangeError(`u64Cells: ${v} is not an integer`);
  }
  const big = BigInt(v);
  if (big < 0n || big > U64_MAX) throw new RangeError(`u64Cells: ${v} does not fit in 64 bits`);
  return [Number(big >> 32n), Number(big & 0xffff_ffffn)];
}

/**
 * Why `name` cannot name a node or property, or undefined if it can. We accept any printable
 * ASCII except '/' (the path separator): a little wider than the spec's character set, since
 * kvmtool itself uses names like "U6_16550A@1000000", and dtc only warns about odd characters.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "name is empty";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return `name contains character code ${c}`;
    if (c === 0x2f) return "name contains '/'";
  }
  return undefined;
}

function checkName(kind: string, name: string): void {
  const problem = nameProblem(name);
  if (problem) throw new Error(`bad FDT ${kind} name ${JSON.stringify(name)}: ${problem}`);
}

function encodeString(s: string): Uint8Array {
  if (s.includes("\0")) throw new Error(`FDT string value contains NUL: ${JSON.stringify(s)}`);
  const text = utf8.encode(s);
  const out = new Uint8Array(text.length + 1);
  out.set(text);
  return out;
}

/** Encodes a value into the bytes a blob stores for it. */
export function encodeValue(value: FdtValue): Uint8Array {
  if (value === null) return new Uint8Array(0);
  if (typeof value === "string") return encodeString(value);
  if (value instanceof Uint8Array) return value.slice();
  if (typeof value === "bigint") return encodeValue(u64Cells(value));
  if (value.length === 0) return new Uint8Array(0);
  if (typeof value[0] === "string") {
    const parts = (value as string[]).map(encodeString);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
  const cells = value as number[];
  const out = new Uint8Array(cells.length * 4);
  const view = new DataView(out.buffer);
  cells.forEach((cell, i) => {
    if (typeof cell !== "number" || !Number.isInteger(cell) || cell < 0 || cell > U32_MAX) {
      throw new RangeError(`FDT cell ${i} is not a u32: ${String(cell)}`);
    }
    view.setUint32(i * 4, cell);
  });
  return out;
}

export class FdtNode {
  readonly name: string;
  private readonly propBytes = new Map<string, Uint8Array>();
  // The value as given to prop(), so getProp hands code back what it wrote.
  private readonly propValues = new Map<string, FdtValue>();
  private readonly childList: FdtNode[] = [];

  /** `name` is "" for the root, otherwise e.g. "cpu@0". */
  constructor(name: string) {
    if (name !== "") checkName("node", name);
    this.name = name;
  }

  get props(): ReadonlyMap<string, Uint8Array> {
    return this.propBytes;
  }

  get children(): readonly FdtNode[] {
    return this.childList;
  }

  /** Sets a property. A new one goes last; replacing one keeps its place. */
  prop(name: string, value: FdtValue): this {
    checkName("property", name);
    const bytes = encodeValue(value);
    this.propBytes.set(name, bytes);
    this.propValues.set(name, value instanceof Uint8Array ? bytes : value);
    return this;
  }

  /** Creates and appends a child node; a second child of the same name is a bug. */
  child(name: string): FdtNode {
    checkName("node", name); // only the root may be nameless
    if (this.childList.some((c) => c.name === name)) {
      throw new Error(`FDT node ${JSON.stringify(this.name)} already has a child ${JSON.stringify(name)}`);
    }
    const node = new FdtNode(name);
    this.childList.push(node);
    return node;
  }

  /** The value as set; for a tree read from a blob, the raw bytes (see getCells & co.). */
  getProp(name: string): FdtValue | undefined {
    return this.propValues.get(name);
  }

  /**
   * Looks up a descendant: "/chosen", "/cpus/cpu@0" ("/" is this node). As in libfdt, a
   * component without a unit address also matches "name@unit", when no exact name matches.
   */
  find(path: string): FdtNode | undefined {
    let node: FdtNode | undefined = this;
    for (const part of path.split("/")) {
      if (part === "" || node === undefined) continue;
      const kids: readonly FdtNode[] = node.children;
      node =
        kids.find((c) => c.name === part) ??
        (part.includes("@") ? undefined : kids.find((c) => c.name.startsWith(`${part}@`)));
    }
    return node;
  }

  // Typed views of a property, for trees read from a blob. Undefined when absent; FdtError
  // when the bytes do not have the asked-for shape.

  getCells(name: string): number[] | undefined {
    const bytes = this.propBytes.get(name);
    if (bytes === undefined) return undefined;
    if (bytes.length % 4 !== 0) throw this.shapeError(name, "u32 cells");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Array.from({ length: bytes.length / 4 }, (_, i) => view.getUint32(i * 4));
  }

  getU64(name: string): bigint | undefined {
    const bytes = this.propBytes.get(name);
    if (bytes === undefined) return undefined;
    if (bytes.length !== 8) throw this.shapeError(name, "a u64");
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
  }

  getStrings(name: string): string[] | undefined {
    const bytes = this.propBytes.get(name);
    if (bytes === undefined) return undefined;
    if (bytes.length === 0) return [];
    if (bytes[bytes.length - 1] !== 0) throw this.shapeError(name, "NUL-terminated strings");
    try {
      return utf8Strict.decode(bytes.subarray(0, -1)).split("\0");
    } catch {
      throw this.shapeError(name, "UTF-8 strings");
    }
  }

  getString(name: string): string | undefined {
    const strings = this.getStrings(name);
    if (strings === undefined) return undefined;
    if (strings.length !== 1) throw this.shapeError(name, "one string");
    return strings[0];
  }

  private shapeError(prop: string, want: string): FdtError {
    return new FdtError(`device tree property ${this.name || "/"}:${prop} is not ${want}`);
  }
}
