import { describe, expect, it } from "vitest";
import { AddressOutOfRange } from "../../src/kvm/guest-memory.ts";
import {
  AvailIndexOverrun,
  DescriptorChainTooLong,
  DescriptorIndexOutOfRange,
  IndirectNotNegotiated,
  IndirectTableInvalid,
  IndirectWithNext,
  NestedIndirectDescriptor,
  QueueSizeInvalid,
  RingMisaligned,
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  Virtqueue,
} from "../../virtio/queue.ts";
import { DriverQueue, RAM_BASE, RAM_BYTES, guestRam } from "../support/virtio-driver.ts";

const BUF = RAM_BASE + 0x10_0000;

/** A device-side queue configured from a driver-side one, ready as after QueueReady. */
function setup(size = 16, maxSize = 256) {
  const { mem, writes } = guestRam();
  const driver = new DriverQueue(mem, size);
  const q = new Virtqueue(maxSize);
  q.size = size;
  q.descTable = driver.descTable;
  q.availRing = driver.availRing;
  q.usedRing = driver.usedRing;
  q.validate(mem);
  q.ready = true;
  return { mem, writes, driver, q };
}

describe("Virtqueue set-up checks (at QueueReady)", () => {
  it("accepts a power-of-two size up to QueueNumMax with aligned rings in RAM", () => {
    expect(() => setup(256)).not.toThrow();
    expect(() => setup(1)).not.toThrow();
  });

  it("refuses a size the driver picked that is zero, not a power of two, or above QueueNumMax", () => {
    for (const size of [0, 3, 100, 512]) {
      const { mem, q } = setup();
      q.size = size;
      expect(() => q.validate(mem)).toThrow(QueueSizeInvalid);
    }
  });

  it("refuses rings the driver misaligned (descriptors 16, avail 2, used 4)", () => {
    for (const [field, gpa] of [["descTable", RAM_BASE + 8], ["availRing", RAM_BASE + 1], ["usedRing", RAM_BASE + 2]] as const) {
      const { mem, q } = setup();
      q[field] = gpa;
      expect(() => q.validate(mem), field).toThrow(RingMisaligned);
    }
  });

  it("refuses rings the driver placed outside RAM, or running off its end", () => {
    for (const gpa of [0x1000, RAM_BASE + RAM_BYTES - 16, 2 ** 60]) {
      const { mem, q } = setup();
      q.descTable = gpa;
      expect(() => q.validate(mem)).toThrow(AddressOutOfRange);
    }
  });
});

