/*
 * lkvm differential-test reference harness (runs under qemu-aarch64).
 *
 * Reads test cases (binary records, format in test/support/diff/case.ts) from stdin, runs each one
 * at CODE_VA with the requested register, flag, FP and memory state, and writes one result
 * record per case to stdout.
 *
 * How a case is entered and left: the main loop calls enter_case(), which executes a BRK.
 * The SIGTRAP handler saves the harness's own machine context (all of uc_mcontext and the
 * signal mask) and overwrites the ucontext with the case's state (X0-X30, SP, PC = CODE_VA,
 * NZCV, V0-V31, FPCR, FPSR); sigreturn then loads all of it at once. The case ends at the
 * BRK the harness appends after its instructions (or earlier, at a fault); that handler
 * records the ucontext, copies the saved harness context back over it with PC advanced past
 * enter_case's BRK, and returns, so to the C code enter_case() is an ordinary function call.
 * All handlers run on an alternate signal stack because the case's SP is arbitrary.
 *
 * A periodic ITIMER_VIRTUAL (process CPU time) tick acts as a watchdog: a case still running
 * on two consecutive ticks is stopped and reported with signal SIGVTALRM (a timeout).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#define CODE_VA 0x80000000UL
#define CODE_SIZE 0x1000UL
#define DATA_VA 0x80010000UL
#define DATA_SIZE 0x10000UL
#define MAX_INSNS 16
#define END_BRK 0xd42f4f40u /* BRK #0x7a7a */

#define CASE_MAGIC 0x45534143u   /* "CASE" */
#define RESULT_MAGIC 0x544c5352u /* "RSLT" */
#define END_MAGIC 0x21444e45u    /* "END!" written after the last result */

#define WATCHDOG_USEC 50000

struct case_hdr {
    uint32_t magic, ninsns;
    uint32_t insns[MAX_INSNS];
    uint64_t x[31];
    uint64_t sp;
    uint32_t nzcv, fpcr, fpsr, memlen;
    uint8_t v[512];
};
_Static_assert(sizeof(struct case_hdr) == 856, "case header layout");

struct result_hdr {
    uint32_t magic;
    int32_t signal;
    uint64_t x[31];
    uint64_t sp, pc, fault_addr;
    uint32_t nzcv, fpcr, fpsr, flags; /* flags bit 0: fault_addr valid */
    uint8_t v[512];
    int32_t si_code;
    uint32_t nruns;
};
_Static_assert(sizeof(struct result_hdr) == 816, "result header layout");

/* Records in uc_mcontext.__reserved: <asm/sigcontext.h> (pulled in by <signal.h>). */
#define ctx_hdr _aarch64_ctx
#define fpsimd_rec fpsimd_context

void enter_case(void);
__asm__(".text\n"
        ".global enter_case\n"
        ".type enter_case, %function\n"
        "enter_case:\n"
        "  brk #0x7a00\n"
        "  ret\n"
        ".size enter_case, .-enter_case\n");

static struct case_hdr cur;
static uint8_t cur_mem[DATA_SIZE];
static struct result_hdr res;
static uint8_t zero_page[4096];
static uint8_t altstack[256 * 1024] __attribute__((aligned(16)));

static mcontext_t saved_mc;
static sigset_t saved_mask;
static uint64_t harness_tp;
static volatile int in_case;
static volatile uint64_t case_serial, tick_serial;

static void die(const char *msg) {
    static const char pre[] = "harness: ";
    (void)!write(2, pre, sizeof pre - 1);
    (void)!write(2, msg, strlen(msg));
    (void)!write(2, "\n", 1);
    _exit(3);
}

static struct ctx_hdr *find_record(mcontext_t *mc, uint32_t magic) {
    uint8_t *p = (uint8_t *)mc->__reserved, *end = p + sizeof mc->__reserved;
    while (p + sizeof(struct ctx_hdr) <= end) {
        struct ctx_hdr *h = (struct ctx_hdr *)p;
        if (h->magic == 0) return NULL;
        if (h->magic == magic) return h;
        if (h->size < sizeof *h || h->size > (size_t)(end - p)) return NULL;
        p += h->size;
    }
    return NULL;
}

