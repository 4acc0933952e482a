// lkvm's user-mode network ("-n mode=user", kvmtool's uip, QEMU's slirp): the guest's NIC is
// wired to a small router inside lkvm that needs no privileges. It answers ARP for every
// address but the guest's, answers ICMP echo, serves DHCP and DNS at the gateway, and relays
// UDP and TCP through host sockets (the gateway address is the host's 127.0.0.1); hostfwd
// listeners bring host clients in. Frames from the guest are untrusted: each parser checks its
// header and a malformed frame is counted as a drop, never thrown.

import { connect, type Server, type Socket } from "node:net";
import type { Socket as UdpSocket } from "node:dgram";
import { BROADCAST_MAC, formatIpv4, IPV4_BROADCAST, isGroupMac, macEquals, type Mac } from "./addresses.ts";
import { answerDnsQuery, DNS_PORT, parseDnsQuery, systemLookup, type HostLookup } from "./dns-forwarder.ts";
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, dhcpReply, parseDhcp } from "./dhcp-server.ts";
import { ARP_REQUEST, arpReply, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_HEADER_BYTES, ethertypeOf, parseArp, type LinkEnds } from "./ethernet.ts";
import { startHostForwards, type HostForward } from "./host-forward.ts";
import { icmpEchoReply } from "./icmp.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, parseIpv4Packet, type Ipv4Packet } from "./ipv4.ts";
import { TcpConnection, type TcpSegmentOut, type TcpStack } from "./tcp-connection.ts";
import { parseTcp, TCP_ACK, TCP_RST, TCP_SYN, tcpFrame, writePartialChecksum, type TcpSegment } from "./tcp-segment.ts";
import { UdpNat } from "./udp-nat.ts";
import { parseUdp, udpFrame } from "./udp.ts";

/** kvmtool's host MAC for the user-mode NIC. */
export const USER_NET_HOST_MAC = "02:01:01:01:01:01";
export const USER_NET_NETMASK = 0xffff_ff00;
/** At most this many TCP connections at once; SYNs beyond are refused with RST. */
export const TCP_MAX_CONNECTIONS = 1024;
const EPHEMERAL_FIRST = 49152;

export interface UserNetworkOptions {
  guestIp: number;
  /** The gateway: DHCP, DNS and the host's loopback services live here. */
  hostIp: number;
  guestMac: Mac;
  hostMac: Mac;
  hostForwards?: readonly HostForward[];
  /** The resolver behind the DNS server (tests replace it). */
  lookup?: HostLookup;
  /** How host sockets are made (fuzzers replace them, so that no frame reaches the network). */
  hostSockets?: HostSockets;
  log?: (line: string) => void;
}

export interface HostSockets {
  /** A TCP connection to host:port, half-open allowed. */
  connect(host: string, port: number): Socket;
  udp(): UdpSocket;
}

/** The NIC side: where frames for the guest go. */
export interface GuestLink {
  /** A frame for the guest; `gsoSize`: a TCP segment of more than one MSS (GUEST_TSO4). */
  deliver(frame: Uint8Array, gsoSize?: number): void;
  /** The largest TCP segment the NIC takes in one frame: 0 without TCP segmentation offload. */
  maxTcpSegmentBytes(): number;
  /** Whether the NIC can take more frames now; when it can again it calls retry(). */
  hasRoom(): boolean;
}

export class UserNetwork implements TcpStack {
  /** Frames dropped, by reason. */
  readonly drops = new Map<string, number>();
  private link?: GuestLink;
  private readonly opts: UserNetworkOptions;
  private readonly toGuest: LinkEnds;
  private readonly tcp = new Map<string, TcpConnection>();
  private readonly udp: UdpNat;
  private readonly udpForwards = new Map<string, { gatewayPort: number; reply: (data: Uint8Array) => void }>();
  private readonly udpForwardByPort = new Map<number, (data: Uint8Array) => void>();
  private readonly listeners: (Server | UdpSocket)[];
  private nextEphemeral = EPHEMERAL_FIRST;
  private readonly log: (line: string) => void;

  constructor(opts: UserNetworkOptions) {
    this.opts = opts;
    this.log = opts.log ?? (() => {});
    this.toGuest = { src: opts.hostMac, dst: opts.guestMac };
    this.udp = new UdpNat({
      gatewayIp: opts.hostIp,
      toGuest: (src, srcPort, guestPort, data) => this.sendUdp(src, srcPort, guestPort, data),
      createSocket: opts.hostSockets && (() => opts.hostSockets!.udp()),
    });
    this.listeners = startHostForwards(opts.hostForwards ?? [], {
      tcpAccepted: (socket, guestPort) => this.acceptForwarded(socket, guestPort),
      udpReceived: (clientKey, guestPort, data, reply) => this.forwardUdp(clientKey, guestPort, data, reply),
      log: this.log,
    });
  }

