// The TypeScript side of the core: owns the WebAssembly.Memory, instantiates core.wasm with
// the VMM's imports, and gives typed access to registers, guest RAM and the exit record.

import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import * as abi from "../abi.ts";
import { coreWasm } from "./core-wasm.ts";

/** The VMM's side of the core's imports. */
export interface CoreHost {
  /**
   * A guest physical access outside RAM. `data` is the little-endian exit buffer: read it on
   * writes, fill it on reads. It holds 8 bytes, or for a 64-byte access (LD64B/ST64B) 72: the
   * data, then the status word a device returns to ST64BV/ST64BV0. Return true when done,
   * false to stop the vCPU before the access completes (as KVM_RUN fails), or "external-abort"
   * to refuse it with a synchronous external abort to the guest.
   */
  mmio(vcpu: number, gpa: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): MmioOutcome;
  /**
   * A system register the core leaves to the VMM (the GICv3 CPU interface). Returns the value
   * read (or any value for writes), or undefined if the register does not exist (UNDEFINED).
   */
  sysreg(vcpu: number, encoding: number, isWrite: boolean, value: bigint): bigint | undefined;
  /** The physical counter, in ticks of CNTFRQ (62.5 MHz), for the core's own timer checks. */
  counter(): number;
  /**
   * The physical counter as the guest reads it (CNTPCT/CNTVCT, TVAL, ISTATUS); counter() if
   * absent. The VMM may tell the two apart (src/kvm/guest-clock.ts).
   */
  guestCounter?(): number;
  /**
   * The core stopped the guest in the middle of run() for `ms` milliseconds to translate code
   * (a guest under KVM would not have lost that time; src/kvm/guest-clock.ts hides it).
   */
  translated?(ms: number): void;
  /**
   * With CoreOptions.checkCacheMaintenance: an access a real cache would have made see stale
   * data (arm/core/cache-check.ts), once per 64-byte line and kind.
   */
  cacheFinding?(finding: CacheFinding): void;
}

/** What the cache-maintenance checker found (the FINDING_* numbers of arm/core/cache-check.ts). */
export interface CacheFinding {
  vcpu: number;
  kind: "uncleaned" | "stale" | "fetch";
  /** For a fetch: the first step of DC CVAU, IC IVAU, ISB that did not happen after the write. */
  missing?: "DC CVAU" | "IC IVAU" | "ISB";
  pc: bigint;
  /** The guest physical address accessed. */
  pa: bigint;
}
const CACHE_FINDINGS: (Pick<CacheFinding, "kind" | "missing"> | undefined)[] = [
  undefined, { kind: "uncleaned" }, { kind: "stale" },
  { kind: "fetch", missing: "DC CVAU" }, { kind: "fetch", missing: "IC IVAU" }, { kind: "fetch", missing: "ISB" },
];
/** What CoreHost.mmio answers. */
export type MmioOutcome = boolean | "external-abort";

/** Bytes of the exit buffer for a 64-byte access: the data and the ST64BV status word. */
export const DATA64_BUFFER_BYTES = 72;

/** The JIT (docs/jit.md). */
export interface JitOptions {
  enabled: boolean;
  /** Interpreted visits of a block start before it is translated (default JIT_DEFAULT_THRESHOLD). */
  threshold?: number;
  /** Translate a block as soon as it is queued, before running on (tests; threshold 0 forces every block). */
  eager?: boolean;
  /**
   * Compile modules in the background (WebAssembly.compile) while the guest runs on,
   * interpreted, and install them when they are ready. Needs the caller to return to the event
   * loop between run() calls (the VM does). Otherwise, and in eager mode, modules are compiled
   * synchronously before run() goes on.
   */
  background?: boolean;
  /** In background mode, modules up to this size with a loop block compile at once (default SYNC_COMPILE_BYTES). */
  syncCompileBytes?: number;
  /**
   * Translate the hot blocks of a page together into one function (docs/jit.md, Regions);
   * default: the environment variable LKVM_JIT_REGIONS=1.
   */
  regions?: boolean;
}

