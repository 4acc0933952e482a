import { describe, expect, it } from "vitest";
import {
  Mc146818Rtc,
  RTC_CENTURY,
  RTC_DATA_PORT,
  RTC_DAY_OF_MONTH,
  RTC_DAY_OF_WEEK,
  RTC_HOURS,
  RTC_INDEX_NMI_DISABLE,
  RTC_INDEX_PORT,
  RTC_MINUTES,
  RTC_MONTH,
  RTC_REG_A,
  RTC_REG_B,
  RTC_REG_C,
  RTC_REG_D,
  RTC_SECONDS,
  RTC_YEAR,
} from "../../hw/rtc.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { GuestCpu } from "../support/guest-cpu.ts";

const RTC_BASE = 0x101_0000;

function setup(initial: Date) {
  let now = initial;
  const bus = new TrapBus();
  const rtc = new Mc146818Rtc({ base: RTC_BASE, clock: () => now });
  rtc.register(bus);
  const cpu = new GuestCpu(bus);
  // What a driver does for each CMOS register: select it, then read or write data.
  const cmosRead = (index: number): number => {
    cpu.write8(RTC_BASE + RTC_INDEX_PORT, index);
    return cpu.read8(RTC_BASE + RTC_DATA_PORT);
  };
  const cmosWrite = (index: number, value: number): void => {
    cpu.write8(RTC_BASE + RTC_INDEX_PORT, index);
    cpu.write8(RTC_BASE + RTC_DATA_PORT, value);
  };
  const setNow = (d: Date): void => {
    now = d;
  };
  return { rtc, cpu, cmosRead, cmosWrite, setNow };
}

describe("Mc146818Rtc", () => {
  it("gives a guest reading the time registers the clock's UTC time in BCD", () => {
    // Thursday 29 February 2024, 13:05:09 UTC
    const { cmosRead } = setup(new Date(Date.UTC(2024, 1, 29, 13, 5, 9)));
    expect(cmosRead(RTC_SECONDS)).toBe(0x09);
    expect(cmosRead(RTC_MINUTES)).toBe(0x05);
    expect(cmosRead(RTC_HOURS)).toBe(0x13); // 24-hour
    expect(cmosRead(RTC_DAY_OF_WEEK)).toBe(0x05); // Sunday = 1, so Thursday = 5
    expect(cmosRead(RTC_DAY_OF_MONTH)).toBe(0x29);
    expect(cmosRead(RTC_MONTH)).toBe(0x02);
    expect(cmosRead(RTC_YEAR)).toBe(0x24);
    expect(cmosRead(RTC_CENTURY)).toBe(0x20);
  });

  it("reports Sunday as day 1 and the last century correctly", () => {
    const { cmosRead } = setup(new Date(Date.UTC(1999, 11, 26, 23, 59, 58))); // a Sunday
    expect(cmosRead(RTC_DAY_OF_WEEK)).toBe(0x01);
    expect(cmosRead(RTC_YEAR)).toBe(0x99);
    expect(cmosRead(RTC_CENTURY)).toBe(0x19);
    expect(cmosRead(RTC_HOURS)).toBe(0x23);
  });

  it("reads the clock afresh on every access", () => {
    const { cmosRead, setNow } = setup(new Date(Date.UTC(2024, 0, 1, 0, 0, 0)));
    expect(cmosRead(RTC_SECONDS)).toBe(0x00);
    setNow(new Date(Date.UTC(2024, 0, 1, 0, 0, 42)));
    expect(cmosRead(RTC_SECONDS)).toBe(0x42);
  });

  it("selects the register from the low 7 bits when the guest sets the NMI-disable bit", () => {
    const { cpu, rtc } = setup(new Date(Date.UTC(2024, 0, 1, 0, 0, 37)));
    cpu.write8(RTC_BASE + RTC_INDEX_PORT, RTC_INDEX_NMI_DISABLE | RTC_SECONDS);
    expect(cpu.read8(RTC_BASE + RTC_DATA_PORT)).toBe(0x37);
    expect(rtc.getState().nmiDisabled).toBe(true);
  });

  it("keeps a guest's writes to the time registers but still reads the clock", () => {
    const { cmosRead, cmosWrite, rtc } = setup(new Date(Date.UTC(2024, 0, 1, 10, 0, 0)));
    cmosWrite(RTC_HOURS, 0x07);
    expect(cmosRead(RTC_HOURS)).toBe(0x10);
    expect(rtc.getState().cmos[RTC_HOURS]).toBe(0x07);
  });

  it("stores registers A and B and the rest of CMOS RAM as plain bytes, starting at 0", () => {
    const { cmosRead, cmosWrite } = setup(new Date(0));
    expect(cmosRead(RTC_REG_A)).toBe(0); // UIP never set
    expect(cmosRead(RTC_REG_B)).toBe(0);
    cmosWrite(RTC_REG_B, 0x06);
    cmosWrite(0x7f, 0xa5);
    cmosWrite(0x0e, 0x11);
    expect(cmosRead(RTC_REG_B)).toBe(0x06);
    expect(cmosRead(0x7f)).toBe(0xa5);
    expect(cmosRead(0x0e)).toBe(0x11);
  });

  it("ignores writes to registers C and D; D reads valid-RAM-and-time", () => {
    const { cmosRead, cmosWrite } = setup(new Date(0));
    cmosWrite(RTC_REG_C, 0xff);
    cmosWrite(RTC_REG_D, 0x00);
    expect(cmosRead(RTC_REG_C)).toBe(0);
    expect(cmosRead(RTC_REG_D)).toBe(0x80);
  });

  it("reads 0 from the write-only index register", () => {
    const { cpu } = setup(new Date(0));
    cpu.write8(RTC_BASE + RTC_INDEX_PORT, RTC_REG_D);
    expect(cpu.read8(RTC_BASE + RTC_INDEX_PORT)).toBe(0);
  });
});
