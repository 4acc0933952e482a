import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CFI_BLOCK_BYTES,
  CFI_CMD_BLOCK_ERASE_SETUP,
  CFI_CMD_BUFFERED_PROGRAM,
  CFI_CMD_CLEAR_STATUS,
  CFI_CMD_CONFIRM,
  CFI_CMD_LOCK_BLOCK,
  CFI_CMD_LOCK_SETUP,
  CFI_CMD_QUERY,
  CFI_CMD_READ_ARRAY,
  CFI_CMD_READ_JEDEC_ID,
  CFI_CMD_READ_STATUS,
  CFI_CMD_WORD_PROGRAM,
  CFI_STATUS_ERASE_ERROR,
  CFI_STATUS_LOCKED,
  CFI_STATUS_PROGRAM_ERROR,
  CFI_STATUS_READY,
  CFI_STATUS_SEQUENCE_ERROR,
  CfiFlash,
} from "../../hw/cfi-flash.ts";
import { ConfigError } from "../../src/errors.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { GuestCpu } from "../support/guest-cpu.ts";

const FLASH = 0x200_0000;
const KiB = 1024;

/** A command as a 32-bit-bus driver writes it: the byte replicated to both 16-bit chips. */
const dual = (cmd: number): number => (cmd | (cmd << 16)) >>> 0;
/** A 16-bit chip value as it reads back on the 32-bit bus: mirrored in both halves. */
const mirrored = (v: number): number => (v | (v << 16)) >>> 0;

