// The contract between the TypeScript VMM and the AssemblyScript core: every linear-memory
// offset, the exit record and the exit reasons, declared once.
//
// This file is compiled by both tsc and asc, so it uses only their common subset:
// `export const NAME = <integer expression>;` with no type annotations and nothing else.
// asc infers i32 for every constant; all values here are below 2^31.
//
// Linear memory (one WebAssembly.Memory, created by the VMM and imported by the core and,
// later, by JIT-generated modules):
//
//   0x0000_0000  unused (catches null-pointer bugs on the TypeScript side)
//   0x0000_1000  ACTIVE vCPU state: the vCPU the core is running now
//   0x0000_2000  EXIT record (kvm_run-like), written by run()
//   0x0001_0000  vCPU save areas, VCPU_STATE_SIZE each, MAX_VCPUS of them
//   0x0010_0000  TLB of the active vCPU
//   0x0020_0000  decode cache (instruction word -> op), shared by all vCPUs
//   0x0040_0000  AssemblyScript static data and heap (asc --memoryBase)
//   0x0100_0000  the JIT: module being built, block map, heat table, queue, code-page marks
//   0x0400_0000  guest RAM, RAM_HOST_BASE + (gpa - ramBase)

// ---- vCPU state (offsets relative to a state area) ----
export const VCPU_STATE_SIZE = 0x1000;
export const X_REGS = 0x000; // X0..X30 (8 bytes each); slot 31 always reads zero (XZR)
export const SP_SLOT = 0x100; // the SP selected by PSTATE.SP and EL (slot 32)
export const PC = 0x108;
export const NZCV = 0x110; // u32, bits 31..28 = N Z C V as in the NZCV register
export const PSTATE_DAIF = 0x114; // u32, bits 9..6 = D A I F as in the DAIF register
export const PSTATE_EL = 0x118; // u32, 0 or 1
export const PSTATE_SPSEL = 0x11c; // u32, 0 or 1
export const PSTATE_PAN = 0x120; // u32, 0 or 1
export const PSTATE_SS = 0x124; // u32
export const PSTATE_IL = 0x128; // u32
export const HALTED = 0x12c; // u32: 1 while powered off (PSCI CPU_OFF, or a secondary not yet on)
export const IRQ_LINES = 0x130; // u32: bit 0 IRQ, bit 1 FIQ, bit 2 SError, bit 3 vIRQ (levels set by the VMM)
export const EXCL_STATE = 0x134; // u32: 1 while the local exclusive monitor is open
export const EXCL_ADDR = 0x138; // u64: physical address the monitor guards
export const EXCL_SIZE = 0x140; // u32: bytes the monitor guards
export const FPCR = 0x144; // u32
export const FPSR = 0x148; // u32
// Writable bits: FPCR AHP, DN, FZ, RMode, Stride, Len (no FP16, trap enables RAZ); FPSR QC,
// the AArch32 NZCV bits and the cumulative exception flags.
export const FPCR_MASK = 0x07f70000;
export const FPSR_MASK = 0xf800009f;
export const VCPU_ID = 0x14c; // u32
export const SP_EL0 = 0x150; // u64: banked copy, valid while not the current SP
export const SP_EL1 = 0x158; // u64: banked copy, valid while not the current SP
export const INSNS_RETIRED = 0x160; // u64: instructions retired by this vCPU
export const TIMER_OUT = 0x168; // u32: timer output levels, bit 0 CNTV (PPI 27), bit 1 CNTP (PPI 30)
export const EXCL_VALUE = 0x170; // u64: value the exclusive load read (low 64 bits)
export const EXCL_VALUE_HI = 0x178; // u64: high 64 bits for LDXP/LDAXP of two doublewords
// Debug: the last instruction that took an UNDEFINED exception, and how many have.
export const UNDEF_COUNT = 0x180; // u32
export const UNDEF_INSN = 0x184; // u32
export const UNDEF_PC = 0x188; // u64
// Software step bookkeeping (arm/core/debug-state.ts), per vCPU: bit 0 an instruction is being
// stepped, bit 1 a stepped instruction completed, bit 2 the stepped one was a load-exclusive.
export const STEP_STATE = 0x190; // u32
// The PMU's overflow interrupt (arm/core/pmu.ts): 1 while asserted; the VMM routes it to PPI 23.
export const PMU_IRQ_OUT = 0x194; // u32
export const V_REGS = 0x200; // V0..V31, 16 bytes each, little-endian lanes
export const SYSREGS = 0x400; // system registers: 8 bytes each, index from sysregs.ts
export const SYSREG_SLOTS = 256;

// ---- machine facts the core needs too (arm/machine/memory-map.ts re-exports them) ----
export const CNTFRQ_HZ = 62500000; // the generic timer's frequency (CNTFRQ_EL0), 62.5 MHz as KVM's hosts
export const MPIDR_AFF0_VCPUS = 16; // KVM's MPIDR: Aff0 = vcpu % 16, Aff1 = vcpu / 16

