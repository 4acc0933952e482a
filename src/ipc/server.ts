// The VM's end of kvmtool's control socket (kvm-ipc.c): `lkvm run` listens on
// ~/.lkvm/<name>.sock, and `lkvm list/stop/pause/resume/debug` (ours or kvmtool's) talk to it.
//
// Handlers run on Node's event loop, which the VM's run loop serves between slices, so a
// handler never runs while guest code does. Differences from kvmtool, on purpose:
// - BALLOON and STAT to a VM without --balloon, or STAT before the guest's balloon driver has
//   set up its stats queue: the connection is closed at once (kvmtool logs "No device handles
//   type" or nothing, and leaves a stat client waiting for ever).
// - A STAT waits for the guest's answer without holding up the rest of the VM (kvmtool's IPC
//   thread blocks on it); a deflate below zero is logged (kvmtool ignores it silently).
// - A payload longer than MAX_PAYLOAD_BYTES closes the connection (kvmtool mallocs it).
// - DEBUG with an out-of-range NMI vCPU still dumps (kvmtool returns early and leaves the
//   dump client waiting for an EOF that never comes). NMI itself does nothing, as on arm64
//   in kvmtool (kvm_cpu__arch_nmi is empty).
// - A `<name>.sock` that is not a socket is refused, not unlinked as a ghost.

import net from "node:net";
import { unlinkSync } from "node:fs";
import * as abi from "../../arm/abi.ts";
import type { Core } from "../../arm/host/core.ts";
import { ConfigError } from "../errors.ts";
import type { Vm } from "../kvm/vm.ts";
import { connectSocket, isSocketFile, socketPath } from "./instances.ts";
import {
  DEBUG_DUMP,
  DEBUG_SYSRQ,
  decodeDebugParams,
  encodeInt,
  encodeStats,
  IPC_BALLOON,
  IPC_DEBUG,
  IPC_PAUSE,
  IPC_PID,
  IPC_RESUME,
  IPC_STAT,
  IPC_STOP,
  IPC_TYPE_NAMES,
  IPC_VMSTATE,
  IpcProtocolError,
  MessageDecoder,
  type IpcMessage,
  VMSTATE_PAUSED,
  VMSTATE_RUNNING,
} from "./protocol.ts";

/** Bytes of guest memory shown at PC and at LR in a dump, 8 per line (kvmtool's kvm_cpu__show_code). */
const CODE_DUMP_BYTES = 32;
/** The sysrq kvmtool injects after a dump: 'p', show the registers from inside the guest. */
const DUMP_SYSRQ = "p".charCodeAt(0);

export class IpcServer {
  private readonly connections = new Set<net.Socket>();
  private closed = false;
  private readonly onExit = () => this.removeSocketFile();

  private constructor(
    private readonly vm: Vm,
    readonly path: string,
    private readonly server: net.Server,
    private readonly log: (line: string) => void,
  ) {
    server.on("connection", (sock) => this.serve(sock));
    // process.exit() (an error exit) does not close handles: take the socket file away then.
    process.on("exit", this.onExit);
  }

  /**
   * Listens on ~/.lkvm/<name>.sock. A name a live VM holds is refused with a ConfigError; a
   * ghost (a socket file nobody listens on) is removed first, as kvmtool's kvm__create_socket does.
   */
  static async start(vm: Vm, name: string, log: (line: string) => void): Promise<IpcServer> {
    const path = socketPath(name);
    let code = await listen(path);
    if (code === "EADDRINUSE") {
      if (!isSocketFile(path)) throw new ConfigError(`cannot create the guest socket: '${path}' exists and is not a socket`);
      const probe = await connectSocket(path);
      if (typeof probe !== "string") {
        probe.destroy();
        throw new ConfigError(`a guest named '${name}' is already running (socket '${path}')`);
      }
      if (probe !== "ECONNREFUSED") throw new ConfigError(`cannot check the guest socket '${path}': ${probe}`);
      unlinkSync(path);
      log(`ipc: removed ghost socket file '${path}'`);
      code = await listen(path);
    }
    if (typeof code === "string") throw new ConfigError(`cannot listen on the guest socket '${path}': ${code}`);
    return new IpcServer(vm, path, code, log);
  }

