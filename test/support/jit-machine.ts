// A small EL1 machine for JIT tests: a Core with RAM at 2 GiB, optional identity-mapped 4 KiB
// page tables, an MMIO window that records accesses, a counter the test controls, and an
// assembler for the handful of A64 instructions the tests need. Each scenario runs twice —
// interpreted and with the JIT forced on (threshold 0, eager) — so tests can check both what
// the guest sees and that the two agree.

import * as abi from "../../arm/abi.ts";
import { Core, type CoreHost, type JitOptions } from "../../arm/host/core.ts";

export const RAM_BASE = 0x8000_0000;
export const RAM_SIZE = 8 << 20;
/** An MMIO window with a few registers: reads return MMIO_READ_BASE + offset. */
export const MMIO_BASE = 0x0900_0000;
export const MMIO_READ_BASE = 0x1000n;
/** Where vectors() puts the exception vectors. */
export const VBAR = RAM_BASE + 0x8000;
const TABLES = RAM_BASE + 0x70_0000; // L0..L2 tables, then one L3 table per 2 MiB of RAM

// Sysreg slots (arm/core/sysregs.ts).
export const SR = { SCTLR: 0, TCR: 1, TTBR0: 2, MAIR: 4, VBAR: 6, ESR: 7, FAR: 8, ELR: 9, SPSR: 10 } as const;

// ---- an assembler for the instructions the tests use ----
const u = (x: number) => x >>> 0;
export const A = {
  movz: (rd: number, imm16: number, hw = 0) => u(0xd2800000 | (hw << 21) | ((imm16 & 0xffff) << 5) | rd),
  movk: (rd: number, imm16: number, hw = 0) => u(0xf2800000 | (hw << 21) | ((imm16 & 0xffff) << 5) | rd),
  addi: (rd: number, rn: number, imm12: number) => u(0x91000000 | (imm12 << 10) | (rn << 5) | rd),
  subi: (rd: number, rn: number, imm12: number) => u(0xd1000000 | (imm12 << 10) | (rn << 5) | rd),
  subsi: (rd: number, rn: number, imm12: number) => u(0xf1000000 | (imm12 << 10) | (rn << 5) | rd),
  addr: (rd: number, rn: number, rm: number) => u(0x8b000000 | (rm << 16) | (rn << 5) | rd),
  /** B to a byte offset from this instruction. */
  b: (off: number) => u(0x14000000 | ((off >> 2) & 0x3ffffff)),
  bl: (off: number) => u(0x94000000 | ((off >> 2) & 0x3ffffff)),
  bcond: (cond: number, off: number) => u(0x54000000 | (((off >> 2) & 0x7ffff) << 5) | cond),
  cbnz: (rt: number, off: number) => u(0xb5000000 | (((off >> 2) & 0x7ffff) << 5) | rt),
  cbz: (rt: number, off: number) => u(0xb4000000 | (((off >> 2) & 0x7ffff) << 5) | rt),
  ret: () => 0xd65f03c0,
  br: (rn: number) => u(0xd61f0000 | (rn << 5)),
  blr: (rn: number) => u(0xd63f0000 | (rn << 5)),
  ldrx: (rt: number, rn: number, imm = 0) => u(0xf9400000 | ((imm >> 3) << 10) | (rn << 5) | rt),
  strx: (rt: number, rn: number, imm = 0) => u(0xf9000000 | ((imm >> 3) << 10) | (rn << 5) | rt),
  ldrw: (rt: number, rn: number, imm = 0) => u(0xb9400000 | ((imm >> 2) << 10) | (rn << 5) | rt),
  strw: (rt: number, rn: number, imm = 0) => u(0xb9000000 | ((imm >> 2) << 10) | (rn << 5) | rt),
  ldrb: (rt: number, rn: number, imm = 0) => u(0x39400000 | (imm << 10) | (rn << 5) | rt),
  /** LDR Xt, [Xn], #imm (post-index). */
  ldrxPost: (rt: number, rn: number, imm: number) => u(0xf8400400 | ((imm & 0x1ff) << 12) | (rn << 5) | rt),
  hvc: (imm = 0) => u(0xd4000002 | (imm << 5)),
  svc: (imm = 0) => u(0xd4000001 | (imm << 5)),
  eret: () => 0xd69f03e0,
  nop: () => 0xd503201f,
  isb: () => 0xd5033fdf,
  dsb: () => 0xd5033f9f,
  icIvau: (rt: number) => u(0xd50b7520 | rt),
  icIallu: () => 0xd508751f,
  tlbiVmalle1: () => 0xd508871f,
  daifClr: (imm: number) => u(0xd50340ff | (imm << 8)),
  daifSet: (imm: number) => u(0xd50340df | (imm << 8)),
  /** MSR/MRS with op0 = 3. */
  msr: (op1: number, crn: number, crm: number, op2: number, rt: number) =>
    u(0xd5180000 | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | rt),
  mrs: (rt: number, op1: number, crn: number, crm: number, op2: number) =>
    u(0xd5380000 | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | rt),
  /** Loads a 64-bit constant into Xd (4 instructions). */
  mov64: (rd: number, v: bigint | number): number[] => {
    const x = BigInt(v);
    return [0, 1, 2, 3].map((hw) => {
      const part = Number((x >> BigInt(16 * hw)) & 0xffffn);
      return hw === 0 ? A.movz(rd, part) : A.movk(rd, part, hw);
    });
  },
};
export const COND = { EQ: 0, NE: 1, HS: 2, LO: 3, MI: 4, PL: 5, GE: 10, LT: 11, GT: 12, LE: 13 } as const;
/** CNTV_CTL_EL0 and CNTV_CVAL_EL0 as (op1, CRn, CRm, op2). */
export const CNTV_CTL: [number, number, number, number] = [3, 14, 3, 1];
export const CNTV_CVAL: [number, number, number, number] = [3, 14, 3, 2];

