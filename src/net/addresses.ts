// IPv4 and MAC addresses as lkvm's network code holds them: an IPv4 address is a u32 number
// (network order read as big-endian), a MAC six bytes.

export type Mac = Uint8Array;

export const BROADCAST_MAC: Mac = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const IPV4_BROADCAST = 0xffff_ffff;
export const IPV4_LOOPBACK = 0x7f00_0001;

/** "192.168.33.15" → 0xc0a8210f, or undefined if it is not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIpv4(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join(".");
}

/** "02:15:15:15:15:15" → its six bytes, or undefined. */
export function parseMac(text: string): Mac | undefined {
  const m = /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i.exec(text.trim());
  return m ? new Uint8Array(m.slice(1).map((h) => parseInt(h, 16))) : undefined;
}

export function formatMac(mac: Mac): string {
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

export function macEquals(a: Uint8Array, aOffset: number, b: Mac): boolean {
  for (let i = 0; i < 6; i++) if (a[aOffset + i] !== b[i]) return false;
  return true;
}

/** Whether the frame's destination MAC has the group bit (broadcast or multicast). */
export const isGroupMac = (frame: Uint8Array, offset: number): boolean => (frame[offset]! & 1) !== 0;
