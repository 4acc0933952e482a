/* A tiny runtime for bare-metal EL1 test guests: console on kvmtool's ttyS0, PSCI, and
   exception hooks. Tests print "ok"/"not ok" lines and end with exit(status), which prints
   kvm-unit-tests' "EXIT: STATUS=<(status << 1) | 1>" line and calls PSCI SYSTEM_OFF.

   Helpers for the EL1 and machine tests live here too: recording synchronous exceptions,
   running code at EL0, stage 1 page tables for every granule, the GICv3, the generic timer,
   and PSCI CPU_ON for secondary vCPUs. */
#ifndef GUEST_H
#define GUEST_H

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef long s64;
typedef int s32;

#define NULL ((void *)0)
#define UART0 0x01000000UL
#define RTC_BASE 0x01010000UL
#define FLASH_BASE 0x02000000UL
#define RAM_BASE 0x80000000UL

void putc(char c);
void puts(const char *s);
void put_hex(u64 v);
void put_dec(u64 v);
void exit(int status) __attribute__((noreturn));
u64 hvc_call(u64 fn, u64 a1, u64 a2, u64 a3);
void *memset(void *d, int c, u64 n);
void *memcpy(void *d, const void *s, u64 n);

/* The exception that reached the vectors; a test handler returns 1 if it handled it. */
struct exception {
  u64 kind; /* vector index 0-15: (group << 2) | type, type 0 sync 1 irq 2 fiq 3 serror */
  u64 esr, elr, far;
  u64 *frame; /* x0..x18, x30 as saved; frame[31] = ELR, frame[32] = SPSR */
};
extern int (*exception_hook)(struct exception *e);

/* Test reporting, TAP-like. */
void check(int ok, const char *what);
/* check() that also prints the value seen and the one expected when they differ. */
void check_eq(u64 got, u64 want, const char *what);
extern int failures;

#define read_sysreg(r) ({ u64 __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((u64)(v)))
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")
#define barrier() __asm__ volatile("" ::: "memory")

/* MMIO accessors as Linux writes them (arch/arm64/include/asm/io.h): one plain load or store
   in inline asm, so the compiler cannot pick a writeback or pair form, which has no valid
   syndrome and which KVM cannot emulate (lkvm warns about those: --mmio-syndrome). */
#define MMIO_READ(name, type, insn, reg)                                   \
  static inline type name(u64 a) {                                        \
    type v;                                                               \
    __asm__ volatile(insn " %" reg "0, [%1]" : "=r"(v) : "r"(a) : "memory"); \
    return v;                                                             \
  }
#define MMIO_WRITE(name, type, insn, reg)                                     \
  static inline void name(u64 a, type v) {                                   \
    __asm__ volatile(insn " %" reg "0, [%1]" ::"rZ"(v), "r"(a) : "memory");  \
  }
MMIO_READ(mmio_read8, u8, "ldrb", "w")
MMIO_READ(mmio_read16, u16, "ldrh", "w")
MMIO_READ(mmio_read32, u32, "ldr", "w")
MMIO_READ(mmio_read64, u64, "ldr", "x")
MMIO_WRITE(mmio_write8, u8, "strb", "w")
MMIO_WRITE(mmio_write16, u16, "strh", "w")
MMIO_WRITE(mmio_write32, u32, "str", "w")
MMIO_WRITE(mmio_write64, u64, "str", "x")

/* ---- syndromes (ARM ARM D17.2.37 ESR_ELx) ---- */
#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_IL (1UL << 25)
#define ESR_ISS(esr) ((esr) & 0x1ffffff)
#define EC_UNKNOWN 0x00
#define EC_WFX 0x01
#define EC_ILLEGAL 0x0e
#define EC_SVC64 0x15
#define EC_SYS64 0x18
#define EC_IABT_LOWER 0x20
#define EC_IABT_CUR 0x21
#define EC_PC_ALIGN 0x22
#define EC_DABT_LOWER 0x24
#define EC_DABT_CUR 0x25
#define EC_SP_ALIGN 0x26
#define EC_BRK64 0x3c
/* Data/instruction abort ISS fields. */
#define ISS_ISV (1UL << 24)
#define ISS_WNR (1UL << 6)
#define ISS_CM (1UL << 8)
#define ISS_FSC(esr) ((esr) & 0x3f)
#define FSC_TRANSLATION(level) (0x04 | (level))
#define FSC_ACCESS(level) (0x08 | (level))
#define FSC_PERMISSION(level) (0x0c | (level))
#define FSC_ALIGNMENT 0x21
/* Vector kinds (offset from VBAR_EL1 / 0x80). */
#define VEC_CUR_SP0_SYNC 0
#define VEC_CUR_SPX_SYNC 4
#define VEC_CUR_SPX_IRQ 5
#define VEC_LOWER64_SYNC 8
#define VEC_LOWER64_IRQ 9

