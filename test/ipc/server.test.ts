// The VM's end of the control socket, in process: a real Vm running the idle guest, a real
// socket, and raw bytes on the wire, as kvmtool's clients (or a hostile local user) send them.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../src/cli/config.ts";
import { ConfigError } from "../../src/errors.ts";
import { socketPath } from "../../src/ipc/instances.ts";
import {
  DEBUG_DUMP,
  DEBUG_NMI,
  DEBUG_SYSRQ,
  encodeDebugParams,
  encodeInt,
  encodeMessage,
  IPC_BALLOON,
  IPC_DEBUG,
  IPC_PAUSE,
  IPC_PID,
  IPC_RESUME,
  IPC_STAT,
  IPC_STOP,
  IPC_VMSTATE,
  MAX_PAYLOAD_BYTES,
} from "../../src/ipc/protocol.ts";
import { IpcServer } from "../../src/ipc/server.ts";
import { Vm, type VmExit } from "../../src/kvm/vm.ts";
import { UART_BASE } from "../../arm/machine/memory-map.ts";
import { UART_LSR_BI, UART_LSR_DR } from "../../hw/serial8250.ts";
import { guestPath } from "../support/run-guest.ts";

/** A raw client: everything the VM writes back, and whether it closed the connection. */
class RawClient {
  received = Buffer.alloc(0);
  closed = false;
  private constructor(private readonly sock: net.Socket) {
    sock.on("data", (b: Buffer) => (this.received = Buffer.concat([this.received, b])));
    sock.on("close", () => (this.closed = true));
    sock.on("error", () => undefined);
  }
  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(path, () => resolve(new RawClient(sock)));
      sock.once("error", reject);
    });
  }
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.sock.write(bytes, () => resolve()));
  }
  async until(done: () => boolean, what: string, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!done()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received ${this.received.length} bytes`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  int(at: number): number {
    return this.received.readInt32LE(at);
  }
  close(): void {
    this.sock.destroy();
  }
}

const settle = () => new Promise((r) => setTimeout(r, 100));

describe("the control socket server", () => {
  const home = mkdtempSync(join(tmpdir(), "lkvm-ipc-server-"));
  const savedHome = process.env.HOME;
  const name = "server-test";
  const logs: string[] = [];
  let vm: Vm;
  let server: IpcServer;
  let running: Promise<VmExit>;

  beforeAll(async () => {
    process.env.HOME = home;
    vm = new Vm(validateConfig({ kernel: guestPath("idle"), nodefaults: true, mem: "64", cpus: 2, name, loglevel: "error" }));
    server = await IpcServer.start(vm, name, (l) => logs.push(l));
    running = vm.run();
  });

  afterAll(() => {
    vm.stop();
    server.close();
    process.env.HOME = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  it("listens on $HOME/.lkvm/<name>.sock", () => {
    expect(server.path).toBe(join(home, ".lkvm", `${name}.sock`));
    expect(existsSync(server.path)).toBe(true);
  });

  it("answers PID and VMSTATE sent in one write, split into single bytes (short reads)", async () => {
    const c = await RawClient.connect(server.path);
    const wire = Buffer.concat([encodeMessage(IPC_PID), encodeMessage(IPC_VMSTATE)]);
    for (const b of wire) await c.write(Uint8Array.of(b));
    await c.until(() => c.received.length >= 8, "two replies");
    expect(c.int(0)).toBe(process.pid);
    expect(c.int(4)).toBe(0);
    expect(c.closed).toBe(false);
    c.close();
  });

  it("pauses and resumes the run loop; VMSTATE says which", async () => {
    const c = await RawClient.connect(server.path);
    await c.write(Buffer.concat([encodeMessage(IPC_PAUSE), encodeMessage(IPC_VMSTATE)]));
    await c.until(() => c.received.length >= 4, "VMSTATE");
    expect(c.int(0)).toBe(1);
    expect(vm.paused).toBe(true);
    await c.write(Buffer.concat([encodeMessage(IPC_RESUME), encodeMessage(IPC_VMSTATE)]));
    await c.until(() => c.received.length >= 8, "VMSTATE");
    expect(c.int(4)).toBe(0);
    expect(vm.paused).toBe(false);
    c.close();
  });

  it("ignores PAUSE with a payload, as kvmtool's WARN_ON(len) does", async () => {
    const c = await RawClient.connect(server.path);
    await c.write(Buffer.concat([encodeMessage(IPC_PAUSE, Uint8Array.of(1)), encodeMessage(IPC_VMSTATE)]));
    await c.until(() => c.received.length >= 4, "VMSTATE");
    expect(c.int(0)).toBe(0);
    c.close();
  });

  it("dumps every vCPU's registers, closes the connection, and leaves the running vCPU loaded", async () => {
    const c = await RawClient.connect(server.path);
    await c.write(encodeMessage(IPC_DEBUG, encodeDebugParams({ dbgType: DEBUG_DUMP, cpu: 0, sysrq: 0 })));
    await c.until(() => c.closed, "EOF after the dump");
    const text = c.received.toString("latin1");
    // vCPU 0 sits in the guest's WFI loop; vCPU 1 was never turned on.
    expect(text).toMatch(/# vCPU #0's dump:[\s\S]* PC: +0x8008001[c-f][\s\S]* PSTATE: +0x3c5\n SP_EL1: +0x0\n LR: +0x0\n/);
    expect(text).toMatch(/\*pc:\n 0x8008001c: ff ff ff 17  69 64 6c 65\n/); // b 2b; "idle"
    expect(text).toMatch(/\*lr:\n 0x00000000: <unknown>\n/);
    expect(text).toMatch(/# vCPU #1's dump:[\s\S]* PC: +0x0\n/);
    expect(vm.inspectVcpu(0, (core) => core.pc)).toBe(0x8008001cn);
  });

  it("injects a sysrq as a break (0 with LSR.BI) then the character, on ttyS0", async () => {
    // Pause so the guest does not race the test for the UART (it never reads it anyway).
    vm.pause();
    const read = (offset: number) => {
      const data = new Uint8Array(8);
      vm.bus.access(0, UART_BASE + offset, data, 1, false);
      return data[0]!;
    };
    // Listen as a driver with the port open does (IER.RDI), so input reaches the FIFO, and
    // drain what earlier tests left (the dump ends with kvmtool's sysrq 'p').
    vm.bus.access(0, UART_BASE + 1, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0), 1, true);
    for (let i = 0; i < 100 && read(5) & UART_LSR_DR; i++) read(0);
    expect(read(5) & UART_LSR_DR).toBe(0);
    const c = await RawClient.connect(server.path);
    await c.write(encodeMessage(IPC_DEBUG, encodeDebugParams({ dbgType: DEBUG_SYSRQ | DEBUG_NMI, cpu: 99, sysrq: "t".charCodeAt(0) })));
    await settle();
    expect(read(5) & (UART_LSR_DR | UART_LSR_BI)).toBe(UART_LSR_DR | UART_LSR_BI);
    expect(read(0)).toBe(0);
    expect(read(5) & (UART_LSR_DR | UART_LSR_BI)).toBe(UART_LSR_DR);
    expect(read(0)).toBe("t".charCodeAt(0));
    expect(c.closed).toBe(false); // no dump asked: the connection stays open
    c.close();
    vm.resume();
  });

  it("ignores a DEBUG whose payload is not sizeof(struct debug_cmd_params)", async () => {
    const c = await RawClient.connect(server.path);
    await c.write(Buffer.concat([encodeMessage(IPC_DEBUG, Uint8Array.of(1, 0, 0, 0)), encodeMessage(IPC_PID)]));
    await c.until(() => c.received.length >= 4, "PID");
    expect(c.received.length).toBe(4);
    expect(c.int(0)).toBe(process.pid);
    c.close();
  });

  it("has no balloon: BALLOON and STAT get no answer and the connection is closed", async () => {
    for (const type of [IPC_BALLOON, IPC_STAT]) {
      const c = await RawClient.connect(server.path);
      await c.write(Buffer.concat([encodeMessage(type, encodeMessage(0).subarray(0, 4)), encodeMessage(IPC_PID)]));
      await c.until(() => c.closed, "the VM closing the connection");
      expect(c.received.length).toBe(0);
    }
    expect(logs.some((l) => /BALLOON needs a virtio-balloon/.test(l))).toBe(true);
  });

  it("closes a connection that announces an oversized payload", async () => {
    const c = await RawClient.connect(server.path);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(IPC_DEBUG, 0);
    header.writeUInt32LE(MAX_PAYLOAD_BYTES + 1, 4);
    await c.write(header);
    await c.until(() => c.closed, "the VM closing the connection");
    expect(c.received.length).toBe(0);
  });

  it("answers the requests sent before an oversized payload in the same write, then closes", async () => {
    const c = await RawClient.connect(server.path);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(IPC_DEBUG, 0);
    header.writeUInt32LE(MAX_PAYLOAD_BYTES + 1, 4);
    await c.write(Buffer.concat([encodeMessage(IPC_PID), header]));
    await c.until(() => c.closed, "the VM closing the connection");
    expect(c.received.length).toBe(4);
    expect(c.int(0)).toBe(process.pid);
  });

  it("skips unknown message types and keeps the connection", async () => {
    const c = await RawClient.connect(server.path);
    await c.write(Buffer.concat([encodeMessage(9), encodeMessage(0), encodeMessage(IPC_VMSTATE)]));
    await c.until(() => c.received.length >= 4, "VMSTATE");
    expect(c.int(0)).toBe(0);
    c.close();
  });

  it("refuses a second server for a live name", async () => {
    await expect(IpcServer.start(vm, name, () => undefined)).rejects.toBeInstanceOf(ConfigError);
    expect(existsSync(server.path)).toBe(true);
  });

  it("STOP ends the VM the way poweroff does; close() removes the socket", async () => {
    const c = await RawClient.connect(server.path);
    await c.write(encodeMessage(IPC_STOP));
    const exit = await running;
    expect(exit.reason).toBe("stopped");
    server.close();
    expect(existsSync(socketPath(name))).toBe(false);
    await c.until(() => c.closed, "the connection closing with the VM");
  });
});

describe("the control socket server of a VM with --balloon", () => {
  const home = mkdtempSync(join(tmpdir(), "lkvm-ipc-balloon-"));
  const savedHome = process.env.HOME;
  const name = "server-balloon";
  const logs: string[] = [];
  let vm: Vm;
  let server: IpcServer;

  beforeAll(async () => {
    process.env.HOME = home;
    vm = new Vm(validateConfig({ kernel: guestPath("idle"), nodefaults: true, mem: "64", cpus: 1, name, loglevel: "error", balloon: true }));
    server = await IpcServer.start(vm, name, (l) => logs.push(l));
    void vm.run();
  });

  afterAll(() => {
    vm.stop();
    server.close();
    process.env.HOME = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  it("BALLOON moves the target by 256 pages a MB; a bad payload or a deflate below zero is logged and ignored", async () => {
    const c = await RawClient.connect(server.path);
    await c.write(Buffer.concat([encodeMessage(IPC_BALLOON, encodeInt(8)), encodeMessage(IPC_BALLOON, encodeInt(-16)), encodeMessage(IPC_BALLOON, Uint8Array.of(1, 2)), encodeMessage(IPC_PID)]));
    await c.until(() => c.received.length >= 4, "PID");
    expect(vm.balloon!.targetPages).toBe(8 * 256);
    expect(logs.some((l) => /cannot deflate by 16 MB: the target is 8 MB; ignored/.test(l))).toBe(true);
    expect(logs.some((l) => /BALLOON with a 2-byte payload ignored/.test(l))).toBe(true);
    c.close();
  });

  it("STAT before the guest's driver set up its statistics queue closes the connection", async () => {
    const c = await RawClient.connect(server.path);
    await c.write(encodeMessage(IPC_STAT));
    await c.until(() => c.closed, "the VM closing the connection");
    expect(c.received.length).toBe(0);
    expect(logs.some((l) => /balloon driver has not set up its statistics queue/.test(l))).toBe(true);
  });
});
