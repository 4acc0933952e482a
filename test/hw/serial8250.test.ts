import { describe, expect, it } from "vitest";
import {
  Serial8250,
  UART_DLL,
  UART_DLM,
  UART_FCR,
  UART_FCR_CLEAR_RCVR,
  UART_FCR_CLEAR_XMIT,
  UART_FCR_ENABLE_FIFO,
  UART_IER,
  UART_IER_RDI,
  UART_IER_THRI,
  UART_IIR,
  UART_LCR,
  UART_LCR_DLAB,
  UART_LSR,
  UART_LSR_BI,
  UART_LSR_DR,
  UART_LSR_TEMT,
  UART_LSR_THRE,
  UART_MCR,
  UART_MCR_LOOP,
  UART_MCR_OUT2,
  UART_MCR_RTS,
  UART_MSR,
  UART_RX,
  UART_SCR,
  UART_TX,
  RX_POLLS_TO_LISTEN,
  HOST_INPUT_HIGH_BYTES,
} from "../../hw/serial8250.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import type { IrqSink } from "../../src/irq.ts";
import { GuestCpu } from "../support/guest-cpu.ts";

const UART0 = 0x100_0000;
const INTID = 32;

function setup() {
  const bus = new TrapBus();
  const levels: boolean[] = [];
  const irq: IrqSink = {
    setLevel(intid, level) {
      expect(intid).toBe(INTID);
      levels.push(level);
    },
  };
  const uart = new Serial8250({ base: UART0, intid: INTID, irq });
  uart.register(bus);
  const output: number[] = [];
  uart.on("output", (bytes) => output.push(...bytes));
  const cpu = new GuestCpu(bus);
  const inb = (reg: number): number => cpu.read8(UART0 + reg);
  const outb = (reg: number, value: number): void => cpu.write8(UART0 + reg, value);
  return { uart, levels, output, cpu, inb, outb };
}