// ---- memory regions ----
export const ACTIVE_STATE = 0x1000;
export const EXIT_RECORD = 0x2000;
export const VCPU_SAVE_BASE = 0x10000;
export const MAX_VCPUS = 64;
export const TLB_BASE = 0x100000;
export const TLB_SIZE = 0x100000;
export const DECODE_CACHE_BASE = 0x200000;
export const DECODE_CACHE_ENTRIES = 0x10000; // 8 bytes each: u32 word, u32 op
export const CORE_DATA_BASE = 0x400000;
export const JIT_BASE = 0x1000000;
export const RAM_HOST_BASE = 0x4000000;
export const WASM_PAGE_SIZE = 0x10000;

// ---- the JIT's region (docs/jit.md), from JIT_BASE up to RAM_HOST_BASE ----
export const JIT_INFO = 0x1000000; // a small record shared with the VMM (JI_* offsets)
export const JIT_MAP = 0x1010000; // block map: JIT_MAP_ENTRIES entries of 32 bytes
export const JIT_MAP_ENTRIES = 0x10000;
export const JIT_HEAT = 0x1250000; // heat table: JIT_HEAT_ENTRIES entries of 8 bytes
export const JIT_HEAT_ENTRIES = 0x10000;
// The block lookup cache: JIT_LOOKUP_ENTRIES direct-mapped entries of 8 bytes (key, slot | len
// << 16) in front of the block map, small enough to stay in the host's L1/L2 cache.
export const JIT_LOOKUP = 0x1210000;
export const JIT_LOOKUP_ENTRIES = 0x1000;
export const JIT_QUEUE = 0x1218000; // keys of blocks waiting for translation (u32 each)
export const JIT_QUEUE_ENTRIES = 0x400;
export const JIT_FREE_SLOTS = 0x1220000; // table slots free for reuse (u32 stack, JIT_SLOTS deep)
export const JIT_DEAD_SLOTS = 0x1240000; // slots of dropped blocks the VMM must clear (u32 each)
export const JIT_DEAD_ENTRIES = 0x1000;
// The blocks of the module jitBuild() wrote, one record each (JIT_COMMIT_BYTES): key, table slot,
// length, version. The VMM hands them back to jitCommit() once the module is instantiated,
// which zeroes the slot of each record it refused (the block's page was written meanwhile).
export const JIT_COMMIT = 0x1244000;
export const JIT_COMMIT_BYTES = 16;
export const JIT_IMPORT_SLOTS = 0x1245000; // slots of the blocks that module imports as "c0", "c1", … (u32 each)
export const JIT_IMPORTS_MAX = 0x400;
export const JIT_PAGES = 0x1400000; // per guest RAM page: its first block (map index + 1), u32
export const JIT_PAGES_SIZE = 0x400000;
export const JIT_MODULE = 0x2000000; // the module jitBuild() writes (wasm bytes)
export const JIT_MODULE_SIZE = 0x1000000;
// Copies of the words each translated block was made from (u32 each), compared at IC IALLU.
export const JIT_SHADOW = 0x3000000;
export const JIT_SHADOW_WORDS = 0x200000;
// The function table: slots below JIT_SLOT_BASE are the core's own; block functions take
// JIT_SLOTS slots after them. Generated modules export their functions and the VMM puts
// export i in slot JIT_NEW_SLOTS[i]: a module that imported the table would be kept alive by
// it (V8 keeps every importing instance in the table's dispatch list, and walks it on every
// table.set).
export const JIT_SLOT_BASE = 64;
export const JIT_SLOTS = 0x8000;

