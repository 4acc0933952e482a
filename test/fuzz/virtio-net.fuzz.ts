// virtio-net (virtio/net/device.ts) with lkvm's user-mode network (src/net) behind it, fed what
// a hostile guest could transmit: well-formed frames of every kind the stack handles (ARP,
// ICMP echo, DHCP, DNS, UDP, TCP SYN/data/FIN/RST) and the same frames torn — bytes flipped,
// truncated, or random — under virtio-net headers with any flags and checksum offsets, in
// chains split anywhere; interleaved with receive buffers of any size, some device-readable.
// Host sockets are stand-ins (nothing reaches the network) and the resolver always fails.
//
// Must hold, for every sequence:
// - no exception escapes the device or the stack (which the device would catch and count),
//   and nothing is written outside guest RAM;
// - every frame the stack hands the guest has a valid IPv4 header checksum and TCP/UDP
//   checksum;
// - responsive: afterwards, an ARP request for the gateway gets its reply in a fresh buffer.

import type { Socket as UdpSocket } from "node:dgram";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import fc from "fast-check";
import { IPV4_BROADCAST, parseIpv4 } from "../../src/net/addresses.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ethernetFrame } from "../../src/net/ethernet.ts";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../../src/net/tcp-segment.ts";
import { UserNetwork } from "../../src/net/user-network.ts";
import { VirtioNet } from "../../virtio/net/device.ts";
import { checksumsVerify, GUEST_IP, GUEST_MAC, HOST_IP, HOST_MAC, guestTcp, guestUdp } from "../net/frames.ts";
import { DriverQueue, mmioRig } from "../support/virtio-driver.ts";
import { check, GuardedRam, RAM_BASE, sequenceArb, type FuzzTarget } from "./harness.ts";

const RAM_BYTES = 256 * 1024;
const QUEUE_SIZE = 128;
const RX_RINGS = [RAM_BASE, RAM_BASE + 0x1000, RAM_BASE + 0x1800] as const;
const TX_RINGS = [RAM_BASE + 0x2000, RAM_BASE + 0x3000, RAM_BASE + 0x3800] as const;
const TX_AREA = RAM_BASE + 0x4000; // frames to send, 0x10000 bytes
const RX_AREA = RAM_BASE + 0x14000; // receive buffers, 0x2c000 bytes
const RX_AREA_BYTES = RAM_BYTES - 0x14000;

function arpRequest(target: number): Uint8Array {
  const f = ethernetFrame({ src: GUEST_MAC, dst: new Uint8Array(6).fill(0xff) }, ETHERTYPE_ARP, 28);
  f.set([0, 1, 8, 0, 6, 4, 0, 1], 14);
  f.set(GUEST_MAC, 22);
  new DataView(f.buffer).setUint32(28, GUEST_IP);
  new DataView(f.buffer).setUint32(38, target);
  return f;
}

function echoRequest(): Uint8Array {
  const f = new Uint8Array(14 + 20 + 12);
  f.set(HOST_MAC, 0);
  f.set(GUEST_MAC, 6);
  f.set([8, 0, 0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 1], 12);
  new DataView(f.buffer).setUint32(26, GUEST_IP);
  new DataView(f.buffer).setUint32(30, HOST_IP);
  f.set([8, 0, 0xf7, 0xfe, 0, 1, 0, 0], 34); // type, code, checksum, id 1, seq 0
  return f;
}

const dhcpDiscover = (): Uint8Array => {
  const m = new Uint8Array(300);
  m.set([1, 1, 6, 0, 1, 2, 3, 4]);
  m.set(GUEST_MAC, 28);
  m.set([0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255], 236);
  return guestUdp(IPV4_BROADCAST, 68, 67, m, true);
};

const dnsQuery = (): Uint8Array =>
  guestUdp(HOST_IP, 5353, 53, new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, 0x68, 0x6f, 0x73, 0x74, 0, 0, 1, 0, 1]));