/* ---- recording synchronous exceptions ----
   exc_arm(resume) makes the next synchronous exception taken at EL1 (from EL1) be recorded in
   `exc` instead of failing the test; it then resumes at `resume`, or after the faulting
   instruction (EXC_SKIP), at ELR_EL1 as the exception set it (EXC_RETURN), or at the x30 the
   exception interrupted (EXC_RESUME_X30). */
struct exc_record {
  u64 count, kind, esr, elr, far, spsr;
};
extern volatile struct exc_record exc;
#define EXC_SKIP 0UL
#define EXC_RETURN 1UL
#define EXC_RESUME_X30 2UL /* at the saved x30: `blr` to a faulting target resumes after it */
void exc_arm(u64 resume);
void exc_disarm(void);

/* ---- EL0 ----
   run_el0 erets to `entry` at EL0t with x0 = arg and SP_EL0 = sp, and returns when EL0 takes
   any synchronous exception (which is recorded in `exc`), with EL0's x0 at that point. EL0 code
   ends with an SVC. `el0_spsr` is the SPSR used (default 0: EL0t, interrupts unmasked). */
u64 run_el0(u64 entry, u64 arg, u64 sp);
extern u64 el0_spsr;

/* ---- interrupts ---- */
extern void (*irq_handler)(void);
static inline void irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("dsb sy\n wfi" ::: "memory"); }

/* ---- the generic timer ---- */
static inline u64 cntvct(void) { isb(); return read_sysreg(cntvct_el0); }
static inline u64 cntfrq(void) { return read_sysreg(cntfrq_el0); }
/* Busy-waits for `us` microseconds of the virtual counter. */
void udelay(u64 us);
#define CNT_CTL_ENABLE 1
#define CNT_CTL_IMASK 2
#define CNT_CTL_ISTATUS 4
#define PPI_VTIMER 27
#define PPI_PTIMER 30

/* ---- GICv3 (kvmtool: distributor at 0x3fff0000, redistributors right below it) ---- */
#define GICD_BASE 0x3fff0000UL
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ISPENDR 0x0200
#define GICD_ICPENDR 0x0280
#define GICD_ISACTIVER 0x0300
#define GICD_ICACTIVER 0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IROUTER 0x6000 /* + 8 * INTID */
#define GICD_PIDR2 0xffe8
#define GICR_CTLR 0x0000
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_PIDR2 0xffe8
#define GICR_SGI 0x10000 /* the SGI_base frame */
#define GICR_IGROUPR0 (GICR_SGI + 0x0080)
#define GICR_ISENABLER0 (GICR_SGI + 0x0100)
#define GICR_ICENABLER0 (GICR_SGI + 0x0180)
#define GICR_ISPENDR0 (GICR_SGI + 0x0200)
#define GICR_ICPENDR0 (GICR_SGI + 0x0280)
#define GICR_ISACTIVER0 (GICR_SGI + 0x0300)
#define GICR_ICACTIVER0 (GICR_SGI + 0x0380)
#define GICR_IPRIORITYR (GICR_SGI + 0x0400)
#define GICR_ICFGR1 (GICR_SGI + 0x0c04)
#define GIC_SPURIOUS 1023
/* Number of vCPUs (from the redistributor layout) and this vCPU's RD_base. */
int gic_ncpus(void);
u64 gicr_base(int cpu);
int this_cpu(void); /* MPIDR Aff0 */
/* Distributor (Group 1, affinity routing) plus this CPU's redistributor and CPU interface. */
void gic_init(void);
/* Only this CPU's redistributor and CPU interface (for secondaries). */
void gic_cpu_init(void);
void gic_enable_irq(u32 intid); /* SPIs are routed to this CPU */
void gic_disable_irq(u32 intid);
void gic_set_priority(u32 intid, u8 prio);
void gic_set_edge(u32 intid, int edge); /* SPIs and PPIs */
static inline u32 gic_ack(void) { u32 v = read_sysreg(icc_iar1_el1); dsb(sy); return v & 0xffffff; }
static inline void gic_eoi(u32 intid) { write_sysreg(icc_eoir1_el1, intid); isb(); }
/* ICC_SGI1R_EL1 to one CPU (Aff1 = 0, target list bit Aff0). */
void gic_send_sgi(u32 intid, int cpu);

