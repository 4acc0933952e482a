// An MC146818 real-time clock as kvmtool models it (hw/rtc.c): an index/data register pair
// in front of 128 bytes of CMOS RAM, where the time registers always read the host clock in
// UTC and BCD (register B's binary and 12-hour bits are ignored, as in kvmtool). No alarms,
// no update or periodic interrupts, and so no IRQ line.

import type { TrapBus } from "../src/iotrap/bus.ts";
import { u64Cells, type FdtNode } from "../src/lib/fdt/tree.ts";

// Offsets in the 2-byte register window.
export const RTC_INDEX_PORT = 0; // write: bit 7 = NMI disabled, bits 0-6 = CMOS index
export const RTC_DATA_PORT = 1;
export const RTC_WINDOW_BYTES = 2;

export const RTC_INDEX_NMI_DISABLE = 0x80;
export const RTC_INDEX_MASK = 0x7f;
export const RTC_CMOS_BYTES = 128;

// CMOS indices.
export const RTC_SECONDS = 0x00;
export const RTC_MINUTES = 0x02;
export const RTC_HOURS = 0x04;
export const RTC_DAY_OF_WEEK = 0x06;
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const RTC_CENTURY = 0x32;

/** Register D's "valid RAM and time" bit: the battery is always good. */
export const RTC_REG_D_VRT = 0x80;

export interface Mc146818RtcState {
  /** CMOS index selected by the last write to the index register. */
  index: number;
  nmiDisabled: boolean;
  /** The 128 CMOS bytes; the time registers' slots hold whatever the guest last wrote. */
  cmos: number[];
}

export interface Mc146818RtcOptions {
  /** Guest-physical base of the 2-byte window (kvmtool: 0x1010000). */
  base: number;
  /** The wall clock; tests pass a fixed date. */
  clock?: () => Date;
  name?: string;
}

const toBcd = (n: number): number => ((Math.floor(n / 10) % 10) << 4) | n % 10;

export class Mc146818Rtc {
  static readonly description = {
    name: "rtc",
    compatible: "motorola,mc146818",
    windowBytes: RTC_WINDOW_BYTES,
  } as const;

  readonly base: number;
  readonly name: string;
  private readonly clock: () => Date;
  private state: Mc146818RtcState = {
    index: 0,
    nmiDisabled: false,
    cmos: new Array<number>(RTC_CMOS_BYTES).fill(0),
  };

  constructor({ base, clock, name }: Mc146818RtcOptions) {
    this.base = base;
    this.clock = clock ?? (() => new Date());
    this.name = name ?? `rtc@0x${base.toString(16)}`;
  }

  /** kvmtool's node: no interrupts (the RTC raises none). */
  fdtNode(parent: FdtNode): FdtNode {
    return parent
      .child("rtc")
      .prop("compatible", Mc146818Rtc.description.compatible)
      .prop("reg", [...u64Cells(this.base), ...u64Cells(RTC_WINDOW_BYTES)]);
  }

  register(bus: TrapBus): void {
    bus.register({
      bus: "mmio",
      base: this.base,
      sizeBytes: RTC_WINDOW_BYTES,
      name: this.name,
      handler: (_vcpu, offset, data, _lengthBytes, isWrite) => {
        // Byte registers: only the low byte counts.
        if (offset === RTC_INDEX_PORT) {
          // The index register is write-only; a read gets the bus's zero.
          if (isWrite) {
            this.state.index = data[0]! & RTC_INDEX_MASK;
            this.state.nmiDisabled = (data[0]! & RTC_INDEX_NMI_DISABLE) !== 0;
          }
        } else if (offset === RTC_DATA_PORT) {
          if (isWrite) this.writeCmos(this.state.index, data[0]!);
          else data[0] = this.readCmos(this.state.index);
        }
      },
    });
  }

  getState(): Mc146818RtcState {
    return structuredClone(this.state);
  }

  setState(state: Mc146818RtcState): void {
    this.state = structuredClone(state);
  }

  private readCmos(index: number): number {
    const now = this.clock();
    switch (index) {
      case RTC_SECONDS:
        return toBcd(now.getUTCSeconds());
      case RTC_MINUTES:
        return toBcd(now.getUTCMinutes());
      case RTC_HOURS:
        return toBcd(now.getUTCHours());
      case RTC_DAY_OF_WEEK:
        return toBcd(now.getUTCDay() + 1); // Sunday = 1
      case RTC_DAY_OF_MONTH:
        return toBcd(now.getUTCDate());
      case RTC_MONTH:
        return toBcd(now.getUTCMonth() + 1);
      case RTC_YEAR:
        return toBcd(now.getUTCFullYear() % 100);
      case RTC_CENTURY:
        return toBcd(Math.floor(now.getUTCFullYear() / 100));
      case RTC_REG_D:
        return RTC_REG_D_VRT;
      default:
        return this.state.cmos[index]!;
    }
  }

  private writeCmos(index: number, value: number): void {
    // C (interrupt flags) and D (battery) are read-only. Time registers are stored but never
    // read back: reads always come from the clock.
    if (index === RTC_REG_C || index === RTC_REG_D) return;
    this.state.cmos[index] = value;
  }
}