  attach(link: GuestLink): void {
    this.link = link;
  }

  // ---- frames from the guest ----

  /** One frame the guest sent; `checksumsTrusted` when the device completed them (CSUM). */
  receive(frame: Uint8Array, checksumsTrusted = false): void {
    if (frame.length < ETH_HEADER_BYTES) return this.drop("eth-short");
    if (!macEquals(frame, 0, this.opts.hostMac) && !isGroupMac(frame, 0)) return this.drop("eth-not-ours");
    const type = ethertypeOf(frame);
    if (type === ETHERTYPE_ARP) return this.arp(frame);
    if (type !== ETHERTYPE_IPV4) return this.drop("ethertype");
    const ip = parseIpv4Packet(frame);
    if (typeof ip === "string") return this.drop(ip);
    switch (ip.protocol) {
      case IPPROTO_ICMP: {
        const reply = icmpEchoReply(ip, this.toGuest);
        return reply ? this.send(reply) : this.drop("icmp");
      }
      case IPPROTO_UDP:
        return this.udpFromGuest(ip, checksumsTrusted);
      case IPPROTO_TCP:
        return this.tcpFromGuest(ip, checksumsTrusted);
      default:
        return this.drop("ip-protocol");
    }
  }

  private arp(frame: Uint8Array): void {
    const req = parseArp(frame);
    if (!req) return this.drop("arp");
    // Every address but the guest's own is the router (a gratuitous ARP asks for itself).
    if (req.op !== ARP_REQUEST || req.targetIp === this.opts.guestIp || req.targetIp === req.senderIp) return;
    this.send(arpReply(req, this.opts.hostMac));
  }

  private udpFromGuest(ip: Ipv4Packet, trusted: boolean): void {
    const d = parseUdp(ip, trusted);
    if (typeof d === "string") return this.drop(d);
    if (d.dstPort === DHCP_SERVER_PORT && (ip.dst === IPV4_BROADCAST || ip.dst === this.opts.hostIp)) return this.dhcp(d.data);
    if (ip.dst === this.opts.hostIp && d.dstPort === DNS_PORT) return this.dns(d.srcPort, d.data);
    if (ip.dst === this.opts.hostIp) {
      const reply = this.udpForwardByPort.get(d.dstPort);
      if (reply) return reply(d.data);
    }
    if (ip.dst === IPV4_BROADCAST || ip.dst >>> 28 === 0xe || (ip.dst & ~USER_NET_NETMASK) === (~USER_NET_NETMASK >>> 0)) return this.drop("udp-broadcast");
    this.udp.send(d.srcPort, ip.dst, d.dstPort, d.data);
  }

  private dhcp(data: Uint8Array): void {
    const req = parseDhcp(data);
    if (!req) return this.drop("dhcp");
    const reply = dhcpReply(req, { clientIp: this.opts.guestIp, serverIp: this.opts.hostIp, netmask: USER_NET_NETMASK, dnsServer: this.opts.hostIp });
    if (!reply) return;
    // The client has no address yet: broadcast at both layers, as RFC 2131 §4.1 allows.
    this.send(udpFrame({ src: this.opts.hostMac, dst: BROADCAST_MAC }, { src: this.opts.hostIp, srcPort: DHCP_SERVER_PORT, dst: IPV4_BROADCAST, dstPort: DHCP_CLIENT_PORT }, reply));
  }

  private dns(guestPort: number, data: Uint8Array): void {
    const q = parseDnsQuery(data);
    if (!q) return this.drop("dns");
    answerDnsQuery(q, this.opts.lookup ?? systemLookup).then(
      (reply) => this.sendUdp(this.opts.hostIp, DNS_PORT, guestPort, reply),
      (e) => this.log(`lkvm: DNS forwarder: ${(e as Error).message}`),
    );
  }

  private sendUdp(src: number, srcPort: number, guestPort: number, data: Uint8Array): void {
    this.send(udpFrame(this.toGuest, { src, srcPort, dst: this.opts.guestIp, dstPort: guestPort }, data));
  }

  private forwardUdp(clientKey: string, guestPort: number, data: Uint8Array, reply: (data: Uint8Array) => void): void {
    let f = this.udpForwards.get(clientKey);
    if (!f) {
      f = { gatewayPort: this.ephemeralPort((p) => this.udpForwardByPort.has(p)), reply };
      this.udpForwards.set(clientKey, f);
      this.udpForwardByPort.set(f.gatewayPort, reply);
    }
    this.sendUdp(this.opts.hostIp, f.gatewayPort, guestPort, data);
  }

