// The virtio-mmio transport (virtio/mmio.ts) with a real device model behind it (virtio-blk on
// a temporary file, virtio-rng), driven through the trap bus by a driver that does anything:
// any register at any width, status writes out of order, features never offered, queues set
// up wrong, rings full of hostile descriptors, notifies at any time.
//
// Must hold, for every sequence:
// - no exception reaches the bus: the transport turns every guest mistake into a log line,
//   an ignored write or DEVICE_NEEDS_RESET;
// - nothing is written outside guest RAM;
// - works or reports: brought up properly and handed hostile rings, the device either uses
//   every chain made available or sets DEVICE_NEEDS_RESET;
// - responsive: after all that, a reset and a proper bring-up serve a well-formed request.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import {
  SECTOR_BYTES,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_T_IN,
  VirtioBlk,
} from "../../virtio/blk.ts";
import {
  VIRTIO_F_VERSION_1,
  VIRTIO_STATUS_ACKNOWLEDGE as ACK,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET as NEEDS_RESET,
  VIRTIO_STATUS_DRIVER as DRIVER,
  VIRTIO_STATUS_DRIVER_OK as DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK as FEATURES_OK,
  featureBit,
  type VirtioDevice,
} from "../../virtio/device.ts";
import { VIRTIO_MMIO_CONFIG_OFFSET, VIRTIO_MMIO_REGISTERS, VIRTIO_MMIO_WINDOW_BYTES } from "../../virtio/mmio.ts";
import { VirtioRng } from "../../virtio/rng.ts";
import { VirtioP9 } from "../../virtio/9p/device.ts";
import { DriverQueue, MMIO_BASE, mmioRig } from "../support/virtio-driver.ts";
import { GuardedRam, RAM_BASE, accessArb, check, perform, sequenceArb, valueArb, type Access, type FuzzTarget } from "./harness.ts";
import {
  BUFFER_AREA,
  SANE_AVAIL,
  SANE_DESC,
  SANE_USED,
  VIRTIO_RAM_BYTES,
  layRing,
  layoutArb,
  ringContentsArb,
  type RingContents,
  type RingLayout,
} from "./rings.ts";

type Op =
  | { kind: "access"; access: Access }
  | { kind: "bringUp"; features: bigint; layout: RingLayout }
  | { kind: "rings"; contents: RingContents }
  | { kind: "notify"; queue: number }
  | { kind: "reset" };

/** A device model under test, reused across cases and put back in its initial state by `fresh`. */
interface Model {
  device: VirtioDevice;
  fresh(): void;
  /** Lays one well-formed request in RAM on `q`; returns the check to make once it is used. */
  request(ram: GuardedRam, q: DriverQueue): (used: { id: number; len: number }[]) => void;
  dispose(): void;
}

const RUNNING = ACK | DRIVER | FEATURES_OK | DRIVER_OK;
const VERSION_1 = featureBit(VIRTIO_F_VERSION_1);
const POWERS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

const REGISTER_OFFSETS = [
  ...VIRTIO_MMIO_REGISTERS.map((r) => r.offset),
  ...Array.from({ length: 16 }, (_, i) => VIRTIO_MMIO_CONFIG_OFFSET + 4 * i),
];

/** Values aimed at the transport: statuses, selectors, queue sizes, ring addresses. */
const mmioValueArb = fc.oneof(
  { weight: 2, arbitrary: valueArb },
  { weight: 2, arbitrary: fc.constantFrom(0, ACK, ACK | DRIVER, ACK | DRIVER | FEATURES_OK, RUNNING, 0x80, 0x40, 0xff).map(BigInt) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x101 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(SANE_DESC, SANE_AVAIL, SANE_USED, RAM_BASE + VIRTIO_RAM_BYTES - 8).map(BigInt) },
);

function opArb(offered: bigint): fc.Arbitrary<Op> {
  const features = fc.oneof(
    { weight: 3, arbitrary: fc.constant(offered) },
    { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((m) => (m & offered) | VERSION_1) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
  );
  return fc.oneof(
    { weight: 10, arbitrary: accessArb(VIRTIO_MMIO_WINDOW_BYTES, REGISTER_OFFSETS, mmioValueArb).map((access) => ({ kind: "access" as const, access })) },
    { weight: 2, arbitrary: fc.record({ features, layout: layoutArb(fc.constantFrom(...POWERS)) }).map((r) => ({ kind: "bringUp" as const, ...r })) },
    { weight: 2, arbitrary: ringContentsArb(16).map((contents) => ({ kind: "rings" as const, contents })) },
    { weight: 2, arbitrary: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.constant(0xffff_ffff)).map((queue) => ({ kind: "notify" as const, queue })) },
    { weight: 1, arbitrary: fc.constant({ kind: "reset" as const }) },
  );
}

