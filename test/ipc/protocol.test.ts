// kvmtool's control-socket wire format: {u32 type; u32 len} little-endian, then len bytes.

import { describe, expect, it } from "vitest";
import {
  DEBUG_DUMP,
  DEBUG_SYSRQ,
  decodeDebugParams,
  decodeInt,
  decodeStats,
  encodeDebugParams,
  encodeStats,
  encodeInt,
  encodeMessage,
  IPC_DEBUG,
  IPC_PID,
  IPC_STOP,
  IPC_VMSTATE,
  IpcProtocolError,
  MAX_PAYLOAD_BYTES,
  MessageDecoder,
  STAT_REPLY_BYTES,
} from "../../src/ipc/protocol.ts";
import { formatMemoryStats } from "../../src/ipc/balloon-commands.ts";

describe("IPC wire format", () => {
  it("encodes a header as two little-endian u32s, then the payload", () => {
    expect([...encodeMessage(IPC_PID)]).toEqual([7, 0, 0, 0, 0, 0, 0, 0]);
    expect([...encodeMessage(0x01020304, Uint8Array.of(0xaa, 0xbb))]).toEqual([4, 3, 2, 1, 2, 0, 0, 0, 0xaa, 0xbb]);
  });

  it("lays out struct debug_cmd_params as kvmtool does: u32 dbg_type, u32 cpu, char sysrq, 3 bytes padding", () => {
    const b = encodeDebugParams({ dbgType: DEBUG_DUMP | DEBUG_SYSRQ, cpu: 3, sysrq: 0x70 });
    expect([...b]).toEqual([5, 0, 0, 0, 3, 0, 0, 0, 0x70, 0, 0, 0]);
    expect(decodeDebugParams(b)).toEqual({ dbgType: 5, cpu: 3, sysrq: 0x70 });
    expect(decodeDebugParams(b.subarray(0, 9))).toBeUndefined();
    expect(decodeDebugParams(new Uint8Array(13))).toBeUndefined();
  });

  it("lays out the STAT reply as 10 packed struct virtio_balloon_stat {u16 tag; u64 val}, unsent ones zero", () => {
    const b = encodeStats([{ tag: 5, value: 0x0102030405060708n }]);
    expect(b.length).toBe(STAT_REPLY_BYTES);
    expect([...b.subarray(0, 12)]).toEqual([5, 0, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
    expect(b.subarray(10).every((x) => x === 0)).toBe(true);
    const back = decodeStats(b);
    expect(back[0]).toEqual({ tag: 5, value: 0x0102030405060708n });
    expect(back.slice(1)).toEqual(Array(9).fill({ tag: 0, value: 0n }));
    expect(() => decodeStats(new Uint8Array(99))).toThrow(IpcProtocolError);
  });

  it("prints the statistics as kvmtool's builtin-stat.c does", () => {
    const text = formatMemoryStats([{ tag: 5, value: 201326592n }, { tag: 4, value: 10n }, { tag: 42, value: 1n }, { tag: 0, value: 0n }]);
    expect(text).toBe(
      "\n\n\t*** Guest memory statistics ***\n\n" +
        "The total amount of memory (in bytes):201326592\n" +
        "The amount of memory not being used for any purpose (in bytes):10\n" +
        "Unknown memory statistic (ID 42): 1\n" +
        "The amount of memory that has been swapped in (in bytes):0\n" +
        "\n",
    );
  });

  it("replies with a 4-byte int: a pid_t or the VMSTATE int", () => {
    expect([...encodeInt(0x12345)]).toEqual([0x45, 0x23, 0x01, 0]);
    expect(decodeInt(encodeInt(-1))).toBe(-1);
    expect(() => decodeInt(new Uint8Array(3))).toThrow(IpcProtocolError);
  });

  it("decodes a message only once all of it has arrived, one byte at a time", () => {
    const wire = encodeMessage(IPC_DEBUG, encodeDebugParams({ dbgType: DEBUG_DUMP, cpu: 0, sysrq: 0 }));
    const d = new MessageDecoder();
    for (let i = 0; i < wire.length - 1; i++) expect(d.push(wire.subarray(i, i + 1))).toEqual([]);
    const [m, ...rest] = d.push(wire.subarray(wire.length - 1));
    expect(rest).toEqual([]);
    expect(m!.type).toBe(IPC_DEBUG);
    expect(decodeDebugParams(m!.payload)).toEqual({ dbgType: DEBUG_DUMP, cpu: 0, sysrq: 0 });
    expect(d.bufferedBytes).toBe(0);
  });

  it("decodes several messages from one read, and keeps a trailing partial one", () => {
    const wire = Buffer.concat([encodeMessage(IPC_PID), encodeMessage(IPC_VMSTATE), encodeMessage(IPC_STOP).subarray(0, 5)]);
    const d = new MessageDecoder();
    expect(d.push(wire).map((m) => m.type)).toEqual([IPC_PID, IPC_VMSTATE]);
    expect(d.bufferedBytes).toBe(5);
    expect(d.push(encodeMessage(IPC_STOP).subarray(5)).map((m) => m.type)).toEqual([IPC_STOP]);
  });

  it("takes only the announced length: bytes beyond it start the next message", () => {
    // A header announcing 2 bytes, followed by 2 + 8 bytes: the 8 extra are a PID request.
    const wire = Buffer.concat([encodeMessage(IPC_STOP, Uint8Array.of(1, 2)), encodeMessage(IPC_PID)]);
    const d = new MessageDecoder();
    const ms = d.push(wire);
    expect(ms.map((m) => [m.type, [...m.payload]])).toEqual([
      [IPC_STOP, [1, 2]],
      [IPC_PID, []],
    ]);
  });

  it("refuses a length larger than any message, before waiting for its bytes", () => {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(IPC_DEBUG, 0);
    header.writeUInt32LE(MAX_PAYLOAD_BYTES + 1, 4);
    expect(() => new MessageDecoder().push(header)).toThrow(IpcProtocolError);
    header.writeUInt32LE(0xffffffff, 4);
    expect(() => new MessageDecoder().push(header)).toThrow(IpcProtocolError);
  });

  // Found by the ipc-protocol fuzz target: messages before a bad header in the same read were lost.
  it("hands over the messages that came before an oversized length, in the same read", () => {
    const bad = Buffer.alloc(8);
    bad.writeUInt32LE(IPC_STOP, 0);
    bad.writeUInt32LE(MAX_PAYLOAD_BYTES + 1, 4);
    const d = new MessageDecoder();
    expect(d.push(encodeMessage(IPC_PID).subarray(0, 5))).toEqual([]);
    let refusal: unknown;
    try {
      d.push(Buffer.concat([encodeMessage(IPC_PID).subarray(5), encodeMessage(IPC_VMSTATE, Uint8Array.of(9)), bad]));
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(IpcProtocolError);
    expect((refusal as IpcProtocolError).messages.map((m) => [m.type, [...m.payload]])).toEqual([
      [IPC_PID, []],
      [IPC_VMSTATE, [9]],
    ]);
  });
});
