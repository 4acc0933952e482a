import { describe, expect, it } from "vitest";
import { AddressOutOfRange, GuestMemory } from "../../src/kvm/guest-memory.ts";
import { GuestError } from "../../src/errors.ts";

const BASE = 0x8000_0000;

function setup() {
  const writes: [number, number][] = [];
  const bytes = new Uint8Array(0x1000);
  const mem = new GuestMemory({ bytes, ramBase: BASE, onWrite: (gpa, n) => writes.push([gpa, n]) });
  return { mem, bytes, writes };
}

describe("GuestMemory", () => {
  it("reads and writes little-endian values by guest physical address", () => {
    const { mem, bytes } = setup();
    mem.setU32(BASE + 8, 0x1122_3344);
    mem.setU16(BASE + 12, 0xbeef);
    expect([...bytes.subarray(8, 14)]).toEqual([0x44, 0x33, 0x22, 0x11, 0xef, 0xbe]);
    expect(mem.u32(BASE + 8)).toBe(0x1122_3344);
    expect(mem.u64(BASE + 8)).toBe(0xbeef_1122_3344);
    expect(mem.u64Big(BASE + 8)).toBe(0xbeef_1122_3344n);
  });

  it("reports every write, and only writes, to its hook (where the JIT invalidates)", () => {
    const { mem, writes } = setup();
    mem.write(BASE + 0x10, Uint8Array.of(1, 2, 3));
    mem.fill(BASE + 0x100, 64, (view) => view.fill(7));
    mem.setU16(BASE, 1);
    mem.setU32(BASE + 4, 1);
    mem.read(BASE, 16);
    mem.view(BASE, 16);
    mem.u32(BASE);
    expect(writes).toEqual([[BASE + 0x10, 3], [BASE + 0x100, 64], [BASE, 2], [BASE + 4, 4]]);
  });

  it("refuses ranges outside RAM with a GuestError, touching nothing", () => {
    const { mem, bytes, writes } = setup();
    for (const [gpa, n] of [[BASE - 1, 1], [BASE + 0x1000, 1], [BASE + 0xfff, 2], [0, 4], [2 ** 60, 1], [BASE + 0.5, 1]]) {
      expect(() => mem.write(gpa!, new Uint8Array(n!)), `${gpa}+${n}`).toThrow(AddressOutOfRange);
      expect(() => mem.view(gpa!, n!)).toThrow(GuestError);
    }
    expect(() => mem.view(BASE, -1)).toThrow(AddressOutOfRange);
    expect(bytes.every((b) => b === 0)).toBe(true);
    expect(writes).toEqual([]);
  });

  it("accepts ranges that end exactly at the end of RAM, and empty ones", () => {
    const { mem } = setup();
    expect(mem.contains(BASE + 0xffc, 4)).toBe(true);
    expect(mem.contains(BASE + 0x1000, 0)).toBe(true);
    expect(mem.contains(BASE + 0xffd, 4)).toBe(false);
  });
});
