// A DTB can come from the user, so every malformation must end in FdtError: never another
// exception, an out-of-bounds read or a hang.

import { describe, expect, it } from "vitest";
import { FdtError } from "../../src/lib/fdt/errors.ts";
import { readFdt } from "../../src/lib/fdt/reader.ts";
import { writeFdt } from "../../src/lib/fdt/writer.ts";
import { kvmtoolTree } from "../support/kvmtool-tree.ts";

const BEGIN_NODE = 1;
const END_NODE = 2;
const PROP = 3;
const NOP = 4;
const END = 9;

/** A structure block word: a number is one u32; a string is a NUL-terminated, padded name. */
type Word = number | string;

/** A v17 blob with an empty reservation map and the given structure and strings blocks. */
function rawBlob(words: Word[], strings = ""): Uint8Array {
  const struct: number[] = [];
  for (const w of words) {
    if (typeof w === "number") {
      struct.push(w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff);
    } else {
      const bytes = [...Buffer.from(`${w}\0`, "latin1")];
      while (bytes.length % 4 !== 0) bytes.push(0);
      struct.push(...bytes);
    }
  }
  const offStruct = 40 + 16;
  const offStrings = offStruct + struct.length;
  const blob = new Uint8Array(offStrings + strings.length);
  const v = new DataView(blob.buffer);
  [0xd00dfeed, blob.length, offStruct, offStrings, 40, 17, 16, 0, strings.length, struct.length]
    .forEach((field, i) => v.setUint32(i * 4, field));
  blob.set(struct, offStruct);
  blob.set(Buffer.from(strings, "latin1"), offStrings);
  return blob;
}

/** Parses, or returns the FdtError; any other exception fails the test. */
function outcome(blob: Uint8Array): "ok" | FdtError {
  try {
    readFdt(blob);
    return "ok";
  } catch (e) {
    if (e instanceof FdtError) return e;
    throw e;
  }
}

const rejects = (blob: Uint8Array) => expect(() => readFdt(blob)).toThrow(FdtError);

describe("readFdt rejects a malformed header", () => {
  const good = writeFdt(kvmtoolTree(), { memReserve: [{ address: 0x9000_0000n, size: 0x1000n }] });
  const withField = (offset: number, value: number) => {
    const blob = good.slice();
    new DataView(blob.buffer).setUint32(offset, value);
    return blob;
  };

  it("accepts the unmodified blob", () => {
    expect(outcome(good)).toBe("ok");
  });

  it("rejects every truncation", () => {
    for (let n = 0; n < good.length; n++) rejects(good.subarray(0, n));
  });

  it.each([
    ["bad magic", 0, 0xedfe0dd0],
    ["totalsize past the data", 4, good.length + 1],
    ["totalsize inside the header", 4, 39],
    ["misaligned structure block", 8, 58],
    ["structure block over the header", 8, 0],
    ["structure block past totalsize", 8, good.length],
    ["strings block past totalsize", 12, good.length - 2],
    ["reservation map misaligned", 16, 44],
    ["reservation map over the header", 16, 32],
    ["reservation map without a terminator", 16, (good.length & ~7) - 8],
    ["version too old", 20, 15],
    ["needs a newer reader", 24, 18],
    ["last compatible version after version", 20, 16, 24, 17],
    ["structure size past totalsize", 36, good.length],
    ["structure size cutting the tree short", 36, 64],
    ["strings size past totalsize", 32, 0xffff_ffff],
    ["strings size cutting names short", 32, 3],
  ])("rejects %s", (_what, offset, value, offset2?, value2?) => {
    const blob = withField(offset, value);
    if (offset2 !== undefined) new DataView(blob.buffer).setUint32(offset2, value2!);
    rejects(blob);
  });
});

