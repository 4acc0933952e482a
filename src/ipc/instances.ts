// Where VMs' control sockets live, and the client side of the socket: kvmtool's
// `$HOME/.lkvm/<name>.sock`, ghost-socket cleanup, and instance enumeration (kvm-ipc.c).

import { lstatSync, mkdirSync, readdirSync, statSync, unlinkSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import { encodeMessage } from "./protocol.ts";

export const SOCKET_SUFFIX = ".sock";
/** sizeof(sockaddr_un.sun_path) on Linux, including the terminating NUL. */
const SUN_PATH_BYTES = 108;

/**
 * `$HOME/.lkvm`, created as kvmtool's main.c does for every command, but owner-only: whoever
 * can reach a control socket can stop the VM or inject sysrqs into it, and whoever can write
 * the directory can plant a socket of their own. A directory that others may write, or that
 * belongs to someone else, is refused.
 */
export function lkvmDir(): string {
  const dir = join(process.env.HOME ?? os.homedir(), ".lkvm");
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EEXIST") throw new ConfigError(`cannot create the lkvm state directory '${dir}': ${code}`);
  }
  const st = statSync(dir);
  if (!st.isDirectory()) throw new ConfigError(`the lkvm state directory '${dir}' is not a directory`);
  if (process.getuid && st.uid !== process.getuid()) throw new ConfigError(`the lkvm state directory '${dir}' belongs to another user (uid ${st.uid})`);
  if (st.mode & 0o022) {
    throw new ConfigError(`the lkvm state directory '${dir}' is writable by others (mode ${(st.mode & 0o777).toString(8)}): run 'chmod go-w ${dir}'`);
  }
  return dir;
}

export function socketPath(name: string): string {
  const path = join(lkvmDir(), name + SOCKET_SUFFIX);
  if (Buffer.byteLength(path) >= SUN_PATH_BYTES) {
    throw new ConfigError(`socket path '${path}' is longer than a Unix socket address allows (${SUN_PATH_BYTES - 1} bytes)`);
  }
  return path;
}

export function isSocketFile(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/** Connects to a Unix socket: the socket, or the error code (ECONNREFUSED: nobody listens). */
export function connectSocket(path: string): Promise<net.Socket | string> {
  return new Promise((resolve) => {
    const sock = net.connect(path);
    const onError = (e: NodeJS.ErrnoException) => resolve(e.code ?? "EIO");
    sock.once("error", onError);
    sock.once("connect", () => {
      sock.off("error", onError);
      resolve(sock);
    });
  });
}

/**
 * A connection to one VM. Replies are raw bytes with no framing, so reads ask for an exact
 * count (PID, VMSTATE) or for everything until the VM closes the connection (a DEBUG dump).
 */
export class IpcConnection {
  private buffered = Buffer.alloc(0);
  private ended = false;
  private readonly closed: Promise<void>;
  private notify?: () => void;

  constructor(
    readonly name: string,
    private readonly sock: net.Socket,
  ) {
    sock.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.notify?.();
    });
    this.closed = new Promise((resolve) => {
      sock.on("close", () => {
        this.ended = true;
        this.notify?.();
        resolve();
      });
    });
    sock.on("end", () => {
      this.ended = true;
      this.notify?.();
    });
    // A reset or EPIPE ends the conversation like an EOF does; callers see a short read.
    sock.on("error", () => undefined);
  }

  send(type: number, payload?: Uint8Array): void {
    this.sock.write(encodeMessage(type, payload));
  }

  /** Exactly n reply bytes; undefined if the VM closed the connection first. */
  async read(n: number): Promise<Buffer | undefined> {
    await this.until(() => this.buffered.length >= n || this.ended);
    if (this.buffered.length < n) return undefined;
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  /** Everything the VM writes until it closes the connection. */
  async readToEnd(): Promise<Buffer> {
    await this.until(() => this.ended);
    const out = this.buffered;
    this.buffered = Buffer.alloc(0);
    return out;
  }

  /**
   * Ends our side and waits until the VM has closed its side. The VM reads a connection in
   * order, so once this resolves every message sent has been handled: a `lkvm pause`
   * followed by `lkvm list` sees the VM paused.
   */
  async close(): Promise<void> {
    this.sock.end();
    await this.closed;
  }

  private until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        this.notify = undefined;
        resolve();
      };
      this.notify = check;
      check();
    });
  }
}

/**
 * Connects to the VM called name (kvmtool's kvm__get_sock_by_instance). A socket file nobody
 * listens on (the VM was killed) is a ghost: it is removed, and the VM counts as absent.
 */
export async function connectInstance(name: string, log: (line: string) => void = () => undefined): Promise<IpcConnection | undefined> {
  if (name === "" || name.includes("/")) return undefined;
  const path = socketPath(name);
  if (!isSocketFile(path)) return undefined;
  const r = await connectSocket(path);
  if (typeof r !== "string") return new IpcConnection(name, r);
  if (r === "ECONNREFUSED") {
    try {
      unlinkSync(path);
      log(`ipc: removed ghost socket file '${path}'`);
    } catch {
      // Someone else removed it first.
    }
  }
  return undefined;
}

/**
 * Calls fn with a connection to each live VM that has a socket in ~/.lkvm, in directory order
 * (kvmtool's kvm__enumerate_instances); ghosts are removed on the way. Closes each connection.
 */
export async function forEachInstance(fn: (conn: IpcConnection) => Promise<void>, log?: (line: string) => void): Promise<void> {
  const dir = lkvmDir();
  for (const entry of readdirSync(dir)) {
    if (!entry.endsWith(SOCKET_SUFFIX) || entry.length === SOCKET_SUFFIX.length) continue;
    if (!isSocketFile(join(dir, entry))) continue;
    const conn = await connectInstance(entry.slice(0, -SOCKET_SUFFIX.length), log);
    if (!conn) continue;
    try {
      await fn(conn);
    } finally {
      await conn.close();
    }
  }
}