  /** Stops listening, drops every connection and removes the socket file. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.off("exit", this.onExit);
    for (const sock of this.connections) sock.destroy();
    this.server.close(); // libuv unlinks the socket file here, synchronously.
    this.removeSocketFile();
  }

  private removeSocketFile(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }

  private serve(sock: net.Socket): void {
    this.connections.add(sock);
    const decoder = new MessageDecoder();
    let refused = false;
    sock.on("data", (chunk: Buffer) => {
      if (refused) return; // closing: nothing after the bad header is read
      let messages: IpcMessage[];
      let error: IpcProtocolError | undefined;
      try {
        messages = decoder.push(chunk);
      } catch (e) {
        if (!(e instanceof IpcProtocolError)) throw e;
        // The requests before the bad header are served first; end() lets their replies out.
        error = e;
        messages = e.messages;
      }
      for (const m of messages) {
        if (sock.destroyed || sock.writableEnded) break;
        this.handle(sock, m);
      }
      if (error) {
        refused = true;
        this.log(`ipc: ${error.message}; closing the connection`);
        sock.end();
      }
    });
    sock.on("error", () => undefined);
    sock.on("close", () => this.connections.delete(sock));
  }

  private handle(sock: net.Socket, m: IpcMessage): void {
    const vm = this.vm;
    switch (m.type) {
      case IPC_PID:
        sock.write(encodeInt(process.pid));
        return;
      case IPC_VMSTATE:
        sock.write(encodeInt(vm.paused ? VMSTATE_PAUSED : VMSTATE_RUNNING));
        return;
      case IPC_STOP:
        if (this.expectEmpty(m)) vm.stop();
        return;
      case IPC_PAUSE:
        if (this.expectEmpty(m)) vm.pause();
        return;
      case IPC_RESUME:
        if (this.expectEmpty(m)) vm.resume();
        return;
      case IPC_DEBUG:
        this.debug(sock, m);
        return;
      case IPC_BALLOON:
        this.balloon(sock, m);
        return;
      case IPC_STAT:
        void this.stat(sock, m);
        return;
      default:
        this.log(`ipc: no device handles message type ${m.type}`);
    }
  }

  private expectEmpty(m: IpcMessage): boolean {
    if (m.payload.length === 0) return true;
    this.log(`ipc: ${IPC_TYPE_NAMES[m.type]} with a ${m.payload.length}-byte payload ignored`);
    return false;
  }

  /** kvmtool's handle_mem: an int of MB, positive to inflate, negative to deflate. */
  private balloon(sock: net.Socket, m: IpcMessage): void {
    const balloon = this.vm.balloon;
    if (!balloon) return this.noBalloon(sock, m);
    if (m.payload.length !== 4) {
      this.log(`ipc: BALLOON with a ${m.payload.length}-byte payload ignored`);
      return;
    }
    const mb = Buffer.from(m.payload).readInt32LE(0);
    if (mb === 0) return;
    const line = balloon.changeTarget(mb);
    if (line.includes("ignored") || this.vm.cfg.loglevel === "debug") this.log(line);
  }

  /** kvmtool's virtio_bln__print_stats: fresh statistics from the guest, as 10 packed entries. */
  private async stat(sock: net.Socket, m: IpcMessage): Promise<void> {
    const balloon = this.vm.balloon;
    if (!balloon) return this.noBalloon(sock, m);
    if (!this.expectEmpty(m)) return;
    const stats = await balloon.requestStats();
    if (sock.destroyed || sock.writableEnded) return;
    if (stats === undefined) {
      this.log("ipc: STAT: the guest's balloon driver has not set up its statistics queue");
      sock.end();
      return;
    }
    sock.write(encodeStats(stats));
  }

  private noBalloon(sock: net.Socket, m: IpcMessage): void {
    this.log(`ipc: ${IPC_TYPE_NAMES[m.type]} needs a virtio-balloon: run the guest with --balloon`);
    sock.end();
  }

