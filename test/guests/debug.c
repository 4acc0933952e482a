/* Self-hosted debug at EL1 and EL0, MMU off: hardware breakpoints (DBGBVR/DBGBCR), watchpoints
   (DBGWVR/DBGWCR), software step (MDSCR_EL1.SS, PSTATE.SS), the OS lock and the OS double lock.
   ARM ARM D2 (AArch64 self-hosted debug: D2.9 breakpoints, D2.10 watchpoints, D2.12 software
   step), D17.2.37 (ESR_ELx: EC 0x30-0x35, ISS ISV/EX/WnR, FSC 0x22). */
#include "guest.h"

#define MDSCR_SS (1UL << 0)
#define MDSCR_KDE (1UL << 13)
#define MDSCR_MDE (1UL << 15)
#define SPSR_D (1UL << 9)
#define SPSR_SS (1UL << 21)
#define EC_BP_LOWER 0x30
#define EC_BP_CUR 0x31
#define EC_STEP_LOWER 0x32
#define EC_STEP_CUR 0x33
#define EC_WP_CUR 0x35
#define FSC_DEBUG 0x22
#define ISS_EX (1UL << 6)
/* DBGBCR/DBGWCR fields. */
#define BCR_E 1UL
#define PMC_EL1 (1UL << 1)
#define PMC_EL0 (2UL << 1)
#define BAS_A64 (0xfUL << 5)
#define BT_ADDRESS_LINKED (1UL << 20)
#define BT_CONTEXT (2UL << 20)
#define BT_CONTEXT_LINKED (3UL << 20)
#define LBN(n) ((u64)(n) << 16)
#define WCR_LOAD (1UL << 3)
#define WCR_STORE (2UL << 3)
#define WBAS(mask) ((u64)(mask) << 5)
#define WMASK(bits) ((u64)(bits) << 24)

/* Code the tests break on and step through. Global labels: see el0.c. */
__asm__(".pushsection .text\n"
        ".balign 64\n"
        ".global dbg_code, dbg_2, dbg_3\n"
        "dbg_code: mov x0, #1\n"
        "dbg_2: add x0, x0, #2\n"
        "dbg_3: add x0, x0, #4\n"
        "ret\n"
        ".global el0_dbg\n"
        "el0_dbg: mov x0, #1\n add x0, x0, #2\n svc #0\n"
        /* x2: a doubleword for LDXR; x4: a misaligned address (an alignment fault for LDXR). */
        ".global step_code, step_s0, step_s1, step_s2, step_s3, step_s4, step_s5\n"
        "step_code: msr daifclr, #8\n"
        "step_s0: mov x0, #1\n"
        "step_s1: ldxr x1, [x2]\n"
        "step_s2: add x0, x0, #1\n"
        "step_s3: ldxr x3, [x4]\n"
        "step_s4: svc #0\n"
        "step_s5: msr daifset, #8\n"
        "ret\n"
        ".popsection\n");
extern char dbg_code[], dbg_2[], dbg_3[], el0_dbg[];
extern char step_code[], step_s0[], step_s1[], step_s2[], step_s3[], step_s4[], step_s5[];

/* ---- what the handler saw ---- */
struct event {
  u64 ec, iss, elr, far, spsr, seen; /* seen: the watched doubleword when the exception came */
};
static volatile struct event ev[16];
static volatile u64 nev;
static volatile u64 *watched;

/* Debug exceptions return as kvm-unit-tests' handlers do: a breakpoint or watchpoint sets
   SPSR.D so the instruction then runs, a step sets SPSR.SS to step the next one. A data
   abort skips the instruction; an SVC returns after it. */
static int hook(struct exception *e) {
  u64 ec = ESR_EC(e->esr);
  if (e->kind >= 8) return 0; /* from EL0: run_el0 records it */
  if (ec != EC_BP_CUR && ec != EC_STEP_CUR && ec != EC_WP_CUR && ec != EC_DABT_CUR && ec != EC_SVC64) return 0;
  if (nev < 16) {
    volatile struct event *v = &ev[nev];
    v->ec = ec;
    v->iss = ESR_ISS(e->esr);
    v->elr = e->elr;
    v->far = e->far;
    v->spsr = e->frame[32];
    v->seen = watched ? *watched : 0;
  }
  nev++;
  if (ec == EC_BP_CUR || ec == EC_WP_CUR) e->frame[32] |= SPSR_D;
  if (ec == EC_STEP_CUR) e->frame[32] |= SPSR_SS;
  if (ec == EC_DABT_CUR) e->frame[31] = e->elr + 4;
  return 1;
}

