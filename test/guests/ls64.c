/* FEAT_LS64 from EL1: LD64B, ST64B, ST64BV, ST64BV0 and ACCDATA_EL1 (ARM ARM C6.2), run twice
   by test/machine/ls64.test.ts: with `--cpu-features +ls64_accdata --ls64-work-queue`, and on
   the default Cortex-A57 model, where every one of them is UNDEFINED. The guest reads
   ID_AA64ISAR1_EL1.LS64 to know which run it is in.

   Expected values come from the ARM ARM pseudocode (MemLoad64B/MemStore64B: a 64-byte aligned,
   single-copy-atomic access of eight little-endian doublewords; Device or Normal Non-cacheable
   memory only; ST64BV0 puts ACCDATA_EL1<31:0> in the low half of the first doubleword),
   worked out by hand: qemu-aarch64 does not implement FEAT_LS64, so there is no oracle to
   compare with. */
#include "guest.h"

#define UART1 (UART0 + 0x1000)
#define WQ_BASE 0x01030000UL /* lkvm's LS64 work queue (hw/ls64-work-queue.ts) */
#define WQ_PENDING 0x40
#define WQ_DEPTH 8
#define TEST_VA_WB 0x100000000UL /* a RAM page mapped Normal write-back */
#define TEST_VA_NC 0x100200000UL /* the same page mapped Normal Non-cacheable */
#define DFSC_UNSUPPORTED_ATOMIC 0x35
#define DFSC_SYNC_EXTERNAL 0x10
#define EC_LS64_TRAP 0x0a

static u64 buf[32] __attribute__((aligned(64)));
static u64 out[8];

static void ld64b(u64 va) {
  __asm__ volatile(".arch armv8.7-a+ls64\n mov x9, %0\n ld64b x0, [x9]\n"
                   "stp x0, x1, [%1]\n stp x2, x3, [%1, #16]\n stp x4, x5, [%1, #32]\n stp x6, x7, [%1, #48]"
                   ::"r"(va), "r"(out) : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x9", "memory");
}

/* Loads x0..x7 from `in`, then runs `insn` (which stores them; its status goes to x10). */
#define STORE64(insn, va, in)                                                                        \
  ({                                                                                                 \
    u64 __status;                                                                                    \
    __asm__ volatile(".arch armv8.7-a+ls64\n mov x9, %1\n mov x10, #0x5555\n"                         \
                     "ldp x0, x1, [%2]\n ldp x2, x3, [%2, #16]\n ldp x4, x5, [%2, #32]\n ldp x6, x7, [%2, #48]\n" \
                     insn "\n mov %0, x10"                                                           \
                     : "=r"(__status) : "r"(va), "r"(in)                                            \
                     : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x9", "x10", "memory");      \
    __status;                                                                                        \
  })
#define st64b(va, in) STORE64("st64b x0, [x9]", va, in)
#define st64bv(va, in) STORE64("st64bv x10, x0, [x9]", va, in)
#define st64bv0(va, in) STORE64("st64bv0 x10, x0, [x9]", va, in)

static const u64 pattern[8] = {
  0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, 0x1716151413121110UL, 0x1f1e1d1c1b1a1918UL,
  0x2726252423222120UL, 0x2f2e2d2c2b2a2928UL, 0x3736353433323130UL, 0x3f3e3d3c3b3a3938UL,
};

static int same8(const u64 *a, const u64 *b) {
  for (int i = 0; i < 8; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

static void expect_abort(u64 far, u64 dfsc, int write, const char *what) {
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_DABT_CUR, what);
  check_eq(ESR_ISS(exc.esr) & 0x3f, dfsc, "  DFSC");
  check_eq(exc.far, far, "  FAR = the address");
  if (dfsc != DFSC_SYNC_EXTERNAL) check_eq((exc.esr >> 6) & 1, write, "  WnR");
}

static void without_feature(void) {
  u64 in[8] = {0};
  exc_arm(EXC_SKIP);
  ld64b((u64)buf);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "without FEAT_LS64 LD64B is UNDEFINED");
  exc_arm(EXC_SKIP);
  st64b((u64)buf, in);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "  ST64B is UNDEFINED");
  exc_arm(EXC_SKIP);
  st64bv((u64)buf, in);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "  ST64BV is UNDEFINED");
  exc_arm(EXC_SKIP);
  st64bv0((u64)buf, in);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "  ST64BV0 is UNDEFINED");
  exc_arm(EXC_SKIP);
  (void)read_sysreg(s3_0_c13_c0_5);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "  MRS ACCDATA_EL1 is UNDEFINED");
  exc_disarm();
}

