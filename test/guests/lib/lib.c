#include "guest.h"

int failures;
int (*exception_hook)(struct exception *e);
void (*irq_handler)(void);
volatile struct exc_record exc;
static volatile u64 exc_armed, exc_resume;
u64 el0_spsr;
/* Set while run_el0 runs EL0 code; the lower-EL vectors then return to run_el0's caller. */
volatile u64 el0_active;
extern char el0_return[];

void *memset(void *d, int c, u64 n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}

void *memcpy(void *d, const void *s, u64 n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

void putc(char c) {
  /* 8250: wait for THRE, then write THR. */
  while (!(mmio_read8(UART0 + 5) & 0x20)) {
  }
  mmio_write8(UART0, (u8)c);
}

void puts(const char *s) {
  while (*s) {
    if (*s == '\n') putc('\r');
    putc(*s++);
  }
}

void put_hex(u64 v) {
  puts("0x");
  int started = 0;
  for (int shift = 60; shift >= 0; shift -= 4) {
    int d = (v >> shift) & 0xf;
    if (d || started || shift == 0) {
      putc("0123456789abcdef"[d]);
      started = 1;
    }
  }
}

void put_dec(u64 v) {
  char buf[24];
  int i = 0;
  do {
    buf[i++] = '0' + v % 10;
    v /= 10;
  } while (v);
  while (i) putc(buf[--i]);
}

u64 hvc_call(u64 fn, u64 a1, u64 a2, u64 a3) {
  register u64 x0 __asm__("x0") = fn;
  register u64 x1 __asm__("x1") = a1;
  register u64 x2 __asm__("x2") = a2;
  register u64 x3 __asm__("x3") = a3;
  __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
  return x0;
}

void check(int ok, const char *what) {
  puts(ok ? "ok - " : "not ok - ");
  puts(what);
  puts("\n");
  if (!ok) failures++;
}

void check_eq(u64 got, u64 want, const char *what) {
  check(got == want, what);
  if (got != want) {
    puts("#   got ");
    put_hex(got);
    puts(", want ");
    put_hex(want);
    puts("\n");
  }
}

void exit(int status) {
  puts("EXIT: STATUS=");
  put_dec(((u64)status << 1) | 1);
  puts("\n");
  hvc_call(PSCI_SYSTEM_OFF, 0, 0, 0);
  for (;;) __asm__ volatile("wfi");
}

void exc_arm(u64 resume) {
  exc.count = 0;
  exc.kind = exc.esr = exc.elr = exc.far = exc.spsr = ~0UL;
  exc_resume = resume;
  exc_armed = 1;
  barrier();
}

void exc_disarm(void) {
  exc_armed = 0;
  barrier();
}

static void record(struct exception *e) {
  exc.count++;
  exc.kind = e->kind;
  exc.esr = e->esr;
  exc.elr = e->elr;
  exc.far = e->far;
  exc.spsr = e->frame[32];
}

void on_exception(u64 kind, u64 esr, u64 elr, u64 far, u64 *frame) {
  struct exception e = {kind, esr, elr, far, frame};
  if (exception_hook && exception_hook(&e)) return;
  u64 type = kind & 3;
  if (type == 1 && irq_handler) {
    irq_handler();
    return;
  }
  if (type == 0 && kind >= 8 && el0_active) {
    /* From EL0: record it and return from run_el0 (EL1h, interrupts masked). */
    record(&e);
    el0_active = 0;
    frame[31] = (u64)el0_return;
    frame[32] = 0x3c5;
    return;
  }
  if (type == 0 && kind < 8 && exc_armed) {
    record(&e);
    exc_armed = 0;
    if (exc_resume == EXC_SKIP) frame[31] = elr + 4;
    else if (exc_resume == EXC_RESUME_X30) frame[31] = frame[19];
    else if (exc_resume != EXC_RETURN) frame[31] = exc_resume;
    return;
  }
  puts("unexpected exception: vector ");
  put_dec(kind);
  puts(" esr ");
  put_hex(esr);
  puts(" elr ");
  put_hex(elr);
  puts(" far ");
  put_hex(far);
  puts("\n");
  exit(99);
}

void udelay(u64 us) {
  u64 start = cntvct();
  u64 ticks = us * (cntfrq() / 1000000);
  while (cntvct() - start < ticks) {
  }
}

/* ---- GICv3 ---- */

int this_cpu(void) { return read_sysreg(mpidr_el1) & 0xff; }

int gic_ncpus(void) {
  /* The topmost redistributor (right below the distributor) is the last vCPU's. */
  u64 typer = mmio_read64(GICD_BASE - 0x20000 + GICR_TYPER);
  return (int)((typer >> 8) & 0xffff) + 1;
}

u64 gicr_base(int cpu) { return GICD_BASE - (u64)gic_ncpus() * 0x20000 + (u64)cpu * 0x20000; }

void gic_cpu_init(void) {
  u64 rd = gicr_base(this_cpu());
  /* Wake the redistributor. */
  mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~2u);
  while (mmio_read32(rd + GICR_WAKER) & 4) {
  }
  mmio_write32(rd + GICR_IGROUPR0, 0xffffffff);
  mmio_write32(rd + GICR_ICENABLER0, 0xffffffff);
  mmio_write32(rd + GICR_ICPENDR0, 0xffffffff);
  mmio_write32(rd + GICR_ICACTIVER0, 0xffffffff);
  for (int i = 0; i < 32; i += 4) mmio_write32(rd + GICR_IPRIORITYR + i, 0xa0a0a0a0);
  write_sysreg(icc_sre_el1, read_sysreg(icc_sre_el1) | 1);
  isb();
  write_sysreg(icc_pmr_el1, 0xff);
  write_sysreg(icc_bpr1_el1, 0);
  write_sysreg(icc_ctlr_el1, 0);
  write_sysreg(icc_igrpen1_el1, 1);
  isb();
}

