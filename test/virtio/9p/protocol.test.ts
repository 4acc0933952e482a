// The 9P2000.L wire codec: the reader refuses anything that does not fit the message, the
// writer never grows a reply past its limit and keeps every byte when it grows.

import { describe, expect, it } from "vitest";
import { MalformedMessage, MessageReader, MessageWriter, ReplyTooLarge } from "../../../virtio/9p/protocol.ts";
import { tmsg } from "../../support/p9-client.ts";

describe("9p message reader", () => {
  it("reads the header and little-endian fields, strings as u16 length and bytes", () => {
    const m = new MessageReader(tmsg(110, 0x1234, [{ u32: 0xdeadbeef }, { u8: 7 }, { u16: 0xabcd }, { u64: 2n ** 63n + 5n }, { s: "héllo" }]));
    expect([m.type, m.tag]).toEqual([110, 0x1234]);
    expect(m.u32()).toBe(0xdeadbeef);
    expect(m.u8()).toBe(7);
    expect(m.u16()).toBe(0xabcd);
    expect(m.u64()).toBe(2n ** 63n + 5n);
    expect(m.str()).toBe("héllo");
  });

  it("refuses a message shorter than its header, or whose size field disagrees with its length", () => {
    expect(() => new MessageReader(new Uint8Array(6))).toThrow(MalformedMessage);
    const msg = tmsg(120, 1, [{ u32: 0 }]);
    msg.writeUInt32LE(msg.length + 1, 0);
    expect(() => new MessageReader(msg)).toThrow(MalformedMessage);
    msg.writeUInt32LE(msg.length - 1, 0);
    expect(() => new MessageReader(msg)).toThrow(MalformedMessage);
  });

  it("refuses a field or string that runs past the end", () => {
    const m = new MessageReader(tmsg(110, 1, [{ u16: 3 }]));
    expect(() => m.u32()).toThrow(MalformedMessage);
    const s = new MessageReader(tmsg(110, 1, [{ u16: 200 }, { raw: Buffer.from("abc") }]));
    expect(() => s.str()).toThrow(MalformedMessage);
    const d = new MessageReader(tmsg(118, 1, [{ raw: Buffer.alloc(10) }]));
    expect(() => d.data(11)).toThrow(MalformedMessage);
    expect(d.data(10)).toHaveLength(10);
  });
});

describe("9p message writer", () => {
  it("writes the header and patches the size; grows past its first buffer without losing bytes", () => {
    const w = new MessageWriter(41, 0x0102, 1 << 16, 8);
    for (let i = 0; i < 1000; i++) w.u32(i).u8(i & 0xff);
    w.str("end");
    const out = Buffer.from(w.finish());
    expect(out.readUInt32LE(0)).toBe(out.length);
    expect([out[4], out.readUInt16LE(5)]).toEqual([41, 0x0102]);
    for (let i = 0; i < 1000; i++) {
      expect(out.readUInt32LE(7 + 5 * i)).toBe(i);
      expect(out[7 + 5 * i + 4]).toBe(i & 0xff);
    }
    expect(out.subarray(out.length - 5).equals(Buffer.from([3, 0, 0x65, 0x6e, 0x64]))).toBe(true);
  });

  it("refuses to grow past its limit, which the server sets to min(msize, the guest's room)", () => {
    const w = new MessageWriter(117, 1, 20);
    w.u64(1).u32(2); // 7 + 12 = 19 bytes
    expect(() => w.u16(3)).toThrow(ReplyTooLarge);
    expect(() => w.reserve(2)).toThrow(ReplyTooLarge);
    w.u8(4);
    expect(w.finish()).toHaveLength(20);
  });

  it("reserve gives space that lands in the reply; unreserve gives back a short read's rest", () => {
    const w = new MessageWriter(117, 1, 4096, 16);
    w.u32(0);
    const at = w.mark() - 4;
    const buf = w.reserve(100);
    buf.fill(0x61, 0, 40);
    w.unreserve(60);
    w.patchU32(at, 40);
    const out = Buffer.from(w.finish());
    expect(out.length).toBe(7 + 4 + 40);
    expect(out.readUInt32LE(7)).toBe(40);
    expect(out.subarray(11).every((b) => b === 0x61)).toBe(true);
  });
});
