// virtio-net (virtio/net/device.ts) driven through virtio-mmio as Linux's virtio_net drives it:
// transmit chains with a header and checksum offload, receive buffers posted before or after
// frames arrive, frames spread over mergeable buffers, and chains a driver got wrong.

import { describe, expect, it } from "vitest";
import { VIRTIO_ID_NET, featureBit } from "../../virtio/device.ts";
import {
  NET_QUEUE_SIZE,
  RX_PENDING_MAX_BYTES,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_STATUS,
  VirtioNet,
  type NetBackend,
} from "../../virtio/net/device.ts";
import { VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_NEEDS_CSUM } from "../../virtio/net/header.ts";
import { DriverQueue, RAM_BASE, VERSION_1, mmioRig } from "../support/virtio-driver.ts";
import { checksumsVerify, GUEST_MAC, guestTcp } from "../net/frames.ts";
import { TCP_SYN } from "../../src/net/tcp-segment.ts";
import type { GuestLink } from "../../src/net/user-network.ts";

const TX_BUF = RAM_BASE + 0x10_0000;
const RX_BUF = RAM_BASE + 0x20_0000;

function rig(accept: bigint = VERSION_1 | featureBit(VIRTIO_NET_F_MRG_RXBUF) | featureBit(VIRTIO_NET_F_CSUM) | featureBit(VIRTIO_NET_F_GUEST_CSUM)) {
  const sent: { frame: Uint8Array; trusted: boolean }[] = [];
  let link!: GuestLink;
  let retries = 0;
  const backend: NetBackend = {
    attach: (l) => (link = l),
    receive: (frame, trusted) => sent.push({ frame: frame.slice(), trusted }),
    retry: () => retries++,
    close: () => {},
  };
  const log: string[] = [];
  const device = new VirtioNet({ mac: GUEST_MAC, backend, log: (l) => log.push(l) });
  const r = mmioRig(device);
  const rx = new DriverQueue(r.mem, NET_QUEUE_SIZE, RAM_BASE + 0x1_0000, RAM_BASE + 0x2_0000, RAM_BASE + 0x3_0000);
  const tx = new DriverQueue(r.mem, NET_QUEUE_SIZE, RAM_BASE + 0x4_0000, RAM_BASE + 0x5_0000, RAM_BASE + 0x6_0000);
  r.bringUp([rx, tx], accept);
  return { ...r, device, rx, tx, sent, log, link: () => link, retries: () => retries };
}

/** A frame of `n` bytes with a recognizable pattern. */
const frameOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);