export interface CoreOptions {
  ramBase: number;
  ramSizeBytes: number;
  host: CoreHost;
  jit?: JitOptions;
  /**
   * Model caches and report missing maintenance (--check-cache-maintenance): every RAM access
   * takes the core's slow path, so the JIT must be off.
   */
  checkCacheMaintenance?: boolean;
  /** Optional architecture features (abi.CPU_FEAT_* bits; arm/host/cpu-features.ts); default none. */
  cpuFeatures?: number;
  /**
   * The GICv3 system-register CPU interface (ICC_*, ID_AA64PFR0_EL1.GIC = 1); default true.
   * False for a GICv2, whose CPU interface is memory-mapped: ICC_* accesses are UNDEFINED.
   */
  gicSystemRegisters?: boolean;
}

/** What --debug-jit prints. */
export interface JitStats {
  modules: number;
  blocks: number;
  /** Wasm bytes generated. */
  bytes: number;
  /** Time spent building, compiling and instantiating modules. */
  compileMs: number;
  /** Instructions translated to inline wasm / to a call of the interpreter's handler. */
  insnsInline: number;
  insnsFallback: number;
  /** Instructions retired in translated blocks / by the interpreter. */
  insnsJit: bigint;
  insnsInterpreted: bigint;
  lookups: bigint;
  hits: bigint;
  invalidatedPages: number;
  flushes: number;
  /** IC IALLU(IS) executed (each drops only the blocks whose instruction words changed). */
  icInvalidateAll: number;
  /** Block exits translated as direct calls of the next block. */
  chains: number;
  /** Page regions translated (docs/jit.md, Regions), rebuilds included. */
  regions: number;
  /** Blocks entered from another block through the dispatcher. */
  dispatches: bigint;
  /** With LKVM_JIT_TAIL=1 (arm/core/jit/tail-profile.ts): why instructions ran interpreted. */
  tail?: JitTailProfile;
}

/** Instructions interpreted with the JIT on, by reason; jitExec calls from blocks by op number. */
export interface JitTailProfile {
  /** pc could not start a block (not executable RAM, misaligned, PAN). */
  noKey: bigint;
  /** Below the threshold. */
  cold: bigint;
  /** Queued, waiting for a compile slot. */
  queued: bigint;
  /** In a module still compiling. */
  compiling: bigint;
  /** Translated but longer than the rest of the budget. */
  budget: bigint;
  /** Run-time jitExec calls from translated blocks, by op number (decodeOp's numbering). */
  execByOp: Map<number, number>;
  /** Slow paths taken by inline loads and stores (TLB miss, MMIO, page crossing…). */
  accessMisses: bigint;
}

export const JIT_DEFAULT_THRESHOLD = 50;
/**
 * Modules up to this size that hold a loop block compile at once even in background mode: a
 * hot loop costs less to compile than to interpret while a background compile comes back
 * (5-20 ms measured, the event loop included). Other small modules do not pay for it: each
 * compile on the main thread costs about 0.7 ms (the Linux boot: 0.56 s for 600 of them).
 */
const SYNC_COMPILE_BYTES = 8192;
/** Modules compiling in the background at once (V8 compiles each on its own worker threads). */
const MAX_COMPILING = 2;

/** A module jitBuild() wrote, waiting to be installed (Core.install). */
interface BuiltModule {
  /** Its imports: the core's helpers, and the earlier blocks it calls directly. */
  env: Record<string, WebAssembly.ImportValue>;
  /** Its JIT_COMMIT records, as jitBuild() wrote them. */
  records: Uint8Array;
  /** JI_FLUSHES when it was built. */
  flushes: number;
}

