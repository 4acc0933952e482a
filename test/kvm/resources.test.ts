import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { AddressAllocator, NumberAllocator } from "../../src/kvm/resources.ts";

describe("NumberAllocator (SPIs, PCI slots)", () => {
  it("hands out consecutive numbers from the first, and refuses past the last", () => {
    const spis = new NumberAllocator("SPIs", 32, 34);
    expect([spis.allocate(), spis.allocate(), spis.allocate()]).toEqual([32, 33, 34]);
    expect(spis.used).toBe(3);
    expect(() => spis.allocate()).toThrow(ConfigError);
  });
});

describe("AddressAllocator (virtio-mmio windows, PCI BARs)", () => {
  it("hands out windows upward, back to back when sizes match the alignment", () => {
    const windows = new AddressAllocator("virtio-mmio", 0x300_0000, 0x1000);
    expect([windows.allocate(0x200), windows.allocate(0x200), windows.allocate(0x200)]).toEqual([0x300_0000, 0x300_0200, 0x300_0400]);
  });

  it("aligns each range naturally, as PCI BARs must be", () => {
    const mmio = new AddressAllocator("PCI MMIO", 0x5000_0000, 0x3000_0000);
    expect(mmio.allocate(0x100)).toBe(0x5000_0000);
    expect(mmio.allocate(0x1000)).toBe(0x5000_1000);
    expect(mmio.allocate(0x100)).toBe(0x5000_2000);
    expect(mmio.allocate(0x400, 0x100)).toBe(0x5000_2100);
  });

  it("refuses a range that does not fit, and a non-power-of-two alignment", () => {
    const io = new AddressAllocator("PCI I/O", 0x6200, 0x200);
    io.allocate(0x100);
    io.allocate(0x100);
    expect(() => io.allocate(0x100)).toThrow(ConfigError);
    expect(() => io.allocate(0x100, 0x300)).toThrow(RangeError);
  });
});
