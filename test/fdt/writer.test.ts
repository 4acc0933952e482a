import { describe, expect, it } from "vitest";
import { FdtError } from "../../src/lib/fdt/errors.ts";
import { FdtNode } from "../../src/lib/fdt/tree.ts";
import { readFdt } from "../../src/lib/fdt/reader.ts";
import { writeFdt } from "../../src/lib/fdt/writer.ts";
import { dtbToDts, dtsToDtb, parseDts, warnings } from "../support/dtc.ts";
import { BOOTARGS, INITRD_END, INITRD_START, KASLR_SEED, RAM_BASE, RAM_SIZE, kvmtoolTree } from "../support/kvmtool-tree.ts";

function header(blob: Uint8Array) {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const u32 = (off: number) => v.getUint32(off);
  return {
    magic: u32(0), totalsize: u32(4), offDtStruct: u32(8), offDtStrings: u32(12), offMemRsvmap: u32(16),
    version: u32(20), lastCompVersion: u32(24), bootCpuidPhys: u32(28), sizeDtStrings: u32(32), sizeDtStruct: u32(36),
  };
}

/** Every node of `tree` with its path, parents first, as dtc prints them. */
function* walk(node: FdtNode, path = "/"): Generator<[string, FdtNode]> {
  yield [path, node];
  for (const child of node.children) yield* walk(child, path === "/" ? `/${child.name}` : `${path}/${child.name}`);
}

describe("writeFdt header and layout", () => {
  it("fills every header field and lays the blocks out back to back", () => {
    const blob = writeFdt(kvmtoolTree(), { bootCpuId: 1 });
    const h = header(blob);
    expect(h.magic).toBe(0xd00dfeed);
    expect(h.version).toBe(17);
    expect(h.lastCompVersion).toBe(16);
    expect(h.bootCpuidPhys).toBe(1);
    expect(h.offMemRsvmap).toBe(40);
    expect(h.offDtStruct).toBe(40 + 16); // just the terminating reservation entry
    expect(h.offDtStrings).toBe(h.offDtStruct + h.sizeDtStruct);
    expect(h.totalsize).toBe(h.offDtStrings + h.sizeDtStrings);
    expect(blob.length).toBe(h.totalsize);
    expect(h.offDtStruct % 4).toBe(0);
    expect(h.sizeDtStruct % 4).toBe(0);
    // The structure block is framed by the root's FDT_BEGIN_NODE and FDT_END.
    const v = new DataView(blob.buffer);
    expect(v.getUint32(h.offDtStruct)).toBe(1);
    expect(v.getUint32(h.offDtStruct + h.sizeDtStruct - 4)).toBe(9);
  });

  it("stores each property name once, sharing tails of longer names", () => {
    const root = new FdtNode("").prop("#address-cells", [2]).prop("cells", [1]);
    root.child("a").prop("#address-cells", [1]);
    const h = header(writeFdt(root));
    expect(h.sizeDtStrings).toBe("#address-cells\0".length);
  });

  it("writes memory reservations and their zero terminator", () => {
    const memReserve = [{ address: 0x8000_0000n, size: 0x1000n }, { address: 0xffff_ffff_0000_0000n, size: 1n }];
    const blob = writeFdt(new FdtNode(""), { memReserve });
    const h = header(blob);
    const v = new DataView(blob.buffer);
    expect(h.offDtStruct).toBe(40 + 3 * 16);
    expect(v.getBigUint64(40)).toBe(0x8000_0000n);
    expect(v.getBigUint64(48)).toBe(0x1000n);
    expect(v.getBigUint64(56)).toBe(0xffff_ffff_0000_0000n);
    expect(v.getBigUint64(72)).toBe(0n);
    expect(v.getBigUint64(80)).toBe(0n);
    expect(dtbToDts(blob).dts).toContain("/memreserve/\t0x0000000080000000 0x0000000000001000;");
  });

  it("pads to a fixed size, and says so when the tree does not fit", () => {
    const blob = writeFdt(kvmtoolTree(), { padToBytes: 0x1_0000 });
    expect(blob.length).toBe(0x1_0000);
    expect(header(blob).totalsize).toBe(0x1_0000);
    expect(() => writeFdt(kvmtoolTree(), { padToBytes: 64 })).toThrow(FdtError);
  });

  it("refuses a root with a name and out-of-range options", () => {
    expect(() => writeFdt(new FdtNode("x"))).toThrow(Error);
    expect(() => writeFdt(new FdtNode(""), { bootCpuId: -1 })).toThrow(RangeError);
    expect(() => writeFdt(new FdtNode(""), { memReserve: [{ address: -1n, size: 0n }] })).toThrow(RangeError);
  });

  // Found by the fdt fuzz target: a 0+0 entry was written, and read back as the terminator.
  it("refuses a 0+0 memory reservation, which readers take for the end of the list", () => {
    const memReserve = [{ address: 0n, size: 0n }, { address: 0x8000_0000n, size: 0x1000n }];
    expect(() => writeFdt(new FdtNode(""), { memReserve })).toThrow(RangeError);
    expect(readFdt(writeFdt(new FdtNode(""), { memReserve: [{ address: 0n, size: 1n }] })).memReserve).toEqual([{ address: 0n, size: 1n }]);
  });
});

