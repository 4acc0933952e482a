// `lkvm balloon` and `lkvm stat`: the client end of the virtio-balloon's control messages,
// with kvmtool's options and output (builtin-balloon.c, builtin-stat.c).
//
// Where kvmtool says nothing, lkvm says what went wrong: a guest without --balloon closes the
// connection on BALLOON and STAT (src/ipc/server.ts), so `lkvm balloon` follows its request
// with a PID request, which such a guest never answers, and `lkvm stat` sees no reply; both
// then fail with one line. kvmtool's `stat` would wait for ever instead, and its `balloon`
// succeed silently.

import { ConfigError } from "../errors.ts";
import { eachTarget } from "./commands.ts";
import type { IpcConnection } from "./instances.ts";
import { decodeStats, encodeInt, IPC_BALLOON, IPC_PID, IPC_STAT, STAT_REPLY_BYTES, type MemoryStat } from "./protocol.ts";

/** The int kvmtool sends holds 256 pages per MB. */
export const MAX_BALLOON_MB = Math.floor(0x7fff_ffff / 256);
/** How long `lkvm stat` waits for the guest to refill its statistics (a paused guest never does). */
export const STAT_TIMEOUT_MS = 30_000;

/** kvmtool's labels (builtin-stat.c), by VIRTIO_BALLOON_S_* tag. */
const STAT_LABELS: Record<number, string> = {
  0: "The amount of memory that has been swapped in (in bytes):",
  1: "The amount of memory that has been swapped out to disk (in bytes):",
  2: "The number of major page faults that have occurred:",
  3: "The number of minor page faults that have occurred:",
  4: "The amount of memory not being used for any purpose (in bytes):",
  5: "The total amount of memory (in bytes):",
  6: "The estimated available memory (in bytes):",
  7: "The amount of memory in use for file caching (in bytes):",
  8: "The number of successful HugeTLB allocations:",
  9: "The number of failed HugeTLB allocations:",
};

/** The block `lkvm stat -m` prints for one guest, byte for byte as kvmtool's do_memstat. */
export function formatMemoryStats(stats: readonly MemoryStat[]): string {
  let text = "\n\n\t*** Guest memory statistics ***\n\n";
  for (const s of stats) text += `${STAT_LABELS[s.tag] ?? `Unknown memory statistic (ID ${s.tag}): `}${s.value}\n`;
  return `${text}\n`;
}

function parseMb(value: unknown, option: string): number {
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_BALLOON_MB) {
    throw new ConfigError(`invalid ${option} '${String(value)}': expected a whole number of MB from 1 to ${MAX_BALLOON_MB}`);
  }
  return n;
}

export interface BalloonArgs {
  name?: string;
  inflate?: unknown;
  deflate?: unknown;
}

export async function balloonCommand(args: BalloonArgs): Promise<void> {
  if (args.inflate !== undefined && args.deflate !== undefined) throw new ConfigError("give one of -i/--inflate and -d/--deflate, not both");
  if (args.inflate === undefined && args.deflate === undefined) throw new ConfigError("nothing to do: give -i/--inflate MB or -d/--deflate MB");
  const mb = args.inflate !== undefined ? parseMb(args.inflate, "--inflate") : -parseMb(args.deflate, "--deflate");
  if (args.name === undefined) throw new ConfigError("name a guest with -n NAME");
  await eachTarget({ name: args.name }, async (conn) => {
    conn.send(IPC_BALLOON, encodeInt(mb));
    conn.send(IPC_PID);
    if ((await conn.read(4)) === undefined) throw new ConfigError(`guest '${conn.name}' has no virtio-balloon (run it with --balloon)`);
  });
}

export interface StatArgs {
  memory?: boolean;
  all?: boolean;
  name?: string;
}

/** One guest's statistics, or why there are none. */
async function memoryStats(conn: IpcConnection): Promise<MemoryStat[] | string> {
  conn.send(IPC_STAT);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), STAT_TIMEOUT_MS)));
  const reply = await Promise.race([conn.read(STAT_REPLY_BYTES), timeout]);
  clearTimeout(timer);
  if (reply === "timeout") return `guest '${conn.name}' sent no memory statistics within ${STAT_TIMEOUT_MS / 1000} s (is it paused?)`;
  if (reply === undefined) {
    return `guest '${conn.name}' sent no memory statistics: it has no virtio-balloon (--balloon), or its driver has not set up the statistics queue`;
  }
  return decodeStats(reply);
}

export async function statCommand(args: StatArgs): Promise<void> {
  if (!args.memory) throw new ConfigError("nothing to show: give -m/--memory");
  await eachTarget(args, async (conn) => {
    const stats = await memoryStats(conn);
    if (typeof stats !== "string") process.stdout.write(formatMemoryStats(stats));
    // With -a, a guest without statistics is reported and the others still shown.
    else if (args.all) process.stderr.write(`lkvm: ${stats}\n`);
    else throw new ConfigError(stats);
  });
}
