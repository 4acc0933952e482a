// UDP from the guest to the world through host sockets: one node:dgram socket per guest source
// port (so replies find their way back), closed after a minute without traffic. The gateway
// address stands for the host itself (127.0.0.1), both ways.

import { createSocket, type Socket } from "node:dgram";
import { formatIpv4, IPV4_LOOPBACK, parseIpv4 } from "./addresses.ts";

export const UDP_IDLE_MS = 60_000;
/** At most this many guest ports mapped at once; the oldest binding goes first. */
export const UDP_MAX_BINDINGS = 256;

interface Binding {
  socket: Socket;
  timer: NodeJS.Timeout;
}

export interface UdpNatOptions {
  gatewayIp: number;
  /** A datagram for the guest's `guestPort` from srcIp:srcPort (as the guest should see them). */
  toGuest: (srcIp: number, srcPort: number, guestPort: number, data: Uint8Array) => void;
  /** Makes the host socket for a binding (tests and fuzzers replace it). */
  createSocket?: () => Socket;
}

export class UdpNat {
  private readonly bindings = new Map<number, Binding>();

  constructor(private readonly opts: UdpNatOptions) {}

  /** The guest sent `data` from `guestPort` to dstIp:dstPort. */
  send(guestPort: number, dstIp: number, dstPort: number, data: Uint8Array): void {
    const b = this.binding(guestPort);
    const host = dstIp === this.opts.gatewayIp ? "127.0.0.1" : formatIpv4(dstIp);
    b.socket.send(Buffer.from(data), dstPort, host, () => {});
    b.timer.refresh();
  }

  private binding(guestPort: number): Binding {
    const have = this.bindings.get(guestPort);
    if (have) return have;
    if (this.bindings.size >= UDP_MAX_BINDINGS) this.unbind(this.bindings.keys().next().value!);
    const socket = this.opts.createSocket?.() ?? createSocket("udp4");
    socket.on("error", () => this.unbind(guestPort));
    socket.on("message", (msg, rinfo) => {
      const src = parseIpv4(rinfo.address);
      if (src === undefined) return;
      this.opts.toGuest(src === IPV4_LOOPBACK ? this.opts.gatewayIp : src, rinfo.port, guestPort, msg);
    });
    const timer = setTimeout(() => this.unbind(guestPort), UDP_IDLE_MS);
    timer.unref();
    socket.unref();
    const b = { socket, timer };
    this.bindings.set(guestPort, b);
    return b;
  }

  private unbind(guestPort: number): void {
    const b = this.bindings.get(guestPort);
    if (!b) return;
    this.bindings.delete(guestPort);
    clearTimeout(b.timer);
    try {
      b.socket.close();
    } catch {
      // already closed after an error
    }
  }

  close(): void {
    for (const port of [...this.bindings.keys()]) this.unbind(port);
  }
}
