// The decoder generator on small tables, in the manner of QEMU's tests/decode: tables it must
// reject, with the reason, and tables it must accept, decoded word by word.

import { describe, expect, it } from "vitest";
import type { Group, Row } from "../../arm/decode/table.ts";
import { concat, minus, plus, sext, zext } from "../../arm/decode/transforms.ts";
import { argumentValues, resolveTable } from "../../tools/decodegen/table-model.ts";
import { buildTree, walkTree } from "../../tools/decodegen/decision-tree.ts";
import { checkEmitters } from "../../tools/decodegen/emitters.ts";
import { renderDecoder, renderEmit } from "../../tools/decodegen/render.ts";

/** n don't-care bits. */
const dc = (n: number): string => "x".repeat(n);

const group = (rows: Row[], extra: Partial<Group> = {}): Group[] => [{ module: "m", section: "test", rows, ...extra }];

/** The row name the generated decode() picks for insn, or undefined (UNALLOCATED). */
function decoder(groups: Group[]): (insn: number) => string | undefined {
  const model = resolveTable(groups);
  const tree = buildTree(model.priority.map((r) => ({ ...r, label: r.row.name })));
  return (insn) => walkTree(tree, insn >>> 0)?.row.name;
}

// Two rows that overlap where bits 31:24 are 0x11 and bits 23:16 are 0x22.
const high: Row = { name: "HIGH", title: "", pattern: "00010001 imm:24" };
const mid: Row = { name: "MID", title: "", pattern: "imm8:8 00100010 imm16:16" };