static void debug_mask(void) { __asm__ volatile("msr daifset, #8" ::: "memory"); }
static void debug_unmask(void) { __asm__ volatile("msr daifclr, #8\n isb" ::: "memory"); }

/* Everything off, OS lock clear, debug exceptions masked. */
static void reset_debug(void) {
  debug_mask();
  write_sysreg(osdlr_el1, 0);
  write_sysreg(oslar_el1, 0);
  write_sysreg(mdscr_el1, 0);
  write_sysreg(dbgbcr0_el1, 0);
  write_sysreg(dbgbcr1_el1, 0);
  write_sysreg(dbgbcr5_el1, 0);
  write_sysreg(dbgwcr0_el1, 0);
  write_sysreg(dbgwcr1_el1, 0);
  write_sysreg(contextidr_el1, 0);
  isb();
  nev = 0;
  watched = NULL;
}

static u64 call_dbg_code(void) { return ((u64 (*)(void))dbg_code)(); }

static u64 el0_stack[64] __attribute__((aligned(16)));

static void test_id_registers(void) {
  u64 dfr0 = read_sysreg(id_aa64dfr0_el1);
  check_eq(dfr0 & 0xf, 6, "ID_AA64DFR0_EL1.DebugVer = v8.0");
  check_eq((dfr0 >> 12) & 0xf, 5, "ID_AA64DFR0_EL1.BRPs = 5: six breakpoints");
  check_eq((dfr0 >> 20) & 0xf, 3, "ID_AA64DFR0_EL1.WRPs = 3: four watchpoints");
  /* The OS lock is set at reset (OSLSR_EL1.OSLK, bit 1) and implemented (OSLM = 0b10). */
  check_eq(read_sysreg(oslsr_el1) & 0xb, 0xa, "OSLSR_EL1: the OS lock is implemented and locked at reset");
}

/* A breakpoint on dbg_2, with MDE and KDE, locked: nothing; unlocked: the breakpoint. */
static void arm_bp(u64 bcr, u64 mdscr) {
  write_sysreg(dbgbvr0_el1, (u64)dbg_2);
  write_sysreg(dbgbcr0_el1, bcr);
  write_sysreg(mdscr_el1, mdscr);
  isb();
}

static void test_os_lock(void) {
  reset_debug();
  write_sysreg(oslar_el1, 1);
  isb();
  arm_bp(BAS_A64 | PMC_EL1 | BCR_E, MDSCR_MDE | MDSCR_KDE);
  debug_unmask();
  check_eq(call_dbg_code(), 7, "OS lock set: the code runs");
  check_eq(nev, 0, "OS lock set: no breakpoint exception");
  write_sysreg(oslar_el1, 0);
  isb();
  check_eq(read_sysreg(oslsr_el1) & 2, 0, "OSLAR_EL1 = 0 clears OSLSR_EL1.OSLK");
  debug_unmask();
  call_dbg_code();
  check_eq(nev, 1, "OS lock clear: the breakpoint is taken");
  /* The OS double lock (OSDLR_EL1.DLK with DBGPRCR_EL1.CORENPDRQ = 0) disables them too. */
  nev = 0;
  write_sysreg(osdlr_el1, 1);
  isb();
  debug_unmask();
  call_dbg_code();
  check_eq(nev, 0, "OS double lock set: no breakpoint exception");
  reset_debug();
}

