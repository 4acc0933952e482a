// lkvm's user-mode network driven frame by frame as a guest would: ARP, ICMP, DHCP, DNS, and
// the TCP state machine against real host sockets on 127.0.0.1 (connect, data and windows both
// ways, retransmission, half-close, RST, hostfwd).

import { createSocket } from "node:dgram";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { formatIpv4, parseIpv4 } from "../../src/net/addresses.ts";
import { ARP_REPLY, ETHERTYPE_ARP, ethernetFrame, parseArp } from "../../src/net/ethernet.ts";
import { parseIpv4Packet, IPPROTO_TCP, IPPROTO_UDP } from "../../src/net/ipv4.ts";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, parseTcp, seqAdd, type TcpSegment } from "../../src/net/tcp-segment.ts";
import { parseUdp } from "../../src/net/udp.ts";
import { UserNetwork } from "../../src/net/user-network.ts";
import { GUEST_IP, GUEST_MAC, HOST_IP, HOST_MAC, checksumsVerify, guestTcp, guestUdp } from "./frames.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function wire(opts: Partial<ConstructorParameters<typeof UserNetwork>[0]> = {}) {
  const net = new UserNetwork({ guestIp: GUEST_IP, hostIp: HOST_IP, guestMac: GUEST_MAC, hostMac: HOST_MAC, ...opts });
  const frames: Uint8Array[] = [];
  let room = true;
  net.attach({ deliver: (f) => frames.push(f), hasRoom: () => room, maxTcpSegmentBytes: () => 0 });
  cleanups.push(() => net.close());
  const tcp = (): TcpSegment[] =>
    frames.splice(0).map((f) => {
      expect(checksumsVerify(f)).toBe(true);
      const ip = parseIpv4Packet(f);
      if (typeof ip === "string" || ip.protocol !== IPPROTO_TCP) throw new Error(`not TCP: ${String(ip)}`);
      const seg = parseTcp(ip);
      if (typeof seg === "string") throw new Error(seg);
      return seg;
    });
  return { net, frames, tcp, setRoom: (r: boolean) => (room = r) };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function server(onSocket: (s: Socket) => void): Promise<{ srv: Server; port: number }> {
  const srv = createServer({ allowHalfOpen: true }, (s) => {
    s.on("error", () => {}); // lkvm resets what is left at cleanup
    onSocket(s);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  cleanups.push(() => srv.close());
  return { srv, port: (srv.address() as AddressInfo).port };
}

/** A connection through the gateway to a host server, handshake done; returns the sequence state. */
async function established(w: ReturnType<typeof wire>, port: number, window = 65535) {
  w.net.receive(guestTcp(port, { seq: 1000, flags: TCP_SYN, mss: 1460, window }));
  await until(() => w.frames.length > 0);
  const [synAck] = w.tcp();
  expect(synAck!.flags).toBe(TCP_SYN | TCP_ACK);
  expect(synAck!.ack).toBe(1001);
  expect(synAck!.mss).toBe(1460);
  w.net.receive(guestTcp(port, { seq: 1001, ack: seqAdd(synAck!.seq, 1), flags: TCP_ACK, window }));
  return { guestSeq: 1001, hostSeq: seqAdd(synAck!.seq, 1) };
}

describe("user-mode network: ARP, ICMP, DHCP, DNS", () => {
  it("answers ARP for the gateway (and any address but the guest's) with the host MAC", () => {
    const w = wire();
    const req = (target: number) => {
      const f = ethernetFrame({ src: GUEST_MAC, dst: new Uint8Array(6).fill(0xff) }, ETHERTYPE_ARP, 28);
      f.set([0, 1, 8, 0, 6, 4, 0, 1], 14);
      f.set(GUEST_MAC, 22);
      new DataView(f.buffer).setUint32(28, GUEST_IP);
      new DataView(f.buffer).setUint32(38, target);
      return f;
    };
    w.net.receive(req(HOST_IP));
    w.net.receive(req(GUEST_IP));
    expect(w.frames).toHaveLength(1);
    const a = parseArp(w.frames[0]!)!;
    expect(a.op).toBe(ARP_REPLY);
    expect(a.senderIp).toBe(HOST_IP);
    expect([...a.senderMac]).toEqual([...HOST_MAC]);
  });

  it("answers an echo request with an echo reply carrying the same payload", () => {
    const w = wire();
    const payload = new Uint8Array([8, 0, 0, 0, 0x12, 0x34, 0, 1, 0xde, 0xad]);
    let s = 0;
    for (let i = 0; i < payload.length; i += 2) s += (payload[i]! << 8) | payload[i + 1]!;
    s = (s & 0xffff) + (s >>> 16);
    payload[2] = ~s >> 8 & 0xff;
    payload[3] = ~s & 0xff;
    const f = new Uint8Array(14 + 20 + payload.length);
    f.set(HOST_MAC, 0);
    f.set(GUEST_MAC, 6);
    f.set([8, 0, 0x45, 0, 0, 20 + payload.length, 0, 0, 0x40, 0, 64, 1, 0, 0], 12);
    new DataView(f.buffer).setUint32(26, GUEST_IP);
    new DataView(f.buffer).setUint32(30, HOST_IP);
    let h = 0;
    for (let i = 14; i < 34; i += 2) h += (f[i]! << 8) | f[i + 1]!;
    h = (h & 0xffff) + (h >>> 16);
    f[24] = ~h >> 8 & 0xff;
    f[25] = ~h & 0xff;
    f.set(payload, 34);
    w.net.receive(f);
    expect(w.frames).toHaveLength(1);
    const r = w.frames[0]!;
    expect(r[34]).toBe(0);
    expect([...r.subarray(38)]).toEqual([...payload.subarray(4)]);
    expect(checksumsVerify(r)).toBe(true);
  });

  function dhcpMessage(type: number, requested?: number): Uint8Array {
    const m = new Uint8Array(300);
    m.set([1, 1, 6, 0, 0xca, 0xfe, 0xba, 0xbe]);
    m.set(GUEST_MAC, 28);
    m.set([0x63, 0x82, 0x53, 0x63, 53, 1, type], 236);
    let i = 243;
    if (requested !== undefined) {
      m.set([50, 4, requested >>> 24, (requested >>> 16) & 255, (requested >>> 8) & 255, requested & 255], i);
      i += 6;
    }
    m[i] = 255;
    return m;
  }

  function dhcpReply(w: ReturnType<typeof wire>) {
    const f = w.frames.shift()!;
    const ip = parseIpv4Packet(f);
    if (typeof ip === "string") throw new Error(ip);
    const u = parseUdp(ip);
    if (typeof u === "string") throw new Error(u);
    expect(u.srcPort).toBe(67);
    expect(u.dstPort).toBe(68);
    const d = u.data;
    const opts = new Map<number, number[]>();
    for (let i = 240; d[i] !== 255; i += 2 + d[i + 1]!) opts.set(d[i]!, [...d.subarray(i + 2, i + 2 + d[i + 1]!)]);
    return { yiaddr: formatIpv4(new DataView(d.buffer, d.byteOffset).getUint32(16)), xid: d.subarray(4, 8), opts };
  }

  it("DHCP: DISCOVER gets an OFFER of 192.168.33.15/24 with the gateway as router and DNS; REQUEST gets ACK, another address NAK", () => {
    const w = wire();
    w.net.receive(guestUdp(0xffff_ffff, 68, 67, dhcpMessage(1), true));
    const offer = dhcpReply(w);
    expect(offer.yiaddr).toBe("192.168.33.15");
    expect([...offer.xid]).toEqual([0xca, 0xfe, 0xba, 0xbe]);
    expect(offer.opts.get(53)).toEqual([2]);
    expect(offer.opts.get(1)).toEqual([255, 255, 255, 0]);
    expect(offer.opts.get(3)).toEqual([192, 168, 33, 1]);
    expect(offer.opts.get(6)).toEqual([192, 168, 33, 1]);
    expect(offer.opts.get(51)).toEqual([0, 0, 0x38, 0x40]);
    w.net.receive(guestUdp(0xffff_ffff, 68, 67, dhcpMessage(3, GUEST_IP), true));
    expect(dhcpReply(w).opts.get(53)).toEqual([5]);
    w.net.receive(guestUdp(0xffff_ffff, 68, 67, dhcpMessage(3, parseIpv4("192.168.33.99")!), true));
    expect(dhcpReply(w).opts.get(53)).toEqual([6]);
  });

  it("DNS at the gateway answers A queries from the host resolver, NXDOMAIN for unknown names", async () => {
    const lookup = async (name: string, family: 4 | 6) => {
      if (name === "db.test" && family === 4) return ["10.1.2.3"];
      throw Object.assign(new Error("no"), { code: "ENOTFOUND" });
    };
    const w = wire({ lookup });
    const query = (id: number, name: string) => {
      const labels = name.split(".").flatMap((l) => [l.length, ...Buffer.from(l)]);
      return new Uint8Array([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
    };
    w.net.receive(guestUdp(HOST_IP, 5353, 53, query(7, "db.test")));
    w.net.receive(guestUdp(HOST_IP, 5354, 53, query(8, "nowhere.test")));
    await until(() => w.frames.length === 2);
    const replies = w.frames.map((f) => {
      const ip = parseIpv4Packet(f);
      if (typeof ip === "string" || ip.protocol !== IPPROTO_UDP) throw new Error("not udp");
      const u = parseUdp(ip);
      if (typeof u === "string") throw new Error(u);
      return u;
    });
    const ok = replies.find((u) => u.dstPort === 5353)!.data;
    expect(ok[1]).toBe(7);
    expect(ok[3]! & 15).toBe(0);
    expect((ok[6]! << 8) | ok[7]!).toBe(1);
    expect([...ok.subarray(ok.length - 4)]).toEqual([10, 1, 2, 3]);
    const nx = replies.find((u) => u.dstPort === 5354)!.data;
    expect(nx[3]! & 15).toBe(3);
  });

  it("counts a malformed frame as a drop and answers nothing", () => {
    const w = wire();
    const f = guestTcp(80, { seq: 1, flags: TCP_SYN });
    f[30] ^= 0xff; // the destination address, under the header checksum
    w.net.receive(f);
    w.net.receive(new Uint8Array(10));
    expect(w.frames).toHaveLength(0);
    expect(w.net.drops.get("ipv4-checksum")).toBe(1);
    expect(w.net.drops.get("eth-short")).toBe(1);
  });
});

describe("user-mode network: TCP", () => {
  it("answers a SYN to a closed host port with RST+ACK", async () => {
    const { port, srv } = await server(() => {});
    await new Promise((r) => srv.close(r));
    const w = wire();
    w.net.receive(guestTcp(port, { seq: 500, flags: TCP_SYN }));
    await until(() => w.frames.length > 0);
    const [rst] = w.tcp();
    expect(rst!.flags).toBe(TCP_RST | TCP_ACK);
    expect(rst!.ack).toBe(501);
    expect(w.net.connectionCount).toBe(0);
  });

  it("relays data both ways, keeps within the guest's window, and half-closes each way", async () => {
    const big = Buffer.alloc(20_000, 7);
    let got = "";
    let hostSawEnd = false;
    const { port } = await server((s) => {
      s.on("data", (d) => {
        got += d.toString();
        if (got === "GET") s.end(big);
      });
      s.on("end", () => (hostSawEnd = true));
    });
    const w = wire();
    const window = 4000;
    const st = await established(w, port, window);
    w.net.receive(guestTcp(port, { seq: st.guestSeq, ack: st.hostSeq, flags: TCP_ACK, window }, Buffer.from("GET")));
    await until(() => got === "GET" && w.frames.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    let segs = w.tcp();
    // Our ACK of "GET", then no more data than the window.
    expect(segs.some((s) => s.ack === st.guestSeq + 3)).toBe(true);
    const inFlight = segs.reduce((n, s) => n + s.data.length, 0);
    expect(inFlight).toBe(window);
    expect(Math.max(...segs.map((s) => s.data.length))).toBeLessThanOrEqual(1460);
    // Acknowledge as we go until the FIN.
    let received = inFlight;
    let fin: TcpSegment | undefined;
    for (let rounds = 0; rounds < 50 && !fin; rounds++) {
      w.net.receive(guestTcp(port, { seq: st.guestSeq + 3, ack: seqAdd(st.hostSeq, received), flags: TCP_ACK, window }));
      await until(() => w.frames.length > 0);
      segs = w.tcp();
      for (const s of segs) {
        expect(s.seq).toBe(seqAdd(st.hostSeq, received));
        received += s.data.length;
        if (s.flags & TCP_FIN) fin = s;
      }
    }
    expect(received).toBe(big.length);
    expect(fin).toBeDefined();
    // The guest still sends after the host's FIN (half-close), then its own FIN.
    const finSeq = seqAdd(st.hostSeq, received + 1);
    w.net.receive(guestTcp(port, { seq: st.guestSeq + 3, ack: finSeq, flags: TCP_ACK | TCP_FIN, window }, Buffer.from("bye")));
    await until(() => hostSawEnd);
    expect(got).toBe("GETbye");
    await until(() => w.frames.length > 0);
    expect(w.tcp().at(-1)!.ack).toBe(st.guestSeq + 3 + 3 + 1);
    await until(() => w.net.connectionCount === 0);
  });

  it("scales the guest's window when its SYN offers window scaling (RFC 7323), offering shift 0 back", async () => {
    const { port } = await server((s) => s.write(Buffer.alloc(200_000, 3)));
    const w = wire();
    w.net.receive(guestTcp(port, { seq: 1000, flags: TCP_SYN, mss: 1460, window: 65535, windowScale: 7 }));
    await until(() => w.frames.length > 0);
    const [synAck] = w.tcp();
    expect(synAck!.windowScale).toBe(0);
    // 1000 << 7 = 128000 bytes of window.
    w.net.receive(guestTcp(port, { seq: 1001, ack: seqAdd(synAck!.seq, 1), flags: TCP_ACK, window: 1000 }));
    await new Promise((r) => setTimeout(r, 100));
    const sent = w.tcp().reduce((n, s) => n + s.data.length, 0);
    expect(sent).toBe(128_000);
  });

  it("sends again what the guest did not acknowledge, from the first unacknowledged byte", async () => {
    const { port } = await server((s) => s.write(Buffer.alloc(1000, 1)));
    const w = wire();
    const st = await established(w, port);
    await until(() => w.frames.length > 0);
    const [first] = w.tcp();
    expect(first!.seq).toBe(st.hostSeq);
    expect(first!.data.length).toBe(1000);
    await until(() => w.frames.length > 0, 2000);
    const [again] = w.tcp();
    expect(again!.seq).toBe(st.hostSeq);
    expect(again!.data.length).toBe(1000);
  });

  it("drops a segment past a gap and asks for the missing bytes with a duplicate ACK", async () => {
    let got = "";
    const { port } = await server((s) => s.on("data", (d) => (got += d)));
    const w = wire();
    const st = await established(w, port);
    w.net.receive(guestTcp(port, { seq: st.guestSeq + 10, ack: st.hostSeq, flags: TCP_ACK }, Buffer.from("late")));
    await until(() => w.frames.length > 0);
    expect(w.tcp()[0]!.ack).toBe(st.guestSeq);
    w.net.receive(guestTcp(port, { seq: st.guestSeq, ack: st.hostSeq, flags: TCP_ACK }, Buffer.from("in order")));
    await until(() => got === "in order");
  });

  it("a guest RST closes the host socket; a host reset sends the guest RST", async () => {
    let closed = false;
    const sockets: Socket[] = [];
    const { port } = await server((s) => {
      sockets.push(s);
      s.on("error", () => {});
      s.on("close", () => (closed = true));
    });
    const w = wire();
    const st = await established(w, port);
    await until(() => sockets.length === 1);
    w.net.receive(guestTcp(port, { seq: st.guestSeq, ack: st.hostSeq, flags: TCP_RST }));
    await until(() => closed);
    expect(w.net.connectionCount).toBe(0);

    const st2 = await established(w, port);
    await until(() => sockets.length === 2);
    sockets[1]!.resetAndDestroy();
    await until(() => w.frames.length > 0);
    const rst = w.tcp().find((s) => s.flags & TCP_RST);
    expect(rst).toBeDefined();
    expect(rst!.seq).toBe(st2.hostSeq);
    expect(w.net.connectionCount).toBe(0);
  });

  it("holds segments while the NIC has no room, and sends them on retry()", async () => {
    const { port } = await server((s) => setTimeout(() => s.write("queued"), 50));
    const w = wire();
    await established(w, port);
    w.setRoom(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(w.frames).toHaveLength(0);
    w.setRoom(true);
    w.net.retry();
    expect(Buffer.from(w.tcp()[0]!.data).toString()).toBe("queued");
  });

  it("hostfwd=udp: a host client's datagram reaches the guest's port from the gateway, and the guest's answer gets back", async () => {
    const probe = createSocket("udp4");
    await new Promise<void>((r) => probe.bind(0, "127.0.0.1", r));
    const hostPort = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const w = wire({ hostForwards: [{ protocol: "udp", hostAddress: "127.0.0.1", hostPort, guestPort: 5300 }] });
    await new Promise((r) => setTimeout(r, 50));
    const client = createSocket("udp4");
    cleanups.push(() => client.close());
    const answers: string[] = [];
    client.on("message", (m) => answers.push(m.toString()));
    client.send("question", hostPort, "127.0.0.1");
    await until(() => w.frames.length > 0);
    const ip = parseIpv4Packet(w.frames.shift()!);
    if (typeof ip === "string") throw new Error(ip);
    const u = parseUdp(ip);
    if (typeof u === "string") throw new Error(u);
    expect([ip.src, ip.dst, u.dstPort, Buffer.from(u.data).toString()]).toEqual([HOST_IP, GUEST_IP, 5300, "question"]);
    w.net.receive(guestUdp(HOST_IP, 5300, u.srcPort, Buffer.from("answer")));
    await until(() => answers.length > 0);
    expect(answers).toEqual(["answer"]);
  });

  it("hostfwd: a host client's connection is opened to the guest's port, and data flows both ways", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const hostPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const w = wire({ hostForwards: [{ protocol: "tcp", hostAddress: "127.0.0.1", hostPort, guestPort: 8080 }] });
    await new Promise((r) => setTimeout(r, 50));
    const client = connect(hostPort, "127.0.0.1");
    cleanups.push(() => client.destroy());
    client.on("error", () => {});
    let fromGuest = "";
    client.on("data", (d) => (fromGuest += d));
    client.write("ping");
    await until(() => w.frames.length > 0);
    const [syn] = w.tcp();
    expect(syn!.flags).toBe(TCP_SYN);
    expect(syn!.dstPort).toBe(8080);
    const ip = parseIpv4Packet(w.frames[0] ?? guestTcp(1, { seq: 0, flags: 0 }));
    expect(typeof ip).not.toBe("string");
    // The guest accepts.
    const reply = (flags: number, seq: number, ack: number, data?: Uint8Array) =>
      guestTcp(syn!.srcPort, { srcPort: 8080, seq, ack, flags }, data, HOST_IP);
    w.net.receive(reply(TCP_SYN | TCP_ACK, 9000, seqAdd(syn!.seq, 1)));
    await until(() => w.frames.length > 0);
    const segs = w.tcp();
    const data = Buffer.concat(segs.map((s) => s.data)).toString();
    expect(segs[0]!.ack).toBe(9001);
    if (data !== "ping") {
      await until(() => w.frames.length > 0);
      expect(Buffer.from(w.tcp()[0]!.data).toString()).toBe("ping");
    }
    w.net.receive(reply(TCP_ACK, 9001, seqAdd(syn!.seq, 5), Buffer.from("pong")));
    await until(() => fromGuest === "pong");
  });
});