function mmioTarget(name: string, description: string, makeModel: () => Model): FuzzTarget {
  return {
    name,
    description,
    quickRuns: 150,
    build() {
      const model = makeModel();
      const ram = new GuardedRam(VIRTIO_RAM_BYTES);
      const offered = model.device.features | VERSION_1;
      const inputArb = fc.record({
        ops: sequenceArb(opArb(offered), 30),
        hostile: ringContentsArb(16),
        features: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((m) => (m & offered) | VERSION_1),
      });

      const property = fc.property(inputArb, ({ ops, hostile, features }) => {
        model.fresh();
        ram.reset();
        const rig = mmioRig(model.device, ram.mem);
        const { wr, rd, cpu } = rig;
        let layout: RingLayout = { size: 16, desc: SANE_DESC, avail: SANE_AVAIL, used: SANE_USED };
        let availIdx = 0;

        const bringUp = (accept: bigint, l: RingLayout): void => {
          wr("Status", 0);
          wr("Status", ACK);
          wr("Status", ACK | DRIVER);
          rig.acceptFeatures(accept);
          wr("Status", ACK | DRIVER | FEATURES_OK);
          wr("QueueSel", 0);
          wr("QueueNum", l.size);
          wr("QueueDescLow", l.desc % 2 ** 32);
          wr("QueueDescHigh", Math.floor(l.desc / 2 ** 32));
          wr("QueueDriverLow", l.avail % 2 ** 32);
          wr("QueueDriverHigh", Math.floor(l.avail / 2 ** 32));
          wr("QueueDeviceLow", l.used % 2 ** 32);
          wr("QueueDeviceHigh", Math.floor(l.used / 2 ** 32));
          wr("QueueReady", 1);
          wr("Status", RUNNING);
          layout = l;
          availIdx = 0;
        };

        // 1. Anything at all.
        for (const op of ops) {
          switch (op.kind) {
            case "access":
              perform(cpu, MMIO_BASE, op.access);
              break;
            case "bringUp":
              bringUp(op.features, op.layout);
              break;
            case "rings":
              availIdx = layRing(ram.mem, layout, op.contents, availIdx);
              break;
            case "notify":
              wr("QueueNotify", op.queue);
              break;
            case "reset":
              wr("Status", 0);
              break;
          }
          check((rd("InterruptStatus") & ~3) === 0, () => `InterruptStatus ${rd("InterruptStatus")} has bits beyond used-buffer and config`);
        }
        ram.checkIntact();

        // 2. Works or reports: a proper bring-up, then hostile rings.
        const sane: RingLayout = { size: 16, desc: SANE_DESC, avail: SANE_AVAIL, used: SANE_USED };
        ram.mem.write(SANE_DESC, new Uint8Array(BUFFER_AREA - SANE_DESC));
        bringUp(features, sane);
        check(rd("Status") === RUNNING, () => `a proper bring-up left status 0x${rd("Status").toString(16)}`);
        layRing(ram.mem, sane, hostile, 0);
        wr("QueueNotify", 0);
        if ((rd("Status") & NEEDS_RESET) === 0) {
          const usedIdx = ram.mem.u16(SANE_USED + 2);
          const availNow = ram.mem.u16(SANE_AVAIL + 2);
          check(usedIdx === availNow, () => `no DEVICE_NEEDS_RESET, yet used idx ${usedIdx} lags avail idx ${availNow}`);
        }
        ram.checkIntact();

        // 3. Responsive: reset, bring up as Linux does, one good request.
        ram.mem.write(SANE_DESC, new Uint8Array(BUFFER_AREA - SANE_DESC));
        const q = new DriverQueue(ram.mem, 8, SANE_DESC, SANE_AVAIL, SANE_USED);
        bringUp(offered, { size: 8, desc: SANE_DESC, avail: SANE_AVAIL, used: SANE_USED });
        check(rd("Status") === RUNNING, () => `after a reset, a proper bring-up left status 0x${rd("Status").toString(16)}`);
        const verify = model.request(ram, q);
        const edges = rig.edges();
        wr("QueueNotify", 0);
        verify(q.takeUsed());
        check(rig.edges() > edges && (rd("InterruptStatus") & 1) !== 0, "a served request raised no used-buffer interrupt");
        ram.checkIntact();
      });
      return { property, dispose: () => model.dispose() };
    },
  };
}

// ---- the models ----

const DISK_SECTORS = 16;
const diskPattern = Uint8Array.from({ length: DISK_SECTORS * SECTOR_BYTES }, (_, i) => (i * 7 + (i >> 9)) & 0xff);