static struct fpsimd_rec *fpsimd_of(mcontext_t *mc) {
    struct fpsimd_rec *fp = (struct fpsimd_rec *)find_record(mc, FPSIMD_MAGIC);
    if (!fp) die("no fpsimd_context in signal frame");
    /* Live SVE/SME state would override the V registers on sigreturn; we run with sve=off. */
    struct ctx_hdr *sve = find_record(mc, SVE_MAGIC);
    if (sve && sve->size > 16) die("signal frame carries SVE state: run qemu with -cpu ...,sve=off");
    if (find_record(mc, ZA_MAGIC) || find_record(mc, EXTRA_MAGIC))
        die("signal frame carries ZA/extra state: run qemu with -cpu ...,sme=off");
    return fp;
}

static void start_case(ucontext_t *uc) {
    mcontext_t *mc = &uc->uc_mcontext;
    memcpy(&saved_mc, mc, sizeof saved_mc);
    saved_mask = uc->uc_sigmask;

    for (int i = 0; i < 31; i++) mc->regs[i] = cur.x[i];
    mc->sp = cur.sp;
    mc->pc = CODE_VA;
    mc->pstate = (mc->pstate & 0x0fffffffUL) | (cur.nzcv & 0xf0000000u);
    struct fpsimd_rec *fp = fpsimd_of(mc);
    fp->fpsr = cur.fpsr;
    fp->fpcr = cur.fpcr;
    memcpy(fp->vregs, cur.v, sizeof fp->vregs);

    case_serial++;
    in_case = 1;
    /* The case starts with TPIDR_EL0 = 0 (the harness's TLS pointer is not its business). */
    __asm__ volatile("msr tpidr_el0, xzr" ::: "memory");
}

static void finish_case(int sig, siginfo_t *si, ucontext_t *uc) {
    mcontext_t *mc = &uc->uc_mcontext;
    struct fpsimd_rec *fp = fpsimd_of(mc);

    for (int i = 0; i < 31; i++) res.x[i] = mc->regs[i];
    res.sp = mc->sp;
    res.pc = mc->pc;
    res.nzcv = (uint32_t)mc->pstate & 0xf0000000u;
    res.fpsr = fp->fpsr;
    res.fpcr = fp->fpcr;
    memcpy(res.v, fp->vregs, sizeof res.v);
    res.si_code = si->si_code;
    res.flags = 0;
    res.fault_addr = 0;
    if (sig == SIGSEGV || sig == SIGBUS) {
        res.fault_addr = (uint64_t)(uintptr_t)si->si_addr;
        res.flags = 1;
    }
    if (sig == SIGTRAP && mc->pc == CODE_VA + 4ul * cur.ninsns)
        res.signal = 0; /* reached the appended BRK: completed */
    else
        res.signal = sig;

    /* Resume the harness just after enter_case's BRK, exactly as it was. */
    memcpy(mc, &saved_mc, sizeof saved_mc);
    mc->pc += 4;
    uc->uc_sigmask = saved_mask;
    in_case = 0;
}

static void on_signal(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    /* First of all give the harness its TLS pointer back: the case may have changed it. */
    uint64_t case_tp;
    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(case_tp));
    __asm__ volatile("msr tpidr_el0, %0" ::"r"(harness_tp) : "memory");

    if (!in_case) {
        if (sig == SIGTRAP && uc->uc_mcontext.pc == (uint64_t)(uintptr_t)enter_case) {
            start_case(uc);
            return;
        }
        if (sig == SIGVTALRM) return; /* watchdog tick while the harness itself runs */
        die(sig == SIGSEGV ? "SIGSEGV in harness" : sig == SIGBUS ? "SIGBUS in harness"
            : sig == SIGILL ? "SIGILL in harness" : "unexpected signal in harness");
    }
    if (sig == SIGVTALRM) {
        if (tick_serial != case_serial) {
            tick_serial = case_serial; /* first tick this case has seen: let it run on */
            __asm__ volatile("msr tpidr_el0, %0" ::"r"(case_tp) : "memory");
            return;
        }
    }
    finish_case(sig, si, uc);
}

/* Compare DATA against the case's initial image (cur_mem[0..memlen) then zeros), write the
 * result record with the maximal runs of differing bytes, then put those bytes back so DATA
 * equals the initial image again. */
