// Frames as the guest would send them, and an independent check of the checksums in frames
// lkvm sends (a plain 16-bit loop, not src/net/checksum.ts).

import { BROADCAST_MAC, parseIpv4, parseMac } from "../../src/net/addresses.ts";
import { tcpFrame } from "../../src/net/tcp-segment.ts";
import { udpFrame } from "../../src/net/udp.ts";

export const GUEST_MAC = parseMac("02:15:15:15:15:15")!;
export const HOST_MAC = parseMac("02:01:01:01:01:01")!;
export const GUEST_IP = parseIpv4("192.168.33.15")!;
export const HOST_IP = parseIpv4("192.168.33.1")!;
const fromGuest = { src: GUEST_MAC, dst: HOST_MAC };

export function guestTcp(dstPort: number, seg: { srcPort?: number; seq: number; ack?: number; flags: number; window?: number; mss?: number; windowScale?: number }, data?: Uint8Array, dst = HOST_IP): Uint8Array {
  return tcpFrame(fromGuest, { src: GUEST_IP, srcPort: seg.srcPort ?? 40000, dst, dstPort }, { seq: seg.seq, ack: seg.ack ?? 0, flags: seg.flags, window: seg.window ?? 65535, mss: seg.mss, windowScale: seg.windowScale }, data);
}

export function guestUdp(dst: number, srcPort: number, dstPort: number, data: Uint8Array, broadcast = false): Uint8Array {
  return udpFrame({ src: GUEST_MAC, dst: broadcast ? BROADCAST_MAC : HOST_MAC }, { src: broadcast ? 0 : GUEST_IP, srcPort, dst, dstPort }, data);
}

function onesSum(b: Uint8Array, from: number, to: number, start = 0): number {
  let s = start;
  for (let i = from; i < to; i += 2) s += (b[i]! << 8) + (i + 1 < to ? b[i + 1]! : 0);
  while (s >> 16) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Whether the IPv4 header and the TCP/UDP checksum of `frame` verify. */
export function checksumsVerify(frame: Uint8Array): boolean {
  const ihl = (frame[14]! & 15) * 4;
  if (onesSum(frame, 14, 14 + ihl) !== 0xffff) return false;
  const total = (frame[16]! << 8) | frame[17]!;
  const proto = frame[23]!;
  if (proto !== 6 && proto !== 17) return true;
  const l4 = 14 + ihl;
  const len = total - ihl;
  let pseudo = 0;
  for (let i = 26; i < 34; i += 2) pseudo += (frame[i]! << 8) | frame[i + 1]!;
  return onesSum(frame, l4, l4 + len, pseudo + proto + len) === 0xffff;
}