function blkModel(): Model {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lkvm-fuzz-blk-"));
  const file = path.join(dir, "disk.img");
  fs.writeFileSync(file, diskPattern);
  const device = new VirtioBlk({ path: file, readOnly: false });
  const fd = fs.openSync(file, "r+");
  const HDR = BUFFER_AREA + 0x100;
  const DATA = BUFFER_AREA + 0x1000;
  const STATUS = BUFFER_AREA + 0x80;
  return {
    device,
    fresh() {
      device.reset();
      // The guest may have written the disk in the last case; each case starts from the same image.
      fs.writeSync(fd, diskPattern, 0, diskPattern.length, 0);
    },
    request(ram, q) {
      const sector = 3;
      ram.mem.write(HDR, Uint8Array.of(VIRTIO_BLK_T_IN, 0, 0, 0, 0, 0, 0, 0, sector, 0, 0, 0, 0, 0, 0, 0));
      ram.mem.write(STATUS, Uint8Array.of(0xee));
      ram.mem.write(DATA, new Uint8Array(SECTOR_BYTES));
      const head = q.add([
        { gpa: HDR, lengthBytes: 16 },
        { gpa: DATA, lengthBytes: SECTOR_BYTES, writable: true },
        { gpa: STATUS, lengthBytes: 1, writable: true },
      ]);
      return (used) => {
        check(used.length === 1 && used[0]!.id === head && used[0]!.len === SECTOR_BYTES + 1, () => `IN request used as ${JSON.stringify(used)}`);
        check(ram.mem.read(STATUS, 1)[0] === VIRTIO_BLK_S_OK, () => `IN request status ${ram.mem.read(STATUS, 1)[0]}`);
        const onDisk = Buffer.alloc(SECTOR_BYTES);
        fs.readSync(fd, onDisk, 0, SECTOR_BYTES, sector * SECTOR_BYTES);
        check(onDisk.equals(ram.mem.read(DATA, SECTOR_BYTES)), "IN request read the wrong bytes");
      };
    },
    dispose() {
      device.close();
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rngModel(): Model {
  // Deterministic "random" bytes: a case must replay exactly from its seed.
  const device = new VirtioRng({ fill: (view) => view.fill(0x5a) });
  const BUF = BUFFER_AREA + 0x1000;
  return {
    device,
    fresh: () => device.reset(),
    request(ram, q) {
      ram.mem.write(BUF, new Uint8Array(64));
      const head = q.add([{ gpa: BUF, lengthBytes: 64, writable: true }]);
      return (used) => {
        check(used.length === 1 && used[0]!.id === head && used[0]!.len === 64, () => `rng request used as ${JSON.stringify(used)}`);
        check(ram.mem.read(BUF, 64).every((b) => b === 0x5a), "rng request not filled");
      };
    },
    dispose: () => {},
  };
}

function p9Model(): Model {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lkvm-fuzz-9p-"));
  fs.writeFileSync(path.join(dir, "f"), "file");
  const device = new VirtioP9({ dir, tag: "fuzz", readOnly: true });
  const OUT = BUFFER_AREA + 0x100;
  const IN = BUFFER_AREA + 0x1000;
  // Tversion, msize 8192, "9P2000.L", tag 0xffff.
  const tversion = Buffer.from("1500000064ffff002000000800395032303030 2e4c".replace(/ /g, ""), "hex");
  tversion.writeUInt32LE(tversion.length, 0);
  return {
    device,
    fresh: () => device.reset(),
    request(ram, q) {
      ram.mem.write(OUT, tversion);
      ram.mem.write(IN, new Uint8Array(64));
      const head = q.add([
        { gpa: OUT, lengthBytes: tversion.length },
        { gpa: IN, lengthBytes: 64, writable: true },
      ]);
      return (used) => {
        check(used.length === 1 && used[0]!.id === head && used[0]!.len === tversion.length, () => `Tversion used as ${JSON.stringify(used)}`);
        const reply = Buffer.from(ram.mem.read(IN, tversion.length));
        check(reply[4] === 101 && reply.subarray(7).equals(tversion.subarray(7)), () => `Rversion was ${reply.toString("hex")}`);
      };
    },
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export const virtioP9Target = mmioTarget(
  "virtio-mmio-9p",
  "virtio-mmio registers and rings with virtio-9p behind them",
  p9Model,
);

export const virtioBlkTarget = mmioTarget(
  "virtio-mmio-blk",
  "virtio-mmio registers and rings with virtio-blk behind them",
  blkModel,
);

export const virtioRngTarget = mmioTarget(
  "virtio-mmio-rng",
  "virtio-mmio registers and rings with virtio-rng behind them",
  rngModel,
);
