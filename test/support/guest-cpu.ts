// Drives a TrapBus the way the CPU glue does: one little-endian byte buffer per access.
// Device tests use it to act like a guest driver doing loads and stores.

import type { TrapBus } from "../../src/iotrap/bus.ts";

export class GuestCpu {
  readonly data = new Uint8Array(8);

  constructor(
    readonly bus: TrapBus,
    readonly vcpu = 0,
  ) {}

  read(gpa: number, lengthBytes: 1 | 2 | 4 | 8): bigint {
    this.data.fill(0xaa); // stale bytes, as a real exit buffer would hold
    this.bus.access(this.vcpu, gpa, this.data, lengthBytes, false);
    let value = 0n;
    for (let i = lengthBytes - 1; i >= 0; i--) value = (value << 8n) | BigInt(this.data[i]!);
    return value;
  }

  write(gpa: number, lengthBytes: 1 | 2 | 4 | 8, value: number | bigint): void {
    let v = BigInt(value);
    for (let i = 0; i < lengthBytes; i++) {
      this.data[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.bus.access(this.vcpu, gpa, this.data, lengthBytes, true);
  }

  read8 = (gpa: number): number => Number(this.read(gpa, 1));
  read16 = (gpa: number): number => Number(this.read(gpa, 2));
  read32 = (gpa: number): number => Number(this.read(gpa, 4));
  read64 = (gpa: number): bigint => this.read(gpa, 8);
  write8 = (gpa: number, value: number): void => this.write(gpa, 1, value);
  write16 = (gpa: number, value: number): void => this.write(gpa, 2, value);
  write32 = (gpa: number, value: number): void => this.write(gpa, 4, value);
  write64 = (gpa: number, value: bigint): void => this.write(gpa, 8, value);
}