export interface MmioAccess {
  gpa: number;
  lengthBytes: number;
  isWrite: boolean;
  value: bigint;
}

export class TestMachine {
  readonly core: Core;
  readonly mmio: MmioAccess[] = [];
  /** The generic timer's count; tests move it, or let every read advance it (autoTick). */
  ticks = 0;
  autoTick = false;
  private readonly dv: DataView;

  /** `jitOptions` replaces the default translated mode (threshold 0, eager). */
  constructor(readonly jit: boolean, jitOptions?: JitOptions) {
    const host: CoreHost = {
      mmio: (_vcpu, gpa, data, lengthBytes, isWrite) => {
        const dv = new DataView(data.buffer, data.byteOffset, 8);
        if (isWrite) {
          this.mmio.push({ gpa, lengthBytes, isWrite, value: dv.getBigUint64(0, true) & ((1n << BigInt(8 * lengthBytes)) - 1n) });
        } else {
          const value = MMIO_READ_BASE + BigInt(gpa - MMIO_BASE);
          dv.setBigUint64(0, value, true);
          this.mmio.push({ gpa, lengthBytes, isWrite, value });
        }
        return true;
      },
      sysreg: () => undefined,
      counter: () => (this.autoTick ? ++this.ticks : this.ticks),
    };
    this.core = new Core({
      ramBase: RAM_BASE,
      ramSizeBytes: RAM_SIZE,
      host,
      jit: jit ? (jitOptions ?? { enabled: true, threshold: 0, eager: true }) : undefined,
    });
    const ram = this.core.ram();
    this.dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    this.core.reset(0);
  }

  /** Vectors at VBAR where every entry is `HVC #(0x100 + entry index)`, so an exception shows. */
  vectors(): void {
    for (let i = 0; i < 16; i++) this.code(VBAR + i * 0x80, [A.hvc(0x100 + i)]);
    this.core.setSysregSlot(SR.VBAR, BigInt(VBAR));
  }

  /** Writes instruction words at a guest physical address (through writePhys: the VMM's path). */
  code(gpa: number, words: number[]): void {
    const bytes = new Uint8Array(words.length * 4);
    const dv = new DataView(bytes.buffer);
    words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
    this.core.writePhys(gpa, bytes);
  }

  u64(gpa: number): bigint {
    return this.dv.getBigUint64(gpa - RAM_BASE, true);
  }

  setU64(gpa: number, v: bigint): void {
    this.dv.setBigUint64(gpa - RAM_BASE, BigInt.asUintN(64, v), true);
  }

  u32(gpa: number): number {
    return this.dv.getUint32(gpa - RAM_BASE, true);
  }

