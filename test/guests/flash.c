/* CFI flash (-F file, 1 MiB): two 16-bit Intel/Sharp chips (command set 0x0001) side by side on
   a 32-bit bus, so every command and status is the 16-bit value twice. The CFI query, JEDEC ID,
   word program, block erase, buffered program and block locking; the test then reads the file.
   kvmtool hw/cfi_flash.c (docs/kvmtool.md §7.3); JEDEC JESD68 (CFI); Intel/Sharp command set. */
#include "guest.h"

#define FLASH_SIZE 0x100000UL
#define BLOCK 0x10000UL
#define CMD(c) (((u32)(c) << 16) | (u32)(c))
#define F(off) (FLASH_BASE + (off))

static u32 rd(u64 off) { return mmio_read32(F(off)); }
static void wr(u64 off, u32 v) { mmio_write32(F(off), v); }
static u8 pattern(u64 off) { return (u8)(off * 7 + 3); }
static u32 pattern32(u64 off) {
  return pattern(off) | (u32)pattern(off + 1) << 8 | (u32)pattern(off + 2) << 16 | (u32)pattern(off + 3) << 24;
}
/* Query data: one byte per chip word, the same in both chips. */
static u32 q(u32 addr) { return rd(addr * 4) & 0xff; }

static int wait_ready(u64 off) {
  for (int i = 0; i < 100000; i++)
    if ((rd(off) & CMD(0x80)) == CMD(0x80)) return 1;
  return 0;
}

int main(u64 dtb) {
  check_eq(rd(0), pattern32(0), "read-array mode: the first word is the file's");
  check_eq(rd(3 * BLOCK + 0x40), pattern32(3 * BLOCK + 0x40), "  and so is a word in block 3");
  check_eq(*(volatile u8 *)F(5), pattern(5), "  byte reads work too");

  wr(0x55 * 4, CMD(0x98));
  check(rd(0x10 * 4) == CMD('Q') && rd(0x11 * 4) == CMD('R') && rd(0x12 * 4) == CMD('Y'),
        "CFI query: \"QRY\" in both chips at word addresses 0x10-0x12");
  check_eq(q(0x13) | q(0x14) << 8, 0x0001, "  primary command set 0x0001 (Intel/Sharp extended)");
  u32 pri = q(0x15) | q(0x16) << 8;
  check(q(pri) == 'P' && q(pri + 1) == 'R' && q(pri + 2) == 'I', "  the primary extended table starts with \"PRI\"");
  check_eq(2UL << q(0x27), FLASH_SIZE, "  device size: two chips of 2^n bytes make the 1 MiB file");
  check_eq(q(0x2c), 1, "  one erase block region");
  u32 nblocks = (q(0x2d) | q(0x2e) << 8) + 1, chip_block = (q(0x2f) | q(0x30) << 8) * 256;
  check(nblocks * chip_block * 2 == FLASH_SIZE && chip_block * 2 == BLOCK,
        "  16 blocks of 64 KiB across the two chips");
  check_eq(2UL << q(0x2a), 128, "  a 128-byte write buffer across the two chips");

  wr(0, CMD(0x90));
  check_eq(rd(0), 0, "JEDEC ID: manufacturer 0x0000");
  check_eq(rd(4), CMD(0xffff) & 0xffffffff, "  device 0xffff");
  wr(0, CMD(0xff));
  check_eq(rd(0), pattern32(0), "0xff returns to read-array mode");

  /* Word program into the erased block 1. */
  wr(BLOCK + 0x100, CMD(0x40));
  wr(BLOCK + 0x100, 0x12345678);
  check(wait_ready(BLOCK + 0x100), "word program: status shows ready (0x80 in both chips)");
  check_eq(rd(BLOCK + 0x100) & CMD(0x30), 0, "  with no error bits");
  wr(0, CMD(0xff));
  check_eq(rd(BLOCK + 0x100), 0x12345678, "  the word reads back in read-array mode");

  /* Block erase of block 2. */
  wr(2 * BLOCK, CMD(0x20));
  wr(2 * BLOCK, CMD(0xd0));
  check(wait_ready(2 * BLOCK), "block erase: status shows ready");
  wr(0, CMD(0xff));
  int erased = 1;
  for (u64 off = 2 * BLOCK; off < 3 * BLOCK; off += 4) erased &= rd(off) == 0xffffffff;
  check(erased, "  the whole block reads 0xff");
  check_eq(rd(3 * BLOCK), pattern32(3 * BLOCK), "  and the next block is untouched");

  /* Buffered program: 4 bus words into block 1. */
  wr(BLOCK, CMD(0xe8));
  check((rd(BLOCK) & CMD(0x80)) == CMD(0x80), "buffered program: the buffer is available");
  wr(BLOCK, CMD(3)); /* word count - 1 */
  for (u32 i = 0; i < 4; i++) wr(BLOCK + 0x200 + 4 * i, 0xa0b0c0d0 + i);
  wr(BLOCK, CMD(0xd0));
  check(wait_ready(BLOCK), "  confirmed; status shows ready");
  wr(0, CMD(0xff));
  check(rd(BLOCK + 0x200) == 0xa0b0c0d0 && rd(BLOCK + 0x20c) == 0xa0b0c0d3, "  the four words read back");

  /* A locked block refuses programming. */
  wr(3 * BLOCK, CMD(0x60));
  wr(3 * BLOCK, CMD(0x01));
  wr(3 * BLOCK, CMD(0x90));
  check_eq(rd(3 * BLOCK + 2 * 4), CMD(1), "lock block: JEDEC ID word 2 of the block reads locked");
  wr(3 * BLOCK + 0x40, CMD(0x40));
  wr(3 * BLOCK + 0x40, 0);
  wait_ready(3 * BLOCK);
  check_eq(rd(3 * BLOCK) & CMD(0x12), CMD(0x12), "  a program there fails: status has the program error and lock bits");
  wr(0, CMD(0x50));
  check_eq(rd(0) & CMD(0x7f), 0, "clear status clears the error bits");
  wr(3 * BLOCK, CMD(0x60));
  wr(3 * BLOCK, CMD(0xd0));
  wr(3 * BLOCK, CMD(0x90));
  check_eq(rd(3 * BLOCK + 2 * 4), 0, "unlock block: word 2 reads unlocked");
  wr(0, CMD(0xff));
  check_eq(rd(3 * BLOCK + 0x40), pattern32(3 * BLOCK + 0x40), "the locked block's data is unchanged");
  return failures;
}
