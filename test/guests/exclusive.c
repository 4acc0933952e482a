/* Exclusive monitors with two vCPUs (run with -c 2): a store-exclusive succeeds only when no
   other observer wrote the location since the load-exclusive; LDXR/STXR pairs from both vCPUs
   build a correct atomic counter; CLREX and a second LDXR behave as the ARM ARM says.
   ARM ARM B2.9 (exclusive access instructions and monitors). */
#include "guest.h"

static volatile u64 word __attribute__((aligned(64)));
static volatile u64 counter __attribute__((aligned(64)));
static volatile u64 step, done1;
#define ITERS 20000

static u64 ldxr(volatile u64 *p) {
  u64 v;
  __asm__ volatile("ldxr %0, [%1]" : "=r"(v) : "r"(p) : "memory");
  return v;
}
static u32 stxr(volatile u64 *p, u64 v) {
  u32 fail;
  __asm__ volatile("stxr %w0, %2, [%1]" : "=&r"(fail) : "r"(p), "r"(v) : "memory");
  return fail;
}
static void atomic_inc(volatile u64 *p) {
  u64 v;
  do v = ldxr(p);
  while (stxr(p, v + 1));
}

static void secondary(u64 arg) {
  while (step != 1) {
  }
  word = 0x2222; /* a plain store by another vCPU, between vCPU 0's LDXR and STXR */
  dsb(sy);
  step = 2;
  for (int i = 0; i < ITERS; i++) atomic_inc(&counter);
  done1 = 1;
  dsb(sy);
}

int main(u64 dtb) {
  word = 0x1111;
  check_eq(ldxr(&word), 0x1111, "LDXR reads the value");
  check_eq(stxr(&word, 0x1112), 0, "STXR right after it succeeds (status 0)");
  check_eq(word, 0x1112, "  and stores");
  check_eq(stxr(&word, 0x1113), 1, "a second STXR without LDXR fails (status 1)");
  check_eq(word, 0x1112, "  and stores nothing");
  ldxr(&word);
  __asm__ volatile("clrex" ::: "memory");
  check_eq(stxr(&word, 0x1114), 1, "CLREX between LDXR and STXR makes it fail");
  ldxr(&word);
  word = 0x1115; /* a plain store by this PE to the location */
  u32 st = stxr(&word, 0x1116);
  check(st == 0 || st == 1, "  (a store by the same PE in between leaves STXR free to succeed or fail)");

  check_eq(cpu_on(1, secondary, 0), 0, "CPU_ON vCPU 1");
  ldxr(&word);
  step = 1;
  dsb(sy);
  while (step != 2) {
  }
  check_eq(stxr(&word, 0x3333), 1, "another vCPU's store between LDXR and STXR makes STXR fail");
  check_eq(word, 0x2222, "  and the other vCPU's value stays");

  for (int i = 0; i < ITERS; i++) atomic_inc(&counter);
  while (!done1) {
  }
  check_eq(counter, 2 * ITERS, "LDXR/STXR increments from both vCPUs all count");
  return failures;
}
