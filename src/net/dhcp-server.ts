// A DHCP server (RFC 2131, options RFC 2132) for exactly one client: the guest gets its
// configured address, a /24 mask, the gateway as router and DNS server, and kvmtool's lease
// (0x3840 s). DISCOVER → OFFER, REQUEST for that address → ACK, for another → NAK; every
// other message, and anything malformed, is ignored.

import type { Mac } from "./addresses.ts";
import { u32 } from "./ipv4.ts";

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const MAGIC_COOKIE = 0x63825363;
const FIXED_BYTES = 236; // op … file, before the cookie
const OPTIONS_OFFSET = FIXED_BYTES + 4;

export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPACK = 5;
export const DHCPNAK = 6;

const OPT_PAD = 0;
const OPT_SUBNET_MASK = 1;
const OPT_ROUTER = 3;
const OPT_DNS = 6;
const OPT_REQUESTED_IP = 50;
const OPT_LEASE_TIME = 51;
const OPT_MESSAGE_TYPE = 53;
const OPT_SERVER_ID = 54;
const OPT_END = 255;

/** kvmtool's lease: 0x3840 seconds (4 hours). */
export const DHCP_LEASE_SECONDS = 0x3840;

export interface DhcpLease {
  clientIp: number;
  serverIp: number;
  netmask: number;
  dnsServer: number;
}

export interface DhcpRequest {
  type: number;
  xid: number;
  flags: number;
  clientMac: Mac;
  /** Option 50, or ciaddr when renewing. */
  requestedIp?: number;
  serverId?: number;
}

/** A BOOTP request carrying a DHCP message type, or null. */
export function parseDhcp(data: Uint8Array): DhcpRequest | null {
  if (data.length < OPTIONS_OFFSET || data[0] !== BOOTREQUEST || data[1] !== 1 || data[2] !== 6) return null;
  if (u32(data, FIXED_BYTES) !== MAGIC_COOKIE) return null;
  const req: Partial<DhcpRequest> = {
    xid: u32(data, 4),
    flags: (data[10]! << 8) | data[11]!,
    clientMac: data.slice(28, 34),
  };
  const ciaddr = u32(data, 12);
  for (let i = OPTIONS_OFFSET; i < data.length; ) {
    const code = data[i]!;
    if (code === OPT_END) break;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    const len = data[i + 1];
    if (len === undefined || i + 2 + len > data.length) return null;
    const v = i + 2;
    if (code === OPT_MESSAGE_TYPE && len === 1) req.type = data[v];
    if (code === OPT_REQUESTED_IP && len === 4) req.requestedIp = u32(data, v);
    if (code === OPT_SERVER_ID && len === 4) req.serverId = u32(data, v);
    i = v + len;
  }
  if (req.type === undefined) return null;
  if (req.requestedIp === undefined && ciaddr !== 0) req.requestedIp = ciaddr;
  return req as DhcpRequest;
}

/** The reply to `req`, or null when there is none to give. */
export function dhcpReply(req: DhcpRequest, lease: DhcpLease): Uint8Array | null {
  let type: number;
  if (req.type === DHCPDISCOVER) type = DHCPOFFER;
  else if (req.type === DHCPREQUEST) {
    if (req.serverId !== undefined && req.serverId !== lease.serverIp) return null; // chose another server
    type = req.requestedIp === undefined || req.requestedIp === lease.clientIp ? DHCPACK : DHCPNAK;
  } else return null;

  const out = new Uint8Array(OPTIONS_OFFSET + 64);
  const dv = new DataView(out.buffer);
  out[0] = BOOTREPLY;
  out[1] = 1;
  out[2] = 6;
  dv.setUint32(4, req.xid);
  dv.setUint16(10, req.flags);
  if (type !== DHCPNAK) dv.setUint32(16, lease.clientIp); // yiaddr
  dv.setUint32(20, lease.serverIp); // siaddr
  out.set(req.clientMac, 28);
  dv.setUint32(FIXED_BYTES, MAGIC_COOKIE);
  let i = OPTIONS_OFFSET;
  const opt = (code: number, bytes: number[]) => {
    out[i++] = code;
    out[i++] = bytes.length;
    for (const b of bytes) out[i++] = b;
  };
  const be32 = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  opt(OPT_MESSAGE_TYPE, [type]);
  opt(OPT_SERVER_ID, be32(lease.serverIp));
  if (type !== DHCPNAK) {
    opt(OPT_LEASE_TIME, be32(DHCP_LEASE_SECONDS));
    opt(OPT_SUBNET_MASK, be32(lease.netmask));
    opt(OPT_ROUTER, be32(lease.serverIp));
    opt(OPT_DNS, be32(lease.dnsServer));
  }
  out[i++] = OPT_END;
  return out.subarray(0, Math.max(i, 300)); // BOOTP's minimum message size
}