describe("the generator rejects", () => {
  it("an overlap no row declares, naming both rows and a word they share", () => {
    expect(() => resolveTable(group([high, mid]))).toThrow(/rows HIGH and MID overlap \(both match 0x11220000\)/);
  });

  it("equal weight is no excuse: overlaps are declared whatever the fixed bits", () => {
    const a: Row = { name: "A", title: "", pattern: `1 ${dc(31)}` };
    const b: Row = { name: "B", title: "", pattern: `${dc(31)} 1` };
    expect(() => resolveTable(group([a, b]))).toThrow(/rows A and B overlap/);
  });

  it("a declared overlap that does not exist", () => {
    const other: Row = { name: "OTHER", title: "", pattern: "00010010 imm:24" };
    expect(() => resolveTable(group([{ ...high, overrides: ["OTHER"] }, other]))).toThrow(/no word matches both/);
  });

  it("an override of a row that does not exist", () => {
    expect(() => resolveTable(group([{ ...high, overrides: ["NONE"] }]))).toThrow(/'NONE', which is no row/);
  });

  it("an override that leaves the other row unreachable", () => {
    const wide: Row = { name: "WIDE", title: "", pattern: `0001 ${dc(28)}` };
    expect(() => resolveTable(group([{ ...wide, overrides: ["HIGH"] }, high]))).toThrow(/HIGH is unreachable/);
  });

  it("rows that override each other, or a cycle of overrides", () => {
    expect(() => resolveTable(group([{ ...high, overrides: ["MID"] }, { ...mid, overrides: ["HIGH"] }]))).toThrow(
      /override each other/,
    );
    const a: Row = { name: "A", title: "", pattern: `1 ${dc(31)}`, overrides: ["B"] };
    const b: Row = { name: "B", title: "", pattern: `x 1 ${dc(30)}`, overrides: ["C"] };
    const c: Row = { name: "C", title: "", pattern: `xx 1 ${dc(29)}`, overrides: ["A"] };
    expect(() => resolveTable(group([a, b, c]))).toThrow(/form a cycle/);
  });

  it("patterns of the wrong width, and a field named twice", () => {
    expect(() => resolveTable(group([{ name: "A", title: "", pattern: "0 imm:30" }]))).toThrow(/31 bits, not 32/);
    expect(() => resolveTable(group([{ name: "A", title: "", pattern: "imm:33" }]))).toThrow(/33 bits, not 32/);
    expect(() => resolveTable(group([{ name: "A", title: "", pattern: `rd:5 rd:5 ${dc(22)}` }]))).toThrow(/'rd' appears twice/);
  });

  it("transforms of fields the pattern lacks, or wider than their result", () => {
    const row = (derive: Row["derive"]): Row => ({ name: "A", title: "", pattern: "a:16 b:16", derive });
    expect(() => resolveTable(group([row({ v: sext("c") })]))).toThrow(/row A: v: no field 'c'/);
    expect(() => resolveTable(group([row({ v: concat("a", "b", "1") })]))).toThrow(/33 bits do not fit a u32/);
    expect(() => resolveTable(group([row({ v: concat("a", sext("b")) })]))).toThrow(/is i64, not u32/);
  });

  it("a shared handler whose rows pass different arguments", () => {
    const a: Row = { name: "A", title: "", pattern: `0 rd:5 ${dc(26)}`, handler: "H" };
    const b: Row = { name: "B", title: "", pattern: `1 rn:5 ${dc(26)}`, handler: "H" };
    expect(() => resolveTable(group([a, b]))).toThrow(/handler H: row A passes \(rd: u32\) but row B passes \(rn: u32\)/);
    const c: Row = { name: "C", title: "", pattern: "0 imm:31", handler: "H" };
    const d: Row = { name: "D", title: "", pattern: "1 imm:31", handler: "H", derive: { imm: sext("imm") } };
    expect(() => resolveTable(group([c, d]))).toThrow(/row C passes \(imm: u32\) but row D passes \(imm: i64\)/);
  });

  it("a shared handler's constant wider than the field its other rows pass", () => {
    const a: Row = { name: "A", title: "", pattern: `0 U 00 ${dc(28)}`, handler: "H" };
    const b: Row = { name: "B", title: "", pattern: `1 000 ${dc(28)}`, handler: "H", set: { U: 2 } };
    expect(() => resolveTable(group([a, b]))).toThrow(/row B sets U = 2, wider than the 1-bit field/);
  });

  it("a shared handler across groups", () => {
    const a: Row = { name: "A", title: "", pattern: `0 ${dc(31)}`, handler: "H" };
    const b: Row = { name: "B", title: "", pattern: `1 ${dc(31)}`, handler: "H" };
    const groups: Group[] = [{ module: "m", section: "", rows: [a] }, { module: "n", section: "", rows: [b] }];
    expect(() => resolveTable(groups)).toThrow(/row B is in group n, row A in m/);
  });

  it("constants and derived values that are not passed, or clash with a field", () => {
    const base: Row = { name: "A", title: "", pattern: `rd:5 ${dc(27)}` };
    expect(() => resolveTable(group([{ ...base, set: { k: 1 }, args: ["rd"] }]))).toThrow(/'k' is derived or set but not passed/);
    expect(() => resolveTable(group([{ ...base, set: { rd: 1 } }]))).toThrow(/'rd' is both set and a field/);
    expect(() => resolveTable(group([{ ...base, args: ["rd", "rn"] }]))).toThrow(/argument 'rn' is no field/);
    expect(() => resolveTable(group([{ ...base }, { ...base, pattern: `${dc(27)} rd:5` }]))).toThrow(/two rows are named A/);
  });

  it("an emitter the table lists but the JIT lacks, or one the table does not list", () => {
    const rows: Row[] = [{ name: "A", title: "", pattern: `0 ${dc(31)}` }, { name: "B", title: "", pattern: `1 ${dc(31)}` }];
    const listed = resolveTable(group(rows, { emitters: ["A"] }));
    expect(() => checkEmitters(listed, [{ module: "m", text: "export function emit_B(): bool {}" }])).toThrow(
      /lists emitter A \(group m\), but arm\/core\/jit\/m.ts does not export emit_A/,
    );
    // However it is declared, an emit_ function nothing lists would never be called.
    const text = "export function emit_A(): bool {}\nexport const emit_B = (): bool => true;\n";
    expect(() => checkEmitters(listed, [{ module: "m", text }])).toThrow(/emit_B in arm\/core\/jit\/m.ts is listed by no group/);
    expect(() => resolveTable(group(rows, { emitters: ["C"] }))).toThrow(/lists emitter C, but none of its rows uses handler C/);
  });
});