static void test_breakpoints_el1(void) {
  reset_debug();
  call_dbg_code(); /* it has run (and, with --jit-threshold 0, been translated) before it is armed */
  arm_bp(BAS_A64 | PMC_EL1 | BCR_E, MDSCR_MDE | MDSCR_KDE);
  debug_unmask();
  u64 r = call_dbg_code();
  check_eq(nev, 1, "EL1 breakpoint: one exception");
  check_eq(ev[0].ec, EC_BP_CUR, "  EC 0x31 (breakpoint, current EL)");
  check_eq(ev[0].iss, FSC_DEBUG, "  ISS: IFSC 0x22 (debug event)");
  check_eq(ev[0].elr, (u64)dbg_2, "  ELR = the breakpointed instruction, not yet run");
  check_eq(r, 7, "  with SPSR.D set on return, the instruction then runs once");

  /* Six breakpoints, each on its own instruction: the highest ones work too. */
  reset_debug();
  write_sysreg(dbgbvr5_el1, (u64)dbg_3);
  write_sysreg(dbgbcr5_el1, BAS_A64 | PMC_EL1 | BCR_E);
  write_sysreg(mdscr_el1, MDSCR_MDE | MDSCR_KDE);
  isb();
  debug_unmask();
  call_dbg_code();
  check_eq(nev == 1 ? ev[0].elr : 0, (u64)dbg_3, "breakpoint 5 at dbg_3");

  /* A linked address breakpoint (BT = 0b0001) matches only while the linked context
     breakpoint (BT = 0b0011, LBN = 5) matches CONTEXTIDR_EL1. */
  reset_debug();
  write_sysreg(dbgbvr5_el1, 0x77);
  write_sysreg(dbgbcr5_el1, BT_CONTEXT_LINKED | BAS_A64 | PMC_EL1 | BCR_E);
  write_sysreg(contextidr_el1, 0x76);
  arm_bp(BT_ADDRESS_LINKED | LBN(5) | BAS_A64 | PMC_EL1 | BCR_E, MDSCR_MDE | MDSCR_KDE);
  debug_unmask();
  call_dbg_code();
  check_eq(nev, 0, "linked address breakpoint, linked context differs: no exception");
  write_sysreg(contextidr_el1, 0x77);
  isb();
  debug_unmask();
  call_dbg_code();
  check(nev == 1 && ev[0].elr == (u64)dbg_2, "linked address breakpoint, linked context matches: taken at the address");

  struct { u64 bcr, mdscr; int unmask; const char *what; } off[] = {
    {BAS_A64 | PMC_EL1 | BCR_E, MDSCR_KDE, 1, "MDSCR_EL1.MDE = 0: no breakpoint exception"},
    {BAS_A64 | PMC_EL1 | BCR_E, MDSCR_MDE, 1, "MDSCR_EL1.KDE = 0: none at EL1"},
    {BAS_A64 | PMC_EL1 | BCR_E, MDSCR_MDE | MDSCR_KDE, 0, "PSTATE.D = 1: none at EL1"},
    {BAS_A64 | PMC_EL0 | BCR_E, MDSCR_MDE | MDSCR_KDE, 1, "PMC = EL0 only: none at EL1"},
    {BAS_A64 | PMC_EL1, MDSCR_MDE | MDSCR_KDE, 1, "DBGBCR.E = 0: none"},
  };
  for (unsigned i = 0; i < sizeof off / sizeof off[0]; i++) {
    reset_debug();
    arm_bp(off[i].bcr, off[i].mdscr);
    if (off[i].unmask) debug_unmask();
    u64 got = call_dbg_code();
    check(nev == 0 && got == 7, off[i].what);
  }
  reset_debug();
}

static void test_breakpoints_el0(void) {
  /* From EL0, debug exceptions go to EL1 whatever KDE and PSTATE.D say. */
  reset_debug();
  write_sysreg(dbgbvr0_el1, (u64)el0_dbg + 4);
  write_sysreg(dbgbcr0_el1, BAS_A64 | PMC_EL0 | BCR_E);
  write_sysreg(mdscr_el1, MDSCR_MDE);
  isb();
  u64 x0 = run_el0((u64)el0_dbg, 0, (u64)(el0_stack + 64));
  check_eq(ESR_EC(exc.esr), EC_BP_LOWER, "EL0 breakpoint: EC 0x30 (breakpoint, lower EL)");
  check_eq(exc.elr, (u64)el0_dbg + 4, "  ELR = the breakpointed EL0 instruction");
  check_eq(x0, 1, "  the instructions before it ran, it did not");

  /* PMC = EL1 only: EL0 runs through to its SVC. */
  write_sysreg(dbgbcr0_el1, BAS_A64 | PMC_EL1 | BCR_E);
  isb();
  x0 = run_el0((u64)el0_dbg, 0, (u64)(el0_stack + 64));
  check(ESR_EC(exc.esr) == EC_SVC64 && x0 == 3, "PMC = EL1 only: no breakpoint at EL0");

  /* A context ID breakpoint (BT = 0b0010, on a context-aware breakpoint): every EL0
     instruction while CONTEXTIDR_EL1 matches DBGBVR5_EL1[31:0]. */
  write_sysreg(dbgbcr0_el1, 0);
  write_sysreg(dbgbvr5_el1, 0x55);
  write_sysreg(dbgbcr5_el1, BT_CONTEXT | BAS_A64 | PMC_EL0 | BCR_E);
  write_sysreg(contextidr_el1, 0x54);
  isb();
  x0 = run_el0((u64)el0_dbg, 0, (u64)(el0_stack + 64));
  check(ESR_EC(exc.esr) == EC_SVC64, "context ID breakpoint, CONTEXTIDR_EL1 differs: no exception");
  write_sysreg(contextidr_el1, 0x55);
  isb();
  run_el0((u64)el0_dbg, 0, (u64)(el0_stack + 64));
  check(ESR_EC(exc.esr) == EC_BP_LOWER && exc.elr == (u64)el0_dbg,
        "context ID breakpoint, CONTEXTIDR_EL1 matches: EC 0x30 at the first EL0 instruction");
  reset_debug();
}