  // ---- TCP ----

  private tcpFromGuest(ip: Ipv4Packet, trusted: boolean): void {
    const seg = parseTcp(ip, trusted);
    if (typeof seg === "string") return this.drop(seg);
    const key = connectionKey(seg.srcPort, ip.dst, seg.dstPort);
    const conn = this.tcp.get(key);
    if (conn) return conn.guestSegment(seg);
    if ((seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && this.tcp.size < TCP_MAX_CONNECTIONS) {
      if (ip.dst === IPV4_BROADCAST || ip.dst >>> 28 >= 0xe) return this.drop("tcp-broadcast");
      const host = ip.dst === this.opts.hostIp ? "127.0.0.1" : formatIpv4(ip.dst);
      const socket = this.opts.hostSockets?.connect(host, seg.dstPort) ?? connect({ host, port: seg.dstPort, allowHalfOpen: true });
      const c = new TcpConnection({ key, guestPort: seg.srcPort, remoteIp: ip.dst, remotePort: seg.dstPort }, this, socket, "connecting");
      this.tcp.set(key, c);
      c.guestSyn(seg);
      return;
    }
    if (!(seg.flags & TCP_RST)) this.resetUnknown(ip, seg);
  }

  /** A segment for no connection: RST, as RFC 9293 §3.10.7.1 says a closed port answers. */
  private resetUnknown(ip: Ipv4Packet, seg: TcpSegment): void {
    const ends = { src: ip.dst, srcPort: seg.dstPort, dst: ip.src, dstPort: seg.srcPort };
    const len = seg.data.length + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & 1 ? 1 : 0);
    const out = seg.flags & TCP_ACK ? { seq: seg.ack, ack: 0, flags: TCP_RST, window: 0 } : { seq: 0, ack: (seg.seq + len) >>> 0, flags: TCP_RST | TCP_ACK, window: 0 };
    this.send(tcpFrame(this.toGuest, ends, out));
  }

  private acceptForwarded(socket: Socket, guestPort: number): void {
    if (this.tcp.size >= TCP_MAX_CONNECTIONS) return void socket.destroy();
    const port = this.ephemeralPort((p) => this.tcp.has(connectionKey(guestPort, this.opts.hostIp, p)));
    const key = connectionKey(guestPort, this.opts.hostIp, port);
    const c = new TcpConnection({ key, guestPort, remoteIp: this.opts.hostIp, remotePort: port }, this, socket, "syn-sent");
    this.tcp.set(key, c);
    c.openToGuest();
  }

  private ephemeralPort(inUse: (port: number) => boolean): number {
    for (let tries = 0; tries < 16384; tries++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p === 65535 ? EPHEMERAL_FIRST : p + 1;
      if (!inUse(p)) return p;
    }
    return this.nextEphemeral;
  }

  emit(conn: TcpConnection, seg: TcpSegmentOut, data?: Uint8Array): void {
    const ends = { src: conn.remoteIp, srcPort: conn.remotePort, dst: this.opts.guestIp, dstPort: conn.guestPort };
    if (!this.link) return this.drop("no-link");
    const frame = tcpFrame(this.toGuest, ends, seg, data);
    // A GSO segment travels as a NEEDS_CSUM one: its checksum field holds the pseudo-header sum.
    if (seg.gsoSize !== undefined) writePartialChecksum(frame);
    this.link.deliver(frame, seg.gsoSize);
  }

  maxSegmentBytes(mss: number): number {
    return Math.max(mss, this.link?.maxTcpSegmentBytes() ?? 0);
  }

  hasRoom(): boolean {
    return this.link?.hasRoom() ?? false;
  }

  forget(conn: TcpConnection): void {
    if (this.tcp.get(conn.key) === conn) this.tcp.delete(conn.key);
  }

  /** The NIC has room again: let every connection send what it holds. */
  retry(): void {
    for (const c of this.tcp.values()) {
      if (!this.hasRoom()) return;
      c.flush();
    }
  }

  get connectionCount(): number {
    return this.tcp.size;
  }

  // ---- the rest ----

  private send(frame: Uint8Array): void {
    if (!this.link) return this.drop("no-link");
    this.link.deliver(frame);
  }

  private drop(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  close(): void {
    for (const c of [...this.tcp.values()]) c.close(false);
    this.udp.close();
    for (const l of this.listeners) l.close();
  }
}

export const connectionKey = (guestPort: number, remoteIp: number, remotePort: number): string => `${guestPort}/${remoteIp}/${remotePort}`;
