import { describe, expect, it } from "vitest";
import { TrapBus, type TrapEvent, type TrapHandler } from "../../src/iotrap/bus.ts";
import {
  BusError,
  OverlapError,
  PortWindowError,
  WrapError,
  ZeroSizeError,
} from "../../src/iotrap/errors.ts";
import { GuestCpu } from "../support/guest-cpu.ts";

interface Seen {
  vcpu: number;
  offset: number;
  lengthBytes: number;
  isWrite: boolean;
  bytes: number[];
}

/** A handler that records every call and answers reads with `answer(offset, lengthBytes)`. */
function recorder(answer: (offset: number, lengthBytes: number) => number[] = () => []) {
  const seen: Seen[] = [];
  const handler: TrapHandler = (vcpu, offset, data, lengthBytes, isWrite) => {
    if (!isWrite) answer(offset, lengthBytes).forEach((b, i) => (data[i] = b));
    seen.push({ vcpu, offset, lengthBytes, isWrite, bytes: [...data.subarray(0, lengthBytes)] });
  };
  return { seen, handler };
}

const nop: TrapHandler = () => {};

describe("TrapBus registration", () => {
  it("refuses a region that overlaps one already on the same bus", () => {
    const bus = new TrapBus();
    bus.register({ bus: "mmio", base: 0x100_0000, sizeBytes: 8, name: "uart0", handler: nop });
    for (const [base, sizeBytes] of [
      [0x100_0000, 8], // identical
      [0x100_0004, 8], // tail
      [0xff_fffc, 8], // head
      [0xff_0000, 0x2_0000], // covers it
      [0x100_0002, 1], // inside
    ] as const) {
      expect(() => bus.register({ bus: "mmio", base, sizeBytes, name: "x", handler: nop })).toThrow(
        OverlapError,
      );
    }
  });

  it("accepts regions that only touch, and the same range on the other bus", () => {
    const bus = new TrapBus();
    bus.register({ bus: "mmio", base: 0x100_0000, sizeBytes: 8, name: "a", handler: nop });
    bus.register({ bus: "mmio", base: 0x100_0008, sizeBytes: 8, name: "b", handler: nop });
    bus.register({ bus: "mmio", base: 0xff_fff8, sizeBytes: 8, name: "c", handler: nop });
    bus.register({ bus: "ioport", base: 0x3f8, sizeBytes: 8, name: "p", handler: nop });
    expect(bus.regions("mmio").map((r) => r.name)).toEqual(["c", "a", "b"]);
    expect(bus.regions("ioport").map((r) => r.name)).toEqual(["p"]);
  });

  it("refuses a zero-sized region", () => {
    const bus = new TrapBus();
    expect(() =>
      bus.register({ bus: "mmio", base: 0x200_0000, sizeBytes: 0, name: "z", handler: nop }),
    ).toThrow(ZeroSizeError);
    expect(() =>
      bus.register({ bus: "ioport", base: 0x60, sizeBytes: 0, name: "z", handler: nop }),
    ).toThrow(ZeroSizeError);
  });

  it("refuses a region running past the end of its address space", () => {
    const bus = new TrapBus();
    expect(() =>
      bus.register({ bus: "ioport", base: 0xfffc, sizeBytes: 8, name: "w", handler: nop }),
    ).toThrow(WrapError);
    expect(() =>
      bus.register({ bus: "mmio", base: 2 ** 52 - 4, sizeBytes: 8, name: "w", handler: nop }),
    ).toThrow(WrapError);
  });

  it("refuses an MMIO region inside the I/O-port window, where no access could reach it", () => {
    const bus = new TrapBus();
    expect(() =>
      bus.register({ bus: "mmio", base: 0xfff0, sizeBytes: 0x20, name: "low", handler: nop }),
    ).toThrow(PortWindowError);
  });

  it("makes every refusal a BusError", () => {
    for (const E of [OverlapError, ZeroSizeError, WrapError, PortWindowError]) {
      expect(E.prototype).toBeInstanceOf(BusError);
    }
  });

  it("frees a region on deregister so the range can be claimed again", () => {
    const bus = new TrapBus();
    bus.register({ bus: "mmio", base: 0x300_0000, sizeBytes: 0x200, name: "v0", handler: nop });
    expect(bus.deregister("mmio", 0x300_0000)).toBe(true);
    expect(bus.deregister("mmio", 0x300_0000)).toBe(false);
    bus.register({ bus: "mmio", base: 0x300_0000, sizeBytes: 0x200, name: "v1", handler: nop });
  });
});

