// Ethernet II framing and ARP (RFC 826) for IPv4 over Ethernet: the parsers return null for
// anything malformed (the caller counts the drop); the builders make whole frames.

import type { Mac } from "./addresses.ts";

export const ETH_HEADER_BYTES = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
/** The largest frame lkvm's stack accepts: a 64 KiB TSO segment and its headers (kvmtool's 65550). */
export const MAX_FRAME_BYTES = 65550;

const ARP_BYTES = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

/** Who sends a frame and to whom, at the link layer. */
export interface LinkEnds {
  src: Mac;
  dst: Mac;
}

/** A frame of `payloadBytes` after an Ethernet header already written. */
export function ethernetFrame(ends: LinkEnds, ethertype: number, payloadBytes: number): Uint8Array {
  const frame = new Uint8Array(ETH_HEADER_BYTES + payloadBytes);
  frame.set(ends.dst, 0);
  frame.set(ends.src, 6);
  frame[12] = ethertype >>> 8;
  frame[13] = ethertype & 0xff;
  return frame;
}

export const ethertypeOf = (frame: Uint8Array): number => (frame[12]! << 8) | frame[13]!;

export interface ArpPacket {
  op: number;
  senderMac: Mac;
  senderIp: number;
  targetIp: number;
}

const u32be = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** An ARP packet for IPv4 over Ethernet after the Ethernet header, or null. */
export function parseArp(frame: Uint8Array): ArpPacket | null {
  const p = ETH_HEADER_BYTES;
  if (frame.length < p + ARP_BYTES) return null;
  const htype = (frame[p]! << 8) | frame[p + 1]!;
  const ptype = (frame[p + 2]! << 8) | frame[p + 3]!;
  if (htype !== 1 || ptype !== ETHERTYPE_IPV4 || frame[p + 4] !== 6 || frame[p + 5] !== 4) return null;
  return {
    op: (frame[p + 6]! << 8) | frame[p + 7]!,
    senderMac: frame.slice(p + 8, p + 14),
    senderIp: u32be(frame, p + 14),
    targetIp: u32be(frame, p + 24),
  };
}

/** The reply to `request`: `ourMac` has `request.targetIp`. */
export function arpReply(request: ArpPacket, ourMac: Mac): Uint8Array {
  const frame = ethernetFrame({ src: ourMac, dst: request.senderMac }, ETHERTYPE_ARP, ARP_BYTES);
  const dv = new DataView(frame.buffer);
  const p = ETH_HEADER_BYTES;
  dv.setUint16(p, 1);
  dv.setUint16(p + 2, ETHERTYPE_IPV4);
  frame[p + 4] = 6;
  frame[p + 5] = 4;
  dv.setUint16(p + 6, ARP_REPLY);
  frame.set(ourMac, p + 8);
  dv.setUint32(p + 14, request.targetIp);
  frame.set(request.senderMac, p + 18);
  dv.setUint32(p + 24, request.senderIp);
  return frame;
}