static void ram_mmu_off(void) {
  for (int i = 0; i < 8; i++) buf[i] = pattern[i];
  exc_arm(EXC_SKIP);
  ld64b((u64)buf);
  check_eq(exc.count, 0, "LD64B from RAM with the MMU off (Device-nGnRnE) takes no exception");
  check(same8(out, pattern), "  and loads the eight doublewords into x0..x7 in address order");

  u64 in[8];
  for (int i = 0; i < 8; i++) in[i] = ~pattern[i];
  exc_arm(EXC_SKIP);
  st64b((u64)&buf[8], in);
  check_eq(exc.count, 0, "ST64B to RAM takes no exception");
  check(same8(&buf[8], in), "  and stores x0..x7 as 64 bytes");

  exc_arm(EXC_SKIP);
  u64 status = st64bv((u64)&buf[16], pattern);
  check(exc.count == 0 && same8(&buf[16], pattern), "ST64BV to RAM stores the 64 bytes");
  check_eq(status, ~0UL, "  and returns 0xffffffffffffffff: no device to give a status");

  write_sysreg(s3_0_c13_c0_5, 0x123456789abcdef0UL);
  check_eq(read_sysreg(s3_0_c13_c0_5), 0x9abcdef0UL, "ACCDATA_EL1 keeps bits 31:0 (63:32 are RES0)");
  exc_arm(EXC_SKIP);
  st64bv0((u64)&buf[24], pattern);
  check_eq(buf[24], (pattern[0] & 0xffffffff00000000UL) | 0x9abcdef0UL, "ST64BV0: ACCDATA_EL1 replaces bits 31:0 of the first doubleword");
  int rest = 1;
  for (int i = 1; i < 8; i++) rest &= buf[24 + i] == pattern[i];
  check(rest, "  the other doublewords are x1..x7");

  exc_arm(EXC_SKIP);
  ld64b((u64)&buf[1]);
  expect_abort((u64)&buf[1], FSC_ALIGNMENT, 0, "LD64B 8 bytes off a 64-byte boundary: an alignment fault");
  exc_arm(EXC_SKIP);
  st64b((u64)buf + 32, in);
  expect_abort((u64)buf + 32, FSC_ALIGNMENT, 1, "ST64B 32 bytes off: an alignment fault (WnR = 1)");

  exc_arm(EXC_SKIP);
  __asm__ volatile(".inst 0xf83fd121" ::: "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "memory"); /* ld64b x1, [x9] */
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "LD64B with an odd Rt is UNDEFINED");
  exc_arm(EXC_SKIP);
  __asm__ volatile(".inst 0xf83f9138" ::: "memory"); /* st64b x24, [x9]: x24..x31 do not exist */
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "ST64B with Rt = 24 is UNDEFINED");
  exc_disarm();
}

static void memory_types(void) {
  mmu_config(12, 39);
  u64 *root = pt_new();
  pt_identity(root);
  pt_map(root, TEST_VA_WB, (u64)buf & ~0xfffUL, 0x1000, PT_NORMAL | PT_PAGES);
  pt_map(root, TEST_VA_NC, (u64)buf & ~0xfffUL, 0x1000, PT_ATTR(MT_NORMAL_NC) | PT_SH_INNER | PT_AF | PT_PAGES);
  mmu_enable(root, NULL);
  u64 off = (u64)buf & 0xfff;
  for (int i = 0; i < 8; i++) buf[i] = pattern[i];
  exc_arm(EXC_SKIP);
  ld64b(TEST_VA_WB + off);
  expect_abort(TEST_VA_WB + off, DFSC_UNSUPPORTED_ATOMIC, 0, "LD64B from Normal write-back memory: unsupported atomic access fault");
  exc_arm(EXC_SKIP);
  ld64b(TEST_VA_NC + off);
  check(exc.count == 0 && same8(out, pattern), "LD64B from Normal Non-cacheable memory works");
  exc_disarm();
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~1UL);
  isb();
}

static void work_queue(void) {
  u64 desc[8];
  for (int i = 0; i < 8; i++) desc[i] = 0xd0d0000000000000UL | ((u64)i << 32) | 0xc0de;
  exc_arm(EXC_SKIP);
  u64 status = st64bv(WQ_BASE, desc);
  check(exc.count == 0 && status == 0, "ST64BV to the work queue's portal: status 0 (accepted)");
  check_eq(mmio_read32(WQ_BASE + WQ_PENDING), 1, "  one descriptor pending");
  exc_arm(EXC_SKIP);
  ld64b(WQ_BASE);
  check(exc.count == 0 && same8(out, desc), "LD64B from the portal dequeues the same 64 bytes");
  check_eq(mmio_read32(WQ_BASE + WQ_PENDING), 0, "  none pending");

  int accepted = 0;
  for (int i = 0; i < WQ_DEPTH; i++) accepted += st64bv0(WQ_BASE, desc) == 0;
  check_eq(accepted, WQ_DEPTH, "ST64BV0 fills the queue: each accepted");
  check_eq(st64bv(WQ_BASE, desc), 1, "  one more: status 1 (retry), the queue is full");
  ld64b(WQ_BASE);
  check_eq(out[0], (desc[0] & 0xffffffff00000000UL) | 0x9abcdef0UL, "  ST64BV0's descriptor carries ACCDATA_EL1");
  exc_arm(EXC_SKIP);
  st64b(WQ_BASE, pattern);
  check(exc.count == 0, "ST64B to the portal takes no exception (no status to return)");
  exc_disarm();
}

static void uart_refuses(void) {
  exc_arm(EXC_SKIP);
  ld64b(UART1);
  expect_abort(UART1, DFSC_SYNC_EXTERNAL, 0, "LD64B from the 8250: a synchronous external abort");
  exc_arm(EXC_SKIP);
  u64 status = st64bv(UART1, pattern);
  expect_abort(UART1, DFSC_SYNC_EXTERNAL, 1, "ST64BV to the 8250: a synchronous external abort");
  check_eq(status, 0x5555, "  and Xs is not written");
  exc_disarm();
}

int main(u64 dtb) {
  u64 level = read_sysreg(id_aa64isar1_el1) >> 60;
  puts("# ls64: ID_AA64ISAR1_EL1.LS64 = ");
  put_dec(level);
  puts("\n");
  if (level == 0) {
    without_feature();
    return failures;
  }
  check_eq(level, 3, "ID_AA64ISAR1_EL1.LS64 = 3 (LS64, LS64_V, LS64_ACCDATA)");
  ram_mmu_off();
  work_queue();
  uart_refuses();
  memory_types();
  return failures;
}