describe("TrapBus dispatch", () => {
  it("routes an access below 64 KiB to the ioport bus with port = gpa", () => {
    const bus = new TrapBus();
    const port = recorder(() => [0x5a]);
    const mmio = recorder(() => [0xa5]);
    bus.register({ bus: "ioport", base: 0x3f8, sizeBytes: 8, name: "com1", handler: port.handler });
    bus.register({ bus: "mmio", base: 0x1_0000, sizeBytes: 8, name: "m", handler: mmio.handler });
    const cpu = new GuestCpu(bus);
    expect(cpu.read8(0x3fd)).toBe(0x5a);
    expect(port.seen).toEqual([
      { vcpu: 0, offset: 5, lengthBytes: 1, isWrite: false, bytes: [0x5a] },
    ]);
    expect(cpu.read8(0x1_0000)).toBe(0xa5);
    expect(mmio.seen).toHaveLength(1);
  });

  it("hands the handler an offset from its base, and the vcpu that trapped", () => {
    const bus = new TrapBus();
    const dev = recorder();
    bus.register({ bus: "mmio", base: 0x101_0000, sizeBytes: 2, name: "rtc", handler: dev.handler });
    new GuestCpu(bus, 3).write8(0x101_0001, 0x42);
    expect(dev.seen).toEqual([{ vcpu: 3, offset: 1, lengthBytes: 1, isWrite: true, bytes: [0x42] }]);
  });

  it("finds each of many regions (binary search and the last-hit cache agree)", () => {
    const bus = new TrapBus();
    const hits: string[] = [];
    for (let i = 0; i < 64; i++) {
      const name = `v${i}`;
      bus.register({
        bus: "mmio",
        base: 0x300_0000 + i * 0x200,
        sizeBytes: 0x100,
        name,
        handler: () => hits.push(name),
      });
    }
    const cpu = new GuestCpu(bus);
    const order = [5, 5, 63, 0, 17, 17, 62, 1];
    for (const i of order) cpu.read32(0x300_0000 + i * 0x200 + 0xfc);
    // The gaps between regions are unclaimed.
    cpu.read32(0x300_0000 + 5 * 0x200 + 0x100);
    expect(hits).toEqual(order.map((i) => `v${i}`));
  });

  it("leaves an access that straddles a region's end unclaimed", () => {
    const bus = new TrapBus();
    const dev = recorder(() => [1, 2, 3, 4]);
    bus.register({ bus: "mmio", base: 0x100_0000, sizeBytes: 8, name: "uart", handler: dev.handler });
    bus.register({ bus: "mmio", base: 0x100_0008, sizeBytes: 8, name: "next", handler: dev.handler });
    const cpu = new GuestCpu(bus);
    expect(cpu.read32(0x100_0006)).toBe(0); // runs from uart into next
    cpu.read8(0x100_0007); // warm the cache on uart
    expect(cpu.read32(0x100_0006)).toBe(0);
    expect(bus.access(0, 0xfffe, new Uint8Array(4), 4, false)).toBe(false); // port window edge
    expect(dev.seen).toHaveLength(1);
  });

  it("leaves zero-length and wrapping accesses unclaimed", () => {
    const bus = new TrapBus();
    const dev = recorder();
    bus.register({ bus: "mmio", base: 0x100_0000, sizeBytes: 8, name: "uart", handler: dev.handler });
    expect(bus.access(0, 0x100_0000, new Uint8Array(8), 0, true)).toBe(false);
    expect(bus.access(0, 2 ** 52 - 2, new Uint8Array(8), 4, false)).toBe(false);
    expect(dev.seen).toHaveLength(0);
  });

  it("reads 0 from unclaimed MMIO and all ones from unclaimed ports, and drops writes", () => {
    const bus = new TrapBus();
    const cpu = new GuestCpu(bus);
    expect(cpu.read32(0x500_0000)).toBe(0);
    expect(cpu.read64(0x8_0000_0000)).toBe(0n);
    expect(cpu.read8(0x80)).toBe(0xff);
    expect(cpu.read32(0x80)).toBe(0xffff_ffff);
    cpu.write32(0x500_0000, 0x1234);
    expect(cpu.read32(0x500_0000)).toBe(0);
  });

  it("zeroes the bytes of a read that the handler does not fill", () => {
    const bus = new TrapBus();
    bus.register({
      bus: "mmio",
      base: 0x100_0000,
      sizeBytes: 8,
      name: "bytewide",
      handler: (_v, _o, data) => (data[0] = 0x60),
    });
    expect(new GuestCpu(bus).read32(0x100_0004)).toBe(0x60); // GuestCpu pre-fills 0xaa
  });

  it("passes an 8-byte access whole to a handler that did not ask for 32-bit splitting", () => {
    const bus = new TrapBus();
    const dev = recorder((_o, n) => Array.from({ length: n }, (_, i) => i + 1));
    bus.register({ bus: "mmio", base: 0x200_0000, sizeBytes: 0x1000, name: "f", handler: dev.handler });
    expect(new GuestCpu(bus).read64(0x200_0000)).toBe(0x0807060504030201n);
    expect(dev.seen.map((s) => s.lengthBytes)).toEqual([8]);
  });
});