describe("virtio-net", () => {
  it("is device 1 with two queues of 256, offering MAC, STATUS, MRG_RXBUF and checksum offload; config holds the MAC and link up", () => {
    const r = mmioRig(new VirtioNet({ mac: GUEST_MAC, backend: { attach() {}, receive() {}, retry() {}, close() {} } }));
    expect(r.rd("DeviceID")).toBe(VIRTIO_ID_NET);
    const f = r.features();
    for (const bit of [VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM]) expect(f & featureBit(bit)).not.toBe(0n);
    r.wr("QueueSel", 1);
    expect(r.rd("QueueNumMax")).toBe(256);
    const config = [0, 1, 2, 3, 4, 5, 6].map((i) => r.cpu.read8(0x300_0100 + i));
    expect(config).toEqual([...GUEST_MAC, 1]);
  });

  it("transmits a frame split over header and data buffers, completing the checksum the driver left (NEEDS_CSUM)", () => {
    const r = rig();
    const frame = guestTcp(80, { seq: 1, flags: TCP_SYN });
    // What Linux leaves: the pseudo-header sum in the checksum field, NEEDS_CSUM at the TCP header.
    const full = ((frame[50]! << 8) | frame[51]!) ^ 0xffff;
    frame[50] = 0x12;
    frame[51] = 0x34;
    const hdr = new Uint8Array(12);
    hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    new DataView(hdr.buffer).setUint16(6, 34, true);
    new DataView(hdr.buffer).setUint16(8, 16, true);
    r.mem.write(TX_BUF, hdr);
    r.mem.write(TX_BUF + 0x100, frame);
    expect(full).not.toBe(0x1234);
    const head = r.tx.add([{ gpa: TX_BUF, lengthBytes: 12 }, { gpa: TX_BUF + 0x100, lengthBytes: frame.length }]);
    r.wr("QueueNotify", 1);
    expect(r.tx.takeUsed()).toEqual([{ id: head, len: 0 }]);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.trusted).toBe(true);
    // 0x1234 is not a valid partial sum, so verify the completion arithmetic directly.
    const out = r.sent[0]!.frame;
    let s = 0;
    for (let i = 34; i < out.length; i += 2) s += (out[i]! << 8) | (out[i + 1] ?? 0);
    s -= (out[50]! << 8) | out[51]!;
    s += 0x1234;
    while (s >> 16) s = (s & 0xffff) + (s >>> 16);
    expect((out[50]! << 8) | out[51]!).toBe(~s & 0xffff);
  });

  it("transmits a frame with a full checksum as is, untrusted", () => {
    const r = rig();
    const frame = guestTcp(80, { seq: 1, flags: TCP_SYN });
    r.mem.write(TX_BUF + 12, frame);
    r.tx.add([{ gpa: TX_BUF, lengthBytes: 12 + frame.length }]);
    r.wr("QueueNotify", 1);
    expect(r.sent[0]!.trusted).toBe(false);
    expect(checksumsVerify(r.sent[0]!.frame)).toBe(true);
  });

  it("holds a frame until the driver posts a buffer, then delivers it with num_buffers 1 and DATA_VALID", () => {
    const r = rig();
    const frame = frameOf(100);
    r.link().deliver(frame);
    expect(r.rx.takeUsed()).toEqual([]);
    const head = r.rx.add([{ gpa: RX_BUF, lengthBytes: 2048, writable: true }]);
    r.wr("QueueNotify", 0);
    expect(r.rx.takeUsed()).toEqual([{ id: head, len: 112 }]);
    const got = r.mem.read(RX_BUF, 112);
    expect(got[0]).toBe(VIRTIO_NET_HDR_F_DATA_VALID);
    expect(got[10]).toBe(1);
    expect([...got.subarray(12)]).toEqual([...frame]);
    expect(r.rd("InterruptStatus") & 1).toBe(1);
  });

  it("spreads a frame over several mergeable buffers, saying how many in the first header", () => {
    const r = rig();
    const a = r.rx.add([{ gpa: RX_BUF, lengthBytes: 1000, writable: true }]);
    const b = r.rx.add([{ gpa: RX_BUF + 0x1000, lengthBytes: 1000, writable: true }]);
    r.wr("QueueNotify", 0);
    const frame = frameOf(1500);
    r.link().deliver(frame);
    expect(r.rx.takeUsed()).toEqual([{ id: a, len: 1000 }, { id: b, len: 512 }]);
    expect(r.mem.read(RX_BUF + 10, 1)[0]).toBe(2);
    const joined = new Uint8Array([...r.mem.read(RX_BUF + 12, 988), ...r.mem.read(RX_BUF + 0x1000, 512)]);
    expect([...joined]).toEqual([...frame]);
  });

  it("with GUEST_TSO4 and MRG_RXBUF, takes 64 KiB TCP segments and marks them GSO TCPV4 with NEEDS_CSUM at the TCP checksum", () => {
    const r = rig(VERSION_1 | featureBit(VIRTIO_NET_F_MRG_RXBUF) | featureBit(VIRTIO_NET_F_GUEST_CSUM) | featureBit(VIRTIO_NET_F_GUEST_TSO4));
    expect(r.link().maxTcpSegmentBytes()).toBe(65495);
    for (let i = 0; i < 4; i++) r.rx.add([{ gpa: RX_BUF + 0x1000 * i, lengthBytes: 0x1000, writable: true }]);
    r.wr("QueueNotify", 0);
    r.link().deliver(frameOf(3000), 1460);
    const used = r.rx.takeUsed();
    expect(used.map((u) => u.len)).toEqual([3012]);
    const hdr = r.mem.read(RX_BUF, 12);
    const dv = new DataView(hdr.buffer);
    expect([hdr[0], hdr[1], dv.getUint16(2, true), dv.getUint16(4, true), dv.getUint16(6, true), dv.getUint16(8, true), dv.getUint16(10, true)]).toEqual([VIRTIO_NET_HDR_F_NEEDS_CSUM, 1, 54, 1460, 34, 16, 1]);
  });

  it("offers no segments beyond the MSS without GUEST_TSO4", () => {
    expect(rig().link().maxTcpSegmentBytes()).toBe(0);
  });

  it("without MRG_RXBUF, a frame too big for one buffer is dropped and the buffer returned empty", () => {
    const r = rig(VERSION_1);
    const head = r.rx.add([{ gpa: RX_BUF, lengthBytes: 64, writable: true }]);
    r.wr("QueueNotify", 0);
    r.link().deliver(frameOf(100));
    expect(r.rx.takeUsed()).toEqual([{ id: head, len: 0 }]);
    expect(r.device.drops.get("rx-buffer-small")).toBe(1);
  });

  it("returns a device-readable receive buffer unused and a device-writable transmit buffer unsent, logging each once", () => {
    const r = rig();
    const bad = r.rx.add([{ gpa: RX_BUF, lengthBytes: 2048 }]);
    r.wr("QueueNotify", 0);
    expect(r.rx.takeUsed()).toEqual([{ id: bad, len: 0 }]);
    r.mem.write(TX_BUF + 12, guestTcp(80, { seq: 1, flags: TCP_SYN }));
    r.tx.add([{ gpa: TX_BUF, lengthBytes: 100, writable: true }]);
    r.tx.add([{ gpa: TX_BUF, lengthBytes: 8 }]);
    r.wr("QueueNotify", 1);
    expect(r.sent).toHaveLength(0);
    expect(r.tx.takeUsed()).toHaveLength(2);
    expect(r.log.filter((l) => /device-readable|device-writable|shorter/.test(l))).toHaveLength(3);
  });

  it("queues frames while the guest posts nothing, up to its bound, counting what is dropped beyond", () => {
    const r = rig();
    const frame = frameOf(1514);
    const fits = Math.floor(RX_PENDING_MAX_BYTES / frame.length);
    for (let i = 0; i < fits + 10; i++) r.link().deliver(frame);
    expect(r.device.drops.get("rx-queue-full")).toBe(10);
    expect(r.link().hasRoom()).toBe(false);
    // Buffers drain the queue; once it is short again the backend is told to send more.
    for (let i = 0; i < 200; i++) r.rx.add([{ gpa: RX_BUF + 2048 * (i % 64), lengthBytes: 2048, writable: true }]);
    r.wr("QueueNotify", 0);
    expect(r.rx.takeUsed()).toHaveLength(200);
  });
});
