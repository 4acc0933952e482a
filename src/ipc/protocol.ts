// kvmtool's control-socket wire format (kvm-ipc.c), byte for byte, so kvmtool's own `lkvm
// list`/`stop`/`pause`/… can talk to an lkvm VM and the other way round.
//
// A message is a header {u32 type; u32 len} followed by len payload bytes, little-endian (the
// host's order on every machine kvmtool runs on). A connection may carry several messages.
// Replies are raw writes with no header: a pid_t for PID, an int for VMSTATE, text for DEBUG,
// an array of struct virtio_balloon_stat for STAT. BALLOON carries an int (MB; negative
// deflates) and gets no reply.

/** Message types (kvmtool's include/kvm/kvm-ipc.h). */
export const IPC_BALLOON = 1;
export const IPC_DEBUG = 2;
export const IPC_STAT = 3;
export const IPC_PAUSE = 4;
export const IPC_RESUME = 5;
export const IPC_STOP = 6;
export const IPC_PID = 7;
export const IPC_VMSTATE = 8;

export const IPC_TYPE_NAMES: Record<number, string> = {
  [IPC_BALLOON]: "BALLOON",
  [IPC_DEBUG]: "DEBUG",
  [IPC_STAT]: "STAT",
  [IPC_PAUSE]: "PAUSE",
  [IPC_RESUME]: "RESUME",
  [IPC_STOP]: "STOP",
  [IPC_PID]: "PID",
  [IPC_VMSTATE]: "VMSTATE",
};

/** VMSTATE replies (kvmtool's KVM_VMSTATE_*). */
export const VMSTATE_RUNNING = 0;
export const VMSTATE_PAUSED = 1;

/** DEBUG dbg_type bits (kvmtool's include/kvm/builtin-debug.h). */
export const DEBUG_DUMP = 1 << 0;
export const DEBUG_NMI = 1 << 1;
export const DEBUG_SYSRQ = 1 << 2;

export const HEADER_BYTES = 8;
/** sizeof(struct debug_cmd_params): u32, u32, char, padded to 4 bytes. */
export const DEBUG_PARAMS_BYTES = 12;
/**
 * The largest payload lkvm accepts. kvmtool mallocs whatever len a client announces; no
 * message it defines carries more than 12 bytes, so a larger len closes the connection.
 */
export const MAX_PAYLOAD_BYTES = 4096;

export interface IpcMessage {
  type: number;
  payload: Uint8Array;
}

export interface DebugParams {
  /** DEBUG_* bits. */
  dbgType: number;
  /** vCPU for DEBUG_NMI. */
  cpu: number;
  /** Character code for DEBUG_SYSRQ. */
  sysrq: number;
}

export class IpcProtocolError extends Error {
  override name = "IpcProtocolError";
  /**
   * From MessageDecoder.push: the whole messages that arrived before the refused header, so
   * the caller can serve them before it closes the connection, as kvmtool would.
   */
  readonly messages: IpcMessage[];

  constructor(message: string, messages: IpcMessage[] = []) {
    super(message);
    this.messages = messages;
  }
}

export function encodeMessage(type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + payload.length);
  out.writeUInt32LE(type >>> 0, 0);
  out.writeUInt32LE(payload.length, 4);
  out.set(payload, HEADER_BYTES);
  return out;
}

export function encodeDebugParams(p: DebugParams): Buffer {
  const out = Buffer.alloc(DEBUG_PARAMS_BYTES);
  out.writeUInt32LE(p.dbgType >>> 0, 0);
  out.writeUInt32LE(p.cpu >>> 0, 4);
  out.writeUInt8(p.sysrq & 0xff, 8);
  return out;
}

/** Like kvmtool's handle_debug, only a payload of exactly sizeof(struct debug_cmd_params). */
export function decodeDebugParams(payload: Uint8Array): DebugParams | undefined {
  if (payload.length !== DEBUG_PARAMS_BYTES) return undefined;
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  return { dbgType: b.readUInt32LE(0), cpu: b.readUInt32LE(4), sysrq: b.readUInt8(8) };
}

/** A 4-byte little-endian int reply (pid_t, the VMSTATE int). */
export function encodeInt(v: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32LE(v | 0, 0);
  return out;
}

/**
 * struct virtio_balloon_stat {u16 tag; u64 val} __packed, as the STAT reply carries it: an
 * array of VIRTIO_BALLOON_S_NR (10) entries, 100 bytes, those the guest did not send zeroed.
 */
export const STAT_ENTRY_BYTES = 10;
export const STAT_ENTRIES = 10;
export const STAT_REPLY_BYTES = STAT_ENTRY_BYTES * STAT_ENTRIES;

export interface MemoryStat {
  /** VIRTIO_BALLOON_S_* (virtio 1.2 §5.5.6.3). */
  tag: number;
  value: bigint;
}

export function encodeStats(stats: readonly MemoryStat[]): Buffer {
  const out = Buffer.alloc(STAT_REPLY_BYTES);
  stats.slice(0, STAT_ENTRIES).forEach((s, i) => {
    out.writeUInt16LE(s.tag & 0xffff, i * STAT_ENTRY_BYTES);
    out.writeBigUInt64LE(BigInt.asUintN(64, s.value), i * STAT_ENTRY_BYTES + 2);
  });
  return out;
}

export function decodeStats(bytes: Uint8Array): MemoryStat[] {
  if (bytes.length !== STAT_REPLY_BYTES) throw new IpcProtocolError(`expected a ${STAT_REPLY_BYTES}-byte STAT reply, got ${bytes.length} bytes`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: STAT_ENTRIES }, (_, i) => ({
    tag: b.readUInt16LE(i * STAT_ENTRY_BYTES),
    value: b.readBigUInt64LE(i * STAT_ENTRY_BYTES + 2),
  }));
}

export function decodeInt(bytes: Uint8Array): number {
  if (bytes.length !== 4) throw new IpcProtocolError(`expected a 4-byte reply, got ${bytes.length} bytes`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, 4).readInt32LE(0);
}

/**
 * Splits a byte stream into messages. Chunks may end anywhere (a short read): the decoder
 * keeps what it has until a whole message is there. Bytes past a message's announced length
 * are the start of the next message.
 */
export class MessageDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /**
   * Adds received bytes; returns every message now complete. Throws IpcProtocolError on an
   * oversized len, carrying the messages complete before it.
   */
  push(chunk: Uint8Array): IpcMessage[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    const messages: IpcMessage[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const type = this.pending.readUInt32LE(0);
      const lengthBytes = this.pending.readUInt32LE(4);
      if (lengthBytes > MAX_PAYLOAD_BYTES) {
        throw new IpcProtocolError(`message type ${type} announces ${lengthBytes} payload bytes (at most ${MAX_PAYLOAD_BYTES})`, messages);
      }
      if (this.pending.length < HEADER_BYTES + lengthBytes) break;
      const payload = Uint8Array.from(this.pending.subarray(HEADER_BYTES, HEADER_BYTES + lengthBytes));
      messages.push({ type, payload });
      this.pending = this.pending.subarray(HEADER_BYTES + lengthBytes);
    }
    return messages;
  }

  /** Bytes received that are not yet a whole message. */
  get bufferedBytes(): number {
    return this.pending.length;
  }
}