// JIT_INFO fields.
export const JI_MODULE_LEN = 0x00; // u32: bytes of the module the last jitBuild() wrote
export const JI_MODULE_FUNCS = 0x4c; // u32: functions that module exports ("0", "1", …) = its JIT_COMMIT records
export const JI_LIMIT = 0x50; // u32: instructions the block being called may retire (its loops check it)
export const JI_MODULE_IMPORTS = 0x54; // u32: blocks the module jitBuild() wrote imports (JIT_IMPORT_SLOTS)
export const JI_CHAINS = 0x58; // u32: block exits translated as direct calls of the next block
export const JI_DISPATCHES = 0x60; // u64: blocks entered from another block through the dispatcher (jit/dispatch.ts)
export const JI_MODULE_LOOPS = 0x68; // u32: loop blocks in the module jitBuild() wrote
export const JI_IC_IALLU = 0x6c; // u32: IC IALLU(IS) executed (each drops only the blocks whose words changed)
// With the tail profile on (jit/tail-profile.ts): u64 instructions interpreted per reason
// (TAIL_* order), then u32 run-time jitExec calls per op number.
export const JI_TAIL = 0x100;
export const JI_TAIL_REASONS = 5;
export const JI_EXEC_MISSES = 0x140; // u64: slow paths of inline loads and stores (jitExecMiss)
export const JI_EXEC_BY_OP = 0x1000;
export const JI_EXEC_BY_OP_ENTRIES = 0x400;
export const JI_REGIONS = 0x5c; // u32: page regions translated (jit/region.ts), rebuilds included
export const JI_QUEUED = 0x04; // u32: blocks queued for translation
export const JI_FLUSHES = 0x08; // u32: times the whole code cache was dropped
export const JI_ASID = 0x0c; // u32: the current ASID, for the TLB probe in generated code
export const JI_MODULES = 0x10; // u32: modules built
export const JI_BLOCKS = 0x14; // u32: blocks translated
export const JI_BYTES = 0x18; // u32: wasm bytes generated (low 32 bits)
export const JI_INVALIDATIONS = 0x1c; // u32: pages whose blocks were dropped
export const JI_INSNS_JIT = 0x20; // u64: instructions retired in translated blocks
export const JI_INSNS_INTERP = 0x28; // u64: instructions retired by the interpreter
export const JI_EMITTED = 0x30; // u32: instructions translated to inline wasm
export const JI_FALLBACK = 0x34; // u32: instructions translated to a jitExec call
export const JI_LOOKUPS = 0x38; // u64: block lookups at block boundaries
export const JI_HITS = 0x40; // u64: lookups that ran a block
export const JI_DEAD = 0x48; // u32: entries in JIT_DEAD_SLOTS; the VMM clears those slots and zeroes it

// ---- exit record (offsets relative to EXIT_RECORD) ----
export const EXIT_REASON = 0x00; // u32, one of EXIT_*
export const EXIT_ESR = 0x04; // u32: for an MMIO access, its instruction syndrome as EL2 would
// see it (ISS: ISV, SAS, SSE, SRT, SF, AR, WnR; LST for LD64B/ST64B); ISV = 0 for forms KVM
// cannot emulate. MMIO_FETCH is set instead for an instruction fetch from a device.
export const EXIT_IMM = 0x08; // u32: HVC/SMC immediate
export const EXIT_DATA = 0x18; // u64: data of an MMIO access
// 64 bytes of a 64-byte access (LD64B, ST64B, ST64BV, ST64BV0), then the u64 status a device
// returns for ST64BV/ST64BV0.
export const EXIT_DATA64 = 0x40;
export const EXIT_DATA64_STATUS = 0x80;
export const EXIT_INSNS = 0x28; // u64: instructions run by this run() call

// ---- exit reasons ----
export const EXIT_BUDGET = 1; // the instruction budget ran out
export const EXIT_HVC = 2; // HVC: x0..x7 hold the call, EXIT_IMM the immediate
export const EXIT_SMC = 3; // SMC at EL1 (conduit for firmware calls)
export const EXIT_WFI = 4; // WFI or WFE with nothing pending: wait for an interrupt or timer
export const EXIT_HALTED = 5; // the vCPU is powered off
// The VMM stopped the vCPU at an MMIO access (its mmio import returned MMIO_STOP, as KVM_RUN
// fails on an access it cannot emulate): the instruction did not complete, PC is still on it.
export const EXIT_MMIO_ABORT = 6;
export const EXIT_TIMER = 9; // a timer output changed level: the VMM routes it to the GIC
export const EXIT_YIELD = 10; // WFE with no event: let the other vCPUs run
// The JIT's queue wants draining now (the eager mode used by tests). Core.run() in arm/host/core.ts
// handles it and re-enters; the VMM never sees it.
export const EXIT_JIT = 11;
export const EXIT_PMU = 12; // the PMU's overflow interrupt changed level (PMU_IRQ_OUT): the VMM routes it

// ---- what the VMM's mmio import answers ----
export const MMIO_STOP = 0; // stop the vCPU before the access completes (EXIT_MMIO_ABORT)
export const MMIO_DONE = 1; // the access was performed (or ignored, if nobody claimed it)
export const MMIO_EXTERNAL_ABORT = 2; // refused: the guest takes a synchronous external abort
// EXIT_ESR bit (outside the 25-bit ISS) marking an instruction fetch from a device.
export const MMIO_FETCH = 0x40000000;

// ---- optional CPU features (setCpuFeatures; the default Cortex-A57 model has none) ----
export const CPU_FEAT_LS64 = 1; // FEAT_LS64: LD64B, ST64B
export const CPU_FEAT_LS64_V = 2; // FEAT_LS64_V: ST64BV
export const CPU_FEAT_LS64_ACCDATA = 4; // FEAT_LS64_ACCDATA: ST64BV0, ACCDATA_EL1
export const CPU_FEAT_PMU = 8; // PMUv3 (lkvm run --pmu, KVM's KVM_ARM_VCPU_PMU_V3)
