// Port forwarding from the host to the guest (QEMU's hostfwd): a host listener whose
// connections become TCP connections lkvm opens to the guest's port, or a host UDP socket whose
// datagrams go to the guest's port, each client through its own port on the gateway address
// so that the guest's replies find it.

import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";

export interface HostForward {
  protocol: "tcp" | "udp";
  /** Host address to listen on ("127.0.0.1" unless given). */
  hostAddress: string;
  hostPort: number;
  guestPort: number;
}

export interface HostForwardSink {
  /** A host client connected: open a connection to the guest's port for it. */
  tcpAccepted(socket: Socket, guestPort: number): void;
  /** A host client sent a datagram; `reply` sends the guest's answers back to it. */
  udpReceived(clientKey: string, guestPort: number, data: Uint8Array, reply: (data: Uint8Array) => void): void;
  log(line: string): void;
}

export const describeHostForward = (f: HostForward): string => `hostfwd=${f.protocol}:${f.hostAddress}:${f.hostPort}-:${f.guestPort}`;

/** Starts listening for every forward; returns what close() must release. */
export function startHostForwards(forwards: readonly HostForward[], sink: HostForwardSink): (Server | UdpSocket)[] {
  return forwards.map((f) => {
    const failed = (e: Error) => sink.log(`lkvm: ${describeHostForward(f)}: cannot listen on the host: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
    if (f.protocol === "tcp") {
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => sink.tcpAccepted(socket, f.guestPort));
      server.on("error", failed);
      server.listen(f.hostPort, f.hostAddress);
      server.unref();
      return server;
    }
    const socket = createSocket("udp4");
    socket.on("error", failed);
    socket.on("message", (msg, rinfo) =>
      sink.udpReceived(`${rinfo.address}:${rinfo.port}`, f.guestPort, msg, (data) => socket.send(Buffer.from(data), rinfo.port, rinfo.address, () => {})),
    );
    socket.bind(f.hostPort, f.hostAddress);
    socket.unref();
    return socket;
  });
}
