// UDP (RFC 768): parsing with the length and (when present) checksum checked, and building a
// whole frame with its checksum.

import { finishChecksum, pseudoHeaderSum, sum16 } from "./checksum.ts";
import type { LinkEnds } from "./ethernet.ts";
import { IPPROTO_UDP, IPV4_PAYLOAD_OFFSET, ipv4Frame, u16, type Ipv4Packet } from "./ipv4.ts";

export const UDP_HEADER_BYTES = 8;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  data: Uint8Array;
}

export type UdpDrop = "udp-short" | "udp-length" | "udp-checksum";

export function parseUdp(ip: Ipv4Packet, checksumTrusted = false): UdpDatagram | UdpDrop {
  const { frame, payloadOffset: o, payloadEnd: end } = ip;
  if (end - o < UDP_HEADER_BYTES) return "udp-short";
  const lengthBytes = u16(frame, o + 4);
  if (lengthBytes < UDP_HEADER_BYTES || o + lengthBytes > end) return "udp-length";
  const checksum = u16(frame, o + 6);
  if (!checksumTrusted && checksum !== 0) {
    const sum = sum16(frame, o, o + lengthBytes, pseudoHeaderSum(ip.src, ip.dst, IPPROTO_UDP, lengthBytes));
    if (finishChecksum(sum) !== 0) return "udp-checksum";
  }
  return { srcPort: u16(frame, o), dstPort: u16(frame, o + 2), data: frame.subarray(o + UDP_HEADER_BYTES, o + lengthBytes) };
}

export interface UdpEnds {
  src: number;
  srcPort: number;
  dst: number;
  dstPort: number;
}

export function udpFrame(link: LinkEnds, ends: UdpEnds, data: Uint8Array): Uint8Array {
  const lengthBytes = UDP_HEADER_BYTES + data.length;
  const frame = ipv4Frame(link, ends.src, ends.dst, IPPROTO_UDP, lengthBytes);
  const o = IPV4_PAYLOAD_OFFSET;
  const dv = new DataView(frame.buffer);
  dv.setUint16(o, ends.srcPort);
  dv.setUint16(o + 2, ends.dstPort);
  dv.setUint16(o + 4, lengthBytes);
  frame.set(data, o + UDP_HEADER_BYTES);
  const c = finishChecksum(sum16(frame, o, o + lengthBytes, pseudoHeaderSum(ends.src, ends.dst, IPPROTO_UDP, lengthBytes)));
  dv.setUint16(o + 6, c === 0 ? 0xffff : c); // 0 means "no checksum" in UDP
  return frame;
}