let dir: string;
let opened: CfiFlash[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lkvm-cfi-"));
});
afterEach(() => {
  for (const flash of opened) flash.close(); // close() is idempotent
  opened = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Byte i of a fresh test image: (i * 7) & 0xff, so misplaced reads and writes show. */
const pattern = (i: number): number => (i * 7) & 0xff;
/** The little-endian value of `lengthBytes` fresh image bytes at offset. */
function patternValue(offset: number, lengthBytes: number): bigint {
  let v = 0n;
  for (let i = lengthBytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(pattern(offset + i));
  return v;
}

function makeImage(sizeBytes: number, name = "flash.img"): string {
  const file = path.join(dir, name);
  const bytes = new Uint8Array(sizeBytes);
  for (let i = 0; i < sizeBytes; i++) bytes[i] = pattern(i);
  fs.writeFileSync(file, bytes);
  return file;
}

function setup(file: string) {
  const bus = new TrapBus();
  const flash = new CfiFlash({ base: FLASH, path: file });
  opened.push(flash);
  flash.register(bus);
  const cpu = new GuestCpu(bus);
  const r32 = (offset: number): number => cpu.read32(FLASH + offset);
  const w32 = (offset: number, value: number): void => cpu.write32(FLASH + offset, value);
  const cmd = (offset: number, command: number): void => w32(offset, dual(command));
  const status = (): number => {
    cmd(0, CFI_CMD_READ_STATUS);
    return r32(0) & 0xff;
  };
  return { bus, flash, cpu, r32, w32, cmd, status };
}

function onDisk(file: string, offset: number, lengthBytes: number): number[] {
  return [...fs.readFileSync(file).subarray(offset, offset + lengthBytes)];
}

describe("CfiFlash image sizing", () => {
  it("uses the file size rounded down to a power of two", () => {
    const { flash } = setup(makeImage(300 * KiB));
    expect(flash.sizeBytes).toBe(256 * KiB);
    flash.close();
  });

  it("uses at most 16 MiB of a larger file", () => {
    const file = path.join(dir, "big.img");
    fs.writeFileSync(file, "");
    fs.truncateSync(file, 20 * 1024 * KiB);
    const flash = new CfiFlash({ base: FLASH, path: file });
    expect(flash.sizeBytes).toBe(16 * 1024 * KiB);
    flash.close();
  });

  it("refuses a file smaller than one erase block, as a user error", () => {
    expect(() => new CfiFlash({ base: FLASH, path: makeImage(32 * KiB) })).toThrow(ConfigError);
  });

  it("refuses a missing file, as a user error", () => {
    expect(() => new CfiFlash({ base: FLASH, path: path.join(dir, "nope.img") })).toThrow(
      ConfigError,
    );
  });
});

describe("CfiFlash in read-array mode", () => {
  it("returns the image's bytes for reads of any width", () => {
    const { cpu } = setup(makeImage(128 * KiB));
    expect(cpu.read8(FLASH + 3)).toBe(21);
    expect(cpu.read16(FLASH + 0x102)).toBe(Number(patternValue(0x102, 2)));
    expect(cpu.read32(FLASH + 0x100)).toBe(Number(patternValue(0x100, 4)));
    expect(cpu.read64(FLASH + 8)).toBe(patternValue(8, 8));
  });

  it("leaves a read that runs past the end of the flash unclaimed", () => {
    const { cpu, flash } = setup(makeImage(64 * KiB));
    expect(cpu.read32(FLASH + flash.sizeBytes - 2)).toBe(0);
    cpu.write32(FLASH + flash.sizeBytes - 2, 0); // dropped, not an exception
  });
});

describe("CfiFlash probed the way Linux cfi_probe does it (interleave 2, x16, 32-bit bus)", () => {
  it("answers the CFI query with QRY, the Intel command set and the geometry of one chip", () => {
    const { r32, cmd, flash } = setup(makeImage(256 * KiB));
    cmd(0, 0xf0); // AMD reset: unknown to an Intel chip, so read array
    cmd(0, CFI_CMD_READ_ARRAY);
    cmd(0x55 * 4, CFI_CMD_QUERY); // 0x55 << (interleave 2 * x16 = 4)
    expect([0x10, 0x11, 0x12].map((a) => r32(a * 4))).toEqual(
      ["Q", "R", "Y"].map((c) => mirrored(c.charCodeAt(0))),
    );
    const q = (a: number): number => r32(a * 4) & 0xff; // cfi_read_query: low byte
    const q16 = (a: number): number => q(a) | (q(a + 1) << 8);
    expect(q16(0x13)).toBe(0x0001); // P_ID: Intel/Sharp extended
    const pri = q16(0x15);
    expect(pri).toBe(0x31);
    expect(q(0x1b)).toBe(0x45); // Vcc 4.5 V
    expect(q(0x1c)).toBe(0x55); // to 5.5 V
    expect(q(0x20)).not.toBe(0); // buffered writes supported
    expect(q16(0x28)).toBe(0x0001); // x16 interface
    const interleave = 2;
    expect((1 << q(0x27)) * interleave).toBe(flash.sizeBytes);
    expect(interleave << q16(0x2a)).toBe(128); // write buffer across both chips
    expect(q(0x2c)).toBe(1); // one erase region
    expect(q16(0x2d) + 1).toBe(flash.sizeBytes / CFI_BLOCK_BYTES);
    expect(q16(0x2f) * 256 * interleave).toBe(CFI_BLOCK_BYTES);
    const extended = String.fromCharCode(...[0, 1, 2, 3, 4].map((i) => q(pri + i)));
    expect(extended).toBe("PRI10");
    expect(q(pri + 14)).toBe(1); // NumProtectionFields
    cmd(0, CFI_CMD_READ_ARRAY);
    expect(r32(0x10 * 4)).toBe(Number(patternValue(0x40, 4))); // back to the array
  });

  it("mirrors a status byte into both halves of a 32-bit read", () => {
    const { r32, cmd } = setup(makeImage(64 * KiB));
    cmd(0, CFI_CMD_READ_STATUS);
    expect(r32(0)).toBe(mirrored(CFI_STATUS_READY));
    expect(r32(0x1234)).toBe(mirrored(CFI_STATUS_READY));
  });

  it("reports vendor, device and the addressed block's lock in JEDEC ID mode", () => {
    const { r32, cmd } = setup(makeImage(128 * KiB));
    cmd(CFI_BLOCK_BYTES, CFI_CMD_LOCK_SETUP);
    cmd(CFI_BLOCK_BYTES, CFI_CMD_LOCK_BLOCK);
    cmd(0, CFI_CMD_READ_JEDEC_ID);
    expect(r32(0)).toBe(0);
    expect(r32(4)).toBe(0xffff_ffff);
    expect(r32(8)).toBe(0); // block 0 unlocked
    expect(r32(CFI_BLOCK_BYTES + 8)).toBe(mirrored(1)); // block 1 locked
  });
});

describe("CfiFlash programming and erasing", () => {
  it("programs one word, ANDing it into the cell, and writes it through to the file", () => {
    const file = makeImage(64 * KiB);
    const { r32, w32, cmd, status, flash } = setup(file);
    cmd(0x40, CFI_CMD_BLOCK_ERASE_SETUP);
    cmd(0x40, CFI_CMD_CONFIRM);
    cmd(0x40, CFI_CMD_WORD_PROGRAM);
    w32(0x40, 0x1234_5678);
    expect(status()).toBe(CFI_STATUS_READY);
    cmd(0, CFI_CMD_READ_ARRAY);
    expect(r32(0x40)).toBe(0x1234_5678);
    cmd(0x40, CFI_CMD_WORD_PROGRAM);
    w32(0x40, 0xff00_ff0f); // can only clear bits
    cmd(0, CFI_CMD_READ_ARRAY);
    expect(r32(0x40)).toBe(0x1200_5608);
    expect(onDisk(file, 0x40, 4)).toEqual([0x08, 0x56, 0x00, 0x12]);
    flash.close();
  });

  it("erases a whole 64 KiB block to 0xFF on disk, and nothing beside it", () => {
    const file = makeImage(256 * KiB);
    const { cmd, status, flash } = setup(file);
    const block = 2 * CFI_BLOCK_BYTES;
    cmd(block + 0x100, CFI_CMD_BLOCK_ERASE_SETUP);
    cmd(block + 0x100, CFI_CMD_CONFIRM);
    expect(status()).toBe(CFI_STATUS_READY);
    flash.close();
    const bytes = fs.readFileSync(file);
    expect(bytes.subarray(block, block + CFI_BLOCK_BYTES).every((b) => b === 0xff)).toBe(true);
    expect(bytes[block - 1]).toBe(pattern(block - 1));
    expect(bytes[block + CFI_BLOCK_BYTES]).toBe(pattern(block + CFI_BLOCK_BYTES));
  });

  it("commits a 128-byte buffered program as EDK2 writes it, and a reopened flash reads it", () => {
    const file = makeImage(128 * KiB);
    const { r32, w32, cmd, status, flash } = setup(file);
    const target = CFI_BLOCK_BYTES + 0x80;
    cmd(CFI_BLOCK_BYTES, CFI_CMD_BLOCK_ERASE_SETUP);
    cmd(CFI_BLOCK_BYTES, CFI_CMD_CONFIRM);
    cmd(target, CFI_CMD_BUFFERED_PROGRAM);
    expect(r32(target) & CFI_STATUS_READY).toBe(CFI_STATUS_READY); // buffer available
    w32(target, dual(32 - 1)); // 32 bus words
    for (let i = 0; i < 32; i++) w32(target + 4 * i, (0xc0de_0000 | i) >>> 0);
    cmd(target, CFI_CMD_CONFIRM);
    expect(status()).toBe(CFI_STATUS_READY);
    cmd(0, CFI_CMD_READ_ARRAY);
    expect(r32(target + 4 * 31)).toBe(0xc0de_001f);
    flash.close();

    const again = setup(file);
    expect(again.r32(target)).toBe(0xc0de_0000);
    expect(again.r32(target + 4 * 31)).toBe(0xc0de_001f);
    expect(again.r32(target + 128)).toBe(0xffff_ffff); // erased, untouched
    expect(onDisk(file, target + 4, 4)).toEqual([0x01, 0x00, 0xde, 0xc0]);
    again.flash.close();
  });

  it("programs a partial buffer that starts inside the write-buffer window", () => {
    const file = makeImage(64 * KiB);
    const { r32, w32, cmd, flash } = setup(file);
    cmd(0, CFI_CMD_BLOCK_ERASE_SETUP);
    cmd(0, CFI_CMD_CONFIRM);
    cmd(0x100, CFI_CMD_BUFFERED_PROGRAM); // Linux: setup at the aligned buffer address
    w32(0x100, dual(1)); // 2 words
    w32(0x108, 0x1111_1111);
    w32(0x10c, 0x2222_2222);
    cmd(0x100, CFI_CMD_CONFIRM);
    cmd(0, CFI_CMD_READ_ARRAY);
    expect([r32(0x104), r32(0x108), r32(0x10c), r32(0x110)]).toEqual([
      0xffff_ffff, 0x1111_1111, 0x2222_2222, 0xffff_ffff,
    ]);
    flash.close();
  });

  it("refuses a buffered-program count larger than the 128-byte buffer", () => {
    const file = makeImage(64 * KiB);
    const { r32, w32, cmd, status, flash } = setup(file);
    cmd(0, CFI_CMD_BUFFERED_PROGRAM);
    w32(0, dual(32)); // 33 words = 132 bytes
    w32(0, 0);
    expect(status()).toBe(CFI_STATUS_READY | CFI_STATUS_SEQUENCE_ERROR);
    cmd(0, CFI_CMD_CLEAR_STATUS);
    expect(status()).toBe(CFI_STATUS_READY);
    cmd(0, CFI_CMD_READ_ARRAY);
    expect(r32(0)).toBe(Number(patternValue(0, 4))); // unchanged image
    expect(onDisk(file, 0, 4)).toEqual([0, 7, 14, 21]);
    flash.close();
  });

  it("refuses buffered data outside the write-buffer window, writing nothing", () => {
    const file = makeImage(64 * KiB);
    const { w32, cmd, status, flash } = setup(file);
    cmd(0, CFI_CMD_BUFFERED_PROGRAM);
    w32(0, dual(1));
    w32(0x7c, 0);
    w32(0x80, 0); // next 128-byte window
    cmd(0, CFI_CMD_CONFIRM);
    expect(status() & CFI_STATUS_SEQUENCE_ERROR).toBe(CFI_STATUS_SEQUENCE_ERROR);
    expect(onDisk(file, 0x7c, 8)).toEqual([...Array(8).keys()].map((i) => pattern(0x7c + i)));
    flash.close();
  });

  it("refuses buffered data in a different block from the setup", () => {
    const file = makeImage(128 * KiB);
    const { w32, cmd, status, flash } = setup(file);
    cmd(0, CFI_CMD_BUFFERED_PROGRAM);
    w32(0, dual(0));
    w32(CFI_BLOCK_BYTES, 0);
    expect(status() & CFI_STATUS_SEQUENCE_ERROR).toBe(CFI_STATUS_SEQUENCE_ERROR);
    expect(onDisk(file, CFI_BLOCK_BYTES, 1)).toEqual([pattern(CFI_BLOCK_BYTES)]);
    flash.close();
  });

  it("flags a sequence error when erase setup is not followed by confirm", () => {
    const { cmd, status, flash } = setup(makeImage(64 * KiB));
    cmd(0, CFI_CMD_BLOCK_ERASE_SETUP);
    cmd(0, CFI_CMD_READ_ARRAY);
    expect(status()).toBe(CFI_STATUS_READY | CFI_STATUS_SEQUENCE_ERROR);
    flash.close();
  });

  it("refuses to erase or program a locked block until the guest unlocks it", () => {
    const file = makeImage(64 * KiB);
    const { w32, r32, cmd, status, flash } = setup(file);
    cmd(0, CFI_CMD_LOCK_SETUP);
    cmd(0, CFI_CMD_LOCK_BLOCK);
    cmd(0, CFI_CMD_BLOCK_ERASE_SETUP);
    cmd(0, CFI_CMD_CONFIRM);
    expect(status()).toBe(CFI_STATUS_READY | CFI_STATUS_ERASE_ERROR | CFI_STATUS_LOCKED);
    cmd(0, CFI_CMD_CLEAR_STATUS);
    cmd(0, CFI_CMD_WORD_PROGRAM);
    w32(0, 0);
    expect(status()).toBe(CFI_STATUS_READY | CFI_STATUS_PROGRAM_ERROR | CFI_STATUS_LOCKED);
    expect(onDisk(file, 0, 4)).toEqual([0, 7, 14, 21]);
    cmd(0, CFI_CMD_CLEAR_STATUS);
    cmd(0, CFI_CMD_LOCK_SETUP);
    cmd(0, CFI_CMD_CONFIRM); // unlock
    cmd(0, CFI_CMD_BLOCK_ERASE_SETUP);
    cmd(0, CFI_CMD_CONFIRM);
    expect(status()).toBe(CFI_STATUS_READY);
    cmd(0, CFI_CMD_READ_ARRAY);
    expect(r32(0)).toBe(0xffff_ffff);
    flash.close();
  });

  it("ignores an 8-byte store, which the 32-bit bus cannot carry", () => {
    const file = makeImage(64 * KiB);
    const { cpu, status, flash } = setup(file);
    cpu.write64(FLASH, BigInt(dual(CFI_CMD_WORD_PROGRAM)));
    cpu.write64(FLASH, 0n);
    expect(status()).toBe(CFI_STATUS_READY);
    expect(onDisk(file, 0, 8)).toEqual([0, 7, 14, 21, 28, 35, 42, 49]);
    flash.close();
  });
});
