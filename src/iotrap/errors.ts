// Refusals from TrapBus.register. They are our bugs (a machine layout that does not add up),
// not the user's or the guest's, so they extend Error directly; the classes exist so that
// tests and the init code can tell them apart without parsing messages.

import type { BusKind } from "./bus.ts";

const hex = (n: number): string => "0x" + n.toString(16);

export class BusError extends Error {
  override name = "BusError";
}

/** The new region shares at least one address with a region already on the same bus. */
export class OverlapError extends BusError {
  override name = "OverlapError";
  constructor(
    readonly bus: BusKind,
    readonly device: string,
    readonly base: number,
    readonly sizeBytes: number,
    readonly existing: string,
  ) {
    super(
      `${bus} region ${device} [${hex(base)}, ${hex(base + sizeBytes)}) overlaps ${existing}`,
    );
  }
}

/** A region of zero (or negative) size can never be hit and is always a mistake. */
export class ZeroSizeError extends BusError {
  override name = "ZeroSizeError";
  constructor(
    readonly bus: BusKind,
    readonly device: string,
    readonly base: number,
  ) {
    super(`${bus} region ${device} at ${hex(base)} has zero size`);
  }
}

/** base + sizeBytes runs past the end of the bus's address space (2^16 ports, 2^52 bytes). */
export class WrapError extends BusError {
  override name = "WrapError";
  constructor(
    readonly bus: BusKind,
    readonly device: string,
    readonly base: number,
    readonly sizeBytes: number,
    readonly limit: number,
  ) {
    super(
      `${bus} region ${device} [${hex(base)}, +${hex(sizeBytes)}) runs past the end of the ` +
        `${bus} space at ${hex(limit)}`,
    );
  }
}

/**
 * An MMIO region inside [0, 0x10000): on arm64 every access there is routed to the I/O-port
 * bus, so the region could never be reached.
 */
export class PortWindowError extends BusError {
  override name = "PortWindowError";
  constructor(
    readonly device: string,
    readonly base: number,
    readonly sizeBytes: number,
  ) {
    super(
      `mmio region ${device} [${hex(base)}, ${hex(base + sizeBytes)}) lies in the I/O-port ` +
        `window [0, 0x10000) and could never be reached; register it on the ioport bus`,
    );
  }
}