void gic_init(void) {
  /* ARE (bit 4), EnableGrp1 (bit 1) with DS = 1. */
  mmio_write32(GICD_BASE + GICD_CTLR, 0);
  while (mmio_read32(GICD_BASE + GICD_CTLR) & (1u << 31)) {
  }
  u32 lines = ((mmio_read32(GICD_BASE + GICD_TYPER) & 0x1f) + 1) * 32;
  for (u32 i = 32; i < lines; i += 32) {
    mmio_write32(GICD_BASE + GICD_IGROUPR + i / 8, 0xffffffff);
    mmio_write32(GICD_BASE + GICD_ICENABLER + i / 8, 0xffffffff);
    mmio_write32(GICD_BASE + GICD_ICPENDR + i / 8, 0xffffffff);
    mmio_write32(GICD_BASE + GICD_ICACTIVER + i / 8, 0xffffffff);
  }
  for (u32 i = 32; i < lines; i += 4) mmio_write32(GICD_BASE + GICD_IPRIORITYR + i, 0xa0a0a0a0);
  mmio_write32(GICD_BASE + GICD_CTLR, (1 << 4) | (1 << 1));
  while (mmio_read32(GICD_BASE + GICD_CTLR) & (1u << 31)) {
  }
  gic_cpu_init();
}

