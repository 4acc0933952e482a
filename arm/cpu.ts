// The TypeScript side of the core: owns the WebAssembly.Memory, instantiates core.wasm with
// the VMM's imports, and gives typed access to registers, guest RAM and the exit record.

import * as abi from "./abi.ts";
import { coreWasm } from "./core-wasm.ts";

/** The VMM's side of the core's imports. */
export interface CoreHost {
  /**
   * A guest physical access outside RAM. `data` is the 8-byte little-endian exit buffer: read
   * it on writes, fill it on reads. Return false to stop the vCPU (a fatal access).
   */
  mmio(vcpu: number, gpa: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): boolean;
  /**
   * A system register the core leaves to the VMM (the GICv3 CPU interface). Returns the value
   * read (or any value for writes), or undefined if the register does not exist (UNDEFINED).
   */
  sysreg(vcpu: number, encoding: number, isWrite: boolean, value: bigint): bigint | undefined;
  /** The physical counter, in ticks of CNTFRQ (62.5 MHz). */
  counter(): number;
}

export interface CoreOptions {
  ramBase: number;
  ramSizeBytes: number;
  host: CoreHost;
}

interface CoreExports {
  run(budget: number): number;
  setRamLayout(base: number, sizeBytes: number): void;
  resetVcpu(vcpuId: number, poweredOff: number): void;
  saveVcpu(vcpuId: number): void;
  loadVcpu(vcpuId: number): void;
  decodeOp(insn: number): number;
  setTrapResult(lo: number, hi: number): void;
  timerDeadline(): number;
  timerOutputs(): number;
  kick(): void;
}

export const CNTFRQ_HZ = 62_500_000;
const WASM_PAGE = abi.WASM_PAGE_SIZE;
/** The largest guest RAM one wasm32 memory can hold after the core's own regions. */
export const MAX_RAM_BYTES = 4 * 1024 ** 3 - abi.RAM_HOST_BASE - WASM_PAGE;

let compiled: WebAssembly.Module | undefined;

export class Core {
  readonly memory: WebAssembly.Memory;
  readonly ramBase: number;
  readonly ramSizeBytes: number;
  private readonly exports: CoreExports;
  private readonly view: DataView;
  private readonly exitData: Uint8Array;

  constructor(opts: CoreOptions) {
    if (opts.ramSizeBytes <= 0 || opts.ramSizeBytes > MAX_RAM_BYTES || opts.ramSizeBytes % 4096) {
      throw new RangeError(`guest RAM size ${opts.ramSizeBytes} is not a multiple of 4 KiB up to ${MAX_RAM_BYTES}`);
    }
    this.ramBase = opts.ramBase;
    this.ramSizeBytes = opts.ramSizeBytes;
    const pages = Math.ceil((abi.RAM_HOST_BASE + opts.ramSizeBytes) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.view = new DataView(this.memory.buffer);
    this.exitData = new Uint8Array(this.memory.buffer, abi.EXIT_RECORD + abi.EXIT_DATA, 8);
    const host = opts.host;
    compiled ??= new WebAssembly.Module(coreWasm);
    const imports = {
      env: {
        memory: this.memory,
        mmio: (vcpu: number, gpa: number, len: number, isWrite: number): number =>
          host.mmio(vcpu, gpa, this.exitData, len, isWrite !== 0) ? 1 : 0,
        sysregTrap: (vcpu: number, enc: number, isWrite: number, lo: number, hi: number): number => {
          const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
          const r = host.sysreg(vcpu, enc, isWrite !== 0, value);
          if (r === undefined) return 0;
          this.exports.setTrapResult(Number(r & 0xffffffffn), Number((r >> 32n) & 0xffffffffn));
          return 1;
        },
        hostCounter: (): number => host.counter(),
        abort: (msg: number, file: number, line: number, col: number): never => {
          throw new Error(`core aborted at line ${line}:${col}`);
        },
      },
    };
    const instance = new WebAssembly.Instance(compiled, imports);
    this.exports = instance.exports as unknown as CoreExports;
    this.exports.setRamLayout(opts.ramBase, opts.ramSizeBytes);
  }

  /** Guest RAM as bytes; index 0 is guest physical address ramBase. */
  ram(): Uint8Array {
    return new Uint8Array(this.memory.buffer, abi.RAM_HOST_BASE, this.ramSizeBytes);
  }

  /** Copies bytes into guest RAM at a guest physical address; throws if they do not fit. */
  writePhys(gpa: number, bytes: Uint8Array): void {
    const off = gpa - this.ramBase;
    if (off < 0 || off + bytes.length > this.ramSizeBytes) {
      throw new RangeError(`[${gpa.toString(16)}, +${bytes.length}) is outside guest RAM`);
    }
    this.ram().set(bytes, off);
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

  /** Runs the active vCPU for up to budget instructions; returns an abi.EXIT_* reason. */
  run(budget: number): number {
    return this.exports.run(budget);
  }

  x(n: number): bigint {
    return this.u64(abi.ACTIVE_STATE + abi.X_REGS + n * 8);
  }

  setX(n: number, v: bigint): void {
    if (n < 31) this.setU64(abi.ACTIVE_STATE + abi.X_REGS + n * 8, v);
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

  /** Physical count at which a timer next fires, or -1 if none is armed. */
  timerDeadline(): number {
    return this.exports.timerDeadline();
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
