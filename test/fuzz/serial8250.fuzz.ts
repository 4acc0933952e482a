// The 8250 UART (hw/serial8250.ts) through the trap bus: any register at any width, DLAB and
// loopback toggled at random, FIFO clears, interleaved with host input and breaks.
//
// Must hold: no exception; the receive FIFO never passes 64 bytes and LSR.DR says whether it
// holds any; the interrupt line is where IIR says it is, and is driven only on changes;
// transmit holds nothing back; every byte the guest sends (DLAB off, loopback off) comes out
// once, in order. Responsive: after any sequence, Linux's start-up writes bring the UART back,
// queued input drains, new input arrives in order and a sent byte comes out.

import fc from "fast-check";
import {
  Serial8250,
  UART_FCR,
  UART_FCR_CLEAR_RCVR,
  UART_FCR_CLEAR_XMIT,
  UART_FCR_ENABLE_FIFO,
  UART_FIFO_BYTES,
  UART_IER,
  UART_IER_RDI,
  UART_IIR_NO_INT,
  UART_LCR,
  UART_LCR_DLAB,
  UART_LSR,
  UART_LSR_DR,
  UART_MCR,
  UART_MCR_DTR,
  UART_MCR_LOOP,
  UART_MCR_OUT2,
  UART_MCR_RTS,
  UART_REGISTER_BYTES,
  UART_RX,
  UART_TX,
} from "../../hw/serial8250.ts";
import { accessArb, busRig, check, perform, sequenceArb, valueArb, type Access, type FuzzTarget } from "./harness.ts";

const BASE = 0x100_0000;
const INTID = 32;

type Op = { kind: "access"; access: Access } | { kind: "input"; bytes: number[] } | { kind: "break" };

const uartValueArb = fc.oneof(
  { weight: 2, arbitrary: valueArb },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xff }).map(BigInt) },
  { weight: 2, arbitrary: fc.constantFrom(UART_LCR_DLAB, 0x03, UART_MCR_LOOP, UART_MCR_OUT2, 0x1f, 0x07, 0x06, 0x0f, 0x00).map(BigInt) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: accessArb(UART_REGISTER_BYTES, [0, 1, 2, 3, 4, 5, 6, 7], uartValueArb).map((access) => ({ kind: "access" as const, access })) },
  { weight: 2, arbitrary: sequenceArb(fc.integer({ min: 0, max: 0xff }), 80).map((bytes) => ({ kind: "input" as const, bytes })) },
  { weight: 1, arbitrary: fc.constant({ kind: "break" as const }) },
);

export const serial8250Target: FuzzTarget = {
  name: "serial8250",
  description: "8250 UART register sequences with host input and breaks",
  quickRuns: 300,
  build() {
    const property = fc.property(sequenceArb(opArb, 60), (ops) => {
      const { bus, cpu } = busRig();
      const levels: boolean[] = [];
      const uart = new Serial8250({ base: BASE, intid: INTID, irq: { setLevel: (_i, level) => levels.push(level) } });
      uart.register(bus);
      const output: number[] = [];
      uart.on("output", (bytes) => output.push(...bytes));
      // The guest's side of LCR and MCR, to know which writes transmit.
      let lcr = 0;
      let mcr = UART_MCR_OUT2;
      const sent: number[] = [];
      let pushed = 0;

      const invariants = (): void => {
        const s = uart.getState();
        check(s.rxFifo.length <= UART_FIFO_BYTES, () => `receive FIFO holds ${s.rxFifo.length} bytes`);
        check(((s.lsr & UART_LSR_DR) !== 0) === s.rxFifo.length > 0, () => `LSR.DR ${s.lsr & UART_LSR_DR} with ${s.rxFifo.length} bytes in the FIFO`);
        check(s.txFifo.length === 0, "transmit FIFO held bytes back");
        check(s.irqLevel === (s.iir !== UART_IIR_NO_INT), () => `line ${s.irqLevel} but IIR 0x${s.iir.toString(16)}`);
        check(s.irqLevel === (levels.at(-1) ?? false), "the line the GIC saw differs from the UART's");
        check(levels.every((l, i) => l !== (i === 0 ? false : levels[i - 1])), "the line was driven without a change");
      };

      for (const op of ops) {
        if (op.kind === "input") {
          uart.pushInput(op.bytes);
          pushed += op.bytes.length;
        } else if (op.kind === "break") {
          uart.pushBreak();
          pushed++;
        } else {
          const a = op.access;
          const claimed = a.offset >= 0 && a.offset + a.width <= UART_REGISTER_BYTES;
          if (claimed && a.write) {
            const byte = Number(a.value & 0xffn);
            if (a.offset === UART_LCR) lcr = byte;
            if (a.offset === UART_MCR) mcr = byte;
            if (a.offset === UART_TX && (lcr & UART_LCR_DLAB) === 0 && (mcr & UART_MCR_LOOP) === 0) sent.push(byte);
          }
          perform(cpu, BASE, a);
        }
        invariants();
      }
      check(output.length === sent.length && output.every((b, i) => b === sent[i]), () => `sent ${sent.length} bytes, ${output.length} came out`);

      // Linux's serial8250_startup, roughly: 8N1, DLAB off, loopback off, FIFOs cleared, RX interrupt on.
      const wr = (offset: number, v: number): void => cpu.write8(BASE + offset, v);
      const rd = (offset: number): number => cpu.read8(BASE + offset);
      wr(UART_LCR, 0x03);
      wr(UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
      wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
      wr(UART_IER, UART_IER_RDI);
      // Whatever was typed before drains in at most one read per byte.
      let reads = 0;
      while ((rd(UART_LSR) & UART_LSR_DR) !== 0 && reads <= pushed + 1) {
        rd(UART_RX);
        reads++;
      }
      check((rd(UART_LSR) & UART_LSR_DR) === 0, () => `receive side still not empty after ${reads} reads`);
      check(!uart.getState().irqLevel, "line up with nothing to report");
      uart.pushInput([0x41, 0x42]);
      check(uart.getState().irqLevel, "new input raised no interrupt");
      check(rd(UART_RX) === 0x41 && rd(UART_RX) === 0x42, "new input did not arrive in order");
      check((rd(UART_LSR) & UART_LSR_DR) === 0, "more input than was typed");
      const before = output.length;
      wr(UART_TX, 0x43);
      check(output.length === before + 1 && output.at(-1) === 0x43, "a sent byte did not come out");
      invariants();
    });
    return { property };
  },
};
