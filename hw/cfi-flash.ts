// CFI NOR flash backed by a file (`-F file`), as kvmtool's hw/cfi_flash.c presents it: two
// 16-bit Intel/Sharp chips (primary command set 0x0001) side by side on a 32-bit bus, which is
// what EDK2 hard-codes and what Linux's cfi_probe finds with interleave 2.
//
// Geometry is for the pair: 64 KiB erase blocks (32 KiB per chip), a 128-byte write buffer
// (64 bytes per chip). The CFI query table describes one chip, as CFI requires, and the guest
// multiplies by the interleave. Commands are one logical state machine: the low byte of the
// written value is the command, whichever chip it was replicated to.
//
// Reads are served from an in-memory copy; every program and erase is written through to the
// file at the same offset, so what the guest wrote is on disk.
//
// Differences from kvmtool, on purpose:
// - Programming ANDs the new data into the cell (it can only clear bits), as NOR flash does;
//   only an erase sets bits back to 1.
// - The extended query table advertises one protection field, not zero: Linux before 2020
//   underflowed on zero when sizing the table.
// - Blocks start unlocked; locks live in memory only (as in kvmtool).

import * as fs from "node:fs";
import { FileError } from "../src/errors.ts";
import type { TrapBus } from "../src/iotrap/bus.ts";
import { u64Cells, type FdtNode } from "../src/lib/fdt/tree.ts";

export const CFI_BANK_WIDTH_BYTES = 4; // the 32-bit bus
export const CFI_CHIPS = 2; // 16-bit chips on that bus
export const CFI_BLOCK_BYTES = 64 * 1024; // erase block across both chips
export const CFI_WRITE_BUFFER_BYTES = 128; // across both chips
export const CFI_MAX_SIZE_BYTES = 16 * 1024 * 1024;

// Commands (low byte of the written value).
export const CFI_CMD_READ_ARRAY = 0xff;
export const CFI_CMD_READ_STATUS = 0x70;
export const CFI_CMD_READ_JEDEC_ID = 0x90;
export const CFI_CMD_QUERY = 0x98;
export const CFI_CMD_CLEAR_STATUS = 0x50;
export const CFI_CMD_WORD_PROGRAM = 0x40;
export const CFI_CMD_WORD_PROGRAM_ALT = 0x10;
export const CFI_CMD_BLOCK_ERASE_SETUP = 0x20;
export const CFI_CMD_BUFFERED_PROGRAM = 0xe8;
export const CFI_CMD_CONFIRM = 0xd0; // erase / buffered-program confirm, and unlock block
export const CFI_CMD_LOCK_SETUP = 0x60;
export const CFI_CMD_LOCK_BLOCK = 0x01;

// Status register bits.
export const CFI_STATUS_READY = 0x80;
export const CFI_STATUS_ERASE_ERROR = 0x20;
export const CFI_STATUS_PROGRAM_ERROR = 0x10;
export const CFI_STATUS_LOCKED = 0x02;
/** Both error bits: the guest broke a command sequence (wrong confirm, bad count). */
export const CFI_STATUS_SEQUENCE_ERROR = CFI_STATUS_ERASE_ERROR | CFI_STATUS_PROGRAM_ERROR;

// JEDEC ID mode: 16-bit words at these word indices from a block's base.
export const CFI_ID_MANUFACTURER = 0;
export const CFI_ID_DEVICE = 1;
export const CFI_ID_BLOCK_LOCK = 2;
const ID_MANUFACTURER_VALUE = 0x0000;
const ID_DEVICE_VALUE = 0xffff;

// CFI query table (addresses are chip word indices in query mode).
export const CFI_QUERY_QRY = 0x10;
export const CFI_QUERY_PRIMARY_EXT = 0x31;

export type CfiReadMode = "array" | "status" | "jedecId" | "query";