describe("Virtqueue as the driver fills it", () => {
  it("pops the chain the driver made available and returns it in the used ring", () => {
    const { mem, driver, q } = setup();
    const head = driver.add([
      { gpa: BUF, lengthBytes: 16 },
      { gpa: BUF + 0x100, lengthBytes: 512, writable: true },
    ]);
    const chain = q.pop(mem)!;
    expect(chain.head).toBe(head);
    expect(chain.descriptors).toEqual([
      { gpa: BUF, lengthBytes: 16, writable: false },
      { gpa: BUF + 0x100, lengthBytes: 512, writable: true },
    ]);
    expect(q.pop(mem)).toBeNull();
    q.pushUsed(mem, chain.head, 512);
    expect(driver.takeUsed()).toEqual([{ id: head, len: 512 }]);
  });

  it("reports every used-ring write to the memory's write hook (what the JIT invalidates)", () => {
    const { mem, writes, driver, q } = setup();
    writes.length = 0;
    const head = driver.chain([{ gpa: BUF, lengthBytes: 8, writable: true }]);
    writes.length = 0;
    driver.makeAvailable(head);
    writes.length = 0;
    q.pushUsed(mem, q.pop(mem)!.head, 8);
    expect(writes).toContainEqual([driver.usedRing + 2, 2]); // used->idx
    expect(writes).toContainEqual([driver.usedRing + 4, 4]); // used->ring[0].id
  });

  it("follows the free-running indices across the 2^16 wrap", () => {
    const { mem, driver, q } = setup(4);
    q.nextAvail = q.nextUsed = 0xfffe;
    driver.setAvailIdx(0xfffe);
    driver.lastUsed = 0xfffe;
    const heads = [0, 1, 2].map(() => driver.add([{ gpa: BUF, lengthBytes: 4, writable: true }]));
    for (const h of heads) {
      const c = q.pop(mem)!;
      expect(c.head).toBe(h);
      q.pushUsed(mem, c.head, 4);
    }
    expect(driver.usedIdx).toBe(1);
    expect(driver.takeUsed().map((u) => u.id)).toEqual(heads);
  });

  it("rejects an avail index the driver moved more than the queue size ahead", () => {
    const { mem, driver, q } = setup(8);
    driver.setAvailIdx(9);
    expect(() => q.pop(mem)).toThrow(AvailIndexOverrun);
  });

  it("rejects a head index past the descriptor table", () => {
    const { mem, driver, q } = setup(8);
    driver.makeAvailable(8);
    expect(() => q.pop(mem)).toThrow(DescriptorIndexOutOfRange);
  });

  it("rejects a next index past the descriptor table", () => {
    const { mem, driver, q } = setup(8);
    driver.writeDesc(0, { gpa: BUF, lengthBytes: 4, flags: VRING_DESC_F_NEXT, next: 8 });
    driver.makeAvailable(0);
    expect(() => q.pop(mem)).toThrow(DescriptorIndexOutOfRange);
  });

  it("ends a descriptor loop", () => {
    const { mem, driver, q } = setup(8);
    driver.writeDesc(0, { gpa: BUF, lengthBytes: 4, flags: VRING_DESC_F_NEXT, next: 1 });
    driver.writeDesc(1, { gpa: BUF, lengthBytes: 4, flags: VRING_DESC_F_NEXT, next: 0 });
    driver.makeAvailable(0);
    expect(() => q.pop(mem)).toThrow(DescriptorChainTooLong);
  });

  it("accepts a chain exactly as long as the queue", () => {
    const { mem, driver, q } = setup(4);
    const head = driver.add(Array.from({ length: 4 }, () => ({ gpa: BUF, lengthBytes: 1 })));
    expect(q.pop(mem)!.head).toBe(head);
  });

  it("rejects a descriptor pointing outside RAM before touching any buffer", () => {
    for (const gpa of [0x0900_0000, RAM_BASE + RAM_BYTES - 2, 2 ** 63, 0xffff_ffff_ffff_f000n]) {
      const { mem, writes, driver, q } = setup();
      driver.add([
        { gpa: BUF, lengthBytes: 4, writable: true },
        { gpa: Number(gpa), lengthBytes: 4, writable: true },
      ]);
      if (typeof gpa === "bigint") driver.writeDesc(1, { gpa, lengthBytes: 4, flags: VRING_DESC_F_WRITE });
      writes.length = 0;
      expect(() => q.pop(mem), String(gpa)).toThrow(AddressOutOfRange);
      expect(writes.filter(([w]) => w === BUF)).toEqual([]);
    }
  });

  it("rejects a length that runs a buffer past the end of RAM", () => {
    const { mem, driver, q } = setup();
    driver.add([{ gpa: RAM_BASE + RAM_BYTES - 512, lengthBytes: 0xffff_ffff, writable: true }]);
    expect(() => q.pop(mem)).toThrow(AddressOutOfRange);
  });
});

