// `lkvm list`, `stop`, `pause`, `resume` and `debug`: the client end of the control socket,
// with kvmtool's options and output (builtin-list.c, builtin-stop.c, builtin-pause.c,
// builtin-resume.c, builtin-debug.c).

import { ConfigError } from "../errors.ts";
import { connectInstance, forEachInstance, type IpcConnection } from "./instances.ts";
import {
  DEBUG_DUMP,
  DEBUG_NMI,
  DEBUG_SYSRQ,
  decodeInt,
  encodeDebugParams,
  IPC_DEBUG,
  IPC_PAUSE,
  IPC_PID,
  IPC_RESUME,
  IPC_STOP,
  IPC_VMSTATE,
  VMSTATE_PAUSED,
} from "./protocol.ts";

export interface InstanceArgs {
  all?: boolean;
  name?: string;
}

const out = (text: string) => process.stdout.write(text);

/** Runs fn on the VM named by -n, or on every VM with -a. */
export async function eachTarget(args: InstanceArgs, fn: (conn: IpcConnection) => Promise<void>): Promise<void> {
  if (args.all) return forEachInstance(fn);
  if (args.name === undefined) throw new ConfigError("name a guest with -n NAME, or use -a for all of them");
  let ghost = false;
  const conn = await connectInstance(args.name, () => (ghost = true));
  if (!conn) throw new ConfigError(`no running guest named '${args.name}'${ghost ? " (its stale socket was removed)" : ""}`);
  try {
    await fn(conn);
  } finally {
    await conn.close();
  }
}

async function askInt(conn: IpcConnection, type: number): Promise<number | undefined> {
  conn.send(type);
  const reply = await conn.read(4);
  return reply && decodeInt(reply);
}

export async function listCommand(args: { run?: boolean; rootfs?: boolean }): Promise<void> {
  const both = !args.run && !args.rootfs;
  out(`${"PID".padStart(6)} ${"NAME".padEnd(20)} STATE\n`);
  out(`${"-".repeat(36)}\n`);
  if (args.run || both) {
    await forEachInstance(async (conn) => {
      const pid = await askInt(conn, IPC_PID);
      const state = await askInt(conn, IPC_VMSTATE);
      if (pid === undefined || state === undefined) return;
      out(`${String(pid).padStart(5)} ${conn.name.padEnd(20)} ${state === VMSTATE_PAUSED ? "paused" : "running"}\n`);
    });
  }
  // --rootfs: kvmtool lists the rootfs directories `lkvm setup` makes in ~/.lkvm as "shut
  // off"; lkvm has no `setup` and no rootfs guests, so there is nothing to list.
}

export async function stopCommand(args: InstanceArgs): Promise<void> {
  await eachTarget(args, async (conn) => conn.send(IPC_STOP));
}

export async function pauseCommand(args: InstanceArgs): Promise<void> {
  await eachTarget(args, async (conn) => {
    const state = await askInt(conn, IPC_VMSTATE);
    if (state === undefined) return;
    if (state === VMSTATE_PAUSED) {
      out(`Guest ${conn.name} is already paused.\n`);
      return;
    }
    conn.send(IPC_PAUSE);
    out(`Guest ${conn.name} paused\n`);
  });
}

export async function resumeCommand(args: InstanceArgs): Promise<void> {
  await eachTarget(args, async (conn) => {
    const state = await askInt(conn, IPC_VMSTATE);
    if (state === undefined) return;
    if (state !== VMSTATE_PAUSED) {
      out(`Guest ${conn.name} is still running.\n`);
      return;
    }
    conn.send(IPC_RESUME);
    out(`Guest ${conn.name} resumed\n`);
  });
}

export interface DebugArgs extends InstanceArgs {
  dump?: boolean;
  /** A vCPU number, as typed. */
  nmi?: string;
  sysrq?: string;
}

export async function debugCommand(args: DebugArgs): Promise<void> {
  let dbgType = 0;
  if (args.dump) dbgType |= DEBUG_DUMP;
  let nmiCpu = 0;
  if (args.nmi !== undefined) {
    const nmi = String(args.nmi);
    if (!/^\d+$/.test(nmi.trim())) throw new ConfigError(`invalid vCPU number '${nmi}' for --nmi`);
    nmiCpu = Number(nmi);
    dbgType |= DEBUG_NMI;
  }
  if (args.sysrq !== undefined) {
    if (args.sysrq.length === 0) throw new ConfigError("--sysrq needs a character");
    dbgType |= DEBUG_SYSRQ;
  }
  if (dbgType === 0) throw new ConfigError("nothing to do: give -d/--dump, -m/--nmi CPU or -s/--sysrq C");
  const params = encodeDebugParams({ dbgType, cpu: nmiCpu, sysrq: args.sysrq?.charCodeAt(0) ?? 0 });
  await eachTarget(args, async (conn) => {
    conn.send(IPC_DEBUG, params);
    if (dbgType & DEBUG_DUMP) out((await conn.readToEnd()).toString("latin1"));
  });
}
