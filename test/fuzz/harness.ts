// What every fuzz target shares: the target shape, seeds and run counts, guest RAM with guard
// bytes around it, a trap bus to poke registers through, and the "only these errors may
// escape" check.
//
// A target is one property over generated inputs (fast-check). It runs two ways:
// - quickly, with a fixed seed, in `make test` (test/fuzz/quick.test.ts);
// - long, by `make fuzz` (tools/fuzz.ts), a million cases or more per target.
// A failure prints the seed and path that reproduce it; see RELIABILITY.md.

import fc from "fast-check";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { GuestMemory } from "../../src/kvm/guest-memory.ts";
import { GuestCpu } from "../support/guest-cpu.ts";

/** A property plus whatever it holds open (temporary files), built once per run. */
export interface FuzzProperty {
  property: fc.IRawProperty<unknown, false>;
  dispose?: () => void;
}

export interface FuzzTarget {
  /** Names the target on the command line and in RELIABILITY.md. */
  name: string;
  /** What the target feeds, and what must hold. */
  description: string;
  /** Cases in the `make test` run; cheap targets afford more. */
  quickRuns: number;
  build(): FuzzProperty;
}

/** The seed of the `make test` runs: fixed, so a red test is the same red test next time. */
export const QUICK_SEED = 0x1c0ffee;
/** What `make fuzz` runs per target unless told otherwise (issue 10: at least 10^6). */
export const LONG_RUNS = 1_000_000;

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs `fn`. An error of one of the `allowed` classes is the documented answer to bad input
 * and comes back as `{ error }`; anything else is a crash and propagates.
 */
export function attempt<T>(allowed: readonly ErrorClass[], fn: () => T): { value: T; error?: undefined } | { error: Error } {
  try {
    return { value: fn() };
  } catch (e) {
    if (allowed.some((c) => e instanceof c)) return { error: e as Error };
    throw e;
  }
}

export class PropertyViolation extends Error {
  override name = "PropertyViolation";
}

/**
 * A failed check inside a property, with a message that says which. A message with values in
 * it is passed as a function: checks run millions of times and fail almost never.
 */
export function check(ok: boolean, what: string | (() => string)): asserts ok {
  if (!ok) throw new PropertyViolation(typeof what === "string" ? what : what());
}

// ---- guest RAM with guards ----

export const RAM_BASE = 0x8000_0000;
const GUARD_BYTES = 4096;
const GUARD_FILL = 0xa5;
const GUARD = new Uint8Array(GUARD_BYTES).fill(GUARD_FILL);

/**
 * Guest RAM as a window into a larger buffer whose bytes on either side hold a pattern no
 * device writes: anything that escapes the window through a stray view shows there.
 */
export class GuardedRam {
  readonly mem: GuestMemory;
  /** The RAM itself (a view of the middle of the backing buffer). */
  readonly bytes: Uint8Array;
  /** Every write GuestMemory reported, as [gpa, length]. */
  readonly writes: [number, number][] = [];
  private readonly backing: Uint8Array;

  constructor(
    readonly sizeBytes: number,
    readonly base = RAM_BASE,
  ) {
    this.backing = new Uint8Array(GUARD_BYTES + sizeBytes + GUARD_BYTES).fill(GUARD_FILL);
    this.bytes = this.backing.subarray(GUARD_BYTES, GUARD_BYTES + sizeBytes);
    this.mem = new GuestMemory({ bytes: this.bytes, ramBase: base, onWrite: (gpa, n) => this.writes.push([gpa, n]) });
  }

  get end(): number {
    return this.base + this.sizeBytes;
  }

  /** Fills RAM with `fill` and forgets recorded writes; the guards are not touched. */
  reset(fill = 0): void {
    this.bytes.fill(fill);
    this.writes.length = 0;
  }

  /** Throws unless both guards still hold their pattern and every reported write lies in RAM. */
  checkIntact(): void {
    const after = GUARD_BYTES + this.sizeBytes;
    check(Buffer.compare(this.backing.subarray(0, GUARD_BYTES), GUARD) === 0, "the guard before RAM was overwritten");
    check(Buffer.compare(this.backing.subarray(after), GUARD) === 0, "the guard past RAM was overwritten");
    for (const [gpa, n] of this.writes) {
      check(this.mem.contains(gpa, n), () => `a write was reported at [0x${gpa.toString(16)}, +${n}), outside RAM`);
    }
  }
}

// ---- register access ----

export type Width = 1 | 2 | 4 | 8;

/** One guest load or store, relative to a device's base. */
export interface Access {
  offset: number;
  width: Width;
  write: boolean;
  value: bigint;
}

/** A trap bus with a CPU that drives it, for devices that register on it. */
export function busRig(): { bus: TrapBus; cpu: GuestCpu } {
  const bus = new TrapBus({ log: () => {} });
  return { bus, cpu: new GuestCpu(bus) };
}

/** Performs an access at base + offset; returns what a load read (0n for a store). */
export function perform(cpu: GuestCpu, base: number, a: Access): bigint {
  if (a.write) {
    cpu.write(base + a.offset, a.width, a.value & ((1n << BigInt(8 * a.width)) - 1n));
    return 0n;
  }
  return cpu.read(base + a.offset, a.width);
}

export const widthArb: fc.Arbitrary<Width> = fc.constantFrom<Width>(1, 2, 4, 8);

/** Values a register is likely to care about, plus anything at all. */
export const valueArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.constantFrom(0n, 1n, 0xffn, 0xffff_ffffn, 0xffff_ffff_ffff_ffffn, 0x8000_0000n),
  fc.bigInt({ min: 0n, max: 0xffn }),
  fc.bigInt({ min: 0n, max: 0xffff_ffffn }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);

/**
 * Accesses aimed at a window of `windowBytes`: mostly at the offsets that name registers,
 * some anywhere in (and just outside) the window, at every width, aligned or not.
 */
export function accessArb(windowBytes: number, registerOffsets: readonly number[], value = valueArb): fc.Arbitrary<Access> {
  const offset = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...registerOffsets) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: windowBytes - 1 }) },
    { weight: 1, arbitrary: fc.integer({ min: -8, max: windowBytes + 8 }) },
  );
  const width = fc.oneof({ weight: 4, arbitrary: fc.constant<Width>(4) }, { weight: 3, arbitrary: widthArb });
  return fc.record({ offset, width, write: fc.boolean(), value });
}

/**
 * A sequence of operations of any length up to `maxLength`: fast-check's default size would
 * keep sequences around ten long, too short to reach states several steps deep.
 */
export function sequenceArb<T>(op: fc.Arbitrary<T>, maxLength: number): fc.Arbitrary<T[]> {
  return fc.array(op, { maxLength, size: "max" });
}

/** Builds the fast-check parameters for one run of a target. */
export function runParameters(seed: number, numRuns: number, path?: string): fc.Parameters<unknown> {
  return { seed, numRuns, path };
}