void gic_enable_irq(u32 intid) {
  if (intid < 32) {
    mmio_write32(gicr_base(this_cpu()) + GICR_ISENABLER0, 1u << intid);
  } else {
    u64 mpidr = read_sysreg(mpidr_el1);
    mmio_write64(GICD_BASE + GICD_IROUTER + 8 * intid, mpidr & 0xff00ffffffUL);
    mmio_write32(GICD_BASE + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
  }
  dsb(sy);
}

void gic_disable_irq(u32 intid) {
  if (intid < 32) mmio_write32(gicr_base(this_cpu()) + GICR_ICENABLER0, 1u << intid);
  else mmio_write32(GICD_BASE + GICD_ICENABLER + (intid / 32) * 4, 1u << (intid % 32));
  dsb(sy);
}

void gic_set_priority(u32 intid, u8 prio) {
  u64 a = intid < 32 ? gicr_base(this_cpu()) + GICR_IPRIORITYR + intid : GICD_BASE + GICD_IPRIORITYR + intid;
  mmio_write8(a, prio);
}

void gic_set_edge(u32 intid, int edge) {
  u64 a = intid < 32 ? gicr_base(this_cpu()) + GICR_ICFGR1 : GICD_BASE + GICD_ICFGR + (intid / 16) * 4;
  u32 shift = (intid % 16) * 2 + 1;
  u32 v = mmio_read32(a);
  v = edge ? v | (1u << shift) : v & ~(1u << shift);
  mmio_write32(a, v);
}

void gic_send_sgi(u32 intid, int cpu) {
  u64 v = ((u64)intid << 24) | (1UL << (cpu & 0xf)) | ((u64)((cpu >> 4) & 0xff) << 16);
  dsb(sy);
  write_sysreg(icc_sgi1r_el1, v);
  isb();
}

/* ---- PSCI CPU_ON ---- */

/* Per-vCPU boot data read by secondary_entry (start.S) with the MMU off. */
u64 secondary_stack_top[16];
void (*secondary_fn[16])(u64);
static u8 secondary_stacks[16][8192] __attribute__((aligned(16)));

s64 cpu_on(int cpu, void (*fn)(u64), u64 arg) {
  secondary_stack_top[cpu] = (u64)&secondary_stacks[cpu][8192];
  secondary_fn[cpu] = fn;
  dsb(sy);
  return (s64)hvc_call(PSCI_CPU_ON, (u64)cpu, (u64)secondary_entry, arg);
}

/* ---- stage 1 translation ---- */

static int pg_shift = 12, va_size = 39;
static u64 pool_next = 0x80800000UL;
#define POOL_END 0x80c00000UL

void mmu_config(int granule_shift, int va_bits) {
  pg_shift = granule_shift;
  va_size = va_bits;
}

u64 page_size(void) { return 1UL << pg_shift; }

static int level_shift(int level) { return pg_shift + (pg_shift - 3) * (3 - level); }

static int start_level(void) {
  int stride = pg_shift - 3;
  int levels = (va_size - pg_shift + stride - 1) / stride;
  return 4 - levels;
}

static int block_allowed(int level) {
  return level == 3 || level == 2 || (level == 1 && pg_shift == 12);
}

static u64 index_at(u64 va, int level) {
  int bits = level == start_level() ? va_size - level_shift(level) : pg_shift - 3;
  return (va >> level_shift(level)) & ((1UL << bits) - 1);
}

void pt_pool_reset(void) { pool_next = 0x80800000UL; }

u64 *pt_new(void) {
  u64 size = page_size();
  pool_next = (pool_next + size - 1) & ~(size - 1);
  if (pool_next + size > POOL_END) {
    puts("page table pool exhausted\n");
    exit(98);
  }
  u64 *t = (u64 *)pool_next;
  pool_next += size;
  for (u64 i = 0; i < size / 8; i++) t[i] = 0;
  return t;
}

#define DESC_ADDR(d) ((d) & 0x0000fffffffff000UL & ~(page_size() - 1))

/* The next-level table under *d, creating it (or splitting a block into it) if needed. */
static u64 *next_table(u64 *d, int level) {
  if ((*d & 3) == 3) return (u64 *)DESC_ADDR(*d);
  u64 *t = pt_new();
  if (*d & PT_VALID) {
    /* Split a block: the same attributes, one level down. */
    int child = level + 1;
    u64 attrs = *d & ~0x0000fffffffff000UL & ~3UL;
    u64 base = *d & 0x0000ffffffffffffUL & ~((1UL << level_shift(level)) - 1);
    u64 n = 1UL << (pg_shift - 3);
    for (u64 i = 0; i < n; i++)
      t[i] = (base + (i << level_shift(child))) | attrs | (child == 3 ? 3 : 1);
  }
  *d = (u64)t | 3;
  return t;
}

void pt_map(u64 *root, u64 va, u64 pa, u64 size, u64 attrs) {
  int pages_only = (attrs & PT_PAGES) != 0;
  attrs &= ~PT_PAGES;
  while (size) {
    int level = 3;
    for (int l = start_level(); l < 3; l++) {
      u64 bs = 1UL << level_shift(l);
      if (!pages_only && block_allowed(l) && !(va & (bs - 1)) && !(pa & (bs - 1)) && size >= bs) {
        level = l;
        break;
      }
    }
    u64 *t = root;
    for (int l = start_level(); l < level; l++) t = next_table(&t[index_at(va, l)], l);
    t[index_at(va, level)] = pa | attrs | (level == 3 ? 3 : 1);
    u64 bs = 1UL << level_shift(level);
    va += bs;
    pa += bs;
    size -= bs;
  }
  dsb(ishst);
}

u64 *pt_leaf(u64 *root, u64 va, int *level) {
  u64 *t = root;
  for (int l = start_level(); l <= 3; l++) {
    u64 *d = &t[index_at(va, l)];
    if (!(*d & 1)) return NULL;
    if (l == 3 || (*d & 3) == 1) {
      if (level) *level = l;
      return d;
    }
    t = (u64 *)DESC_ADDR(*d);
  }
  return NULL;
}

void pt_identity(u64 *root) {
  pt_map(root, 0, 0, 0x40000000UL, PT_DEVICE);
  /* All of RAM the guest can have in these tests (up to 1 GiB from 0x80000000). */
  pt_map(root, RAM_BASE, RAM_BASE, 0x40000000UL, PT_NORMAL);
}

u64 mmu_tcr(void) {
  u64 tsz = 64 - va_size;
  u64 tg0 = pg_shift == 12 ? 0 : pg_shift == 16 ? 1 : 2;
  u64 tg1 = pg_shift == 12 ? 2 : pg_shift == 16 ? 3 : 1;
  /* Inner/outer write-back, inner shareable walks; IPS = 48 bits; AS = 16-bit ASIDs. */
  return tsz | (1UL << 8) | (1UL << 10) | (3UL << 12) | (tg0 << 14) | (tsz << 16) | (1UL << 24) |
         (1UL << 26) | (3UL << 28) | (tg1 << 30) | (5UL << 32) | (1UL << 36);
}

void mmu_enable(u64 *ttbr0, u64 *ttbr1) {
  u64 tcr = mmu_tcr();
  if (!ttbr1) tcr |= 1UL << 23; /* EPD1 */
  write_sysreg(mair_el1, MAIR_VALUE);
  write_sysreg(tcr_el1, tcr);
  write_sysreg(ttbr0_el1, (u64)ttbr0);
  write_sysreg(ttbr1_el1, (u64)ttbr1);
  isb();
  __asm__ volatile("dsb ish\n tlbi vmalle1\n dsb ish\n isb" ::: "memory");
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_I);
  isb();
}

void mmu_disable(void) {
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~(SCTLR_M | SCTLR_C));
  isb();
  __asm__ volatile("dsb ish\n tlbi vmalle1\n dsb ish\n isb" ::: "memory");
}
