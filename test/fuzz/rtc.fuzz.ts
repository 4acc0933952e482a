// The MC146818 RTC (hw/rtc.ts) through the trap bus: index and data accesses at any width and
// offset, any index (NMI bit included), under a clock that jumps between dates.
//
// Must hold: no exception; the index port reads 0; a time register reads the clock as valid
// BCD; register D reads VRT and C reads 0 whatever was written; every other CMOS byte reads
// back what the guest last wrote there.

import fc from "fast-check";
import {
  Mc146818Rtc,
  RTC_CENTURY,
  RTC_CMOS_BYTES,
  RTC_DATA_PORT,
  RTC_DAY_OF_MONTH,
  RTC_DAY_OF_WEEK,
  RTC_HOURS,
  RTC_INDEX_MASK,
  RTC_INDEX_PORT,
  RTC_MINUTES,
  RTC_MONTH,
  RTC_REG_C,
  RTC_REG_D,
  RTC_REG_D_VRT,
  RTC_SECONDS,
  RTC_WINDOW_BYTES,
  RTC_YEAR,
} from "../../hw/rtc.ts";
import { accessArb, busRig, check, perform, sequenceArb, valueArb, type Access, type FuzzTarget } from "./harness.ts";

const BASE = 0x101_0000;

const bcd = (n: number): number => ((Math.floor(n / 10) % 10) << 4) | n % 10;

/** What each time register must read for a date. */
const TIME: Record<number, (d: Date) => number> = {
  [RTC_SECONDS]: (d) => bcd(d.getUTCSeconds()),
  [RTC_MINUTES]: (d) => bcd(d.getUTCMinutes()),
  [RTC_HOURS]: (d) => bcd(d.getUTCHours()),
  [RTC_DAY_OF_WEEK]: (d) => bcd(d.getUTCDay() + 1),
  [RTC_DAY_OF_MONTH]: (d) => bcd(d.getUTCDate()),
  [RTC_MONTH]: (d) => bcd(d.getUTCMonth() + 1),
  [RTC_YEAR]: (d) => bcd(d.getUTCFullYear() % 100),
  [RTC_CENTURY]: (d) => bcd(Math.floor(d.getUTCFullYear() / 100)),
};

type Op = { kind: "access"; access: Access } | { kind: "clock"; ms: number };

const dateMs = fc.oneof(
  fc.integer({ min: 0, max: Date.UTC(2200, 0) }),
  fc.constantFrom(0, Date.UTC(1999, 11, 31, 23, 59, 59), Date.UTC(2000, 1, 29), Date.UTC(9999, 11, 31, 23, 59, 59)),
);

const indexValue = fc.oneof(
  fc.constantFrom(RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY, RTC_REG_C, RTC_REG_D, 0x0a, 0x0b),
  fc.integer({ min: 0, max: 0xff }),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: accessArb(RTC_WINDOW_BYTES, [RTC_INDEX_PORT, RTC_DATA_PORT], fc.oneof(valueArb, indexValue.map(BigInt))).map((access) => ({ kind: "access" as const, access })) },
  { weight: 1, arbitrary: dateMs.map((ms) => ({ kind: "clock" as const, ms })) },
);

export const rtcTarget: FuzzTarget = {
  name: "rtc",
  description: "MC146818 index/data sequences under a jumping clock",
  quickRuns: 400,
  build() {
    const property = fc.property(dateMs, sequenceArb(opArb, 60), (startMs, ops) => {
      const { bus, cpu } = busRig();
      let now = new Date(startMs);
      const rtc = new Mc146818Rtc({ base: BASE, clock: () => now });
      rtc.register(bus);
      // The guest's model of the chip: the selected index and what it wrote to CMOS RAM.
      let index = 0;
      const cmos = new Array<number>(RTC_CMOS_BYTES).fill(0);
      for (const op of ops) {
        if (op.kind === "clock") {
          now = new Date(op.ms);
          continue;
        }
        const a = op.access;
        const value = perform(cpu, BASE, a);
        if (a.offset < 0 || a.offset + a.width > RTC_WINDOW_BYTES) continue; // nobody claims it
        const low = Number(a.value & 0xffn);
        if (a.offset === RTC_INDEX_PORT) {
          if (a.write) index = low & RTC_INDEX_MASK;
          else check(value === 0n, () => `the index port read ${value}`);
          continue;
        }
        if (a.write) {
          if (index !== RTC_REG_C && index !== RTC_REG_D) cmos[index] = low;
          continue;
        }
        const expected = TIME[index]?.(now) ?? (index === RTC_REG_D ? RTC_REG_D_VRT : cmos[index]!);
        check(value === BigInt(expected), () => `CMOS 0x${index.toString(16)} read 0x${value.toString(16)}, not 0x${expected.toString(16)}`);
      }
    });
    return { property };
  },
};
