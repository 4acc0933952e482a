// The FDT reader (src/lib/fdt/reader.ts), fed blobs the writer made from random trees, then
// damaged: bytes overwritten, header fields set to edge values, the blob cut short or padded.
// A --dtb file comes from the user, so the reader must refuse anything it cannot trust.
//
// Must hold: the writer refuses a 0+0 memory reservation (the list's terminator) with
// RangeError; an undamaged blob reads back as the tree, memreserve entries and boot CPU that
// were written, and re-writing what was read gives the same bytes; a tree nested deeper than
// FDT_MAX_DEPTH is refused with FdtError. A damaged blob either reads (and then what was read
// writes and reads back the same, and every typed getter answers or throws FdtError) or
// throws FdtError; nothing else escapes.

import fc from "fast-check";
import { FdtError } from "../../src/lib/fdt/errors.ts";
import { FDT_MAX_DEPTH, type MemReservation } from "../../src/lib/fdt/format.ts";
import { readFdt } from "../../src/lib/fdt/reader.ts";
import { FdtNode, type FdtValue } from "../../src/lib/fdt/tree.ts";
import { writeFdt } from "../../src/lib/fdt/writer.ts";
import { attempt, check, type FuzzTarget } from "./harness.ts";

/** A tree as data, so fast-check can shrink it; built into FdtNodes per case. */
interface TreeSpec {
  name: string;
  props: [string, FdtValue][];
  children: TreeSpec[];
}

const NAME_CHARS = "abcxyz019,._+-@#?"; // printable, a few that only dtc frowns on
const nameArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("cpus", "cpu@0", "memory@80000000", "chosen", "intc", "reg", "compatible", "#address-cells", "cells", "a") },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x2f).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 }) },
);

const valueArb: fc.Arbitrary<FdtValue> = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 20 }).filter((s) => !s.includes("\0")),
  fc.array(fc.string({ maxLength: 8 }).filter((s) => !s.includes("\0")), { maxLength: 4 }),
  fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { maxLength: 6 }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.uint8Array({ maxLength: 24 }),
);

const propsArb = fc.uniqueArray(fc.tuple(nameArb, valueArb), { maxLength: 5, selector: ([n]) => n });

/** A node with up to `levels` levels of children below it. */
function nodeArb(levels: number): fc.Arbitrary<TreeSpec> {
  const children = levels === 0 ? fc.constant<TreeSpec[]>([]) : fc.uniqueArray(nodeArb(levels - 1), { maxLength: 3, selector: (c) => c.name });
  return fc.record({ name: nameArb, props: propsArb, children });
}
const treeArb: fc.Arbitrary<TreeSpec> = nodeArb(3).map((root) => ({ ...root, name: "" }));

/** A chain of nodes right at, or past, the reader's depth limit. */
const deepArb: fc.Arbitrary<TreeSpec> = fc.integer({ min: FDT_MAX_DEPTH - 2, max: FDT_MAX_DEPTH + 2 }).map((depth) => {
  let node: TreeSpec = { name: "leaf", props: [["x", [1]]], children: [] };
  for (let i = 1; i < depth; i++) node = { name: i === depth - 1 ? "" : `n${i}`, props: [], children: [node] };
  return node;
});

function build(spec: TreeSpec, node = new FdtNode(spec.name)): FdtNode {
  for (const [name, value] of spec.props) node.prop(name, value);
  for (const child of spec.children) build(child, node.child(child.name));
  return node;
}

function depth(node: FdtNode): number {
  return 1 + Math.max(0, ...node.children.map(depth));
}

/** Same names, same property bytes in the same order, same children in the same order. */
function sameTree(a: FdtNode, b: FdtNode): boolean {
  if (a.name !== b.name || a.props.size !== b.props.size || a.children.length !== b.children.length) return false;
  const bp = [...b.props];
  let i = 0;
  for (const [name, bytes] of a.props) {
    const [otherName, otherBytes] = bp[i++]!;
    if (name !== otherName || Buffer.compare(bytes, otherBytes) !== 0) return false;
  }
  return a.children.every((c, k) => sameTree(c, b.children[k]!));
}

type Damage =
  | { kind: "byte"; at: number; value: number }
  | { kind: "header"; field: number; value: number }
  | { kind: "truncate"; keep: number }
  | { kind: "grow"; extra: number };