describe("writeFdt checked by dtc", () => {
  const tree = kvmtoolTree();
  const blob = writeFdt(tree);
  const { dts, messages } = dtbToDts(blob);
  const parsed = parseDts(dts);

  it("decompiles with only the warnings kvmtool's own tree earns", () => {
    // kvmtool names /memory and /intc without a unit address although they have reg; dtc
    // flags exactly that and nothing else.
    expect(warnings(messages)).toEqual([
      { check: "unit_address_vs_reg", path: "/memory" },
      { check: "unit_address_vs_reg", path: "/intc" },
    ]);
  });

  it("prints the kvmtool properties with their values", () => {
    for (const line of [
      `bootargs = "${BOOTARGS}";`,
      'stdout-path = "serial0";',
      'device_type = "memory";',
      "interrupt-controller;",
      "always-on;",
      'serial0 = "/U6_16550A@1000000";',
      "U6_16550A@1000000 {",
      "cpu@1 {",
    ]) {
      expect(dts).toContain(line);
    }
    const chosen = parsed.nodes.get("/chosen")!;
    const u64 = (name: string) => new DataView(chosen.get(name)!.bytes.buffer).getBigUint64(0);
    expect(u64("kaslr-seed")).toBe(KASLR_SEED);
    expect(u64("linux,initrd-start")).toBe(INITRD_START);
    expect(u64("linux,initrd-end")).toBe(INITRD_END);
    const cells = (path: string, name: string) => {
      const b = parsed.nodes.get(path)!.get(name)!.bytes;
      return Array.from({ length: b.length / 4 }, (_, i) => new DataView(b.buffer).getUint32(i * 4));
    };
    expect(cells("/memory", "reg")).toEqual([0, RAM_BASE, 0, RAM_SIZE]);
    expect(cells("/cpus", "#address-cells")).toEqual([1]);
    expect(cells("/cpus/cpu@1", "reg")).toEqual([1]);
    expect(cells("/intc", "#interrupt-cells")).toEqual([3]);
    expect(cells("/timer", "interrupts")).toEqual([1, 13, 8, 1, 14, 8, 1, 11, 8, 1, 10, 8]);
    expect(cells("/U6_16550A@1000000", "interrupts")).toEqual([0, 0, 4]);
    expect(cells("/psci", "cpu_on")).toEqual([0xc400_0003]);
    expect(parsed.nodes.get("/psci")!.get("compatible")!.bytes).toEqual(
      new TextEncoder().encode("arm,psci-0.2\0arm,psci\0"),
    );
    expect(parsed.memReserve).toEqual([]);
  });

  it("agrees with dtc on every node and property, in order", () => {
    const ours = [...walk(tree)];
    expect([...parsed.nodes.keys()]).toEqual(ours.map(([path]) => path));
    for (const [path, node] of ours) {
      const theirs = parsed.nodes.get(path)!;
      expect([...theirs.keys()], path).toEqual([...node.props.keys()]);
      for (const [name, bytes] of node.props) expect(theirs.get(name)!.bytes, `${path}:${name}`).toEqual(bytes);
    }
  });

  it("produces the very bytes dtc produces from the decompiled source", () => {
    expect(dtsToDtb(dts)).toEqual(blob);
  });
});