interface CoreExports {
  run(budget: number): number;
  setRamLayout(base: number, sizeBytes: number): void;
  cacheCheckEnable(stateBase: number): void;
  setCpuFeatures(mask: number): void;
  setGicSystemRegisterInterface(on: number): void;
  resetVcpu(vcpuId: number, poweredOff: number): void;
  saveVcpu(vcpuId: number): void;
  loadVcpu(vcpuId: number): void;
  decodeOp(insn: number): number;
  setTrapResult(lo: number, hi: number): void;
  timerDeadline(): number;
  timerOutputs(): number;
  timerPendingDeadline(): number;
  kick(): void;
  mmioInsnPc(): bigint;
  mmioInsnWord(): number;
  jitConfigure(enabled: number, threshold: number, eager: number): void;
  jitTailProfile(on: number): void;
  jitFlush(): void;
  jitInvalidate(gpa: number, lengthBytes: number): void;
  jitBuild(): number;
  jitCommit(count: number, flushes: number): void;
  jitBuildDispatcher(): number;
  jitSetRegions(on: number, rebuilds: number, blocks: number): void;
  jitFlags: WebAssembly.ExportValue;
  jitExec: WebAssembly.ExportValue;
  jitExecMiss: WebAssembly.ExportValue;
}

const WASM_PAGE = abi.WASM_PAGE_SIZE;
/** The largest guest RAM one wasm32 memory can hold after the core's own regions. */
export const MAX_RAM_BYTES = 4 * 1024 ** 3 - abi.RAM_HOST_BASE - WASM_PAGE;
/** The largest guest RAM with the cache-maintenance checker, whose state (3/64 of RAM) follows it. */
export const MAX_RAM_BYTES_CHECKED = Math.floor((MAX_RAM_BYTES * 64) / 67 / 4096) * 4096;

let compiled: WebAssembly.Module | undefined;
/** LKVM_JIT_DUMP=dir: every module the JIT compiles is also written to dir/NNNNN.wasm (docs/jit.md). */
const JIT_DUMP_DIR = process.env.LKVM_JIT_DUMP;
/** LKVM_JIT_TAIL=1: profile the interpreted tail (JitStats.tail; docs/jit.md, Measuring). */
const JIT_TAIL_PROFILE = process.env.LKVM_JIT_TAIL === "1";

export class Core {
  readonly memory: WebAssembly.Memory;
  readonly ramBase: number;
  readonly ramSizeBytes: number;
  private readonly exports: CoreExports;
  /** CoreHost.translated, if given. */
  private readonly onTranslated?: (ms: number) => void;
  private readonly view: DataView;
  private readonly exitData: Uint8Array;
  private readonly exitData64: Uint8Array;
  /** The function table shared by the core and the JIT's modules. */
  private readonly table: WebAssembly.Table;
  private readonly jitImports: WebAssembly.Imports;
  readonly jitEnabled: boolean;
  private jitCompileMs = 0;
  private jitFlushesSeen = 0;
  private readonly jitBackground: boolean;
  private readonly jitSyncBytes: number;
  /** Modules compiling in the background, and those compiled but not installed yet. */
  private jitCompiling = 0;
  private readonly jitCompiled: { module: WebAssembly.Module; built: BuiltModule }[] = [];
  private jitCompileError: unknown;
  private jitModulesBuilt = 0;

