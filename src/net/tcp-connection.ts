// One TCP connection between the guest and a host socket: lkvm terminates the guest's TCP
// here and relays the bytes through a node:net socket (connect() for the guest's SYN, or a
// hostfwd listener's accepted socket, which lkvm opens towards the guest).
//
// - Guest → host: in-order data is written to the socket and acknowledged; the window lkvm
//   advertises is what the socket can still buffer, so a slow host reader slows the guest. A
//   segment past rcvNxt is dropped with a duplicate ACK (the guest retransmits).
// - Host → guest: socket data waits in sendQueue until the guest acknowledges it; no more than
//   the guest's advertised window is in flight, the socket is paused while the queue is long,
//   and whatever is not acknowledged within the retransmission timeout is sent again
//   (go-back-N from sndUna, with exponential backoff). A zero window is probed.
// - FIN each way is a half-close (socket.end() / the socket's 'end'); RST and socket errors
//   end both sides. A connection whose FINs are both acknowledged is forgotten.

import type { Socket } from "node:net";
import { ByteQueue } from "./byte-queue.ts";
import { TCP_ACK, TCP_DEFAULT_MSS, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, seqAdd, seqDiff, type TcpSegment } from "./tcp-segment.ts";

/** What lkvm advertises: the largest unscaled window (lkvm sends no window-scale option). */
export const TCP_MAX_WINDOW = 0xffff;
/** Our MSS towards the guest: a 1500-byte MTU's worth. */
export const TCP_OUR_MSS = 1460;
/** Host bytes queued for the guest above which the socket is paused. */
export const TCP_SEND_QUEUE_HIGH_BYTES = 256 * 1024;
const INITIAL_RTO_MS = 250;
const MAX_RTO_MS = 4000;
/** Retransmissions without progress before the connection is abandoned. */
const MAX_RETRIES = 12;

export type TcpState = "connecting" | "syn-sent" | "syn-received" | "established" | "closed";

export interface TcpSegmentOut {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  mss?: number;
  windowScale?: number;
  /** A segment longer than the MSS: the guest's NIC is to treat it as GSO of this size. */
  gsoSize?: number;
}

/** What a connection needs from the stack that owns it. */
export interface TcpStack {
  /** Sends a segment to the guest (from the connection's remote end). */
  emit(conn: TcpConnection, seg: TcpSegmentOut, data?: Uint8Array): void;
  /** Whether the guest link can take more frames now (otherwise wait for retry()). */
  hasRoom(): boolean;
  /** The most data one segment to the guest may carry (more than the MSS: the NIC's GSO). */
  maxSegmentBytes(mss: number): number;
  /** The connection is over: forget it. */
  forget(conn: TcpConnection): void;
}

export interface TcpConnectionEnds {
  key: string;
  guestPort: number;
  /** The address and port the guest sees at the other end. */
  remoteIp: number;
  remotePort: number;
}

export class TcpConnection {
  readonly key: string;
  readonly guestPort: number;
  readonly remoteIp: number;
  readonly remotePort: number;
  state: TcpState;
  // Our sending side.
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  private sndWnd = 0;
  private mss = TCP_DEFAULT_MSS;
  /** The guest's window shift (RFC 7323), when both SYNs carried the option; ours is 0. */
  private guestWindowShift = 0;
  /** Whether our SYN offers window scaling: always ours, and in reply only to an offer. */
  private offerWindowScale = true;
  private readonly sendQueue = new ByteQueue();
  private hostEnded = false;
  private finSent = false;
  private finAcked = false;
  // Our receiving side.
  private rcvNxt = 0;
  private guestFin = false;
  private needAck = false;
  private advertised = TCP_MAX_WINDOW;
  // Timers.
  private rtoMs = INITIAL_RTO_MS;
  private retries = 0;
  private timer?: NodeJS.Timeout;
  private paused = false;

  constructor(
    ends: TcpConnectionEnds,
    private readonly stack: TcpStack,
    private readonly socket: Socket,
    state: "connecting" | "syn-sent",
  ) {
    this.key = ends.key;
    this.guestPort = ends.guestPort;
    this.remoteIp = ends.remoteIp;
    this.remotePort = ends.remotePort;
    this.state = state;
    this.iss = (Math.random() * 2 ** 32) >>> 0;
    this.sndUna = this.sndNxt = this.iss;
    socket.on("data", (d: Buffer) => this.hostData(d));
    socket.on("end", () => this.hostEnd());
    socket.on("drain", () => this.windowUpdate());
    socket.on("error", () => this.hostFailed());
    // Both directions ended: wait for the guest to acknowledge our FIN.
    socket.on("close", () => {
      if (!(this.hostEnded && this.guestFin)) this.hostFailed();
    });
  }