describe("Serial8250 as the Linux 8250 driver probes it", () => {
  it("shows the 16550A reset values", () => {
    const { inb } = setup();
    expect(inb(UART_IIR)).toBe(0xc1); // no interrupt, FIFO bits
    expect(inb(UART_LSR)).toBe(UART_LSR_TEMT | UART_LSR_THRE);
    expect(inb(UART_MSR)).toBe(0xb0); // DCD | DSR | CTS
    expect(inb(UART_MCR)).toBe(UART_MCR_OUT2);
    expect(inb(UART_LCR)).toBe(0);
  });

  it("passes the IER probe: writes 0 then 0x0F and reads back only the low four bits", () => {
    const { inb, outb } = setup();
    outb(UART_IER, 0);
    expect(inb(UART_IER)).toBe(0);
    outb(UART_IER, 0xff);
    expect(inb(UART_IER)).toBe(0x0f);
    outb(UART_IER, 0);
  });

  it("keeps what the guest writes to the scratch register", () => {
    const { inb, outb } = setup();
    for (const v of [0x55, 0xaa, 0x00]) {
      outb(UART_SCR, v);
      expect(inb(UART_SCR)).toBe(v);
    }
  });

  it("shows the divisor latch instead of RBR/IER while LCR.DLAB is set", () => {
    const { inb, outb, output } = setup();
    outb(UART_IER, UART_IER_RDI);
    outb(UART_LCR, UART_LCR_DLAB | 0x03);
    outb(UART_DLL, 0x01); // 115200 baud
    outb(UART_DLM, 0x00);
    expect(inb(UART_DLL)).toBe(0x01);
    expect(inb(UART_DLM)).toBe(0x00);
    outb(UART_LCR, 0x03); // 8N1, DLAB off
    expect(inb(UART_LCR)).toBe(0x03); // kvmtool's FCR-bits-in-LCR quirk would give 0x01
    expect(inb(UART_IER)).toBe(UART_IER_RDI);
    expect(output).toEqual([]); // the DLL write was not a transmit
  });

  it("passes the loopback probe: MCR LOOP|OUT2|RTS makes MSR report DCD|CTS", () => {
    const { inb, outb } = setup();
    outb(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    expect(inb(UART_MSR) & 0xf0).toBe(0x90);
    outb(UART_MCR, UART_MCR_OUT2);
    expect(inb(UART_MSR)).toBe(0xb0);
  });

  it("reports FIFOs (IIR bits 7:6 = 3) once the guest enables them, so it is a 16550A", () => {
    const { inb, outb } = setup();
    outb(UART_FCR, UART_FCR_ENABLE_FIFO);
    expect(inb(UART_IIR) >> 6).toBe(3);
  });

  it("loops a transmitted byte back to the receiver in loopback mode, without output", () => {
    const { inb, outb, output } = setup();
    outb(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
    outb(UART_TX, 0x5a);
    expect(inb(UART_LSR) & UART_LSR_DR).toBe(UART_LSR_DR);
    expect(inb(UART_RX)).toBe(0x5a);
    expect(inb(UART_LSR) & UART_LSR_DR).toBe(0);
    expect(output).toEqual([]);
  });
});

describe("Serial8250 transmit", () => {
  it("sends each byte written to THR to the output at once, with THRE and TEMT still set", () => {
    const { inb, outb, output } = setup();
    for (const c of "hi\n") {
      expect(inb(UART_LSR) & UART_LSR_THRE).toBe(UART_LSR_THRE);
      outb(UART_TX, c.charCodeAt(0));
    }
    expect(Buffer.from(output).toString()).toBe("hi\n");
    expect(inb(UART_LSR)).toBe(UART_LSR_TEMT | UART_LSR_THRE);
  });

  it("uses only the low byte of a wider store to THR", () => {
    const { cpu, output } = setup();
    cpu.write32(UART0 + UART_TX, 0x1234_5641);
    expect(output).toEqual([0x41]);
  });

  it("raises the THRE interrupt when the guest enables it, and holds it while enabled", () => {
    const { inb, outb, levels } = setup();
    outb(UART_IER, UART_IER_THRI);
    expect(levels).toEqual([true]);
    expect(inb(UART_IIR)).toBe(0xc2);
    expect(inb(UART_IIR)).toBe(0xc2); // reading IIR does not acknowledge it
    outb(UART_TX, 0x41);
    expect(levels).toEqual([true]); // level unchanged: no redundant setLevel
    outb(UART_IER, 0);
    expect(levels).toEqual([true, false]);
    expect(inb(UART_IIR)).toBe(0xc1);
  });

  it("empties the transmitter when the guest clears TX with FCR", () => {
    const { inb, outb } = setup();
    outb(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_XMIT);
    expect(inb(UART_LSR) & (UART_LSR_TEMT | UART_LSR_THRE)).toBe(UART_LSR_TEMT | UART_LSR_THRE);
  });
});

describe("Serial8250 receive", () => {
  it("raises the RX interrupt when host input arrives and RDI is enabled, drops it when drained", () => {
    const { uart, inb, outb, levels } = setup();
    outb(UART_IER, UART_IER_RDI);
    uart.pushInput(new TextEncoder().encode("ok"));
    expect(levels).toEqual([true]);
    expect(inb(UART_IIR)).toBe(0xc4);
    expect(inb(UART_LSR) & UART_LSR_DR).toBe(UART_LSR_DR);
    expect(inb(UART_RX)).toBe(0x6f);
    expect(inb(UART_RX)).toBe(0x6b);
    expect(inb(UART_LSR) & UART_LSR_DR).toBe(0);
    expect(levels).toEqual([true, false]);
    expect(inb(UART_RX)).toBe(0); // nothing left
  });

  it("reads IIR as 0xC6 when receive data and THRE are both pending", () => {
    const { uart, inb, outb } = setup();
    outb(UART_IER, UART_IER_RDI | UART_IER_THRI);
    uart.pushInput([0x31]);
    expect(inb(UART_IIR)).toBe(0xc6);
  });

  it("moves host input into the FIFO at most 64 bytes at a time, only once it is empty", () => {
    const { uart, inb, outb } = setup();
    outb(UART_IER, UART_IER_RDI);
    const typed = Array.from({ length: 100 }, (_, i) => i);
    uart.pushInput(typed);
    expect(uart.getState().rxFifo).toHaveLength(64);
    inb(UART_RX);
    uart.pushInput([200]); // FIFO not empty: nothing moves
    expect(uart.getState().rxFifo).toHaveLength(63);
    const got: number[] = [];
    while (inb(UART_LSR) & UART_LSR_DR) got.push(inb(UART_RX));
    expect(got).toEqual([...typed.slice(1), 200]);
  });

  it("drops received bytes when the guest clears RX with FCR while it listens", () => {
    const { uart, inb, outb } = setup();
    outb(UART_IER, UART_IER_RDI);
    uart.pushInput([1, 2, 3]);
    outb(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    outb(UART_FCR, 0);
    expect(inb(UART_LSR) & UART_LSR_DR).toBe(0);
    expect(uart.getState().rxFifo).toEqual([]);
    uart.pushInput([4]); // later input still arrives
    expect(inb(UART_RX)).toBe(4);
  });

  it("delivers a break as a 0 byte with LSR.BI, which reading it clears", () => {
    const { uart, inb, outb } = setup();
    outb(UART_IER, UART_IER_RDI);
    uart.pushBreak();
    expect(inb(UART_LSR) & (UART_LSR_BI | UART_LSR_DR)).toBe(UART_LSR_BI | UART_LSR_DR);
    expect(inb(UART_RX)).toBe(0);
    expect(inb(UART_LSR) & UART_LSR_BI).toBe(0);
  });
});

describe("Serial8250 input before the guest listens", () => {
  it("holds host input through a driver's probe and startup (FIFO clears, RX drains), until IER.RDI", () => {
    const { uart, inb, outb } = setup();
    const typed = Array.from({ length: 200 }, (_, i) => i & 0xff);
    uart.pushInput(typed);
    // What Linux's 8250 probe and startup do before enabling the receive interrupt.
    outb(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    outb(UART_FCR, 0);
    for (let i = 0; i < 4; i++) {
      inb(UART_LSR);
      inb(UART_RX);
      inb(UART_IIR);
      inb(UART_MSR);
    }
    outb(UART_IER, UART_IER_RDI);
    const got: number[] = [];
    while (inb(UART_LSR) & UART_LSR_DR) got.push(inb(UART_RX));
    expect(got).toEqual(typed);
  });

  it("serves a guest that polls LSR for data, once it has polled a while", () => {
    const { uart, inb } = setup();
    uart.pushInput([0x61, 0x62]);
    for (let i = 0; i < RX_POLLS_TO_LISTEN - 1; i++) expect(inb(UART_LSR) & UART_LSR_DR).toBe(0);
    inb(UART_LSR); // the poll that makes it a listener: data arrives after it
    expect(inb(UART_LSR) & UART_LSR_DR).toBe(UART_LSR_DR);
    expect([inb(UART_RX), inb(UART_RX)]).toEqual([0x61, 0x62]);
  });

  it("does not take a console driver waiting for THRE between bytes for a listener", () => {
    const { uart, inb, outb } = setup();
    uart.pushInput([0x61]);
    for (let i = 0; i < 10 * RX_POLLS_TO_LISTEN; i++) {
      inb(UART_LSR);
      outb(UART_TX, 0x2e);
    }
    expect(inb(UART_LSR) & UART_LSR_DR).toBe(0);
    expect(uart.queuedInputBytes).toBe(1);
  });

  it("says when a large queue has drained, so the host can read more", () => {
    const { uart, inb, outb } = setup();
    let room = 0;
    uart.on("inputRoom", () => room++);
    uart.pushInput(new Uint8Array(HOST_INPUT_HIGH_BYTES + 100));
    outb(UART_IER, UART_IER_RDI);
    let read = 0;
    while (inb(UART_LSR) & UART_LSR_DR) {
      inb(UART_RX);
      read++;
    }
    expect(read).toBe(HOST_INPUT_HIGH_BYTES + 100);
    expect(room).toBe(1);
  });
});

describe("Serial8250 state", () => {
  it("restores a snapshot into a fresh device, and drives the line to the saved level", () => {
    const a = setup();
    a.outb(UART_LCR, 0x03);
    a.outb(UART_IER, UART_IER_RDI);
    a.outb(UART_SCR, 0x77);
    a.uart.pushInput([9, 8]);
    const saved = a.uart.getState();
    const b = setup();
    b.uart.setState(saved);
    expect(b.levels).toEqual([true]);
    expect(b.inb(UART_SCR)).toBe(0x77);
    expect(b.inb(UART_LCR)).toBe(0x03);
    expect(b.inb(UART_RX)).toBe(9);
    expect(a.uart.getState().rxFifo).toEqual([9, 8]); // the snapshot was a copy
  });
});
