// The DNS server at the gateway address: a query for one name (RFC 1035 §4) is answered from
// the host's resolver (node:dns lookup, i.e. getaddrinfo: /etc/hosts, then the host's DNS), so
// the guest resolves what the host resolves without lkvm knowing the host's nameservers.
// A and AAAA get answers; other types an empty NOERROR; unknown names NXDOMAIN; lookup
// failures SERVFAIL; anything that is not a one-question standard query no reply at all.

import { lookup as dnsLookup } from "node:dns/promises";

export const DNS_PORT = 53;
const HEADER_BYTES = 12;
const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE_NOERROR = 0;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const ANSWER_TTL_SECONDS = 60;
const MAX_NAME_BYTES = 255;

export interface DnsQuestion {
  id: number;
  /** The RD bit, echoed back. */
  recursionDesired: boolean;
  name: string;
  type: number;
  qclass: number;
  /** The question section as sent (copied into the reply). */
  question: Uint8Array;
}

/** A host lookup: the addresses of `name` in one family, or an error with a code (ENOTFOUND…). */
export type HostLookup = (name: string, family: 4 | 6) => Promise<string[]>;

export const systemLookup: HostLookup = async (name, family) =>
  (await dnsLookup(name, { family, all: true })).map((a) => a.address);

export function parseDnsQuery(msg: Uint8Array): DnsQuestion | null {
  if (msg.length < HEADER_BYTES) return null;
  const flags = (msg[2]! << 8) | msg[3]!;
  const qdcount = (msg[4]! << 8) | msg[5]!;
  // QR = 0 and OPCODE = QUERY, exactly one question.
  if ((flags & 0xf800) !== 0 || qdcount !== 1) return null;
  const labels: string[] = [];
  let i = HEADER_BYTES;
  for (;;) {
    const len = msg[i];
    if (len === undefined || len > 63) return null; // no compression in a question
    i++;
    if (len === 0) break;
    if (i + len > msg.length) return null;
    labels.push(Buffer.from(msg.subarray(i, i + len)).toString("latin1"));
    i += len;
    if (i - HEADER_BYTES > MAX_NAME_BYTES) return null;
  }
  if (i + 4 > msg.length) return null;
  return {
    id: (msg[0]! << 8) | msg[1]!,
    recursionDesired: (flags & 0x0100) !== 0,
    name: labels.join("."),
    type: (msg[i]! << 8) | msg[i + 1]!,
    qclass: (msg[i + 2]! << 8) | msg[i + 3]!,
    question: msg.slice(HEADER_BYTES, i + 4),
  };
}

/** The reply to `q`, as the host's resolver answers it. */
export async function answerDnsQuery(q: DnsQuestion, lookup: HostLookup = systemLookup): Promise<Uint8Array> {
  const family = q.type === TYPE_A ? 4 : q.type === TYPE_AAAA ? 6 : undefined;
  let rcode = RCODE_NOERROR;
  let addresses: string[] = [];
  if (family !== undefined && q.qclass === CLASS_IN && q.name !== "") {
    try {
      addresses = await lookup(q.name, family);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENODATA, or an address in the other family only: the name exists, with no answer of
      // this type (getaddrinfo says ENOTFOUND for both).
      if (code === "ENOTFOUND") rcode = (await existsInFamily(q.name, family === 4 ? 6 : 4, lookup)) ? RCODE_NOERROR : RCODE_NXDOMAIN;
      else rcode = code === "ENODATA" ? RCODE_NOERROR : RCODE_SERVFAIL;
    }
  }
  const rdatas = addresses.map((a) => addressBytes(a, family!)).filter((b): b is Uint8Array => b !== null);
  return dnsReply(q, rcode, rdatas);
}

async function existsInFamily(name: string, family: 4 | 6, lookup: HostLookup): Promise<boolean> {
  try {
    return (await lookup(name, family)).length > 0;
  } catch {
    return false;
  }
}

export function dnsReply(q: DnsQuestion, rcode: number, rdatas: Uint8Array[]): Uint8Array {
  const answerBytes = rdatas.reduce((n, r) => n + 12 + r.length, 0);
  const out = new Uint8Array(HEADER_BYTES + q.question.length + answerBytes);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, q.id);
  dv.setUint16(2, 0x8000 | (q.recursionDesired ? 0x0100 : 0) | 0x0080 | rcode); // QR, RD, RA
  dv.setUint16(4, 1);
  dv.setUint16(6, rdatas.length);
  out.set(q.question, HEADER_BYTES);
  let i = HEADER_BYTES + q.question.length;
  for (const r of rdatas) {
    dv.setUint16(i, 0xc000 | HEADER_BYTES); // the name: a pointer to the question's
    dv.setUint16(i + 2, q.type);
    dv.setUint16(i + 4, CLASS_IN);
    dv.setUint32(i + 6, ANSWER_TTL_SECONDS);
    dv.setUint16(i + 10, r.length);
    out.set(r, i + 12);
    i += 12 + r.length;
  }
  return out;
}

function addressBytes(text: string, family: 4 | 6): Uint8Array | null {
  if (family === 4) {
    const parts = text.split(".").map(Number);
    return parts.length === 4 && parts.every((p) => p >= 0 && p <= 255) ? new Uint8Array(parts) : null;
  }
  // IPv6: expand "::" and write eight 16-bit groups.
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  if (tail === undefined && h.length !== 8) return null;
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, k) => {
    const v = parseInt(g, 16);
    out[2 * k] = v >>> 8;
    out[2 * k + 1] = v & 0xff;
  });
  return out;
}
