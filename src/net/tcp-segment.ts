// TCP segments (RFC 9293 §3.1): the header parsed with its checksum and data offset checked,
// the MSS option read from a SYN; and the builder lkvm's end of a connection uses. Sequence
// numbers are u32 and compared modulo 2^32 (seqDiff).

import { finishChecksum, fold16, pseudoHeaderSum, sum16 } from "./checksum.ts";
import type { LinkEnds } from "./ethernet.ts";
import { IPPROTO_TCP, IPV4_PAYLOAD_OFFSET, ipv4Frame, u16, u32, type Ipv4Packet } from "./ipv4.ts";

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const TCP_HEADER_BYTES = 20;
const TCP_OPTION_END = 0;
const TCP_OPTION_NOP = 1;
const TCP_OPTION_MSS = 2;
const TCP_OPTION_WINDOW_SCALE = 3;
/** RFC 7323 §2.3: a shift above 14 is taken as 14. */
export const TCP_MAX_WINDOW_SHIFT = 14;
/** RFC 9293: the MSS to assume when the peer sends none. */
export const TCP_DEFAULT_MSS = 536;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** The MSS option, if the segment has one. */
  mss?: number;
  /** The window-scale option's shift (RFC 7323), if the segment has one. */
  windowScale?: number;
  data: Uint8Array;
}

export type TcpDrop = "tcp-short" | "tcp-offset" | "tcp-checksum";

export function parseTcp(ip: Ipv4Packet, checksumTrusted = false): TcpSegment | TcpDrop {
  const { frame, payloadOffset: o, payloadEnd: end } = ip;
  if (end - o < TCP_HEADER_BYTES) return "tcp-short";
  const headerBytes = (frame[o + 12]! >>> 4) * 4;
  if (headerBytes < TCP_HEADER_BYTES || o + headerBytes > end) return "tcp-offset";
  if (!checksumTrusted) {
    const sum = sum16(frame, o, end, pseudoHeaderSum(ip.src, ip.dst, IPPROTO_TCP, end - o));
    if (finishChecksum(sum) !== 0) return "tcp-checksum";
  }
  const seg: TcpSegment = {
    srcPort: u16(frame, o),
    dstPort: u16(frame, o + 2),
    seq: u32(frame, o + 4),
    ack: u32(frame, o + 8),
    flags: frame[o + 13]! & 0x3f,
    window: u16(frame, o + 14),
    data: frame.subarray(o + headerBytes, end),
  };
  // Options: only MSS matters here; a malformed list just ends the walk.
  for (let i = o + TCP_HEADER_BYTES; i < o + headerBytes; ) {
    const kind = frame[i]!;
    if (kind === TCP_OPTION_END) break;
    if (kind === TCP_OPTION_NOP) {
      i++;
      continue;
    }
    const len = frame[i + 1];
    if (len === undefined || len < 2 || i + len > o + headerBytes) break;
    if (kind === TCP_OPTION_MSS && len === 4) seg.mss = u16(frame, i + 2);
    if (kind === TCP_OPTION_WINDOW_SCALE && len === 3) seg.windowScale = Math.min(frame[i + 2]!, TCP_MAX_WINDOW_SHIFT);
    i += len;
  }
  return seg;
}

export interface TcpEnds {
  src: number;
  srcPort: number;
  dst: number;
  dstPort: number;
}

/** A whole frame holding one segment; `mss` and `windowScale` add those options (for a SYN). */
export function tcpFrame(
  link: LinkEnds,
  ends: TcpEnds,
  seg: { seq: number; ack: number; flags: number; window: number; mss?: number; windowScale?: number },
  data: Uint8Array = EMPTY,
): Uint8Array {
  const headerBytes = TCP_HEADER_BYTES + (seg.mss === undefined ? 0 : 4) + (seg.windowScale === undefined ? 0 : 4);
  const lengthBytes = headerBytes + data.length;
  const frame = ipv4Frame(link, ends.src, ends.dst, IPPROTO_TCP, lengthBytes);
  const o = IPV4_PAYLOAD_OFFSET;
  const dv = new DataView(frame.buffer);
  dv.setUint16(o, ends.srcPort);
  dv.setUint16(o + 2, ends.dstPort);
  dv.setUint32(o + 4, seg.seq >>> 0);
  dv.setUint32(o + 8, seg.ack >>> 0);
  frame[o + 12] = (headerBytes / 4) << 4;
  frame[o + 13] = seg.flags;
  dv.setUint16(o + 14, seg.window);
  let opt = o + TCP_HEADER_BYTES;
  if (seg.mss !== undefined) {
    frame[opt] = TCP_OPTION_MSS;
    frame[opt + 1] = 4;
    dv.setUint16(opt + 2, seg.mss);
    opt += 4;
  }
  if (seg.windowScale !== undefined) {
    frame.set([TCP_OPTION_NOP, TCP_OPTION_WINDOW_SCALE, 3, seg.windowScale], opt);
  }
  frame.set(data, o + headerBytes);
  dv.setUint16(o + 16, finishChecksum(sum16(frame, o, o + lengthBytes, pseudoHeaderSum(ends.src, ends.dst, IPPROTO_TCP, lengthBytes))));
  return frame;
}

const EMPTY = new Uint8Array(0);

/** Replaces a built frame's TCP checksum by the pseudo-header sum alone (for checksum offload). */
export function writePartialChecksum(frame: Uint8Array): void {
  const o = IPV4_PAYLOAD_OFFSET;
  const ip = parseIpv4Fields(frame);
  const partial = fold16(pseudoHeaderSum(ip.src, ip.dst, IPPROTO_TCP, frame.length - o));
  frame[o + 16] = partial >>> 8;
  frame[o + 17] = partial & 0xff;
}

const parseIpv4Fields = (frame: Uint8Array) => ({ src: u32(frame, IPV4_PAYLOAD_OFFSET - 8), dst: u32(frame, IPV4_PAYLOAD_OFFSET - 4) });

/** a - b modulo 2^32, as a signed distance: negative when a is before b. */
export const seqDiff = (a: number, b: number): number => (a - b) | 0;
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