  /**
   * Turns the MMU on with 4 KiB pages mapping all of RAM flat (normal memory, EL1 RWX) and
   * the MMIO window as Device memory.
   */
  mmuOn(): void {
    const [l0, l1, l2] = [TABLES, TABLES + 0x1000, TABLES + 0x2000];
    const l3s = TABLES + 0x3000;
    for (let a = TABLES; a < TABLES + 0x3000 + (RAM_SIZE >> 21) * 0x1000 + 0x1000; a += 8) this.setU64(a, 0n);
    this.setU64(l0, BigInt(l1) | 3n);
    this.setU64(l1 + 2 * 8, BigInt(l2) | 3n); // 2 GiB..3 GiB
    for (let i = 0; i < RAM_SIZE >> 21; i++) {
      const l3 = l3s + i * 0x1000;
      this.setU64(l2 + i * 8, BigInt(l3) | 3n);
      for (let j = 0; j < 512; j++) this.mapPage(RAM_BASE + i * 0x20_0000 + j * 0x1000, RAM_BASE + i * 0x20_0000 + j * 0x1000);
    }
    // The MMIO window: L1 entry 0 -> an L2 table with one 2 MiB Device block.
    const l2dev = l3s + (RAM_SIZE >> 21) * 0x1000;
    this.setU64(l1, BigInt(l2dev) | 3n);
    this.setU64(l2dev + (MMIO_BASE >> 21) * 8, BigInt(MMIO_BASE) | 1n | (1n << 2n) | (1n << 10n)); // AttrIndx 1
    const c = this.core;
    c.setSysregSlot(SR.MAIR, 0x00ffn); // Attr0 normal WB, Attr1 Device-nGnRnE
    c.setSysregSlot(SR.TCR, 16n | (5n << 32n) | (1n << 23n)); // T0SZ 16, 4K, EPD1
    c.setSysregSlot(SR.TTBR0, BigInt(TABLES));
    c.setSysregSlot(SR.SCTLR, c.sysregSlot(SR.SCTLR) | 1n);
  }

  /** The guest address of the L3 descriptor that maps the 4 KiB page at va (in RAM's range). */
  l3Entry(va: number): number {
    return TABLES + 0x3000 + ((va - RAM_BASE) >> 12) * 8;
  }

  /** Maps the 4 KiB page at va (in RAM's range) to pa, EL1 read/write/execute plus `attrs` bits. */
  mapPage(va: number, pa: number, attrs = 0n): void {
    this.setU64(this.l3Entry(va), BigInt(pa) | 3n | (1n << 10n) | (3n << 8n) | attrs);
  }

  /** Unmaps the 4 KiB page at va: an invalid L3 descriptor. */
  unmapPage(va: number): void {
    this.setU64(this.l3Entry(va), 0n);
  }

  /** Runs from pc until HVC (returns its immediate) or the budget ends (returns -1). */
  runToHvc(pc: number, budget = 1_000_000): number {
    this.core.pc = BigInt(pc);
    let left = budget;
    while (left > 0) {
      const exit = this.core.run(left);
      left -= this.core.exitInsns;
      if (exit === abi.EXIT_HVC) return this.core.exitImm;
      if (exit !== abi.EXIT_BUDGET && exit !== abi.EXIT_TIMER) throw new Error(`unexpected exit ${exit}`);
    }
    return -1;
  }

  /** Registers, SP, PC, NZCV and the exception registers: what tests compare across modes. */
  state(): Record<string, bigint | number> {
    const c = this.core;
    const s: Record<string, bigint | number> = { pc: c.pc, sp: c.sp, nzcv: c.nzcv, el: c.el };
    for (let i = 0; i < 31; i++) s[`x${i}`] = c.x(i);
    for (const [name, slot] of Object.entries(SR)) s[name] = c.sysregSlot(slot);
    s.insns = c.insnsRetired;
    return s;
  }
}

/**
 * A program at `main` that calls the function at `target` through `blr x20` `count` times,
 * adding the x1 it returns to x0 (from 0), then stops with HVC #1.
 */
export function callLoop(count: number, target: number): number[] {
  return [
    ...A.mov64(20, target),
    A.movz(0, 0),
    A.movz(2, count),
    A.blr(20), // loop:
    A.addr(0, 0, 1),
    A.subsi(2, 2, 1),
    A.bcond(COND.NE, -12),
    A.hvc(1),
  ];
}

/** Builds the same scenario on an interpreted and a translated machine. */
export function both(setup: (m: TestMachine) => void): [TestMachine, TestMachine] {
  const interp = new TestMachine(false);
  const jit = new TestMachine(true);
  setup(interp);
  setup(jit);
  return [interp, jit];
}
