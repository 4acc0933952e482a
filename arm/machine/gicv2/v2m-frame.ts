// kvmtool's GICv2m MSI frame (arm/gicv2m.c; Arm's GICv2m in the Server Base System Architecture):
// 64 SPIs kept for MSIs, and one 4 KiB frame whose MSI_TYPER says which. A message is a 32-bit
// write of the SPI's INTID to MSI_SETSPI_NS, which raises that SPI as an edge. A PCI function's
// MSI reaches it through `signalMsi`; a guest may also write MSI_SETSPI_NS itself (kvmtool
// ignores such CPU writes, real frames and QEMU's do not, and lkvm follows them).

import type { TrapBus } from "../../../src/iotrap/bus.ts";
import type { MsiController } from "../../../src/irq.ts";
import { GICV2M_FRAME_BASE, GICV2M_FRAME_SIZE_BYTES, PHANDLE_MSI } from "../memory-map.ts";
import { putU32 } from "../gicv3/frames.ts";

/** kvmtool's count ("arbitrary", says gicv2m.c). */
export const GICV2M_SPI_COUNT = 64;

const MSI_TYPER = 0x008;
export const MSI_SETSPI_NS = 0x040;
const MSI_IIDR = 0xfcc;
const MSI_TYPER_BASE_SHIFT = 16;
const MSI_TYPER_FIELD_MASK = 0x3ff;

export interface Gicv2mFrameOptions {
  /** The first INTID of the frame's SPIs. */
  firstSpi: number;
  /** Raises an SPI for one edge. */
  pulseSpi: (intid: number) => void;
  /** Messages the frame ignores are reported here (--loglevel debug). */
  debugLog?: (line: string) => void;
}

export class Gicv2mFrame implements MsiController {
  readonly phandle = PHANDLE_MSI;
  readonly base = GICV2M_FRAME_BASE;
  readonly sizeBytes = GICV2M_FRAME_SIZE_BYTES;

  constructor(private readonly options: Gicv2mFrameOptions) {}

  register(bus: TrapBus): void {
    bus.register({
      bus: "mmio",
      base: this.base,
      sizeBytes: this.sizeBytes,
      name: `gicv2m@0x${this.base.toString(16)}`,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => {
        if (lengthBytes !== 4 || offset % 4 !== 0) return; // 32-bit registers only: RAZ/WI
        if (isWrite) {
          if (offset === MSI_SETSPI_NS) this.raise(data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24));
          return;
        }
        if (offset === MSI_TYPER) putU32(data, this.typer());
        else if (offset === MSI_IIDR) putU32(data, 0);
      },
    });
  }

  /** MSI_TYPER: the first SPI's INTID in bits [25:16], the count in bits [9:0]. */
  typer(): number {
    return ((this.options.firstSpi & MSI_TYPER_FIELD_MASK) << MSI_TYPER_BASE_SHIFT) | GICV2M_SPI_COUNT;
  }

  /** An MSI: a write of `data` to `address`; only MSI_SETSPI_NS of this frame raises anything. */
  signalMsi(address: bigint, data: number, requesterId: number): void {
    if (address !== BigInt(this.base + MSI_SETSPI_NS)) {
      this.options.debugLog?.(`gicv2m: MSI from requester 0x${requesterId.toString(16)} to 0x${address.toString(16)}, not the frame's MSI_SETSPI_NS: ignored`);
      return;
    }
    this.raise(data);
  }

  /** The SPI named by a message, if it is one of the frame's (the INTID is in bits [9:0]). */
  private raise(data: number): void {
    const intid = data & MSI_TYPER_FIELD_MASK;
    const first = this.options.firstSpi;
    if (intid < first || intid >= first + GICV2M_SPI_COUNT) {
      this.options.debugLog?.(`gicv2m: MSI for INTID ${intid}, outside the frame's SPIs ${first}-${first + GICV2M_SPI_COUNT - 1}: ignored`);
      return;
    }
    this.options.pulseSpi(intid);
  }
}