  constructor(opts: CoreOptions) {
    const maxRam = opts.checkCacheMaintenance ? MAX_RAM_BYTES_CHECKED : MAX_RAM_BYTES;
    if (opts.ramSizeBytes <= 0 || opts.ramSizeBytes > maxRam || opts.ramSizeBytes % 4096) {
      throw new RangeError(`guest RAM size ${opts.ramSizeBytes} is not a multiple of 4 KiB up to ${maxRam}`);
    }
    this.ramBase = opts.ramBase;
    this.ramSizeBytes = opts.ramSizeBytes;
    if (opts.checkCacheMaintenance && opts.jit?.enabled) throw new RangeError("the cache-maintenance checker needs the JIT off");
    // The checker's state follows RAM: a byte per 64-byte line and a bit per word (cache-check.ts).
    const checkerBytes = opts.checkCacheMaintenance ? opts.ramSizeBytes / 64 + opts.ramSizeBytes / 32 : 0;
    const pages = Math.ceil((abi.RAM_HOST_BASE + opts.ramSizeBytes + checkerBytes) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.view = new DataView(this.memory.buffer);
    this.exitData = new Uint8Array(this.memory.buffer, abi.EXIT_RECORD + abi.EXIT_DATA, 8);
    this.exitData64 = new Uint8Array(this.memory.buffer, abi.EXIT_RECORD + abi.EXIT_DATA64, DATA64_BUFFER_BYTES);
    const host = opts.host;
    this.onTranslated = host.translated?.bind(host);
    compiled ??= new WebAssembly.Module(coreWasm);
    this.table = new WebAssembly.Table({ element: "anyfunc", initial: abi.JIT_SLOT_BASE + abi.JIT_SLOTS });
    const imports = {
      env: {
        memory: this.memory,
        table: this.table,
        mmio: (vcpu: number, gpa: number, len: number, isWrite: number): number => {
          const outcome = host.mmio(vcpu, gpa, len === 64 ? this.exitData64 : this.exitData, len, isWrite !== 0);
          return outcome === true ? abi.MMIO_DONE : outcome === false ? abi.MMIO_STOP : abi.MMIO_EXTERNAL_ABORT;
        },
        sysregTrap: (vcpu: number, enc: number, isWrite: number, lo: number, hi: number): number => {
          const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
          const r = host.sysreg(vcpu, enc, isWrite !== 0, value);
          if (r === undefined) return 0;
          this.exports.setTrapResult(Number(r & 0xffffffffn), Number((r >> 32n) & 0xffffffffn));
          return 1;
        },
        hostCounter: (): number => host.counter(),
        guestCounter: host.guestCounter ? (): number => host.guestCounter!() : (): number => host.counter(),
        cacheFinding: (vcpu: number, kind: number, pc: bigint, pa: bigint): void => {
          host.cacheFinding?.({ vcpu, ...CACHE_FINDINGS[kind]!, pc: BigInt.asUintN(64, pc), pa: BigInt.asUintN(64, pa) });
        },
        abort: (msg: number, file: number, line: number, col: number): never => {
          throw new Error(`core aborted at line ${line}:${col}`);
        },
      },
    };
    const instance = new WebAssembly.Instance(compiled, imports);
    this.exports = instance.exports as unknown as CoreExports;
    this.exports.setRamLayout(opts.ramBase, opts.ramSizeBytes);
    if (opts.checkCacheMaintenance) this.exports.cacheCheckEnable(abi.RAM_HOST_BASE + opts.ramSizeBytes);
    this.exports.setCpuFeatures(opts.cpuFeatures ?? 0);
    this.exports.setGicSystemRegisterInterface(opts.gicSystemRegisters === false ? 0 : 1);
    const jit = opts.jit ?? { enabled: false };
    this.jitImports = {
      env: {
        memory: this.memory, exec: this.exports.jitExec, miss: this.exports.jitExecMiss, next: this.buildDispatcher(),
        flags: this.exports.jitFlags,
      },
    };
    this.jitEnabled = jit.enabled;
    this.jitBackground = (jit.background ?? false) && !jit.eager;
    this.jitSyncBytes = jit.syncCompileBytes ?? SYNC_COMPILE_BYTES;
    // V8 compiles a wasm function lazily, on the main thread at its first call, unless told
    // otherwise; background compilation only helps if it compiles everything up front.
    // (Measured on the Linux boot: main-thread time down by about 0.2 s.)
    if (this.jitBackground) setFlagsFromString("--no-wasm-lazy-compilation");
    // Generated modules mark their slow paths unlikely (arm/core/jit/branch-hints.ts).
    if (jit.enabled) setFlagsFromString("--experimental-wasm-branch-hinting");
    this.exports.jitConfigure(jit.enabled ? 1 : 0, jit.threshold ?? JIT_DEFAULT_THRESHOLD, jit.eager ? 1 : 0);
    if (JIT_TAIL_PROFILE && jit.enabled) this.exports.jitTailProfile(1);
    // LKVM_JIT_REGIONS=1[:rebuilds[:blocks]] (an internal switch while regions are compared)
    const [on, rebuilds, blocks] = (process.env.LKVM_JIT_REGIONS ?? "0").split(":").map(Number);
    this.exports.jitSetRegions((jit.regions ?? on === 1) ? 1 : 0, rebuilds ?? 4, blocks ?? 64);
  }

  /** Guest RAM as bytes; index 0 is guest physical address ramBase. */
  ram(): Uint8Array {
    return new Uint8Array(this.memory.buffer, abi.RAM_HOST_BASE, this.ramSizeBytes);
  }

  /**
   * Copies bytes into guest RAM at a guest physical address; throws if they do not fit.
   * Translated code for those bytes is dropped (whoever writes through ram() must call
   * jitInvalidate itself).
   */
  writePhys(gpa: number, bytes: Uint8Array): void {
    const off = gpa - this.ramBase;
    if (off < 0 || off + bytes.length > this.ramSizeBytes) {
      throw new RangeError(`[${gpa.toString(16)}, +${bytes.length}) is outside guest RAM`);
    }
    this.ram().set(bytes, off);
    this.jitInvalidate(gpa, bytes.length);
  }

  /** Drops translated code for guest physical [gpa, gpa + lengthBytes) after the VMM wrote there (DMA, loaders). */
  jitInvalidate(gpa: number, lengthBytes: number): void {
    this.exports.jitInvalidate(gpa, lengthBytes);
  }

  readPhys(gpa: number, lengthBytes: number): Uint8Array {
    const off = gpa - this.ramBase;
    if (off < 0 || off + lengthBytes > this.ramSizeBytes) {
      throw new RangeError(`[${gpa.toString(16)}, +${lengthBytes}) is outside guest RAM`);
    }
    return this.ram().slice(off, off + lengthBytes);
  }

  // ---- the active vCPU ----

  reset(vcpuId: number, poweredOff = false): void {
    this.exports.resetVcpu(vcpuId, poweredOff ? 1 : 0);
  }

  save(vcpuId: number): void {
    this.exports.saveVcpu(vcpuId);
  }

  load(vcpuId: number): void {
    this.exports.loadVcpu(vcpuId);
  }

  /**
   * Runs the active vCPU for up to budget instructions; returns an abi.EXIT_* reason. With the
   * JIT on, translates the blocks the core queued once run() returns (and, in eager mode,
   * whenever the core stops to ask, before running on).
   */
  run(budget: number): number {
    if (!this.jitEnabled) return this.exports.run(budget);
    if (this.jitCompiled.length !== 0 || this.jitCompileError !== undefined) this.installCompiled();
    let done = 0;
    let exit: number;
    for (;;) {
      exit = this.exports.run(budget - done);
      done += this.exitInsns;
      if (exit !== abi.EXIT_JIT) break;
      const t0 = performance.now();
      this.jitDrain();
      this.onTranslated?.(performance.now() - t0);
      if (done >= budget) {
        exit = abi.EXIT_BUDGET;
        break;
      }
    }
    if (done !== this.exitInsns) {
      this.view.setUint32(abi.EXIT_RECORD + abi.EXIT_REASON, exit, true);
      this.setU64(abi.EXIT_RECORD + abi.EXIT_INSNS, BigInt(done));
    }
    if (this.jitU32(abi.JI_QUEUED) !== 0) this.jitDrain();
    else this.releaseDroppedSlots();
    return exit;
  }

  /** The dispatcher blocks leave through (arm/core/jit/dispatch.ts): the one module besides the core that imports the table. */
  private buildDispatcher(): WebAssembly.ExportValue {
    const length = this.exports.jitBuildDispatcher();
    const bytes = new Uint8Array(this.memory.buffer, abi.JIT_MODULE, length);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: this.memory, table: this.table } });
    return instance.exports.next!;
  }

  /**
   * Translates the queued blocks: the core writes modules, this side compiles and installs
   * them, at once or in the background (at most MAX_COMPILING modules at a time; the queue
   * waits for the rest).
   */
  jitDrain(): void {
    this.installCompiled(); // (times itself)
    const t0 = performance.now();
    this.releaseDroppedSlots();
    while (this.jitU32(abi.JI_QUEUED) !== 0 && (!this.jitBackground || this.jitCompiling < MAX_COMPILING)) {
      const length = this.exports.jitBuild();
      this.releaseDroppedSlots();
      if (length === 0) continue;
      const bytes = new Uint8Array(this.memory.buffer, abi.JIT_MODULE, length);
      if (JIT_DUMP_DIR) writeFileSync(`${JIT_DUMP_DIR}/${String(this.jitModulesBuilt).padStart(5, "0")}.wasm`, bytes);
      this.jitModulesBuilt++;
      const built = this.builtModule();
      if (!this.jitBackground || (length <= this.jitSyncBytes && this.jitU32(abi.JI_MODULE_LOOPS) !== 0)) {
        this.install(new WebAssembly.Module(bytes), built);
        continue;
      }
      this.jitCompiling++;
      WebAssembly.compile(bytes.slice()).then(
        (module) => {
          this.jitCompiling--;
          this.jitCompiled.push({ module, built });
        },
        (e: unknown) => {
          this.jitCompiling--;
          this.jitCompileError = e;
        },
      );
    }
    this.releaseDroppedSlots();
    this.jitCompileMs += performance.now() - t0;
  }

  /** What installing the module jitBuild() just wrote needs, copied out of the core's memory. */
  private builtModule(): BuiltModule {
    // The blocks this module calls directly that earlier modules hold (env.c0, env.c1, …),
    // taken now: their slots may be reused before the module is ready, and a call to a block
    // dropped since is never made (its version guard fails).
    const env: Record<string, WebAssembly.ImportValue> = { ...(this.jitImports.env as Record<string, WebAssembly.ImportValue>) };
    const imports = this.jitU32(abi.JI_MODULE_IMPORTS);
    for (let k = 0; k < imports; k++) {
      env[`c${k}`] = this.table.get(this.view.getUint32(abi.JIT_IMPORT_SLOTS + k * 4, true)) as WebAssembly.ImportValue;
    }
    const recordBytes = this.jitU32(abi.JI_MODULE_FUNCS) * abi.JIT_COMMIT_BYTES;
    return {
      env,
      records: new Uint8Array(this.memory.buffer, abi.JIT_COMMIT, recordBytes).slice(),
      flushes: this.jitU32(abi.JI_FLUSHES),
    };
  }

  /** Drops every translation, as a full code cache does (tests: modules in flight are refused). */
  jitFlush(): void {
    this.exports.jitFlush();
    this.releaseDroppedSlots();
  }

  /** Whether V8 is still compiling modules in the background (the next run() installs those it has done). */
  jitPending(): boolean {
    return this.jitCompiling !== 0;
  }

  /** Installs the modules compiled in the background since the last call. */
  private installCompiled(): void {
    if (this.jitCompileError !== undefined) throw this.jitCompileError;
    const t0 = performance.now();
    for (const { module, built } of this.jitCompiled.splice(0)) this.install(module, built);
    this.releaseDroppedSlots();
    this.jitCompileMs += performance.now() - t0;
  }

  /**
   * Instantiates a compiled module and makes its blocks live: those the core accepts (their
   * pages were not written since jitBuild) get their function in the table. A module built
   * before the cache was last dropped is discarded whole: its slots belong to newer blocks.
   */
  private install(module: WebAssembly.Module, built: BuiltModule): void {
    if (this.jitU32(abi.JI_FLUSHES) !== built.flushes) return; // (the core would refuse it too)
    const fns = new WebAssembly.Instance(module, { env: built.env }).exports;
    new Uint8Array(this.memory.buffer, abi.JIT_COMMIT, built.records.length).set(built.records);
    const count = built.records.length / abi.JIT_COMMIT_BYTES;
    this.exports.jitCommit(count, built.flushes);
    for (let i = 0; i < count; i++) {
      const slot = this.view.getUint32(abi.JIT_COMMIT + i * abi.JIT_COMMIT_BYTES + 4, true);
      if (slot !== 0) this.table.set(slot, fns[i] as () => number);
    }
  }

  /**
   * Clears the table slots of blocks the core dropped (all of them after a flush), so that
   * modules nothing refers to any more can be collected.
   */
  private releaseDroppedSlots(): void {
    const flushes = this.jitU32(abi.JI_FLUSHES);
    if (flushes !== this.jitFlushesSeen) {
      this.jitFlushesSeen = flushes;
      for (let i = abi.JIT_SLOT_BASE; i < abi.JIT_SLOT_BASE + abi.JIT_SLOTS; i++) this.table.set(i, null);
    }
    const dead = this.jitU32(abi.JI_DEAD);
    if (dead === 0) return;
    for (let i = 0; i < dead; i++) this.table.set(this.view.getUint32(abi.JIT_DEAD_SLOTS + i * 4, true), null);
    this.view.setUint32(abi.JIT_INFO + abi.JI_DEAD, 0, true);
  }

  jitStats(): JitStats {
    const u64 = (off: number) => this.u64(abi.JIT_INFO + off);
    return {
      modules: this.jitU32(abi.JI_MODULES),
      blocks: this.jitU32(abi.JI_BLOCKS),
      bytes: this.jitU32(abi.JI_BYTES),
      compileMs: this.jitCompileMs,
      insnsInline: this.jitU32(abi.JI_EMITTED),
      insnsFallback: this.jitU32(abi.JI_FALLBACK),
      insnsJit: u64(abi.JI_INSNS_JIT),
      insnsInterpreted: u64(abi.JI_INSNS_INTERP),
      lookups: u64(abi.JI_LOOKUPS),
      hits: u64(abi.JI_HITS),
      invalidatedPages: this.jitU32(abi.JI_INVALIDATIONS),
      flushes: this.jitU32(abi.JI_FLUSHES),
      icInvalidateAll: this.jitU32(abi.JI_IC_IALLU),
      chains: this.jitU32(abi.JI_CHAINS),
      regions: this.jitU32(abi.JI_REGIONS),
      dispatches: u64(abi.JI_DISPATCHES),
      tail: JIT_TAIL_PROFILE ? this.jitTailProfile() : undefined,
    };
  }

  private jitTailProfile(): JitTailProfile {
    const reason = (i: number) => this.u64(abi.JIT_INFO + abi.JI_TAIL + i * 8);
    const execByOp = new Map<number, number>();
    for (let op = 0; op < abi.JI_EXEC_BY_OP_ENTRIES; op++) {
      const calls = this.jitU32(abi.JI_EXEC_BY_OP + op * 4);
      if (calls !== 0) execByOp.set(op, calls);
    }
    return { noKey: reason(0), cold: reason(1), queued: reason(2), compiling: reason(3), budget: reason(4), execByOp, accessMisses: this.u64(abi.JIT_INFO + abi.JI_EXEC_MISSES) };
  }

  private jitU32(off: number): number {
    return this.view.getUint32(abi.JIT_INFO + off, true);
  }

  x(n: number): bigint {
    return this.u64(abi.ACTIVE_STATE + abi.X_REGS + n * 8);
  }

  setX(n: number, v: bigint): void {
    if (n < 31) this.setU64(abi.ACTIVE_STATE + abi.X_REGS + n * 8, v);
  }

  /** V[n], the 128-bit SIMD&FP register, as an unsigned bigint. */
  v(n: number): bigint {
    const a = abi.ACTIVE_STATE + abi.V_REGS + n * 16;
    return (this.u64(a + 8) << 64n) | this.u64(a);
  }

  setV(n: number, v: bigint): void {
    const a = abi.ACTIVE_STATE + abi.V_REGS + n * 16;
    this.setU64(a, BigInt.asUintN(64, v));
    this.setU64(a + 8, BigInt.asUintN(64, v >> 64n));
  }

  get pc(): bigint {
    return this.u64(abi.ACTIVE_STATE + abi.PC);
  }

  set pc(v: bigint) {
    this.setU64(abi.ACTIVE_STATE + abi.PC, v);
  }

  get sp(): bigint {
    return this.u64(abi.ACTIVE_STATE + abi.SP_SLOT);
  }

  set sp(v: bigint) {
    this.setU64(abi.ACTIVE_STATE + abi.SP_SLOT, v);
  }

  get nzcv(): number {
    return this.view.getUint32(abi.ACTIVE_STATE + abi.NZCV, true);
  }

  set nzcv(v: number) {
    this.view.setUint32(abi.ACTIVE_STATE + abi.NZCV, v >>> 0, true);
  }

  get el(): number {
    return this.view.getUint32(abi.ACTIVE_STATE + abi.PSTATE_EL, true);
  }

  /** Raw state words, for fields without an accessor: offsets from arm/abi.ts. */
  stateU32(offset: number): number {
    return this.view.getUint32(abi.ACTIVE_STATE + offset, true);
  }

  setStateU32(offset: number, v: number): void {
    this.view.setUint32(abi.ACTIVE_STATE + offset, v >>> 0, true);
  }

  stateU64(offset: number): bigint {
    return this.u64(abi.ACTIVE_STATE + offset);
  }

  setStateU64(offset: number, v: bigint): void {
    this.setU64(abi.ACTIVE_STATE + offset, v);
  }

  /** A system register by its slot in arm/core/sysregs.ts. */
  sysregSlot(slot: number): bigint {
    return this.u64(abi.ACTIVE_STATE + abi.SYSREGS + slot * 8);
  }

  setSysregSlot(slot: number, v: bigint): void {
    this.setU64(abi.ACTIVE_STATE + abi.SYSREGS + slot * 8, v);
  }

  /**
   * Sets the interrupt lines of the active vCPU (bit 0 IRQ, bit 1 FIQ, bit 2 SError). Safe to
   * call from inside run() (from an MMIO or system register handler): the core re-checks the
   * lines before its next instruction.
   */
  setIrqLines(lines: number): void {
    this.setStateU32(abi.IRQ_LINES, lines);
    this.exports.kick();
  }

  get halted(): boolean {
    return this.stateU32(abi.HALTED) !== 0;
  }

  set halted(v: boolean) {
    this.setStateU32(abi.HALTED, v ? 1 : 0);
  }

  // ---- the exit record ----

  /**
   * During a CoreHost.mmio call: the access's instruction syndrome as a hypervisor sees it
   * (ESR ISS bits: ISV 24, SAS 23:22, SSE 21, SRT 20:16, SF 15, AR 14, WnR 6).
   */
  get mmioSyndrome(): number {
    return this.view.getUint32(abi.EXIT_RECORD + abi.EXIT_ESR, true);
  }

  /** During a CoreHost.mmio call: the address of the instruction making the access. */
  get mmioInsnPc(): bigint {
    return BigInt.asUintN(64, this.exports.mmioInsnPc());
  }

  /** During a CoreHost.mmio call: that instruction's word (0 if it is not in readable RAM). */
  get mmioInsnWord(): number {
    return this.exports.mmioInsnWord() >>> 0;
  }

  get exitImm(): number {
    return this.view.getUint32(abi.EXIT_RECORD + abi.EXIT_IMM, true);
  }

  get exitInsns(): number {
    return Number(this.u64(abi.EXIT_RECORD + abi.EXIT_INSNS));
  }

  get insnsRetired(): bigint {
    return this.u64(abi.ACTIVE_STATE + abi.INSNS_RETIRED);
  }

  /** Timer output levels: bit 0 the virtual timer (PPI 27), bit 1 the physical timer (PPI 30). */
  timerOutputs(): number {
    return this.stateU32(abi.TIMER_OUT);
  }

  /** The PMU's overflow interrupt (PPI 23): asserted or not. */
  pmuInterrupt(): boolean {
    return this.stateU32(abi.PMU_IRQ_OUT) !== 0;
  }

  /** Physical count at which a timer next fires, or -1 if none is armed. */
  timerDeadline(): number {
    return this.exports.timerDeadline();
  }

  /** Physical count of the earliest armed timer whose output is not raised yet, or -1. */
  timerPendingDeadline(): number {
    return this.exports.timerPendingDeadline();
  }

  /** The decode table's op number for an instruction word (0 = UNALLOCATED). */
  decodeOp(insn: number): number {
    return this.exports.decodeOp(insn >>> 0);
  }

  private u64(addr: number): bigint {
    return this.view.getBigUint64(addr, true);
  }

  private setU64(addr: number, v: bigint): void {
    this.view.setBigUint64(addr, BigInt.asUintN(64, v), true);
  }
}