describe("readFdt rejects a malformed structure block", () => {
  it("accepts a well-formed minimal tree, with NOPs anywhere", () => {
    expect(outcome(rawBlob([BEGIN_NODE, "", END_NODE, END]))).toBe("ok");
    const { root } = readFdt(rawBlob([NOP, BEGIN_NODE, "", NOP, PROP, 0, 0, NOP, END_NODE, NOP, END], "e\0"));
    expect([...root.props.keys()]).toEqual(["e"]);
  });

  it.each<[string, Word[], string?]>([
    ["an empty block", []],
    ["no FDT_END", [BEGIN_NODE, "", END_NODE]],
    ["a node left open", [BEGIN_NODE, "", END]],
    ["FDT_END_NODE with no node open", [END_NODE, END]],
    ["FDT_END before any node", [END]],
    ["a property outside any node", [PROP, 0, 0, BEGIN_NODE, "", END_NODE, END], "e\0"],
    ["a property after the root closed", [BEGIN_NODE, "", END_NODE, PROP, 0, 0, END], "e\0"],
    ["an unknown token", [BEGIN_NODE, "", 5, END_NODE, END]],
    ["two roots", [BEGIN_NODE, "", END_NODE, BEGIN_NODE, "", END_NODE, END]],
    ["a named root", [BEGIN_NODE, "root", END_NODE, END]],
    ["a child with no name", [BEGIN_NODE, "", BEGIN_NODE, "", END_NODE, END_NODE, END]],
    ["a child name with a slash", [BEGIN_NODE, "", BEGIN_NODE, "a/b", END_NODE, END_NODE, END]],
    ["a child name with a control character", [BEGIN_NODE, "", BEGIN_NODE, "a\tb", END_NODE, END_NODE, END]],
    ["a node name running off the block", [BEGIN_NODE, "", BEGIN_NODE, 0x61626364]],
    ["two children of one name", [BEGIN_NODE, "", BEGIN_NODE, "a", END_NODE, BEGIN_NODE, "a", END_NODE, END_NODE, END]],
    ["two properties of one name", [BEGIN_NODE, "", PROP, 0, 0, PROP, 0, 0, END_NODE, END], "e\0"],
    ["a property name offset past the strings", [BEGIN_NODE, "", PROP, 0, 2, END_NODE, END], "e\0"],
    ["a property name with no NUL", [BEGIN_NODE, "", PROP, 0, 0, END_NODE, END], "abc"],
    ["an empty property name", [BEGIN_NODE, "", PROP, 0, 0, END_NODE, END], "\0"],
    ["a property value past the block", [BEGIN_NODE, "", PROP, 1000, 0, END_NODE, END], "e\0"],
    ["a property value running into FDT_END", [BEGIN_NODE, "", END_NODE, PROP, 8, 0, END], "e\0"],
    ["a property header cut short", [BEGIN_NODE, "", PROP, 0]],
  ])("rejects %s", (_what, words, strings) => {
    rejects(rawBlob(words, strings));
  });

  it("bounds nesting depth", () => {
    const nested = (depth: number): Word[] => [
      BEGIN_NODE, "",
      ...Array.from({ length: depth }, () => [BEGIN_NODE, "n"]).flat(),
      ...Array.from({ length: depth + 1 }, () => END_NODE),
      END,
    ];
    expect(outcome(rawBlob(nested(63)))).toBe("ok");
    rejects(rawBlob(nested(64)));
    rejects(rawBlob(nested(10_000)));
  });
});

/** mulberry32: small, seeded, good enough to scatter mutations reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe("readFdt under random corruption", () => {
  it("either parses or throws FdtError, and what parses can be written again", () => {
    const good = writeFdt(kvmtoolTree(), { memReserve: [{ address: 0x9000_0000n, size: 0x1000n }] });
    const random = rng(0x1dd7);
    const below = (n: number) => Math.floor(random() * n);
    // Values that make offsets, lengths and tokens land on edges.
    const interesting = [0, 1, 2, 3, 4, 9, 16, 40, 56, 0x7fff_ffff, 0xffff_ffff, good.length, good.length - 4];
    let parsed = 0;
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      let blob = good.slice();
      const v = new DataView(blob.buffer);
      for (let m = 1 + below(4); m > 0; m--) {
        switch (below(4)) {
          case 0: blob[below(blob.length)] ^= 1 << below(8); break;
          case 1: blob[below(blob.length)] = below(256); break;
          case 2: v.setUint32(below(10) * 4, interesting[below(interesting.length)]!); break; // a header field
          default: v.setUint32(below(Math.floor(blob.length / 4)) * 4, interesting[below(interesting.length)]!); break;
        }
      }
      if (below(8) === 0) blob = blob.subarray(0, below(blob.length));
      const result = outcome(blob);
      if (result !== "ok") {
        rejected++;
        continue;
      }
      parsed++;
      const { root, bootCpuId, memReserve } = readFdt(blob);
      const rewritten = writeFdt(root, { bootCpuId, memReserve });
      const again = writeFdt(readFdt(rewritten).root, { bootCpuId, memReserve });
      if (!Buffer.from(again).equals(rewritten)) expect(again).toEqual(rewritten); // deep-compare only to report
    }
    // Both paths must actually be exercised for the loop to mean anything.
    expect(parsed).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(500);
  });
});
