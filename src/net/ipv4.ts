// IPv4 (RFC 791): the parser checks what a hostile guest could get wrong (version, header
// length, total length against the frame, the header checksum) and drops fragments, which
// lkvm's stack does not reassemble; the builder writes a 20-byte header with its checksum.

import { sum16, finishChecksum } from "./checksum.ts";
import { ETH_HEADER_BYTES, ETHERTYPE_IPV4, ethernetFrame, type LinkEnds } from "./ethernet.ts";

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_HEADER_BYTES = 20;
const DEFAULT_TTL = 64;

export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  /** The frame; the payload is [payloadOffset, payloadEnd). */
  frame: Uint8Array;
  payloadOffset: number;
  payloadEnd: number;
}

/** Why a frame was not an IPv4 packet lkvm takes: the key of a drop counter. */
export type Ipv4Drop = "ipv4-short" | "ipv4-header" | "ipv4-length" | "ipv4-checksum" | "ipv4-fragment";

export function parseIpv4Packet(frame: Uint8Array): Ipv4Packet | Ipv4Drop {
  const p = ETH_HEADER_BYTES;
  if (frame.length < p + IPV4_HEADER_BYTES) return "ipv4-short";
  const ihlBytes = (frame[p]! & 0x0f) * 4;
  if (frame[p]! >>> 4 !== 4 || ihlBytes < IPV4_HEADER_BYTES) return "ipv4-header";
  const totalBytes = (frame[p + 2]! << 8) | frame[p + 3]!;
  // Ethernet pads short packets: the IP length may be less than the frame's, never more.
  if (totalBytes < ihlBytes || p + totalBytes > frame.length) return "ipv4-length";
  if (finishChecksum(sum16(frame, p, p + ihlBytes)) !== 0) return "ipv4-checksum";
  const fragment = ((frame[p + 6]! << 8) | frame[p + 7]!) & 0x3fff; // MF and the offset
  if (fragment !== 0) return "ipv4-fragment";
  return {
    src: u32(frame, p + 12),
    dst: u32(frame, p + 16),
    protocol: frame[p + 9]!,
    frame,
    payloadOffset: p + ihlBytes,
    payloadEnd: p + totalBytes,
  };
}

/** A frame with Ethernet and IPv4 headers written; the payload starts at IPV4_PAYLOAD_OFFSET. */
export function ipv4Frame(ends: LinkEnds, src: number, dst: number, protocol: number, payloadBytes: number): Uint8Array {
  const frame = ethernetFrame(ends, ETHERTYPE_IPV4, IPV4_HEADER_BYTES + payloadBytes);
  const p = ETH_HEADER_BYTES;
  const dv = new DataView(frame.buffer);
  frame[p] = 0x45;
  dv.setUint16(p + 2, IPV4_HEADER_BYTES + payloadBytes);
  dv.setUint16(p + 6, 0x4000); // DF: lkvm never fragments
  frame[p + 8] = DEFAULT_TTL;
  frame[p + 9] = protocol;
  dv.setUint32(p + 12, src);
  dv.setUint32(p + 16, dst);
  dv.setUint16(p + 10, finishChecksum(sum16(frame, p, p + IPV4_HEADER_BYTES)));
  return frame;
}

export const IPV4_PAYLOAD_OFFSET = ETH_HEADER_BYTES + IPV4_HEADER_BYTES;

export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
