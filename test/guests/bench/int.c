/* Integer CPU benchmark: table-driven CRC-32, a sieve of Eratosthenes, and a 64-bit
   multiply/xorshift mix. Each kernel runs a fixed amount of work (so every machine executes
   the same instruction stream), timed with the generic timer; results are printed as
   "bench <name> ticks=<n> freq=<hz> check=<hex>" lines for tools/bench.ts. Run with the MMU
   off (PA = VA) and then on (identity map, caches on).
   BENCH_SCALE multiplies each kernel's round count: 1 builds the short variant (int.bin,
   11-21 M instructions a kernel, where a JIT's warm-up is most of the time), 20 the long one
   (int-long.bin, 230-420 M a kernel: steady-state throughput). */
#include "bench/platform.h"

#ifndef BENCH_SCALE
#define BENCH_SCALE 1
#endif

#define SIEVE_N 200000
static u8 sieve_buf[SIEVE_N];
static u32 crc_table[256];
static u8 crc_data[65536];

static void out(const char *s) {
  while (*s) {
    if (*s == '\n') platform_putc('\r');
    platform_putc(*s++);
  }
}
static void out_dec(u64 v) {
  char b[24];
  int i = 0;
  do { b[i++] = '0' + v % 10; v /= 10; } while (v);
  while (i) platform_putc(b[--i]);
}
static void out_hex(u64 v) {
  out("0x");
  for (int s = 60; s >= 0; s -= 4) platform_putc("0123456789abcdef"[(v >> s) & 15]);
}

static u64 crc_kernel(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  for (u32 i = 0; i < sizeof crc_data; i++) crc_data[i] = (u8)(i * 131 + (i >> 8));
  u32 crc = 0;
  for (int round = 0; round < 24 * BENCH_SCALE; round++) {
    u32 c = ~crc;
    for (u32 i = 0; i < sizeof crc_data; i++) c = crc_table[(c ^ crc_data[i]) & 0xff] ^ (c >> 8);
    crc = ~c;
  }
  return crc;
}

static u64 sieve_kernel(void) {
  u64 total = 0;
  for (int round = 0; round < 6 * BENCH_SCALE; round++) {
    for (u32 i = 0; i < SIEVE_N; i++) sieve_buf[i] = 1;
    sieve_buf[0] = sieve_buf[1] = 0;
    for (u32 i = 2; i * i < SIEVE_N; i++)
      if (sieve_buf[i])
        for (u32 j = i * i; j < SIEVE_N; j += i) sieve_buf[j] = 0;
    for (u32 i = 0; i < SIEVE_N; i++) total += sieve_buf[i];
  }
  return total;
}

static u64 mix_kernel(void) {
  u64 x = 0x9e3779b97f4a7c15ull, acc = 0;
  for (u32 i = 0; i < 3000000u * BENCH_SCALE; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    acc += x * 0x2545f4914f6cdd1dull;
    acc ^= acc >> 29;
  }
  return acc;
}

static void run(const char *name, u64 (*kernel)(void)) {
  u64 t0 = read_sysreg(cntvct_el0);
  u64 check = kernel();
  u64 t1 = read_sysreg(cntvct_el0);
  out("bench ");
  out(name);
  out(" ticks=");
  out_dec(t1 - t0);
  out(" freq=");
  out_dec(read_sysreg(cntfrq_el0));
  out(" check=");
  out_hex(check);
  out("\n");
}

/* Identity-map the first 4 GiB with 1 GiB blocks: device memory below RAM, normal from it. */
#ifdef PLATFORM_QEMU_VIRT
#define RAM_FIRST_GIB 1
#else
#define RAM_FIRST_GIB 2
#endif
static u64 tables[512] __attribute__((aligned(4096)));
static void mmu_on(void) {
  for (u64 i = 0; i < 4; i++) {
    u64 attr = i < RAM_FIRST_GIB ? (0 << 2) : (1 << 2); /* AttrIndx 0 device, 1 normal */
    tables[i] = (i << 30) | attr | (1 << 10) | (3 << 8) | 1;
  }
  write_sysreg(mair_el1, 0xff00);
  /* T0SZ = 32 (4 GiB, starts at level 1), 4K granule, WB caches, inner shareable, IPS 48 bits, EPD1. */
  write_sysreg(tcr_el1, 32 | (1 << 8) | (1 << 10) | (3 << 12) | (1UL << 23) | (5UL << 32));
  write_sysreg(ttbr0_el1, (u64)tables);
  isb();
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | 1 | (1 << 2) | (1 << 12));
  isb();
}

int main(u64 dtb) {
  (void)dtb;
  out("bench begin mmu=off\n");
  run("crc32", crc_kernel);
  run("sieve", sieve_kernel);
  run("mix64", mix_kernel);
  mmu_on();
  out("bench begin mmu=on\n");
  run("crc32", crc_kernel);
  run("sieve", sieve_kernel);
  run("mix64", mix_kernel);
  out("bench end\n");
  hvc_call(0x84000008, 0, 0, 0); /* PSCI SYSTEM_OFF, on both machines */
  return 0;
}
