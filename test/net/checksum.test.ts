import { describe, expect, it } from "vitest";
import { finishChecksum, fold16, pseudoHeaderSum, sum16 } from "../../src/net/checksum.ts";

describe("the Internet checksum", () => {
  it("matches RFC 1071's worked example (00 01 f2 03 f4 f5 f6 f7 sums to ddf2)", () => {
    const data = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(fold16(sum16(data))).toBe(0xddf2);
    expect(finishChecksum(sum16(data))).toBe(0x220d);
  });

  it("pads an odd last byte with zero", () => {
    expect(fold16(sum16(new Uint8Array([0x12, 0x34, 0x56])))).toBe(0x1234 + 0x5600);
  });

  it("checks an IPv4 header from the wild to zero (a known-good header)", () => {
    // 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7 (Wikipedia's example)
    const h = new Uint8Array([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    expect(finishChecksum(sum16(h))).toBe(0);
  });

  it("folds 64 KiB of 0xff without losing carries", () => {
    const data = new Uint8Array(65536).fill(0xff);
    expect(fold16(sum16(data))).toBe(0xffff);
  });

  it("builds the pseudo-header sum from addresses, protocol and length", () => {
    expect(pseudoHeaderSum(0xc0a8210f, 0xc0a82101, 6, 40)).toBe(0xc0a8 + 0x210f + 0xc0a8 + 0x2101 + 6 + 40);
  });
});