static volatile u64 wdata[8] __attribute__((aligned(64)));

static void arm_wp(u64 wvr, u64 wcr) {
  write_sysreg(dbgwvr0_el1, wvr);
  write_sysreg(dbgwcr0_el1, wcr);
  write_sysreg(mdscr_el1, MDSCR_MDE | MDSCR_KDE);
  isb();
  debug_unmask();
}

static u64 load64(u64 a) { u64 v; __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory"); return v; }
static u64 load32(u64 a) { u32 v; __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); return v; }
static u64 load8(u64 a) { u8 v; __asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); return v; }
static void store64(u64 a, u64 v) { __asm__ volatile("str %0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static void store8(u64 a, u64 v) { __asm__ volatile("strb %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }
static void sttr64(u64 a, u64 v) { __asm__ volatile("sttr %0, [%1]" ::"r"(v), "r"(a) : "memory"); }

static void test_watchpoints(void) {
  u64 base = (u64)wdata;
  for (int i = 0; i < 8; i++) wdata[i] = 0;

  /* A store watchpoint on wdata[1]: taken before the store writes anything. */
  reset_debug();
  watched = &wdata[1];
  arm_wp(base + 8, WBAS(0xff) | WCR_STORE | PMC_EL1 | BCR_E);
  store64(base + 8, 0x1234);
  check_eq(nev, 1, "store watchpoint: one exception");
  check_eq(ev[0].ec, EC_WP_CUR, "  EC 0x35 (watchpoint, current EL)");
  check_eq(ev[0].iss, ISS_WNR | FSC_DEBUG, "  ISS: WnR = 1, CM = 0, DFSC 0x22");
  check_eq(ev[0].far, base + 8, "  FAR = the watched address");
  check_eq(ev[0].seen, 0, "  memory is unchanged when the exception is taken");
  check_eq(wdata[1], 0x1234, "  with SPSR.D set on return, the store then happens");

  reset_debug();
  arm_wp(base + 8, WBAS(0xff) | WCR_STORE | PMC_EL1 | BCR_E);
  load64(base + 8);
  check_eq(nev, 0, "a store watchpoint ignores loads");

  /* A load watchpoint with one byte of the doubleword (BAS = 0b00010000: byte 4). */
  reset_debug();
  arm_wp(base, WBAS(0x10) | WCR_LOAD | PMC_EL1 | BCR_E);
  load8(base + 3);
  load8(base + 5);
  check_eq(nev, 0, "BAS byte 4: loads of bytes 3 and 5 do not match");
  debug_unmask();
  load64(base);
  check_eq(nev, 1, "BAS byte 4: a doubleword load covering it matches");
  check_eq(ev[0].iss, FSC_DEBUG, "  ISS: WnR = 0, DFSC 0x22");
  check_eq(ev[0].far, base + 4, "  FAR = the watched byte");
  debug_unmask();
  store8(base + 4, 9);
  check_eq(nev, 1, "a load watchpoint ignores stores");

  /* DBGWVR[2] set: BAS[3:0] select bytes of the word at DBGWVR. */
  reset_debug();
  arm_wp(base + 4, WBAS(0x1) | WCR_LOAD | WCR_STORE | PMC_EL1 | BCR_E);
  load32(base);
  check_eq(nev, 0, "word-aligned DBGWVR: the word below does not match");
  debug_unmask();
  load32(base + 4);
  check(nev == 1 && ev[0].far == base + 4, "word-aligned DBGWVR: the word at it matches, FAR = DBGWVR");

  /* DBGWCR.MASK = 5: a 32-byte range. */
  reset_debug();
  arm_wp(base, WBAS(0xff) | WMASK(5) | WCR_LOAD | WCR_STORE | PMC_EL1 | BCR_E);
  load64(base + 32);
  check_eq(nev, 0, "MASK = 5: the doubleword after the 32-byte range does not match");
  debug_unmask();
  store64(base + 24, 1);
  check(nev == 1 && ev[0].far == base + 24 && (ev[0].iss & ISS_WNR), "MASK = 5: a store at +24 matches, FAR = its address");

  /* PAC = EL0: an unprivileged store at EL1 (STTR) is checked as EL0's; a plain one is not. */
  reset_debug();
  arm_wp(base, WBAS(0xff) | WCR_STORE | PMC_EL0 | BCR_E);
  store64(base, 2);
  check_eq(nev, 0, "PAC = EL0: an EL1 store does not match");
  debug_unmask();
  sttr64(base, 3);
  check_eq(nev, 1, "PAC = EL0: STTR at EL1 matches");

  reset_debug();
  write_sysreg(dbgwvr0_el1, base);
  write_sysreg(dbgwcr0_el1, WBAS(0xff) | WCR_STORE | PMC_EL1 | BCR_E);
  write_sysreg(mdscr_el1, MDSCR_KDE);
  isb();
  debug_unmask();
  store64(base, 4);
  check_eq(nev, 0, "MDSCR_EL1.MDE = 0: no watchpoint exception");
  reset_debug();
}

/* With the MMU on: a fetch that faults comes before a breakpoint on it (PC alignment: the
   breakpoint compares VA[48:2], so it matches dbg_2 + 2; an instruction abort on an unmapped
   page), and a tagged address still matches a watchpoint. */
static void test_with_mmu(void) {
  reset_debug();
  u64 unmapped = 0x100070000UL;
  u64 *root = pt_new();
  mmu_config(12, 39);
  pt_identity(root);
  mmu_enable(root, NULL);
  write_sysreg(dbgbvr1_el1, unmapped);
  write_sysreg(dbgbcr1_el1, BAS_A64 | PMC_EL1 | BCR_E);
  arm_bp(BAS_A64 | PMC_EL1 | BCR_E, MDSCR_MDE | MDSCR_KDE);
  debug_unmask();
  exc_arm(EXC_RESUME_X30);
  __asm__ volatile("blr %0" ::"r"(unmapped) : "x30", "memory");
  check(nev == 0 && ESR_EC(exc.esr) == EC_IABT_CUR, "breakpoint on an unmapped page: the instruction abort is taken");
  debug_unmask();
  exc_arm(EXC_RESUME_X30);
  __asm__ volatile("blr %0" ::"r"((u64)dbg_2 + 2) : "x30", "memory");
  check(nev == 0 && ESR_EC(exc.esr) == EC_PC_ALIGN, "breakpoint on a misaligned PC: the PC alignment fault is taken");

  /* The top byte of the address (TCR_EL1.TBI0) does not hide an access from a watchpoint. */
  reset_debug();
  u64 base = (u64)wdata;
  write_sysreg(tcr_el1, read_sysreg(tcr_el1) | (1UL << 37));
  isb();
  arm_wp(base + 8, WBAS(0xff) | WCR_STORE | PMC_EL1 | BCR_E);
  store64((base + 8) | (0x5aUL << 56), 5);
  write_sysreg(tcr_el1, read_sysreg(tcr_el1) & ~(1UL << 37));
  isb();
  check(nev == 1 && ev[0].ec == EC_WP_CUR && (ev[0].far & ((1UL << 49) - 1)) == base + 8,
        "a tagged address (TBI) matches the watchpoint on its VA");
  mmu_disable();
  reset_debug();
}

static void run_step_code(u64 excl, u64 misaligned) {
  __asm__ volatile("mov x2, %0\n mov x4, %1\n bl step_code" ::"r"(excl), "r"(misaligned)
                   : "x0", "x1", "x2", "x3", "x4", "x30", "memory");
}

static void test_single_step(void) {
  u64 excl = (u64)&wdata[0], misaligned = (u64)&wdata[0] + 1;
  /* Not armed: the SVC and the alignment fault only. */
  reset_debug();
  run_step_code(excl, misaligned);
  check_eq(nev, 2, "step code unarmed: an alignment fault and an SVC");

  reset_debug();
  write_sysreg(mdscr_el1, MDSCR_SS | MDSCR_KDE);
  isb();
  run_step_code(excl, misaligned);
  check_eq(nev, 7, "MDSCR_EL1.SS: seven exceptions");
  check(ev[0].ec == EC_STEP_CUR && ev[0].elr == (u64)step_s0 && ev[0].iss == FSC_DEBUG,
        "unmasking with PSTATE.SS = 0 (active-pending): step exception before the next instruction, ISV = 0");
  check(ev[1].ec == EC_STEP_CUR && ev[1].elr == (u64)step_s1 && ev[1].iss == (ISS_ISV | FSC_DEBUG),
        "ERET with SPSR.SS = 1 steps one instruction: EC 0x33, ISV = 1, EX = 0, ELR = the next one");
  check(ev[2].ec == EC_STEP_CUR && ev[2].elr == (u64)step_s2 && ev[2].iss == (ISS_ISV | ISS_EX | FSC_DEBUG),
        "a stepped LDXR: EX = 1");
  check(ev[3].ec == EC_STEP_CUR && ev[3].elr == (u64)step_s3 && ev[3].iss == (ISS_ISV | FSC_DEBUG),
        "then EX = 0 again");
  check(ev[4].ec == EC_DABT_CUR && ev[4].elr == (u64)step_s3 && (ev[4].spsr & SPSR_SS),
        "a stepped instruction that faults: the abort is taken with SPSR.SS = 1 (not yet stepped)");
  check(ev[5].ec == EC_SVC64 && ev[5].elr == (u64)step_s5 && !(ev[5].spsr & SPSR_SS),
        "the next one, stepped, is an SVC: taken with SPSR.SS = 0 (stepped)");
  check(ev[6].ec == EC_STEP_CUR && ev[6].elr == (u64)step_s5 && ev[6].iss == FSC_DEBUG,
        "returning from the SVC with SPSR.SS = 0: step exception at once, ISV = 0");
  check(((read_sysreg(daif) >> 9) & 1) == 1, "the stepped MSR DAIFSet masked debug: stepping stopped");

  /* EL0: stepping needs no KDE, and ERET to EL0 with SPSR.SS = 1 steps one instruction. */
  reset_debug();
  write_sysreg(mdscr_el1, MDSCR_SS);
  isb();
  el0_spsr = SPSR_SS;
  u64 x0 = run_el0((u64)el0_dbg, 0, (u64)(el0_stack + 64));
  el0_spsr = 0;
  check_eq(ESR_EC(exc.esr), EC_STEP_LOWER, "EL0 step: EC 0x32 (software step, lower EL)");
  check_eq(ESR_ISS(exc.esr), ISS_ISV | FSC_DEBUG, "  ISV = 1, IFSC 0x22");
  check_eq(exc.elr, (u64)el0_dbg + 4, "  ELR = the instruction after the stepped one");
  check_eq(x0, 1, "  exactly one instruction ran");

  /* The OS lock disables software step too. */
  reset_debug();
  write_sysreg(oslar_el1, 1);
  write_sysreg(mdscr_el1, MDSCR_SS);
  isb();
  el0_spsr = SPSR_SS;
  x0 = run_el0((u64)el0_dbg, 0, (u64)(el0_stack + 64));
  el0_spsr = 0;
  check(ESR_EC(exc.esr) == EC_SVC64 && x0 == 3, "OS lock set: EL0 runs unstepped to its SVC");
  reset_debug();
}

int main(u64 dtb) {
  exception_hook = hook;
  test_id_registers();
  test_os_lock();
  test_breakpoints_el1();
  test_breakpoints_el0();
  test_watchpoints();
  test_with_mmu();
  test_single_step();
  return failures;
}
