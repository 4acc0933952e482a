// CFI NOR flash (hw/cfi-flash.ts) on a temporary image through the trap bus: commands, data
// and confirms in any order, at any offset and width, straddling blocks and the write buffer.
//
// Must hold: no exception; the status register always shows READY; no write sets a bit that
// was clear except an erase, which sets a whole block to 0xFF; array-mode reads return the
// contents; the file always holds what the guest sees. Responsive: from any state, READ_ARRAY
// written a bounded number of times gets the chip back to array mode, and an unlock plus a
// word program then programs and reads back.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
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
  CFI_STATUS_READY,
  CFI_WRITE_BUFFER_BYTES,
  CfiFlash,
  type CfiFlashState,
} from "../../hw/cfi-flash.ts";
import { accessArb, busRig, check, perform, sequenceArb, type Access, type FuzzTarget } from "./harness.ts";

const BASE = 0x200_0000;
const FLASH_BYTES = 2 * CFI_BLOCK_BYTES;
const image = Uint8Array.from({ length: FLASH_BYTES }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

const COMMANDS = [
  CFI_CMD_READ_ARRAY, CFI_CMD_READ_STATUS, CFI_CMD_READ_JEDEC_ID, CFI_CMD_QUERY, CFI_CMD_CLEAR_STATUS,
  CFI_CMD_WORD_PROGRAM, CFI_CMD_BLOCK_ERASE_SETUP, CFI_CMD_BUFFERED_PROGRAM, CFI_CMD_CONFIRM,
  CFI_CMD_LOCK_SETUP, CFI_CMD_LOCK_BLOCK, 0x10, 0xf0, 0x00,
];

/** A command as a 32-bit-bus driver writes it (replicated to both chips), or as a lone byte. */
const valueArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...COMMANDS).map((c) => BigInt((c | (c << 16)) >>> 0)) },
  { weight: 2, arbitrary: fc.constantFrom(...COMMANDS).map(BigInt) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x40 }).map((n) => BigInt((n | (n << 16)) >>> 0)) }, // buffer counts
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
);

const OFFSETS = [0, 4, 0x80, 0x84, 0xfc, CFI_BLOCK_BYTES - 4, CFI_BLOCK_BYTES, CFI_BLOCK_BYTES + 0x80, FLASH_BYTES - 4, FLASH_BYTES - 1];

export const cfiFlashTarget: FuzzTarget = {
  name: "cfi-flash",
  description: "CFI flash command sequences, program/erase/lock, at any offset and width",
  quickRuns: 200,
  build() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lkvm-fuzz-cfi-"));
    const file = path.join(dir, "flash.img");
    fs.writeFileSync(file, image);
    const { bus, cpu } = busRig();
    const flash = new CfiFlash({ base: BASE, path: file, log: () => {} });
    flash.register(bus);
    const fd = fs.openSync(file, "r+");
    const initial: CfiFlashState = flash.getState();
    const before = new Uint8Array(FLASH_BYTES);
    const onDisk = new Uint8Array(FLASH_BYTES);

    /** Every byte that changed lost bits only, or its whole block is now erased. */
    const beforeWords = new Uint32Array(before.buffer);
    const nowWords = new Uint32Array(flash.contents.buffer, flash.contents.byteOffset, FLASH_BYTES / 4);
    const blockWords = CFI_BLOCK_BYTES / 4;
    const checkChange = (): void => {
      // Native compare first, then word-wide: this runs for every store of a million cases.
      if (Buffer.compare(before, flash.contents) === 0) return;
      for (let w = 0; w < nowWords.length; w++) {
        if ((nowWords[w]! & ~beforeWords[w]!) === 0) continue;
        const start = w - (w % blockWords);
        for (let x = start; x < start + blockWords; x++) {
          check(nowWords[x] === 0xffff_ffff, () => `word 0x${(4 * w).toString(16)} went 0x${beforeWords[w]!.toString(16)} -> 0x${nowWords[w]!.toString(16)} without an erase`);
        }
        w = start + blockWords - 1;
      }
    };

    const property = fc.property(sequenceArb(accessArb(FLASH_BYTES, OFFSETS, valueArb), 40), (ops: Access[]) => {
      // Every case starts from the same chip: image, file and state.
      flash.contents.set(image);
      fs.writeSync(fd, image, 0, FLASH_BYTES, 0);
      flash.setState(initial);

      for (const a of ops) {
        const arrayMode = flash.readMode === "array";
        if (a.write) before.set(flash.contents);
        const value = perform(cpu, BASE, a);
        if (a.write) checkChange();
        else if (arrayMode && a.offset >= 0 && a.offset + a.width <= FLASH_BYTES) {
          let expected = 0n;
          for (let i = a.width - 1; i >= 0; i--) expected = (expected << 8n) | BigInt(flash.contents[a.offset + i]!);
          check(value === expected, () => `array read at 0x${a.offset.toString(16)} gave 0x${value.toString(16)}`);
        }
      }
      // Checked once a case (getState copies): status bits only accumulate until CLEAR_STATUS.
      const s = flash.getState();
      check((s.status & CFI_STATUS_READY) !== 0, () => `status 0x${s.status.toString(16)} without READY`);
      check(s.buffer.length === CFI_WRITE_BUFFER_BYTES, () => `write buffer grew to ${s.buffer.length}`);
      fs.readSync(fd, onDisk, 0, FLASH_BYTES, 0);
      check(Buffer.compare(onDisk, flash.contents) === 0, "the file differs from what the guest sees");

      // Back to array mode: each READ_ARRAY either lands or uses up a pending sequence.
      const dual = (c: number): number => (c | (c << 16)) >>> 0;
      for (let tries = 0; ; tries++) {
        const { readMode, pending } = flash.getState();
        if (readMode === "array" && pending === "none") break;
        check(tries < 40, () => `READ_ARRAY written 40 times, still in ${readMode}/${pending}`);
        cpu.write32(BASE, dual(CFI_CMD_READ_ARRAY));
      }
      const at = BASE + 0x100;
      const old = cpu.read32(at);
      cpu.write32(at, dual(CFI_CMD_CLEAR_STATUS));
      cpu.write32(at, dual(CFI_CMD_LOCK_SETUP));
      cpu.write32(at, dual(CFI_CMD_CONFIRM)); // unlock
      cpu.write32(at, dual(CFI_CMD_WORD_PROGRAM));
      cpu.write32(at, 0x1234_5678);
      cpu.write32(at, dual(CFI_CMD_READ_STATUS));
      check(cpu.read32(at) === dual(CFI_STATUS_READY), () => `status after a program: 0x${cpu.read32(at).toString(16)}`);
      cpu.write32(at, dual(CFI_CMD_READ_ARRAY));
      check(cpu.read32(at) === (old & 0x1234_5678) >>> 0, "a word program did not read back");
    });
    return {
      property,
      dispose: () => {
        flash.close();
        fs.closeSync(fd);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