describe("Virtqueue indirect descriptors", () => {
  const TABLE = RAM_BASE + 0x8_0000;

  it("follows one indirect table when INDIRECT_DESC was negotiated", () => {
    const { mem, driver, q } = setup();
    q.indirect = true;
    const head = driver.indirectChain(TABLE, [
      { gpa: BUF, lengthBytes: 16 },
      { gpa: BUF + 0x200, lengthBytes: 4096, writable: true },
      { gpa: BUF + 0x2000, lengthBytes: 1, writable: true },
    ]);
    driver.makeAvailable(head);
    const chain = q.pop(mem)!;
    expect(chain.head).toBe(head);
    expect(chain.descriptors.map((d) => d.lengthBytes)).toEqual([16, 4096, 1]);
  });

  it("rejects an indirect descriptor the driver did not negotiate", () => {
    const { mem, driver, q } = setup();
    driver.makeAvailable(driver.indirectChain(TABLE, [{ gpa: BUF, lengthBytes: 16 }]));
    expect(() => q.pop(mem)).toThrow(IndirectNotNegotiated);
  });

  it("rejects an indirect table inside an indirect table", () => {
    const { mem, driver, q } = setup();
    q.indirect = true;
    const head = driver.indirectChain(TABLE, [{ gpa: BUF, lengthBytes: 16 }]);
    driver.writeDesc(0, { gpa: TABLE, lengthBytes: 16, flags: VRING_DESC_F_INDIRECT }, TABLE);
    driver.makeAvailable(head);
    expect(() => q.pop(mem)).toThrow(NestedIndirectDescriptor);
  });

  it("rejects an indirect table whose length is zero, ragged, or longer than QueueNumMax", () => {
    for (const lengthBytes of [0, 24, 16 * 257]) {
      const { mem, driver, q } = setup();
      q.indirect = true;
      driver.writeDesc(0, { gpa: TABLE, lengthBytes, flags: VRING_DESC_F_INDIRECT });
      driver.makeAvailable(0);
      expect(() => q.pop(mem), String(lengthBytes)).toThrow(IndirectTableInvalid);
    }
  });

  it("rejects a descriptor with both INDIRECT and NEXT", () => {
    const { mem, driver, q } = setup();
    q.indirect = true;
    driver.writeDesc(0, { gpa: TABLE, lengthBytes: 16, flags: VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, next: 1 });
    driver.makeAvailable(0);
    expect(() => q.pop(mem)).toThrow(IndirectWithNext);
  });

  it("rejects an indirect table outside RAM", () => {
    const { mem, driver, q } = setup();
    q.indirect = true;
    driver.writeDesc(0, { gpa: RAM_BASE + RAM_BYTES - 16, lengthBytes: 32, flags: VRING_DESC_F_INDIRECT });
    driver.makeAvailable(0);
    expect(() => q.pop(mem)).toThrow(AddressOutOfRange);
  });

  it("ends a loop inside an indirect table", () => {
    const { mem, driver, q } = setup();
    q.indirect = true;
    driver.writeDesc(0, { gpa: BUF, lengthBytes: 4, flags: VRING_DESC_F_NEXT, next: 1 }, TABLE);
    driver.writeDesc(1, { gpa: BUF, lengthBytes: 4, flags: VRING_DESC_F_NEXT, next: 0 }, TABLE);
    driver.writeDesc(0, { gpa: TABLE, lengthBytes: 32, flags: VRING_DESC_F_INDIRECT });
    driver.makeAvailable(0);
    expect(() => q.pop(mem)).toThrow(DescriptorChainTooLong);
  });
});

describe("Virtqueue interrupt suppression", () => {
  it("interrupts after used entries unless the driver set VRING_AVAIL_F_NO_INTERRUPT", () => {
    const { mem, driver, q } = setup();
    expect(q.needsInterrupt(mem)).toBe(false); // nothing used yet
    driver.add([{ gpa: BUF, lengthBytes: 4, writable: true }]);
    q.pushUsed(mem, q.pop(mem)!.head, 4);
    expect(q.needsInterrupt(mem)).toBe(true);
    driver.setAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
    driver.add([{ gpa: BUF, lengthBytes: 4, writable: true }]);
    q.pushUsed(mem, q.pop(mem)!.head, 4);
    expect(q.needsInterrupt(mem)).toBe(false);
  });

  it("with EVENT_IDX, interrupts only when used->idx passes the driver's used_event", () => {
    const { mem, driver, q } = setup();
    q.eventIdx = true;
    driver.setUsedEvent(2); // "interrupt me once entry 2 is used"
    const serve = () => q.pushUsed(mem, q.pop(mem)!.head, 4);
    for (let i = 0; i < 4; i++) driver.add([{ gpa: BUF, lengthBytes: 4, writable: true }]);
    serve(); // idx 1
    expect(q.needsInterrupt(mem)).toBe(false);
    serve(); // idx 2
    expect(q.needsInterrupt(mem)).toBe(false);
    serve(); // idx 3: entry 2 is now used
    expect(q.needsInterrupt(mem)).toBe(true);
    serve(); // idx 4: used_event still 2, already signalled
    expect(q.needsInterrupt(mem)).toBe(false);
  });

  it("with EVENT_IDX, publishes avail_event so the driver notifies at its next buffer", () => {
    const { mem, driver, q } = setup();
    q.eventIdx = true;
    driver.add([{ gpa: BUF, lengthBytes: 4, writable: true }]);
    driver.add([{ gpa: BUF, lengthBytes: 4, writable: true }]);
    while (q.pop(mem) !== null);
    expect(driver.availEvent).toBe(2);
  });
});
