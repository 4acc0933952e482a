// ICMP echo (RFC 792): lkvm answers every echo request itself, whatever the destination,
// as kvmtool's uip does; other ICMP messages are dropped.

import { finishChecksum, sum16 } from "./checksum.ts";
import type { LinkEnds } from "./ethernet.ts";
import { IPPROTO_ICMP, IPV4_PAYLOAD_OFFSET, ipv4Frame, type Ipv4Packet } from "./ipv4.ts";

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const ICMP_HEADER_BYTES = 8;

/** The reply to an echo request, or null when `ip` is not a well-formed one. */
export function icmpEchoReply(ip: Ipv4Packet, ends: LinkEnds): Uint8Array | null {
  const { frame, payloadOffset: o, payloadEnd: end } = ip;
  if (end - o < ICMP_HEADER_BYTES || frame[o] !== ICMP_ECHO_REQUEST || frame[o + 1] !== 0) return null;
  if (finishChecksum(sum16(frame, o, end)) !== 0) return null;
  const reply = ipv4Frame(ends, ip.dst, ip.src, IPPROTO_ICMP, end - o);
  const r = IPV4_PAYLOAD_OFFSET;
  reply.set(frame.subarray(o, end), r);
  reply[r] = ICMP_ECHO_REPLY;
  reply[r + 2] = reply[r + 3] = 0;
  const c = finishChecksum(sum16(reply, r, reply.length));
  reply[r + 2] = c >>> 8;
  reply[r + 3] = c & 0xff;
  return reply;
}