/** What the next write means, when it is not a command. */
export type CfiPending =
  | "none"
  | "wordProgram" // next write is data
  | "blockErase" // next write must be CONFIRM
  | "lockSetup" // next write is LOCK_BLOCK or CONFIRM (unlock)
  | "bufferCount" // next write is the word count - 1
  | "bufferData" // writes fill the buffer until the count is used up
  | "bufferConfirm"; // next write must be CONFIRM

export interface CfiFlashState {
  readMode: CfiReadMode;
  /** Status register; READY is always set because every operation completes at once. */
  status: number;
  pending: CfiPending;
  /** Block of the buffered-program setup write. */
  pendingBlock: number;
  /** 128-byte-aligned image offset the write buffer covers, or -1 before the first data. */
  bufferWindow: number;
  bufferRemainingBytes: number;
  /** Staged buffered-program bytes; 0xFF where the guest wrote nothing (AND leaves it). */
  buffer: number[];
  lockedBlocks: boolean[];
}

export interface CfiFlashOptions {
  /** Guest-physical base (kvmtool: 0x2000000). */
  base: number;
  /** Image file; opened read-write, and its first sizeBytes bytes are the flash. */
  path: string;
  /** Where host-side write failures are reported; defaults to stderr. */
  log?: (line: string) => void;
  name?: string;
}

const log2 = (n: number): number => 31 - Math.clz32(n);

/** Largest power of two <= n, or 0. */
function roundDownPow2(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return n >= 1 ? p : 0;
}

/** The per-chip CFI query table, indexed by query address (chip word index). */
function buildQueryTable(sizeBytes: number): Uint8Array {
  const chipBytes = sizeBytes / CFI_CHIPS;
  const chipBlockBytes = CFI_BLOCK_BYTES / CFI_CHIPS;
  const blocks = sizeBytes / CFI_BLOCK_BYTES;
  const t = new Uint8Array(0x44);
  const put16 = (at: number, v: number): void => {
    t[at] = v & 0xff;
    t[at + 1] = (v >> 8) & 0xff;
  };
  t.set([0x51, 0x52, 0x59], CFI_QUERY_QRY); // "QRY"
  put16(0x13, 0x0001); // primary command set: Intel/Sharp extended
  put16(0x15, CFI_QUERY_PRIMARY_EXT); // primary extended table address
  put16(0x17, 0x0000); // no alternate command set
  put16(0x19, 0x0000);
  t[0x1b] = 0x45; // Vcc min 4.5 V (BCD volts . tenths)
  t[0x1c] = 0x55; // Vcc max 5.5 V
  t[0x1d] = 0x00; // no Vpp pin
  t[0x1e] = 0x00;
  // Timeouts, 2^n: nothing here takes time, but a zero buffer-write timeout would tell Linux
  // that buffered programming is unsupported.
  t[0x1f] = 4; // word program, µs
  t[0x20] = 8; // buffer program, µs
  t[0x21] = 10; // block erase, ms
  t[0x22] = 0; // chip erase: not supported
  t[0x23] = 4; // max = typical * 2^n
  t[0x24] = 4;
  t[0x25] = 4;
  t[0x26] = 0;
  t[0x27] = log2(chipBytes); // device size, 2^n bytes
  put16(0x28, 0x0001); // interface: x16
  put16(0x2a, log2(CFI_WRITE_BUFFER_BYTES / CFI_CHIPS)); // write buffer, 2^n bytes
  t[0x2c] = 1; // one erase block region
  put16(0x2d, blocks - 1);
  put16(0x2f, chipBlockBytes / 256);
  // Primary extended query, version 1.0.
  t.set([0x50, 0x52, 0x49, 0x31, 0x30], CFI_QUERY_PRIMARY_EXT); // "PRI" "1" "0"
  // 0x36..0x39 feature support: none (no suspend, no chip erase, no instant locking).
  t[0x3a] = 0x00; // suspend command support
  put16(0x3b, 0x0001); // block status register: lock bit is reported (ID word 2)
  t[0x3d] = 0x50; // Vcc optimum 5.0 V
  t[0x3e] = 0x00; // Vpp optimum
  t[0x3f] = 1; // protection fields
  put16(0x40, 0x0080); // protection register address
  t[0x42] = 3; // factory protection bytes, 2^n
  t[0x43] = 3; // user protection bytes, 2^n
  return t;
}