  private debug(sock: net.Socket, m: IpcMessage): void {
    const params = decodeDebugParams(m.payload);
    if (!params) {
      this.log(`ipc: DEBUG with a ${m.payload.length}-byte payload ignored`);
      return;
    }
    if (params.dbgType & DEBUG_SYSRQ) this.injectSysrq(params.sysrq);
    // DEBUG_NMI: nothing to do on arm64.
    if (!(params.dbgType & DEBUG_DUMP)) return;
    let text = "";
    for (let id = 0; id < this.vm.cfg.cpus; id++) {
      text += this.vm.inspectVcpu(id, (core) => dumpVcpu(core, id, this.vm.cfg.ramBase, this.vm.cfg.ramSizeBytes));
    }
    sock.end(text);
    this.injectSysrq(DUMP_SYSRQ);
  }

  /** A break on ttyS0 followed by the character: Linux's serial sysrq. */
  private injectSysrq(c: number): void {
    const uart = this.vm.uarts[0]!;
    uart.pushBreak();
    uart.pushInput(Uint8Array.of(c));
  }
}

/** Resolves with the listening server, or the error code. */
function listen(path: string): Promise<net.Server | string> {
  return new Promise((resolve) => {
    const server = net.createServer();
    const onError = (e: NodeJS.ErrnoException) => resolve(e.code ?? "EIO");
    server.once("error", onError);
    // The socket file is born owner-only (bind happens inside listen()): no window in which
    // the umask's wider mode applies.
    const umask = process.umask(0o177);
    try {
      server.listen({ path, backlog: 5 }, () => {
        server.off("error", onError);
        resolve(server);
      });
    } finally {
      process.umask(umask);
    }
  });
}

/** PSTATE as KVM reports it (the SPSR layout): NZCV, PAN, SS, IL, DAIF, M = EL and SPSel. */
function pstate(core: Core): number {
  return (
    ((core.stateU32(abi.NZCV) & 0xf000_0000) |
      ((core.stateU32(abi.PSTATE_PAN) & 1) << 22) |
      ((core.stateU32(abi.PSTATE_SS) & 1) << 21) |
      ((core.stateU32(abi.PSTATE_IL) & 1) << 20) |
      (core.stateU32(abi.PSTATE_DAIF) & 0x3c0) |
      ((core.stateU32(abi.PSTATE_EL) & 3) << 2) |
      (core.stateU32(abi.PSTATE_SPSEL) & 1)) >>>
    0
  );
}

/** SP_EL1: the live SP in EL1h, the banked copy otherwise. */
function spEl1(core: Core): bigint {
  const current = core.stateU32(abi.PSTATE_EL) === 1 && core.stateU32(abi.PSTATE_SPSEL) === 1;
  return current ? core.sp : core.stateU64(abi.SP_EL1);
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/**
 * Guest memory at an address taken as physical, 8 bytes a line, as kvmtool's kvm__dump_mem
 * does (it too reads a virtual PC as a flat guest address; lines outside RAM say <unknown>).
 */
function dumpMemory(core: Core, gpa: bigint, ramBase: number, ramSizeBytes: number): string {
  let out = "";
  for (let n = 0n; n < BigInt(CODE_DUMP_BYTES); n += 8n) {
    const at = gpa + n;
    const label = ` 0x${at.toString(16).padStart(8, "0")}:`;
    if (at < BigInt(ramBase) || at + 8n > BigInt(ramBase + ramSizeBytes)) {
      out += `${label} <unknown>\n`;
      continue;
    }
    const b = [...core.readPhys(Number(at), 8)].map((x) => x.toString(16).padStart(2, "0"));
    out += `${label} ${b.slice(0, 4).join(" ")}  ${b.slice(4).join(" ")}\n`;
  }
  return out;
}

/** One vCPU's `lkvm debug --dump` text, laid out as kvmtool prints it on arm64. */
export function dumpVcpu(core: Core, id: number, ramBase: number, ramSizeBytes: number): string {
  const pc = core.pc;
  const lr = core.x(30);
  return (
    `\n #\n # vCPU #${id}'s dump:\n #\n` +
    `\n Registers:\n` +
    ` PC:    ${hex(pc)}\n` +
    ` PSTATE:    ${hex(pstate(core))}\n` +
    ` SP_EL1:    ${hex(spEl1(core))}\n` +
    ` LR:    ${hex(lr)}\n` +
    `\n*pc:\n${dumpMemory(core, pc, ramBase, ramSizeBytes)}` +
    `\n*lr:\n${dumpMemory(core, lr, ramBase, ramSizeBytes)}`
  );
}