describe("the generator accepts", () => {
  it("a declared overlap: the winner where both match, the other row elsewhere", () => {
    const decode = decoder(group([{ ...high, overrides: ["MID"] }, mid]));
    expect(decode(0x11223344)).toBe("HIGH");
    expect(decode(0x11000000)).toBe("HIGH");
    expect(decode(0x55223344)).toBe("MID");
    expect(decode(0x55663344)).toBeUndefined();
  });

  it("an override by the row with fewer fixed bits", () => {
    const decode = decoder(group([high, { ...mid, overrides: ["HIGH"] }]));
    expect(decode(0x11223344)).toBe("MID");
    expect(decode(0x11000000)).toBe("HIGH");
  });

  // A load/store family in miniature: one handler, the addressing form in constants.
  const ldst = (name: string, idx: string, set: Record<string, number>): Row => ({
    name, title: name, pattern: `size:2 111 ${idx} 0 imm9:9 rn:5 rt:5 ${dc(5)}`, handler: "LDST",
    derive: { imm: sext("imm9") }, set, args: ["size", "imm", "rn", "rt", "wback", "post"],
  });
  const table = group(
    [
      ldst("LDR_post", "01", { wback: 1, post: 1 }),
      ldst("LDR_pre", "11", { wback: 1, post: 0 }),
      { name: "LDR_uimm", title: "", pattern: `size:2 111 10 imm12:12 rn:5 rt:5 ${dc(3)}`, handler: "LDST",
        derive: { imm: zext("imm12", "size") }, set: { wback: 0, post: 0 }, args: ["size", "imm", "rn", "rt", "wback", "post"] },
      { name: "BITS", title: "", pattern: `0001 immh:4 immb:3 op o2 sf ${dc(18)}`,
        derive: { fbits: minus(64, concat("immh", "immb")), opc: concat("1", "op", "0", "o2"), size: plus("sf", 2) } },
    ],
    { emitters: ["LDST"] },
  );

  it("rows sharing a handler, decoded to the right row with the right arguments", () => {
    const model = resolveTable(table);
    const decode = decoder(table);
    const word = (size: number, idx: number, imm: number, rn: number, rt: number) =>
      ((size << 30) | (0b111 << 27) | (idx << 25) | (imm << 15) | (rn << 10) | (rt << 5)) >>> 0;
    const args = (name: string, insn: number) => argumentValues(model.rows.find((r) => r.row.name === name)!, insn);

    const post = word(3, 0b01, 0x1f8, 2, 3); // imm9 = -8
    expect(decode(post)).toBe("LDR_post");
    expect(args("LDR_post", post)).toEqual({ size: 3n, imm: -8n, rn: 2n, rt: 3n, wback: 1n, post: 1n });
    const pre = word(2, 0b11, 0x010, 31, 0);
    expect(decode(pre)).toBe("LDR_pre");
    expect(args("LDR_pre", pre)).toEqual({ size: 2n, imm: 16n, rn: 31n, rt: 0n, wback: 1n, post: 0n });
    const uimm = ((1 << 30) | (0b111 << 27) | (0b10 << 25) | (0xfff << 13) | (4 << 8) | (5 << 3)) >>> 0;
    expect(decode(uimm)).toBe("LDR_uimm");
    expect(args("LDR_uimm", uimm)).toMatchObject({ size: 1n, imm: 0x1ffen, wback: 0n, post: 0n });
    expect(decode(word(3, 0b00, 0, 0, 0))).toBeUndefined();

    const bits = (0b0001 << 28) | (0b0010 << 24) | (0b011 << 21) | (1 << 20) | (1 << 18) | (1 << 19);
    expect(decode(bits)).toBe("BITS");
    expect(args("BITS", bits)).toMatchObject({ fbits: 64n - 0b0010011n, opc: 0b1101n, size: 3n });
  });

  it("one handler in the generated code, specialized by the constants each row passes", () => {
    const model = resolveTable(table);
    expect([...model.handlers.keys()]).toEqual(["LDST", "BITS"]);
    const src = renderDecoder(model);
    expect(src).toContain(`import { exec_LDST, exec_BITS } from "../exec/m";`);
    expect(src).toContain("const imm_d: i64 = sx64(<u64>imm9, 9);\n      exec_LDST(size, imm_d, rn, rt, 1, 1);");
    expect(src).toContain("const imm_d: i64 = <i64>imm12 << size;\n      exec_LDST(size, imm_d, rn, rt, 0, 0);");
    expect(src).toContain("const fbits_d: u32 = 64 - ((immh << 3) | immb);");
    expect(src).toContain("const opc_d: u32 = 8 | (op << 2) | o2;");
    expect(src).toContain("const size_d: u32 = sf + 2;");
    const emit = renderEmit(model);
    expect(emit).toContain(`import { emit_LDST } from "../jit/m";`);
    expect(emit.match(/return emit_LDST\(/g)).toHaveLength(3);
    expect(emit).not.toContain("emit_BITS");
    checkEmitters(model, [{ module: "m", text: "export function emit_LDST(size: u32): bool { return true; }" }]);
  });
});

describe("the A64 table", () => {
  it("resolves, and decodes each row's words to that row or to a row declared to override it", async () => {
    const { groups } = await import("../../arm/decode/index.ts");
    const model = resolveTable(groups);
    const tree = buildTree(model.priority.map((r) => ({ ...r, label: r.row.name })));
    let seed = 0x2545f491;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const wrong: string[] = [];
    for (const r of model.rows) {
      for (let i = 0; i < 64; i++) {
        const w = (r.parsed.value | (((next() << 16) ^ next()) & ~r.parsed.mask)) >>> 0;
        const got = walkTree(tree, w);
        if (got?.op !== r.op && !got?.row.overrides?.includes(r.row.name)) wrong.push(`${w.toString(16)}: ${r.row.name} -> ${got?.row.name}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });
});