export class CfiFlash {
  static readonly description = {
    name: "cfi-flash",
    compatible: "cfi-flash",
    bankWidthBytes: CFI_BANK_WIDTH_BYTES,
    maxSizeBytes: CFI_MAX_SIZE_BYTES,
  } as const;

  readonly base: number;
  readonly sizeBytes: number;
  readonly path: string;
  readonly name: string;
  /** The flash contents; reads in array mode come straight from here. */
  readonly contents: Uint8Array;
  private fd: number;
  private readonly log: (line: string) => void;
  private readonly queryTable: Uint8Array;
  private readonly blocks: number;
  private state: CfiFlashState;
  private loggedWriteFailure = false;

  constructor({ base, path, log, name }: CfiFlashOptions) {
    this.base = base;
    this.path = path;
    this.log = log ?? ((line) => process.stderr.write(line + "\n"));
    let fd: number;
    try {
      fd = fs.openSync(path, "r+");
    } catch (err) {
      throw new FileError(`cannot open flash image ${path}: ${(err as Error).message}`);
    }
    try {
      const fileBytes = fs.fstatSync(fd).size;
      this.sizeBytes = roundDownPow2(Math.min(fileBytes, CFI_MAX_SIZE_BYTES));
      if (this.sizeBytes < CFI_BLOCK_BYTES) {
        throw new FileError(
          `flash image ${path} is ${fileBytes} bytes; it must hold at least one ` +
            `${CFI_BLOCK_BYTES / 1024} KiB erase block`,
        );
      }
      this.contents = new Uint8Array(this.sizeBytes);
      let done = 0;
      while (done < this.sizeBytes) {
        const n = fs.readSync(fd, this.contents, done, this.sizeBytes - done, done);
        if (n === 0) throw new FileError(`flash image ${path} shrank while being read`);
        done += n;
      }
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    this.fd = fd;
    this.name = name ?? `cfi-flash@0x${base.toString(16)}`;
    this.blocks = this.sizeBytes / CFI_BLOCK_BYTES;
    this.queryTable = buildQueryTable(this.sizeBytes);
    this.state = {
      readMode: "array",
      status: CFI_STATUS_READY,
      pending: "none",
      pendingBlock: 0,
      bufferWindow: -1,
      bufferRemainingBytes: 0,
      buffer: new Array<number>(CFI_WRITE_BUFFER_BYTES).fill(0xff),
      lockedBlocks: new Array<boolean>(this.blocks).fill(false),
    };
  }

  /** kvmtool's node: two 16-bit chips on a 32-bit bus, labelled as the firmware's store. */
  fdtNode(parent: FdtNode): FdtNode {
    return parent
      .child("flash")
      .prop("bank-width", [CFI_BANK_WIDTH_BYTES])
      .prop("#address-cells", [1])
      .prop("#size-cells", [1])
      .prop("compatible", CfiFlash.description.compatible)
      .prop("label", "System-firmware")
      .prop("reg", [...u64Cells(this.base), ...u64Cells(this.sizeBytes)]);
  }

  register(bus: TrapBus): void {
    bus.register({
      bus: "mmio",
      base: this.base,
      sizeBytes: this.sizeBytes,
      name: this.name,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => {
        if (offset < 0 || offset + lengthBytes > this.sizeBytes) return;
        if (isWrite) this.write(offset, data, lengthBytes);
        else this.read(offset, data, lengthBytes);
      },
      // kvmtool maps the flash read-only into the guest in array mode: reads never trap then.
      memslotBacked: (isWrite) => !isWrite && this.state.readMode === "array",
    });
  }

  /** In array mode a read is plain memory; the glue may map `contents` read-only then. */
  get readMode(): CfiReadMode {
    return this.state.readMode;
  }

  getState(): CfiFlashState {
    return structuredClone(this.state);
  }

  setState(state: CfiFlashState): void {
    if (state.lockedBlocks.length !== this.blocks) {
      throw new Error(`flash state has ${state.lockedBlocks.length} blocks, not ${this.blocks}`);
    }
    this.state = structuredClone(state);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  private blockOf(offset: number): number {
    return Math.floor(offset / CFI_BLOCK_BYTES);
  }

  private read(offset: number, data: Uint8Array, lengthBytes: number): void {
    const s = this.state;
    if (s.readMode === "array") {
      for (let i = 0; i < lengthBytes; i++) data[i] = this.contents[offset + i]!;
      return;
    }
    // Each chip answers with a 16-bit value, so both halves of a bus word carry the same one.
    for (let i = 0; i < lengthBytes; i++) {
      const at = offset + i;
      const word = this.modeWord(at);
      data[i] = (at & 1) === 0 ? word & 0xff : word >> 8;
    }
  }

  /** The 16-bit value a chip returns at image offset `at` in a non-array read mode. */
  private modeWord(at: number): number {
    const s = this.state;
    const busWord = Math.floor(at / CFI_BANK_WIDTH_BYTES);
    switch (s.readMode) {
      case "status":
        return s.status;
      case "query":
        return this.queryTable[busWord] ?? 0;
      case "jedecId": {
        const inBlock = busWord % (CFI_BLOCK_BYTES / CFI_BANK_WIDTH_BYTES);
        if (inBlock === CFI_ID_MANUFACTURER) return ID_MANUFACTURER_VALUE;
        if (inBlock === CFI_ID_DEVICE) return ID_DEVICE_VALUE;
        if (inBlock === CFI_ID_BLOCK_LOCK) return s.lockedBlocks[this.blockOf(at)] ? 1 : 0;
        return 0;
      }
      default:
        return 0;
    }
  }

  private write(offset: number, data: Uint8Array, lengthBytes: number): void {
    // The bus is 32 bits wide; a wider store has no meaning to the chips (kvmtool drops it too).
    if (lengthBytes > CFI_BANK_WIDTH_BYTES) return;
    const s = this.state;
    const value = data[0]!;
    switch (s.pending) {
      case "none":
        this.command(offset, value);
        return;
      case "wordProgram":
        s.pending = "none";
        if (s.lockedBlocks[this.blockOf(offset)]) {
          s.status |= CFI_STATUS_PROGRAM_ERROR | CFI_STATUS_LOCKED;
        } else {
          for (let i = 0; i < lengthBytes; i++) this.contents[offset + i] &= data[i]!;
          this.persist(offset, lengthBytes);
        }
        return;
      case "blockErase":
        s.pending = "none";
        if (value !== CFI_CMD_CONFIRM) {
          s.status |= CFI_STATUS_SEQUENCE_ERROR;
        } else if (s.lockedBlocks[this.blockOf(offset)]) {
          s.status |= CFI_STATUS_ERASE_ERROR | CFI_STATUS_LOCKED;
        } else {
          const start = this.blockOf(offset) * CFI_BLOCK_BYTES;
          this.contents.fill(0xff, start, start + CFI_BLOCK_BYTES);
          this.persist(start, CFI_BLOCK_BYTES);
        }
        return;
      case "lockSetup":
        s.pending = "none";
        if (value === CFI_CMD_LOCK_BLOCK) s.lockedBlocks[this.blockOf(offset)] = true;
        else if (value === CFI_CMD_CONFIRM) s.lockedBlocks[this.blockOf(offset)] = false;
        else s.status |= CFI_STATUS_SEQUENCE_ERROR;
        return;
      case "bufferCount": {
        // Count of 32-bit bus words, minus one, replicated to both chips.
        const bytes = (value + 1) * CFI_BANK_WIDTH_BYTES;
        if (bytes > CFI_WRITE_BUFFER_BYTES) {
          this.abortSequence();
          return;
        }
        s.pending = "bufferData";
        s.bufferRemainingBytes = bytes;
        s.bufferWindow = -1;
        s.buffer.fill(0xff);
        return;
      }
      case "bufferData": {
        if (s.bufferWindow < 0) {
          s.bufferWindow = offset - (offset % CFI_WRITE_BUFFER_BYTES);
          if (this.blockOf(s.bufferWindow) !== s.pendingBlock) {
            this.abortSequence();
            return;
          }
        }
        const at = offset - s.bufferWindow;
        if (at < 0 || at + lengthBytes > CFI_WRITE_BUFFER_BYTES) {
          this.abortSequence();
          return;
        }
        if (lengthBytes > s.bufferRemainingBytes) {
          this.abortSequence();
          return;
        }
        for (let i = 0; i < lengthBytes; i++) s.buffer[at + i] = data[i]!;
        s.bufferRemainingBytes -= lengthBytes;
        if (s.bufferRemainingBytes === 0) s.pending = "bufferConfirm";
        return;
      }
      case "bufferConfirm":
        if (value !== CFI_CMD_CONFIRM) {
          this.abortSequence();
          return;
        }
        s.pending = "none";
        if (s.lockedBlocks[s.pendingBlock]) {
          s.status |= CFI_STATUS_PROGRAM_ERROR | CFI_STATUS_LOCKED;
          return;
        }
        for (let i = 0; i < CFI_WRITE_BUFFER_BYTES; i++) {
          this.contents[s.bufferWindow + i] &= s.buffer[i]!;
        }
        this.persist(s.bufferWindow, CFI_WRITE_BUFFER_BYTES);
        return;
    }
  }

  private command(offset: number, value: number): void {
    const s = this.state;
    switch (value) {
      case CFI_CMD_READ_STATUS:
        s.readMode = "status";
        break;
      case CFI_CMD_READ_JEDEC_ID:
        s.readMode = "jedecId";
        break;
      case CFI_CMD_QUERY:
        s.readMode = "query";
        break;
      case CFI_CMD_CLEAR_STATUS:
        s.status = CFI_STATUS_READY; // the read mode is left as it was
        break;
      case CFI_CMD_WORD_PROGRAM:
      case CFI_CMD_WORD_PROGRAM_ALT:
        s.pending = "wordProgram";
        s.readMode = "status";
        break;
      case CFI_CMD_BLOCK_ERASE_SETUP:
        s.pending = "blockErase";
        s.readMode = "status";
        break;
      case CFI_CMD_BUFFERED_PROGRAM:
        s.pending = "bufferCount";
        s.pendingBlock = this.blockOf(offset);
        s.readMode = "status"; // reads return the "buffer available" status
        break;
      case CFI_CMD_LOCK_SETUP:
        s.pending = "lockSetup";
        s.readMode = "status";
        break;
      case CFI_CMD_READ_ARRAY:
      default: // unknown commands (AMD's 0xF0 reset during probing, too) mean read array
        s.readMode = "array";
        break;
    }
  }

  private abortSequence(): void {
    const s = this.state;
    s.pending = "none";
    s.bufferWindow = -1;
    s.bufferRemainingBytes = 0;
    s.status |= CFI_STATUS_SEQUENCE_ERROR;
  }

  /** Writes [offset, offset + lengthBytes) of the image through to the file. */
  private persist(offset: number, lengthBytes: number): void {
    try {
      let done = 0;
      while (done < lengthBytes) {
        const at = offset + done;
        done += fs.writeSync(this.fd, this.contents, at, lengthBytes - done, at);
      }
    } catch (err) {
      // The host failed, not the guest: tell the guest the program failed, and say so once.
      this.state.status |= CFI_STATUS_PROGRAM_ERROR;
      if (!this.loggedWriteFailure) {
        this.loggedWriteFailure = true;
        this.log(`cfi-flash: writing ${this.path} failed: ${(err as Error).message}`);
      }
    }
  }
}
