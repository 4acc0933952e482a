/* A tiny runtime for bare-metal EL1 test guests: console on kvmtool's ttyS0, PSCI, and
   exception hooks. Tests print "ok"/"not ok" lines and end with exit(status), which prints
   kvm-unit-tests' "EXIT: STATUS=<(status << 1) | 1>" line and calls PSCI SYSTEM_OFF. */
#ifndef GUEST_H
#define GUEST_H

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef long s64;

#define UART0 0x01000000UL

void putc(char c);
void puts(const char *s);
void put_hex(u64 v);
void put_dec(u64 v);
void exit(int status) __attribute__((noreturn));
u64 hvc_call(u64 fn, u64 a1, u64 a2, u64 a3);

/* The exception that reached the vectors; a test handler returns 1 if it handled it. */
struct exception {
  u64 kind; /* vector index 0-15: (group << 2) | type, type 0 sync 1 irq 2 fiq 3 serror */
  u64 esr, elr, far;
  u64 *frame; /* x0..x18, x30 as saved; frame[31] = ELR, frame[32] = SPSR */
};
extern int (*exception_hook)(struct exception *e);

/* Test reporting, TAP-like. */
void check(int ok, const char *what);
extern int failures;

#define read_sysreg(r) ({ u64 __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((u64)(v)))
#define isb() __asm__ volatile("isb" ::: "memory")

static inline u32 mmio_read32(u64 a) { return *(volatile u32 *)a; }
static inline void mmio_write32(u64 a, u32 v) { *(volatile u32 *)a = v; }
static inline u8 mmio_read8(u64 a) { return *(volatile u8 *)a; }
static inline void mmio_write8(u64 a, u8 v) { *(volatile u8 *)a = v; }

#endif
