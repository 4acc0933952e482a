// How the VM creates its devices: from one ordered table, as kvmtool runs its *_init functions
// by level (include/kvm/util-init.h) and unwinds them in reverse when one fails (util/init.c).
//
// A definition names a device kind, its init level, how many instances the configuration asks
// for (four UARTs, no flash without -F, one virtio-blk per -d) and a create(ctx, index) that
// builds one, registers it on the trap bus and asks the context's allocators for addresses and
// interrupt lines. The table is in level order (createDevices checks), and within a level in
// the order the devices' numbers and device-tree nodes come out.
//
// If a create throws, every device already created is closed, newest first (releasing the
// disk and flash files it opened), and the error goes on with the definition's name on it.
// At exit the VM closes them all the same way.

import { ConfigError } from "../errors.ts";
import type { FdtNode } from "../lib/fdt/tree.ts";

/** kvmtool's init levels, with its numbers. */
export const INIT_LEVELS = { core: 0, base: 2, devBase: 4, dev: 5, virtioDev: 6, firmware: 7, late: 9 } as const;
export type InitLevel = keyof typeof INIT_LEVELS;

/** What the VM needs of any device it created. */
export interface Device {
  /** "serial8250@0x1000000": for logs. */
  readonly name: string;
  /** Writes the device's node under the root, if it has one there. */
  fdtNode?(parent: FdtNode): FdtNode;
  /** The VM is exiting (or creation failed after it): release host resources. */
  close?(): void;
  /** A line to print at exit, such as kvmtool's hint for a device the guest never set up. */
  exitHint?(): string | undefined;
}

export interface DeviceDefinition<Context> {
  name: string;
  level: InitLevel;
  /** How many of this device the configuration asks for. */
  count(ctx: Context): number;
  /** Builds instance `index` (0 to count - 1) and puts it on the bus. */
  create(ctx: Context, index: number): Device;
}

/** A device's create failed with something other than a user's ConfigError: our bug, named. */
export class DeviceCreationError extends Error {
  override name = "DeviceCreationError";
  constructor(definition: string, index: number, cause: unknown) {
    super(`creating ${definition} #${index} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Throws unless the table is in init-level order. */
export function checkLevelOrder<C>(table: readonly DeviceDefinition<C>[]): void {
  for (let i = 1; i < table.length; i++) {
    const [a, b] = [table[i - 1]!, table[i]!];
    if (INIT_LEVELS[a.level] > INIT_LEVELS[b.level]) {
      throw new Error(`device table out of order: ${b.name} (${b.level}) comes after ${a.name} (${a.level})`);
    }
  }
}

/**
 * Creates every device of the table, in order. On a failure, closes what was created (newest
 * first) and rethrows: a user's ConfigError unchanged (one line, "cannot open disk image …"),
 * anything else as a DeviceCreationError naming the device.
 */
export function createDevices<C>(table: readonly DeviceDefinition<C>[], ctx: C): Device[] {
  checkLevelOrder(table);
  const created: Device[] = [];
  for (const def of table) {
    const count = def.count(ctx);
    for (let index = 0; index < count; index++) {
      try {
        created.push(def.create(ctx, index));
      } catch (e) {
        closeAfterFailure(created);
        throw e instanceof ConfigError ? e : new DeviceCreationError(def.name, index, e);
      }
    }
  }
  return created;
}

/** Closes devices after another error, which is the one to report: close errors are dropped. */
export function closeAfterFailure(devices: readonly Device[]): void {
  try {
    closeDevices(devices);
  } catch {
    // Reported by the caller's error instead.
  }
}

/** Closes devices newest first; one that fails to close does not keep the others open. */
export function closeDevices(devices: readonly Device[]): void {
  let first: unknown;
  for (let i = devices.length - 1; i >= 0; i--) {
    try {
      devices[i]!.close?.();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