describe("TrapBus 32-bit-only handlers", () => {
  function gicdLike() {
    const bus = new TrapBus();
    // 64-bit register at 0x6100 (like GICD_IROUTER32), stored as two 32-bit words.
    const words = new Map<number, number>([
      [0x6100, 0x0000_0003],
      [0x6104, 0x0000_0001],
    ]);
    const calls: Array<[number, number, boolean]> = [];
    bus.register({
      bus: "mmio",
      base: 0x3fff_0000,
      sizeBytes: 0x1_0000,
      name: "gicd",
      only32Bit: true,
      handler: (_v, offset, data, lengthBytes, isWrite) => {
        calls.push([offset, lengthBytes, isWrite]);
        if (isWrite) {
          words.set(offset, data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24));
        } else {
          const w = words.get(offset) ?? 0;
          for (let i = 0; i < lengthBytes; i++) data[i] = (w >>> (8 * i)) & 0xff;
        }
      },
    });
    return { bus, words, calls, cpu: new GuestCpu(bus) };
  }

  it("splits a guest's 64-bit read into two 32-bit reads and joins them low word first", () => {
    const { cpu, calls } = gicdLike();
    expect(cpu.read64(0x3fff_6100)).toBe(0x0000_0001_0000_0003n);
    expect(calls).toEqual([
      [0x6100, 4, false],
      [0x6104, 4, false],
    ]);
  });

  it("splits a guest's 64-bit write into the low word at addr and the high word at addr+4", () => {
    const { cpu, calls, words } = gicdLike();
    cpu.write64(0x3fff_6100, 0x0000_00ff_8000_0002n);
    expect(calls).toEqual([
      [0x6100, 4, true],
      [0x6104, 4, true],
    ]);
    expect(words.get(0x6100)).toBe(0x8000_0002 | 0);
    expect(words.get(0x6104)).toBe(0xff);
  });

  it("passes 1-, 2- and 4-byte accesses through unchanged", () => {
    const { cpu, calls } = gicdLike();
    cpu.read8(0x3fff_6100);
    cpu.read16(0x3fff_6100);
    cpu.read32(0x3fff_6104);
    expect(calls.map((c) => c[1])).toEqual([1, 2, 4]);
  });
});

describe("TrapBus debugging and tracing", () => {
  it("reports unclaimed MMIO accesses under debugMmio, kvmtool-style", () => {
    const lines: string[] = [];
    const bus = new TrapBus({ debugMmio: true, log: (l) => lines.push(l) });
    const cpu = new GuestCpu(bus);
    cpu.read32(0x900_0000);
    cpu.write8(0x900_0004, 1);
    cpu.read8(0x3f8); // a port: not reported without debugIoport
    expect(lines).toEqual([
      "MMIO warning: Ignoring MMIO read at 0x9000000 (length 4)",
      "MMIO warning: Ignoring MMIO write at 0x9000004 (length 1)",
    ]);
  });

  it("reports unclaimed port accesses under debugIoport, and names a region straddled", () => {
    const lines: string[] = [];
    const bus = new TrapBus({ debugIoport: true, log: (l) => lines.push(l) });
    bus.register({ bus: "ioport", base: 0x70, sizeBytes: 2, name: "cmos", handler: nop });
    const cpu = new GuestCpu(bus);
    cpu.write8(0x80, 0);
    cpu.read16(0x71);
    cpu.read32(0x900_0000); // MMIO: not reported without debugMmio
    expect(lines).toEqual([
      "IO warning: Ignoring I/O port write at port 0x80 (length 1)",
      "IO warning: Ignoring I/O port read at port 0x71 (length 2, straddles the end of cmos)",
    ]);
  });

  it("is silent about unclaimed accesses by default", () => {
    const lines: string[] = [];
    const cpu = new GuestCpu(new TrapBus({ log: (l) => lines.push(l) }));
    cpu.read32(0x900_0000);
    cpu.read8(0x80);
    expect(lines).toEqual([]);
  });

  it("shows every access to the tracer with the value the guest saw and the device name", () => {
    const events: TrapEvent[] = [];
    const bus = new TrapBus({ onAccess: (e) => events.push(e) });
    bus.register({
      bus: "mmio",
      base: 0x3fff_0000,
      sizeBytes: 0x1_0000,
      name: "gicd",
      only32Bit: true,
      handler: (_v, offset, data) => (data[0] = offset & 0xff),
    });
    const cpu = new GuestCpu(bus, 1);
    cpu.read64(0x3fff_0010);
    cpu.write32(0x500_0000, 0xdead_beef);
    cpu.read8(0x60);
    expect(events).toEqual([
      {
        vcpu: 1,
        bus: "mmio",
        gpa: 0x3fff_0010,
        lengthBytes: 8,
        isWrite: false,
        value: 0x14_0000_0010n,
        device: "gicd",
      },
      {
        vcpu: 1,
        bus: "mmio",
        gpa: 0x500_0000,
        lengthBytes: 4,
        isWrite: true,
        value: 0xdead_beefn,
        device: null,
      },
      { vcpu: 1, bus: "ioport", gpa: 0x60, lengthBytes: 1, isWrite: false, value: 0xffn, device: null },
    ]);
  });
});