const PORTS = [80, 53, 5000];
const templateArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constant(null).map(() => arpRequest(HOST_IP)),
  fc.constant(null).map(echoRequest),
  fc.constant(null).map(dhcpDiscover),
  fc.constant(null).map(dnsQuery),
  fc.tuple(fc.constantFrom(...PORTS), fc.uint8Array({ maxLength: 32 })).map(([p, d]) => guestUdp(parseIpv4("10.0.0.1")!, 4000, p, d)),
  fc
    .tuple(fc.constantFrom(...PORTS), fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 2 ** 32 - 1 }), fc.constantFrom(TCP_SYN, TCP_ACK, TCP_ACK | TCP_FIN, TCP_RST, TCP_SYN | TCP_ACK, 0x3f), fc.uint8Array({ maxLength: 64 }), fc.constantFrom(0, 1, 65535))
    .map(([port, seq, ack, flags, data, window]) => guestTcp(port, { seq, ack, flags, window, mss: flags & TCP_SYN ? 1460 : undefined }, data)),
);

/** A template as sent, or torn: bytes flipped, cut short, or replaced by noise. */
const frameArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: templateArb },
  {
    weight: 4,
    arbitrary: fc.tuple(templateArb, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 })).map(([f, flips]) => {
      const out = f.slice();
      for (const [at, v] of flips) out[at % out.length] = v;
      return out;
    }),
  },
  { weight: 1, arbitrary: fc.tuple(templateArb, fc.nat()).map(([f, n]) => f.slice(0, n % (f.length + 1))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }) },
);

const headerArb = fc.record({
  flags: fc.constantFrom(0, 1, 2, 3, 0xff),
  gsoType: fc.constantFrom(0, 1, 3, 0x81),
  csumStart: fc.oneof(fc.constantFrom(0, 14, 34, 0xffff), fc.nat({ max: 0xffff })),
  csumOffset: fc.oneof(fc.constantFrom(6, 16, 0xffff), fc.nat({ max: 0xffff })),
});

type Op =
  | { kind: "tx"; frame: Uint8Array; header: { flags: number; gsoType: number; csumStart: number; csumOffset: number }; splitAt: number }
  | { kind: "rx"; lengthBytes: number; writable: boolean }
  | { kind: "kickRx" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("tx" as const), frame: frameArb, header: headerArb, splitAt: fc.nat({ max: 200 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("rx" as const), lengthBytes: fc.constantFrom(0, 1, 12, 64, 1526, 2048, 4096), writable: fc.constantFrom(true, true, true, false) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "kickRx" as const }) },
);

/**
 * Host sockets that never connect or send, and schedule nothing: the fuzzer stays off the
 * network, and a case leaves no callbacks behind (tools/fuzz.ts runs 20,000 cases per turn of
 * the event loop).
 */
class StandInSocket extends EventEmitter {
  readonly writableLength = 0;
  readonly readyState = "opening";
  write(): boolean {
    return true;
  }
  end(): void {}
  destroy(): void {}
  resetAndDestroy(): void {}
  pause(): void {}
  resume(): void {}
}

const standInSockets = {
  connect: () => new StandInSocket() as unknown as Socket,
  udp: () => ({ on() {}, send() {}, close() {}, unref() {} }) as unknown as UdpSocket,
};