  // ---- opening ----

  /** The guest's SYN that made this connection: remember its sequence, wait for connect(). */
  guestSyn(seg: TcpSegment): void {
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.sndWnd = seg.window; // never scaled in a SYN
    this.mss = Math.min(seg.mss ?? TCP_DEFAULT_MSS, TCP_OUR_MSS);
    this.offerWindowScale = seg.windowScale !== undefined;
    this.guestWindowShift = seg.windowScale ?? 0;
    this.socket.once("connect", () => {
      if (this.state !== "connecting") return;
      this.state = "syn-received";
      this.sendSyn();
    });
  }

  /** A hostfwd connection: offer it to the guest with our SYN. */
  openToGuest(): void {
    this.socket.pause();
    this.sendSyn();
  }

  private sendSyn(): void {
    const flags = this.state === "syn-received" ? TCP_SYN | TCP_ACK : TCP_SYN;
    this.sndNxt = seqAdd(this.iss, 1);
    const windowScale = this.offerWindowScale ? 0 : undefined;
    this.stack.emit(this, { seq: this.iss, ack: this.rcvNxt, flags, window: this.window(), mss: TCP_OUR_MSS, windowScale });
    this.armTimer();
  }

  // ---- segments from the guest ----

  guestSegment(seg: TcpSegment): void {
    if (this.state === "closed") return;
    if (seg.flags & TCP_RST) return this.close(false);
    if (this.state === "connecting") return; // a repeated SYN while connect() runs
    if (this.state === "syn-sent") return this.synSentSegment(seg);
    if (seg.flags & TCP_SYN) {
      // The guest did not see our SYN-ACK: send it again.
      if (this.state === "syn-received" && seqAdd(seg.seq, 1) === this.rcvNxt) this.sendSyn();
      return;
    }
    if (!(seg.flags & TCP_ACK)) return;
    if (this.state === "syn-received") {
      if (seg.ack !== seqAdd(this.iss, 1)) return this.reset(seg);
      this.state = "established";
      this.sndUna = seg.ack;
    }
    this.ackReceived(seg);
    this.dataReceived(seg);
    this.flush();
    if (this.finAcked && this.guestFin) this.close(true);
  }

  private synSentSegment(seg: TcpSegment): void {
    if (!(seg.flags & TCP_SYN) || !(seg.flags & TCP_ACK) || seg.ack !== seqAdd(this.iss, 1)) {
      if (seg.flags & TCP_ACK) this.reset(seg);
      return;
    }
    this.state = "established";
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.sndUna = seg.ack;
    this.sndWnd = seg.window;
    this.guestWindowShift = seg.windowScale ?? 0;
    this.mss = Math.min(seg.mss ?? TCP_DEFAULT_MSS, TCP_OUR_MSS);
    this.clearTimer();
    this.needAck = true;
    this.socket.resume();
    this.flush();
  }

  private ackReceived(seg: TcpSegment): void {
    const acked = seqDiff(seg.ack, this.sndUna);
    if (acked < 0 || seqDiff(seg.ack, this.sndNxt) > 0) return; // old, or acks what we never sent
    if (acked > 0) {
      this.sendQueue.consume(acked);
      if (this.finSent && seg.ack === this.sndNxt) this.finAcked = true;
      this.sndUna = seg.ack;
      this.rtoMs = INITIAL_RTO_MS;
      this.retries = 0;
      this.clearTimer();
      if (this.paused && this.sendQueue.lengthBytes < TCP_SEND_QUEUE_HIGH_BYTES / 2) {
        this.paused = false;
        this.socket.resume();
      }
    }
    this.sndWnd = seg.window * 2 ** this.guestWindowShift;
  }

