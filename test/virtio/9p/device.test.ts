// virtio-9p through the virtio-mmio transport, as Linux's 9pnet_virtio drives it: the tag in
// config space, requests whose T-message and R-message are split across descriptors (its
// zero-copy reads and writes), and malformed requests answered without stopping the queue.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.ts";
import { P9_QUEUE_SIZE, VirtioP9 } from "../../../virtio/9p/device.ts";
import { featureBit, VIRTIO_F_VERSION_1 } from "../../../virtio/device.ts";
import { VIRTIO_MMIO_CONFIG_OFFSET } from "../../../virtio/mmio.ts";
import { P9TestClient, Reply, T, tmsg } from "../../support/p9-client.ts";
import { DriverQueue, MMIO_BASE, RAM_BASE, mmioRig } from "../../support/virtio-driver.ts";
import { EPROTO } from "./rig.ts";

const OUT = RAM_BASE + 0x10_0000;
const IN = RAM_BASE + 0x20_0000;
const MOUNT_TAG = featureBit(0);

function rig(tag = "share") {
  const dir = mkdtempSync(join(tmpdir(), "lkvm-9p-dev-"));
  const log: string[] = [];
  const device = new VirtioP9({ dir, tag, readOnly: false, log: (l) => log.push(l) });
  const r = mmioRig(device);
  const q = new DriverQueue(r.mem, P9_QUEUE_SIZE);
  r.bringUp([q], r.features());
  /** Sends `msg` split at `cuts` (readable), with the reply room split the same way. */
  const send = (msg: Buffer, roomBytes = 8192, cut = 0): Buffer => {
    r.mem.write(OUT, msg);
    const readable = cut > 0 && cut < msg.length
      ? [{ gpa: OUT, lengthBytes: cut }, { gpa: OUT + cut, lengthBytes: msg.length - cut }]
      : [{ gpa: OUT, lengthBytes: msg.length }];
    const writable = cut > 0 ? [{ gpa: IN, lengthBytes: 11, writable: true }, { gpa: IN + 11, lengthBytes: roomBytes - 11, writable: true }] : [{ gpa: IN, lengthBytes: roomBytes, writable: true }];
    const head = q.add([...readable, ...writable]);
    r.wr("QueueNotify", 0);
    const used = q.takeUsed();
    expect(used.map((u) => u.id)).toEqual([head]);
    return Buffer.from(r.mem.read(IN, used[0]!.len));
  };
  const client = new P9TestClient((msg) => send(msg));
  return { ...r, q, dir, log, device, send, client };
}

describe("virtio-9p device", () => {
  it("is device 9 with MOUNT_TAG, one queue of 128, and its tag in config space", () => {
    const { rd, features, cpu } = rig("my_tag");
    expect(rd("DeviceID")).toBe(9);
    expect(features() & MOUNT_TAG).toBe(MOUNT_TAG);
    expect(features() & featureBit(VIRTIO_F_VERSION_1)).not.toBe(0n);
    expect(rd("QueueNumMax")).toBe(128);
    const cfg = MMIO_BASE + VIRTIO_MMIO_CONFIG_OFFSET;
    const len = cpu.read16(cfg);
    expect(len).toBe(6);
    expect(String.fromCharCode(...Array.from({ length: len }, (_, i) => cpu.read8(cfg + 2 + i)))).toBe("my_tag");
  });

  it("refuses tags that are empty or longer than 32 bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "lkvm-9p-dev-"));
    expect(() => new VirtioP9({ dir, tag: "x".repeat(33), readOnly: false })).toThrow(ConfigError);
    expect(() => new VirtioP9({ dir, tag: "", readOnly: false })).toThrow(ConfigError);
    new VirtioP9({ dir, tag: "x".repeat(32), readOnly: false });
  });

  it("serves a session whose messages and replies are split across descriptors, with an interrupt", () => {
    const { client, send, dir, rd } = rig();
    expect(client.version(65536).msize).toBe(65536);
    client.attach(0);
    writeFileSync(join(dir, "f"), Buffer.alloc(5000, 0x61));
    client.walk(0, 1, ["f"]);
    client.lopen(1, 2);
    // A write whose data sits in its own descriptor, as Linux's zero-copy write sends it.
    const data = Buffer.alloc(6000, 0x7a);
    const write = tmsg(T.write, 9, [{ u32: 1 }, { u64: 100 }, { u32: data.length }, { raw: data }]);
    const w = new Reply(send(write, 64, 23));
    expect([w.type, w.u32()]).toEqual([T.write + 1, 6000]);
    // A read whose data lands after an 11-byte header descriptor (zero-copy read).
    const rr = new Reply(send(tmsg(T.read, 10, [{ u32: 1 }, { u64: 0 }, { u32: 8192 }]), 8192 + 11, 4));
    expect(rr.type).toBe(T.read + 1);
    const n = rr.u32();
    expect(n).toBe(6100);
    expect(Buffer.from(rr.bytes(n))).toEqual(readFileSync(join(dir, "f")));
    expect(rd("InterruptStatus") & 1).toBe(1);
  });

  it("answers malformed requests with Rlerror(EPROTO) and goes on serving", () => {
    const { client, send, rd, log } = rig();
    client.version();
    client.attach(0);
    // The size field claims more than the message holds; a string runs past the end.
    const lying = tmsg(T.clunk, 5, [{ u32: 0 }]);
    lying.writeUInt32LE(4096, 0);
    const r1 = new Reply(send(lying));
    expect([r1.type, r1.tag, r1.u32()]).toEqual([7, 5, EPROTO]);
    const torn = tmsg(T.walk, 6, [{ u32: 0 }, { u32: 1 }, { u16: 1 }, { u16: 200 }]);
    const r2 = new Reply(send(torn));
    expect([r2.type, r2.tag, r2.u32()]).toEqual([7, 6, EPROTO]);
    // A request with no room for any reply is dropped, with a used length of 0.
    expect(send(tmsg(T.clunk, 7, [{ u32: 0 }]), 4)).toHaveLength(0);
    expect(client.getattr(0).mode & 0o040000).toBeTruthy(); // fid 0 is still there
    expect(rd("Status") & 64).toBe(0); // not NEEDS_RESET
    expect(log.join("\n")).toMatch(/malformed/);
  });

  it("never replies past the reply room or msize: a read is cut to fit", () => {
    const { client, send, dir } = rig();
    client.version(8192);
    client.attach(0);
    writeFileSync(join(dir, "big"), Buffer.alloc(100_000, 1));
    client.walk(0, 1, ["big"]);
    client.lopen(1, 0);
    const r = new Reply(send(tmsg(T.read, 3, [{ u32: 1 }, { u64: 0 }, { u32: 0xffff_ffff }]), 1 << 16));
    expect(r.b.length).toBe(8192);
    expect(r.u32()).toBe(8192 - 11);
    const small = new Reply(send(tmsg(T.read, 4, [{ u32: 1 }, { u64: 0 }, { u32: 4096 }]), 100));
    expect(small.b.length).toBe(100);
  });

  it("a device reset drops the session: fids are gone and Tversion is needed again", () => {
    const { client, wr, q, bringUp, features } = rig();
    client.version();
    client.attach(0);
    wr("Status", 0);
    bringUp([q], features());
    expect(client.errno(() => client.getattr(0))).toBe(EPROTO);
  });
});
