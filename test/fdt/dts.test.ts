import { describe, expect, it } from "vitest";
import { fdtToDts } from "../../src/lib/fdt/dts.ts";
import { FdtNode } from "../../src/lib/fdt/tree.ts";
import { writeFdt } from "../../src/lib/fdt/writer.ts";
import { dtsToDtb } from "../support/dtc.ts";
import { kvmtoolTree } from "../support/kvmtool-tree.ts";

describe("fdtToDts", () => {
  it("prints source that dtc compiles to our exact blob", () => {
    const tree = kvmtoolTree();
    expect(dtsToDtb(fdtToDts(tree))).toEqual(writeFdt(tree));
  });

  it("keeps bytes that are not text or cells intact", () => {
    const tree = new FdtNode("").prop("#address-cells", [2]);
    tree.child("odd")
      .prop("three-bytes", new Uint8Array([1, 2, 0xff]))
      .prop("not-text", new Uint8Array([0x41, 0x01, 0x42, 0]))
      .prop("empty-string", "")
      .prop("empty-in-list", ["a", "", "b"])
      .prop("escapes", 'say "hi" \\ bye')
      .prop("utf8", "é")
      .prop("u64", 0x4142_4344_4546_4700n); // "ABCDEFG" as text: printed as a string, still the same bytes
    const dts = fdtToDts(tree);
    expect(dts).toContain("three-bytes = [01 02 ff];");
    expect(dts).toContain('escapes = "say \\"hi\\" \\\\ bye";');
    expect(dtsToDtb(dts)).toEqual(writeFdt(tree));
  });
});