  private dataReceived(seg: TcpSegment): void {
    let data = seg.data;
    let fin = (seg.flags & TCP_FIN) !== 0;
    if (data.length === 0 && !fin) return;
    if (this.guestFin) {
      this.needAck = true; // a retransmission after its FIN: acknowledge again
      return;
    }
    const early = seqDiff(this.rcvNxt, seg.seq);
    if (early < 0) {
      this.needAck = true; // a gap: a duplicate ACK asks for what is missing
      return;
    }
    if (early > 0) {
      if (early >= data.length + (fin ? 1 : 0)) {
        this.needAck = true;
        return;
      }
      data = data.subarray(early);
    }
    const room = this.window();
    if (data.length > room) {
      data = data.subarray(0, room);
      fin = false;
    }
    if (data.length > 0) {
      // A copy: the frame lives in a buffer the device reuses.
      this.socket.write(Buffer.from(data));
      this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    }
    if (fin) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.guestFin = true;
      this.socket.end();
    }
    this.needAck = true;
  }

  // ---- data from the host ----

  private hostData(d: Buffer): void {
    this.sendQueue.append(d);
    if (this.sendQueue.lengthBytes >= TCP_SEND_QUEUE_HIGH_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.flush();
  }

  private hostEnd(): void {
    this.hostEnded = true;
    this.flush();
  }

  /** The socket failed or closed: tell the guest with RST unless both sides had finished. */
  private hostFailed(): void {
    if (this.state === "closed") return;
    if (this.finAcked && this.guestFin) return this.close(true);
    // A refused connect() answers the guest's SYN (seq 0 is what an RST to a SYN carries).
    const seq = this.state === "connecting" ? 0 : this.sndNxt;
    this.stack.emit(this, { seq, ack: this.rcvNxt, flags: TCP_RST | TCP_ACK, window: 0 });
    this.close(false);
  }

  // ---- sending ----

  /** Our receive window: what the host socket can still take. */
  private window(): number {
    return Math.max(0, Math.min(TCP_MAX_WINDOW, TCP_SEND_QUEUE_HIGH_BYTES - this.socket.writableLength));
  }

  /** The socket drained: if the guest saw a small window, tell it the window is open again. */
  private windowUpdate(): void {
    if (this.state !== "established" || this.advertised >= TCP_MAX_WINDOW / 2) return;
    this.needAck = true;
    this.flush();
  }

  /** Sends what the window and the guest link allow, then any ACK still owed. */
  flush(probe = false): void {
    if (this.state !== "established") return;
    while (this.stack.hasRoom()) {
      const inFlight = seqDiff(this.sndNxt, this.sndUna) - (this.finSent ? 1 : 0);
      const unsent = this.sendQueue.lengthBytes - inFlight;
      if (unsent > 0) {
        let n = Math.min(unsent, this.stack.maxSegmentBytes(this.mss), this.sndWnd - inFlight);
        if (n <= 0) {
          if (!probe) break;
          n = 1; // zero-window probe
        }
        probe = false;
        const data = this.sendQueue.peek(inFlight, n);
        this.send(TCP_ACK | (n === unsent ? TCP_PSH : 0), this.sndNxt, data);
        this.sndNxt = seqAdd(this.sndNxt, n);
      } else if (this.hostEnded && !this.finSent) {
        this.send(TCP_FIN | TCP_ACK, this.sndNxt);
        this.sndNxt = seqAdd(this.sndNxt, 1);
        this.finSent = true;
      } else break;
    }
    if (this.needAck && this.stack.hasRoom()) this.send(TCP_ACK, this.sndNxt);
    if (seqDiff(this.sndNxt, this.sndUna) > 0 || this.sendQueue.lengthBytes > 0) this.armTimer();
  }

  private send(flags: number, seq: number, data?: Uint8Array): void {
    this.needAck = false;
    this.advertised = this.window();
    const gsoSize = data !== undefined && data.length > this.mss ? this.mss : undefined;
    this.stack.emit(this, { seq, ack: this.rcvNxt, flags, window: this.advertised, gsoSize }, data);
  }

  private armTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.timeout(), this.rtoMs);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Nothing acknowledged in time: send again from the first unacknowledged byte. */
  private timeout(): void {
    this.timer = undefined;
    if (this.state === "closed") return;
    if (++this.retries > MAX_RETRIES) return this.hostFailedAfterRetries();
    this.rtoMs = Math.min(MAX_RTO_MS, this.rtoMs * 2);
    if (this.state === "syn-sent" || this.state === "syn-received") return this.sendSyn();
    const outstanding = seqDiff(this.sndNxt, this.sndUna) > 0;
    this.sndNxt = this.sndUna;
    if (this.finSent && !this.finAcked) this.finSent = false;
    this.flush(!outstanding);
  }

  private hostFailedAfterRetries(): void {
    this.stack.emit(this, { seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_RST | TCP_ACK, window: 0 });
    this.close(false);
  }

  // ---- ending ----

  /** The guest sent something this connection cannot take: RST it (RFC 9293 §3.10.7). */
  private reset(seg: TcpSegment): void {
    this.stack.emit(this, { seq: seg.ack, ack: 0, flags: TCP_RST, window: 0 });
  }

  close(graceful: boolean): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.clearTimer();
    this.sendQueue.clear();
    if (graceful) this.socket.end();
    else if (this.socket.readyState === "open" || this.socket.readyState === "readOnly" || this.socket.readyState === "writeOnly") this.socket.resetAndDestroy();
    else this.socket.destroy();
    this.stack.forget(this);
  }
}
