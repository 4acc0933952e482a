// virtio split rings, device side (virtio/queue.ts), fed whatever a driver can put in RAM:
// rings anywhere (misaligned, overlapping, off the end of RAM), sizes that are not powers of
// two, descriptor chains with loops, indirect tables (empty, ragged, nested, off the end),
// lengths of 0 and 4 GiB, avail indices far ahead, and free-running indices near the wrap.
//
// Must hold: only GuestError escapes validate() and pop(); every buffer handed out lies in RAM;
// a chain is no longer than the queue plus one indirect table; the device takes at most
// `size` chains before the ring is empty; it writes nothing but its used ring; nothing outside
// RAM changes.

import fc from "fast-check";
import { GuestError } from "../../src/errors.ts";
import { Virtqueue } from "../../virtio/queue.ts";
import { GuardedRam, attempt, check, type FuzzTarget } from "./harness.ts";
import { VIRTIO_RAM_BYTES, layRing, layoutArb, ringContentsArb, usedArea } from "./rings.ts";

const POWERS = [1, 2, 4, 8, 16, 32, 64, 256];

const inputArb = fc.constantFrom(...POWERS).chain((maxSize) => {
  const size = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...POWERS.filter((p) => p <= maxSize)) },
    { weight: 1, arbitrary: fc.constantFrom(0, 3, 2 * maxSize, 65536, 0xffff_ffff) },
  );
  return layoutArb(size).chain((layout) =>
    fc.record({
      maxSize: fc.constant(maxSize),
      layout: fc.constant(layout),
      contents: ringContentsArb(Math.max(1, Math.min(256, Math.floor(layout.size)))),
      eventIdx: fc.boolean(),
      indirect: fc.boolean(),
      // The device's free-running positions; near 0xffff they wrap during the run.
      nextAvail: fc.oneof(fc.constant(0), fc.integer({ min: 0xfff0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })),
      usedLag: fc.integer({ min: 0, max: 3 }),
      written: fc.constantFrom(0, 1, 16, 0xffff_ffff),
    }),
  );
});

export const virtioQueueTarget: FuzzTarget = {
  name: "virtio-queue",
  description: "split rings: descriptor chains, loops, indirect tables, lengths and addresses at the ends of RAM",
  quickRuns: 400,
  build() {
    const ram = new GuardedRam(VIRTIO_RAM_BYTES);
    const property = fc.property(inputArb, (input) => {
      const { maxSize, layout, contents } = input;
      ram.reset();
      const q = new Virtqueue(maxSize);
      q.size = layout.size;
      q.descTable = layout.desc;
      q.availRing = layout.avail;
      q.usedRing = layout.used;
      q.eventIdx = input.eventIdx;
      q.indirect = input.indirect;
      q.nextAvail = input.nextAvail;
      q.nextUsed = (input.nextAvail - input.usedLag) & 0xffff;
      layRing(ram.mem, layout, contents, input.nextAvail);
      // The transport never serves a queue that failed these checks.
      if (attempt([GuestError], () => q.validate(ram.mem)).error) return;

      const before = ram.bytes.slice();
      ram.writes.length = 0;
      let taken = 0;
      let drained = false;
      while (taken <= q.size) {
        // A GuestError here is where the transport marks the device DEVICE_NEEDS_RESET.
        const popped = attempt([GuestError], () => q.pop(ram.mem));
        if (popped.error || popped.value === null) {
          drained = true;
          break;
        }
        const { head, descriptors } = popped.value;
        // At most `size` descriptors; with indirect tables, size - 1 before the table and its own.
        const limit = q.indirect ? q.size - 1 + maxSize : q.size;
        check(descriptors.length <= limit, () => `a chain of ${descriptors.length} descriptors from a queue of ${q.size}`);
        for (const d of descriptors) {
          check(ram.mem.contains(d.gpa, d.lengthBytes), () => `buffer [0x${d.gpa.toString(16)}, +${d.lengthBytes}) handed out, not in RAM`);
        }
        q.pushUsed(ram.mem, head, input.written);
        taken++;
      }
      check(drained, () => `the device took more than ${q.size} chains without finding the ring empty`);
      q.needsInterrupt(ram.mem);

      const [usedStart, usedEnd] = usedArea(layout);
      for (let i = 0; i < before.length; i++) {
        if (before[i] === ram.bytes[i]) continue;
        const gpa = ram.base + i;
        check(gpa >= usedStart && gpa < usedEnd, () => `the device wrote 0x${gpa.toString(16)}, outside its used ring`);
      }
      ram.checkIntact();
    });
    return { property };
  },
};
