// The control-socket wire format (src/ipc/protocol.ts): any client can connect to a VM's
// socket and send anything. Messages are encoded, concatenated and cut into chunks at random
// places, sometimes with an oversized length or plain noise among them.
//
// Must hold: the decoder gives back exactly the messages sent, in order, however the stream
// was cut; at an announced length over MAX_PAYLOAD_BYTES it throws IpcProtocolError, having
// handed over every message before it, and never buffers more than one message; noise gives
// messages or IpcProtocolError, nothing else. The DEBUG parameters and int replies round-trip,
// and a wrong-sized one is refused.

import fc from "fast-check";
import {
  DEBUG_PARAMS_BYTES,
  HEADER_BYTES,
  IpcProtocolError,
  MAX_PAYLOAD_BYTES,
  MessageDecoder,
  decodeDebugParams,
  decodeInt,
  encodeDebugParams,
  encodeInt,
  encodeMessage,
  type IpcMessage,
} from "../../src/ipc/protocol.ts";
import { attempt, check, type FuzzTarget } from "./harness.ts";

const messageArb: fc.Arbitrary<IpcMessage> = fc.record({
  type: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 0xffff_ffff })),
  payload: fc.oneof(
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 16 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1, MAX_PAYLOAD_BYTES - 1, MAX_PAYLOAD_BYTES).map((n) => new Uint8Array(n).fill(0x5a)) },
  ),
});

/** A piece of the stream: a whole message, a header announcing too much, or noise. */
type Piece = { message: IpcMessage } | { oversized: number } | { noise: Uint8Array };

const pieceArb: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 12, arbitrary: messageArb.map((message) => ({ message })) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(MAX_PAYLOAD_BYTES + 1, 0xffff_ffff), fc.integer({ min: MAX_PAYLOAD_BYTES + 1, max: 0xffff_ffff })).map((oversized) => ({ oversized })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((noise) => ({ noise })) },
);

function bytesOf(p: Piece): Uint8Array {
  if ("message" in p) return encodeMessage(p.message.type, p.message.payload);
  if ("noise" in p) return p.noise;
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(6, 0);
  header.writeUInt32LE(p.oversized, 4);
  return header;
}

const sameMessage = (a: IpcMessage, b: IpcMessage): boolean => a.type === b.type && Buffer.compare(a.payload, b.payload) === 0;

export const ipcProtocolTarget: FuzzTarget = {
  name: "ipc-protocol",
  description: "control-socket messages cut into chunks anywhere, oversized lengths, noise",
  quickRuns: 500,
  build() {
    const inputArb = fc.record({
      pieces: fc.array(pieceArb, { maxLength: 8 }),
      cuts: fc.array(fc.nat(), { maxLength: 8 }),
      debug: fc.record({ dbgType: fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), cpu: fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), sysrq: fc.integer({ min: -1, max: 0x1ff }) }),
      int: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      wrongSize: fc.uint8Array({ maxLength: 20 }),
    });
    const property = fc.property(inputArb, ({ pieces, cuts, debug, int, wrongSize }) => {
      const stream = Buffer.concat(pieces.map(bytesOf));
      // Cut points, in order, anywhere in the stream.
      const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const chunks = [...at, stream.length].map((end, i) => stream.subarray(i === 0 ? 0 : at[i - 1]!, end));
      // Without noise, the stream is exactly the messages up to the first oversized header.
      const clean = pieces.every((p) => !("noise" in p));
      const stop = pieces.findIndex((p) => "oversized" in p);
      const expected = pieces.slice(0, stop < 0 ? pieces.length : stop).flatMap((p) => ("message" in p ? [p.message] : []));

      const decoder = new MessageDecoder();
      const got: IpcMessage[] = [];
      let refused = false;
      for (const chunk of chunks) {
        const r = attempt([IpcProtocolError], () => decoder.push(chunk));
        if (r.error) {
          refused = true;
          got.push(...(r.error as IpcProtocolError).messages);
          break;
        }
        got.push(...r.value);
        check(decoder.bufferedBytes < HEADER_BYTES + MAX_PAYLOAD_BYTES, () => `${decoder.bufferedBytes} bytes buffered`);
      }
      if (clean) {
        check(refused === stop >= 0, () => (refused ? "a stream without an oversized length was refused" : "an oversized length was accepted"));
        check(got.length === expected.length && got.every((m, i) => sameMessage(m, expected[i]!)), () => `sent ${expected.length} messages before any refusal, decoded ${got.length} differently`);
      }

      const params = decodeDebugParams(encodeDebugParams(debug));
      check(
        params !== undefined && params.dbgType === debug.dbgType >>> 0 && params.cpu === debug.cpu >>> 0 && params.sysrq === (debug.sysrq & 0xff),
        () => `DEBUG parameters ${JSON.stringify(debug)} came back ${JSON.stringify(params)}`,
      );
      check(decodeInt(encodeInt(int)) === int, () => `int ${int} did not round-trip`);
      if (wrongSize.length !== DEBUG_PARAMS_BYTES) check(decodeDebugParams(wrongSize) === undefined, "a wrong-sized DEBUG payload was decoded");
      if (wrongSize.length !== 4) check(attempt([IpcProtocolError], () => decodeInt(wrongSize)).error !== undefined, "a wrong-sized int reply was decoded");
    });
    return { property };
  },
};