export const virtioNetTarget: FuzzTarget = {
  name: "virtio-net-frames",
  description: "virtio-net transmit chains holding torn and hostile frames of every kind the user-mode stack handles, among receive buffers of any shape",
  quickRuns: 150,
  build() {
    const ram = new GuardedRam(RAM_BYTES);
    const property = fc.property(sequenceArb(opArb, 40), (ops) => {
      ram.reset();
      const network = new UserNetwork({
        guestIp: GUEST_IP,
        hostIp: HOST_IP,
        guestMac: GUEST_MAC,
        hostMac: HOST_MAC,
        hostSockets: standInSockets,
        lookup: () => Promise.reject(Object.assign(new Error("no resolver"), { code: "ENOTFOUND" })),
      });
      const delivered: Uint8Array[] = [];
      const device = new VirtioNet({ mac: GUEST_MAC, backend: network });
      // Every frame the stack produces, as it produces it.
      const deliver = device.deliver.bind(device);
      device.deliver = (f: Uint8Array) => {
        delivered.push(f);
        deliver(f);
      };
      try {
        const rig = mmioRig(device, ram.mem);
        const rx = new DriverQueue(ram.mem, QUEUE_SIZE, ...RX_RINGS);
        const tx = new DriverQueue(ram.mem, QUEUE_SIZE, ...TX_RINGS);
        rig.bringUp([rx, tx]);
        let txAt = TX_AREA;
        let rxAt = RX_AREA;
        const bufferAt = new Map<number, number>();
        for (const op of ops) {
          if (op.kind === "tx") {
            const hdr = new Uint8Array(12);
            const dv = new DataView(hdr.buffer);
            hdr[0] = op.header.flags;
            hdr[1] = op.header.gsoType;
            dv.setUint16(6, op.header.csumStart, true);
            dv.setUint16(8, op.header.csumOffset, true);
            const bytes = new Uint8Array([...hdr, ...op.frame]);
            ram.mem.write(txAt, bytes);
            const cut = Math.min(op.splitAt, bytes.length);
            const parts = cut > 0 && cut < bytes.length ? [{ gpa: txAt, lengthBytes: cut }, { gpa: txAt + cut, lengthBytes: bytes.length - cut }] : [{ gpa: txAt, lengthBytes: bytes.length }];
            tx.add(parts);
            txAt += (bytes.length + 15) & ~15;
            rig.wr("QueueNotify", 1);
          } else if (op.kind === "rx") {
            if (rxAt + op.lengthBytes > RX_AREA + RX_AREA_BYTES / 2) continue;
            bufferAt.set(rx.add([{ gpa: rxAt, lengthBytes: op.lengthBytes, writable: op.writable }]), rxAt);
            rxAt += (op.lengthBytes + 15) & ~15;
          } else rig.wr("QueueNotify", 0);
        }
        ram.checkIntact();
        check(!device.drops.has("backend-error"), "the network stack threw on a frame (the device caught it)");
        for (const f of delivered) check(((f[12]! << 8) | f[13]!) !== ETHERTYPE_IPV4 || checksumsVerify(f), "the stack sent the guest an IPv4 frame whose checksums do not verify");

        // Responsive: buffers enough for what is still queued, then an ARP request.
        rx.takeUsed();
        const spare = 40;
        for (let i = 0; i < spare; i++) {
          const gpa = RX_AREA + RX_AREA_BYTES / 2 + 2048 * i;
          bufferAt.set(rx.add([{ gpa, lengthBytes: 2048, writable: true }]), gpa);
        }
        rig.wr("QueueNotify", 0);
        const arp = new Uint8Array([...new Uint8Array(12), ...arpRequest(HOST_IP)]);
        ram.mem.write(txAt, arp);
        tx.add([{ gpa: txAt, lengthBytes: arp.length }]);
        rig.wr("QueueNotify", 1);
        // Frames may span buffers (MRG_RXBUF): look for the reply in what all of them hold.
        const joined = Buffer.concat(rx.takeUsed().map((u) => ram.mem.read(bufferAt.get(u.id)!, u.len)));
        const replied = joined.includes(Buffer.from([...HOST_MAC, 8, 6, 0, 1, 8, 0, 6, 4, 0, 2]));
        check(replied || (rig.rd("Status") & 64) !== 0, "no ARP reply after the sequence");
        ram.checkIntact();
      } finally {
        network.close();
      }
    });
    return { property };
  },
};