static void write_result(uint8_t *data, uint32_t memlen) {
    uint32_t nruns = 0;
    static uint32_t run_off[DATA_SIZE / 2 + 1], run_len[DATA_SIZE / 2 + 1];
    uint32_t off = 0;
    while (off < DATA_SIZE) {
        uint32_t chunk = 4096;
        const uint8_t *ref;
        if (off + chunk <= memlen) ref = cur_mem + off;
        else if (off >= memlen) ref = zero_page;
        else ref = NULL; /* mixed chunk: byte loop */
        if (ref && memcmp(data + off, ref, chunk) == 0) { off += chunk; continue; }
        for (uint32_t i = off; i < off + chunk; i++) {
            uint8_t want = i < memlen ? cur_mem[i] : 0;
            if (data[i] == want) continue;
            if (nruns && run_off[nruns - 1] + run_len[nruns - 1] == i) run_len[nruns - 1]++;
            else { run_off[nruns] = i; run_len[nruns] = 1; nruns++; }
        }
        off += chunk;
    }
    res.nruns = nruns;
    fwrite(&res, sizeof res, 1, stdout);
    for (uint32_t r = 0; r < nruns; r++) {
        uint32_t hdr[2] = {run_off[r], run_len[r]};
        fwrite(hdr, sizeof hdr, 1, stdout);
        fwrite(data + run_off[r], 1, run_len[r], stdout);
        static const uint8_t pad[4];
        if (run_len[r] & 3) fwrite(pad, 1, 4 - (run_len[r] & 3), stdout);
    }
    for (uint32_t r = 0; r < nruns; r++)
        for (uint32_t i = run_off[r]; i < run_off[r] + run_len[r]; i++)
            data[i] = i < memlen ? cur_mem[i] : 0;
}

int main(void) {
    static char inbuf[1 << 20], outbuf[1 << 20];
    setvbuf(stdin, inbuf, _IOFBF, sizeof inbuf);
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

    void *code = mmap((void *)CODE_VA, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    void *datap = mmap((void *)DATA_VA, DATA_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (code != (void *)CODE_VA || datap != (void *)DATA_VA) die("mmap of CODE/DATA failed");
    uint32_t *code_words = code;
    uint8_t *data = datap;

    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(harness_tp));

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    if (sigaltstack(&ss, NULL)) die("sigaltstack failed");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    /* SA_RESTART: a watchdog tick must not make the harness's own read()/write() fail with EINTR. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    const int sigs[] = {SIGTRAP, SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGSYS, SIGVTALRM};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL)) die("sigaction failed");
    sigset_t unblock;
    sigemptyset(&unblock);
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&unblock, sigs[i]);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);

    struct itimerval it = {{0, WATCHDOG_USEC}, {0, WATCHDOG_USEC}};
    if (setitimer(ITIMER_VIRTUAL, &it, NULL)) die("setitimer failed");

    memset(data, 0, DATA_SIZE);
    uint32_t cur_len = 0; /* DATA currently equals cur_mem[0..cur_len) + zeros */

    for (;;) {
        size_t got = fread(&cur, 1, sizeof cur, stdin);
        if (got == 0) break;
        if (got != sizeof cur) die("truncated case header");
        if (cur.magic != CASE_MAGIC) die("bad case magic (stream out of sync)");
        if (cur.ninsns < 1 || cur.ninsns > MAX_INSNS) die("bad instruction count");
        if (cur.memlen > DATA_SIZE) die("mem longer than DATA_SIZE");

        /* DATA: new prefix, and zero what the old prefix covered beyond it. */
        uint32_t padded = (cur.memlen + 7) & ~7u;
        if (fread(cur_mem, 1, padded, stdin) != padded) die("truncated case memory");
        if (cur_len > cur.memlen) memset(data + cur.memlen, 0, cur_len - cur.memlen);
        memcpy(data, cur_mem, cur.memlen);
        cur_len = cur.memlen;

        /* CODE: instructions, the end BRK, zeros after (the whole page is rewritten, in case
         * the previous case stored into it). */
        memset(code_words, 0, CODE_SIZE);
        memcpy(code_words, cur.insns, 4 * cur.ninsns);
        code_words[cur.ninsns] = END_BRK;
        __builtin___clear_cache((char *)code_words, (char *)code_words + CODE_SIZE);

        res.magic = RESULT_MAGIC;
        enter_case();

        write_result(data, cur.memlen);
    }
    uint32_t end = END_MAGIC;
    fwrite(&end, sizeof end, 1, stdout);
    fflush(stdout);
    return 0;
}