const u32Edge = fc.oneof(
  fc.constantFrom(0, 1, 3, 4, 8, 16, 17, 40, 0x7fff_ffff, 0x8000_0000, 0xffff_fffc, 0xffff_ffff, 0xd00dfeed),
  fc.integer({ min: 0, max: 0x400 }),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 0xff }) }).map((d) => ({ kind: "byte" as const, ...d })) },
  { weight: 3, arbitrary: fc.record({ field: fc.integer({ min: 0, max: 9 }), value: u32Edge }).map((d) => ({ kind: "header" as const, ...d })) },
  { weight: 1, arbitrary: fc.nat().map((keep) => ({ kind: "truncate" as const, keep })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map((extra) => ({ kind: "grow" as const, extra })) },
);

function damage(blob: Uint8Array, d: Damage): Uint8Array {
  switch (d.kind) {
    case "byte": {
      const out = blob.slice();
      if (out.length > 0) out[d.at % out.length] = d.value;
      return out;
    }
    case "header": {
      const out = blob.slice();
      if (4 * d.field + 4 <= out.length) new DataView(out.buffer).setUint32(4 * d.field, d.value);
      return out;
    }
    case "truncate":
      return blob.slice(0, d.keep % (blob.length + 1));
    case "grow": {
      const out = new Uint8Array(blob.length + d.extra);
      out.set(blob);
      return out;
    }
  }
}

/** Every typed view of every property: each answers or throws FdtError. */
function readEveryProperty(node: FdtNode): void {
  for (const name of node.props.keys()) {
    attempt([FdtError], () => node.getCells(name));
    attempt([FdtError], () => node.getU64(name));
    attempt([FdtError], () => node.getStrings(name));
    attempt([FdtError], () => node.getString(name));
  }
  node.children.forEach(readEveryProperty);
}

const u64Arb = fc.oneof(fc.constantFrom(0n, 1n, (1n << 64n) - 1n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));

const memReserveArb: fc.Arbitrary<MemReservation[]> = fc.array(
  fc.record({ address: u64Arb, size: u64Arb }),
  { maxLength: 3 },
);

const inputArb = fc.record({
  tree: fc.oneof({ weight: 12, arbitrary: treeArb }, { weight: 1, arbitrary: deepArb }),
  memReserve: memReserveArb,
  bootCpuId: fc.integer({ min: 0, max: 0xffff_ffff }),
  damage: fc.array(damageArb, { maxLength: 4 }),
});

export const fdtTarget: FuzzTarget = {
  name: "fdt",
  description: "FDT reader on written and damaged blobs; write/read round trip",
  quickRuns: 400,
  build() {
    const property = fc.property(inputArb, (input) => {
      const tree = build(input.tree);
      const written = attempt([RangeError], () => writeFdt(tree, { memReserve: input.memReserve, bootCpuId: input.bootCpuId }));
      const terminator = input.memReserve.some((r) => r.address === 0n && r.size === 0n);
      check((written.error !== undefined) === terminator, () => `writer ${terminator ? "accepted" : "refused"} reservations ${input.memReserve.map((r) => `${r.address}+${r.size}`).join(", ")}`);
      if (written.error) return;
      const blob = written.value;

      if (input.damage.length === 0) {
        const read = attempt([FdtError], () => readFdt(blob));
        if (depth(tree) > FDT_MAX_DEPTH) {
          check(read.error !== undefined, () => `a tree ${depth(tree)} deep was read`);
          return;
        }
        check(read.error === undefined, () => `an undamaged blob was refused: ${read.error?.message}`);
        const { root, memReserve, bootCpuId } = read.value!;
        check(sameTree(tree, root), "the tree read back differs from the tree written");
        check(bootCpuId === input.bootCpuId, () => `boot CPU ${bootCpuId}, written ${input.bootCpuId}`);
        check(
          memReserve.length === input.memReserve.length && memReserve.every((r, i) => r.address === input.memReserve[i]!.address && r.size === input.memReserve[i]!.size),
          "memory reservations differ",
        );
        check(Buffer.compare(writeFdt(root, { memReserve, bootCpuId }), blob) === 0, "re-writing what was read gave other bytes");
        return;
      }

      const damaged = input.damage.reduce(damage, blob);
      const read = attempt([FdtError], () => readFdt(damaged));
      if (read.error) return;
      const { root, memReserve, bootCpuId } = read.value;
      readEveryProperty(root);
      const again = readFdt(writeFdt(root, { memReserve, bootCpuId }));
      check(sameTree(root, again.root), "what was read from a damaged blob does not survive a write and read");
    });
    return { property };
  },
};