/* ---- PSCI (over HVC, as kvmtool's DT says) ---- */
#define PSCI_VERSION 0x84000000UL
#define PSCI_CPU_SUSPEND 0xc4000001UL
#define PSCI_CPU_OFF 0x84000002UL
#define PSCI_CPU_ON 0xc4000003UL
#define PSCI_AFFINITY_INFO 0xc4000004UL
#define PSCI_MIGRATE_INFO_TYPE 0x84000006UL
#define PSCI_SYSTEM_OFF 0x84000008UL
#define PSCI_SYSTEM_RESET 0x84000009UL
#define PSCI_FEATURES 0x8400000aUL
#define SMCCC_VERSION 0x80000000UL
#define SMCCC_ARCH_FEATURES 0x80000001UL
/* Starts vCPU `cpu` (MPIDR Aff0) at secondary_entry with the MMU off: it sets up its own stack
   and vectors and calls fn(arg); when fn returns it calls PSCI CPU_OFF. Returns PSCI's x0. */
s64 cpu_on(int cpu, void (*fn)(u64), u64 arg);
void secondary_entry(void);

/* ---- stage 1 translation (EL1&0) for any granule ----
   mmu_config picks the granule (12, 14 or 16: 4K/16K/64K) and the VA size for both TTBRs;
   pt_new() allocates a zeroed table from a pool in RAM (0x80800000..0x80c00000); pt_map maps
   with the largest blocks alignment allows unless PT_PAGES is given, splitting blocks in the
   way; pt_identity maps the device space (0..1 GiB) as Device-nGnRnE and RAM as Normal. */
#define PT_VALID (1UL << 0)
#define PT_TABLE (1UL << 1) /* also "page" at level 3 */
#define PT_ATTR(idx) ((u64)(idx) << 2)
#define PT_EL0 (1UL << 6)   /* AP[1]: EL0 access */
#define PT_RO (1UL << 7)    /* AP[2]: read-only */
#define PT_SH_INNER (3UL << 8)
#define PT_AF (1UL << 10)
#define PT_NG (1UL << 11)
#define PT_PXN (1UL << 53)
#define PT_UXN (1UL << 54)
#define PT_PAGES (1UL << 58) /* software flag for pt_map: never use blocks */
#define MT_DEVICE 0 /* MAIR indexes set by mmu_config */
#define MT_NORMAL 1
#define MT_NORMAL_NC 2
#define PT_NORMAL (PT_ATTR(MT_NORMAL) | PT_SH_INNER | PT_AF)
#define PT_DEVICE (PT_ATTR(MT_DEVICE) | PT_AF | PT_PXN | PT_UXN)
#define MAIR_VALUE 0x44ff00UL
#define SCTLR_M (1UL << 0)
#define SCTLR_A (1UL << 1)
#define SCTLR_C (1UL << 2)
#define SCTLR_SA (1UL << 3)
#define SCTLR_I (1UL << 12)
#define SCTLR_WXN (1UL << 19)
#define SCTLR_E0E (1UL << 24)
#define SCTLR_EE (1UL << 25)
void mmu_config(int granule_shift, int va_bits);
u64 mmu_tcr(void); /* the TCR_EL1 value for the current configuration (AS = 1: 16-bit ASIDs) */
u64 page_size(void);
u64 *pt_new(void);
/* Forgets every table (only while the MMU is off). */
void pt_pool_reset(void);
void pt_map(u64 *root, u64 va, u64 pa, u64 size, u64 attrs);
void pt_identity(u64 *root);
/* The descriptor that maps va (a block or a page), and its level; NULL if none. */
u64 *pt_leaf(u64 *root, u64 va, int *level);
/* Loads TCR/MAIR/TTBR0/TTBR1 (ttbr1 may be NULL: EPD1) and turns on M, C, I. */
void mmu_enable(u64 *ttbr0, u64 *ttbr1);
void mmu_disable(void);
static inline void tlbi_all(void) {
  __asm__ volatile("dsb ishst\n tlbi vmalle1\n dsb ish\n isb" ::: "memory");
}

#endif
