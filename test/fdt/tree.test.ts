import { describe, expect, it } from "vitest";
import { FdtError } from "../../src/lib/fdt/errors.ts";
import { encodeValue, FdtNode, u64Cells } from "../../src/lib/fdt/tree.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

describe("encodeValue", () => {
  it("encodes each value kind as the blob stores it", () => {
    expect(encodeValue(null)).toEqual(bytes());
    expect(encodeValue("hvc")).toEqual(bytes(0x68, 0x76, 0x63, 0));
    expect(encodeValue("")).toEqual(bytes(0));
    expect(encodeValue(["a", "bc"])).toEqual(bytes(0x61, 0, 0x62, 0x63, 0));
    expect(encodeValue([1, 0xc400_0001])).toEqual(bytes(0, 0, 0, 1, 0xc4, 0, 0, 1));
    expect(encodeValue(0x1_2345_6789n)).toEqual(bytes(0, 0, 0, 1, 0x23, 0x45, 0x67, 0x89));
    expect(encodeValue(bytes(1, 2, 3))).toEqual(bytes(1, 2, 3));
    expect(encodeValue("é")).toEqual(bytes(0xc3, 0xa9, 0)); // UTF-8, as the kernel reads bootargs
  });

  it("refuses values that cannot be encoded", () => {
    expect(() => encodeValue([-1])).toThrow(RangeError);
    expect(() => encodeValue([0x1_0000_0000])).toThrow(RangeError);
    expect(() => encodeValue([1.5])).toThrow(RangeError);
    expect(() => encodeValue(-1n)).toThrow(RangeError);
    expect(() => encodeValue(1n << 64n)).toThrow(RangeError);
    expect(() => encodeValue("a\0b")).toThrow(Error);
  });
});

describe("u64Cells", () => {
  it("splits into [hi, lo]", () => {
    expect(u64Cells(0x8000_0000)).toEqual([0, 0x8000_0000]);
    expect(u64Cells(0xffff_ffff_ffff_ffffn)).toEqual([0xffff_ffff, 0xffff_ffff]);
    expect(u64Cells(0x4_0000_0001)).toEqual([4, 1]);
  });

  it("refuses what does not fit", () => {
    expect(() => u64Cells(-1)).toThrow(RangeError);
    expect(() => u64Cells(2 ** 64)).toThrow(RangeError);
    expect(() => u64Cells(1n << 64n)).toThrow(RangeError);
  });
});

describe("FdtNode", () => {
  it("keeps properties in insertion order, and a replaced one in its place", () => {
    const node = new FdtNode("psci").prop("compatible", "arm,psci").prop("method", "smc").prop("cpu_on", [1]);
    node.prop("method", "hvc");
    expect([...node.props.keys()]).toEqual(["compatible", "method", "cpu_on"]);
    expect(node.getProp("method")).toBe("hvc");
    expect(node.props.get("method")).toEqual(bytes(0x68, 0x76, 0x63, 0));
  });

  it("hands back the value as set", () => {
    const node = new FdtNode("chosen").prop("kaslr-seed", 5n).prop("e", null).prop("l", ["a", "b"]);
    expect(node.getProp("kaslr-seed")).toBe(5n);
    expect(node.getProp("e")).toBeNull();
    expect(node.getProp("l")).toEqual(["a", "b"]);
    expect(node.getProp("missing")).toBeUndefined();
  });

  it("decodes property bytes on request", () => {
    const node = new FdtNode("n")
      .prop("cells", bytes(0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff))
      .prop("str", bytes(0x68, 0x69, 0))
      .prop("list", bytes(0x61, 0, 0x62, 0))
      .prop("odd", bytes(1, 2, 3));
    expect(node.getCells("cells")).toEqual([1, 0xffff_ffff]);
    expect(node.getU64("cells")).toBe(0x1_ffff_ffffn);
    expect(node.getString("str")).toBe("hi");
    expect(node.getStrings("list")).toEqual(["a", "b"]);
    expect(node.getCells("none")).toBeUndefined();
    expect(() => node.getCells("odd")).toThrow(FdtError);
    expect(() => node.getU64("str")).toThrow(FdtError);
    expect(() => node.getString("list")).toThrow(FdtError);
    expect(() => node.getString("cells")).toThrow(FdtError);
  });

  it("appends children in order and refuses a duplicate name", () => {
    const cpus = new FdtNode("cpus");
    cpus.child("cpu@0");
    cpus.child("cpu@1");
    expect(cpus.children.map((c) => c.name)).toEqual(["cpu@0", "cpu@1"]);
    expect(() => cpus.child("cpu@1")).toThrow(Error);
  });

  it("refuses names that would break a blob or a path", () => {
    expect(() => new FdtNode("a/b")).toThrow(Error);
    expect(() => new FdtNode("a b")).toThrow(Error);
    expect(() => new FdtNode("a\0")).toThrow(Error);
    expect(() => new FdtNode("x").child("")).toThrow(Error);
    expect(() => new FdtNode("x").prop("", null)).toThrow(Error);
    expect(new FdtNode("U6_16550A@1000000").name).toBe("U6_16550A@1000000");
  });

  it("finds nodes by path, with or without the unit address", () => {
    const root = new FdtNode("");
    const cpus = root.child("cpus");
    const cpu1 = cpus.child("cpu@1");
    const chosen = root.child("chosen");
    expect(root.find("/")).toBe(root);
    expect(root.find("/chosen")).toBe(chosen);
    expect(root.find("/cpus/cpu@1")).toBe(cpu1);
    expect(root.find("/cpus/cpu")).toBe(cpu1);
    expect(cpus.find("cpu@1")).toBe(cpu1);
    expect(root.find("/cpus/cpu@0")).toBeUndefined();
    expect(root.find("/nothing/cpu@1")).toBeUndefined();
  });
});
