// A 16550A UART with 64-byte FIFOs, modelled on kvmtool's hw/serial.c: eight byte-wide
// registers, transmit that never backs up, receive fed from a host input queue, and a level
// interrupt rebuilt from register state after every access.
//
// Output: the device is an EventEmitter; every byte the guest transmits is emitted at once as
// `"output"` with a fresh Uint8Array (listeners may keep it). Input: `pushInput(bytes)` queues
// host bytes; they enter the receive FIFO, up to 64 at a time, only when it is empty and only
// once the guest listens (below). `"inputRoom"` tells the host side when a large queue has
// drained, so it can stop reading its input meanwhile (backpressure).
//
// When is the guest listening? Host input that reaches the FIFO before a driver is up is lost:
// Linux's probe and startup clear the FIFO and read RX to discard what is there, so bytes
// piped in at boot vanished. A real UART cannot help that, but we can simply hold the bytes
// until the guest shows it will read them: it enabled the receive interrupt (IER.RDI: Linux
// once the port is open, after its FIFO clears), or it polls LSR for data many times in a row
// without transmitting (U-Boot, bare-metal programs). A console driver waiting for THRE reads
// LSR once per byte it sends, so it never counts as polling.
//
// Differences from kvmtool, on purpose:
// - FCR's clear-RX/clear-TX bits act on FCR writes. kvmtool tests them against LCR, which
//   clears LCR bits 1-2 (LCR = 0x03 reads back 0x01); that is a bug, not behaviour.
// - In loopback (MCR.LOOP) MSR reflects the modem outputs as a real 16550 does
//   (RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD), so Linux's loopback probe passes; outside
//   loopback MSR reads DCD|DSR|CTS as in kvmtool.

import { EventEmitter } from "eventemitter3";
import { HostInputQueue } from "./host-input-queue.ts";
import type { TrapBus } from "../src/iotrap/bus.ts";
import type { IrqSink } from "../src/irq.ts";
import { u64Cells, type FdtNode } from "../src/lib/fdt/tree.ts";
import { IRQ_TYPE, spiCells } from "../arm/machine/interrupt-specifier.ts";

// Register offsets (several names share an offset: read/write or DLAB-selected views).
export const UART_RX = 0; // read, DLAB = 0
export const UART_TX = 0; // write, DLAB = 0
export const UART_DLL = 0; // DLAB = 1
export const UART_IER = 1; // DLAB = 0
export const UART_DLM = 1; // DLAB = 1
export const UART_IIR = 2; // read
export const UART_FCR = 2; // write
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;
export const UART_REGISTER_BYTES = 8;

export const UART_IER_RDI = 0x01; // receive data available
export const UART_IER_THRI = 0x02; // transmit holding register empty
export const UART_IER_MASK = 0x0f; // the four interrupt enables a 16550A has

export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
export const UART_IIR_FIFO_BITS = 0xc0; // "FIFOs enabled": what makes Linux say 16550A

export const UART_FCR_ENABLE_FIFO = 0x01;
export const UART_FCR_CLEAR_RCVR = 0x02;
export const UART_FCR_CLEAR_XMIT = 0x04;

export const UART_LCR_DLAB = 0x80;

export const UART_MCR_DTR = 0x01;
export const UART_MCR_RTS = 0x02;
export const UART_MCR_OUT1 = 0x04;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_LOOP = 0x10;

export const UART_LSR_DR = 0x01;
export const UART_LSR_BI = 0x10;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_TEMT = 0x40;

export const UART_MSR_CTS = 0x10;
export const UART_MSR_DSR = 0x20;
export const UART_MSR_RI = 0x40;
export const UART_MSR_DCD = 0x80;

export const UART_FIFO_BYTES = 64;

/** LSR reads that find no data, with no transmit in between, that make a guest a poller. */
export const RX_POLLS_TO_LISTEN = 32;
export { HOST_INPUT_HIGH_BYTES } from "./host-input-queue.ts";

const RESET_IIR = UART_IIR_NO_INT;
const RESET_LSR = UART_LSR_TEMT | UART_LSR_THRE;
const RESET_MSR = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
const RESET_MCR = UART_MCR_OUT2;

/** Everything the guest can observe, as plain data (snapshots copy it with structuredClone). */
export interface Serial8250State {
  dll: number;
  dlm: number;
  iir: number;
  ier: number;
  fcr: number;
  lcr: number;
  mcr: number;
  lsr: number;
  msr: number;
  scr: number;
  /** Receive FIFO, oldest byte first, at most UART_FIFO_BYTES. */
  rxFifo: number[];
  /** Transmit FIFO; always drained straight to the output, kept for fidelity of state. */
  txFifo: number[];
  /** A break is waiting to be delivered as a 0 byte with LSR.BI. */
  breakPending: boolean;
  /** Last level driven on the interrupt line. */
  irqLevel: boolean;
  /** LSR reads that found no data since the last transmit (see "listening" above). */
  emptyLsrPolls: number;
}

export function serial8250ResetState(): Serial8250State {
  return {
    dll: 0,
    dlm: 0,
    iir: RESET_IIR,
    ier: 0,
    fcr: 0,
    lcr: 0,
    mcr: RESET_MCR,
    lsr: RESET_LSR,
    msr: RESET_MSR,
    scr: 0,
    rxFifo: [],
    txFifo: [],
    breakPending: false,
    irqLevel: false,
    emptyLsrPolls: 0,
  };
}

export interface Serial8250Options {
  /** Guest-physical base of the 8-byte register window. */
  base: number;
  /** GIC INTID of the level interrupt line. */
  intid: number;
  irq: IrqSink;
  /** Shown by the trap tracer; defaults to "serial8250@<base>". */
  name?: string;
}

interface Serial8250Events {
  output: (bytes: Uint8Array) => void;
  /** The host input queue fell below its low-water mark after passing HOST_INPUT_HIGH_BYTES. */
  inputRoom: () => void;
}

export class Serial8250 extends EventEmitter<Serial8250Events> {
  static readonly description = {
    name: "serial8250",
    compatible: "ns16550a",
    windowBytes: UART_REGISTER_BYTES,
    /** What kvmtool puts in the DT; the divisor latch is stored but nothing is timed. */
    clockFrequencyHz: 1_843_200,
  } as const;

  readonly base: number;
  readonly intid: number;
  readonly name: string;
  private readonly irq: IrqSink;
  private state: Serial8250State = serial8250ResetState();
  /** Host bytes not yet in the receive FIFO (the terminal's side, not the guest's). */
  private readonly hostInput = new HostInputQueue(() => this.emit("inputRoom"));

  constructor({ base, intid, irq, name }: Serial8250Options) {
    super();
    this.base = base;
    this.intid = intid;
    this.irq = irq;
    this.name = name ?? `serial8250@0x${base.toString(16)}`;
  }

  /** kvmtool's name for the node, which /aliases points serial0 at. */
  get nodeName(): string {
    return `U6_16550A@${this.base.toString(16)}`;
  }

  /** kvmtool's node: byte-wide registers at stride 1 (no reg-shift), a level-high SPI. */
  fdtNode(parent: FdtNode): FdtNode {
    return parent
      .child(this.nodeName)
      .prop("compatible", Serial8250.description.compatible)
      .prop("reg", [...u64Cells(this.base), ...u64Cells(UART_REGISTER_BYTES)])
      .prop("interrupts", spiCells(this.intid, IRQ_TYPE.levelHigh))
      .prop("clock-frequency", [Serial8250.description.clockFrequencyHz]);
  }

  register(bus: TrapBus): void {
    bus.register({
      bus: "mmio",
      base: this.base,
      sizeBytes: UART_REGISTER_BYTES,
      name: this.name,
      handler: (_vcpu, offset, data, _lengthBytes, isWrite) => {
        // Only the low byte of any access is used; the bus has zeroed the rest of a read.
        if (isWrite) this.writeRegister(offset, data[0]!);
        else data[0] = this.readRegister(offset);
        this.refillRx();
        this.updateIrq();
      },
    });
  }

  /** Queues bytes typed on the host; they reach the guest when it listens and its FIFO is empty. */
  pushInput(bytes: Uint8Array | readonly number[]): void {
    this.hostInput.push(bytes);
    this.refillRx();
    this.updateIrq();
  }

  /** Host bytes waiting for the guest. */
  get queuedInputBytes(): number {
    return this.hostInput.length;
  }

  /** A break condition (sysrq): delivered as a 0 byte with LSR.BI set. */
  pushBreak(): void {
    this.state.breakPending = true;
    this.refillRx();
    this.updateIrq();
  }

  getState(): Serial8250State {
    return structuredClone(this.state);
  }

  setState(state: Serial8250State): void {
    this.state = structuredClone(state);
    // Put the line where the restored state says it is.
    this.irq.setLevel(this.intid, this.state.irqLevel);
  }

  private readRegister(offset: number): number {
    const s = this.state;
    const dlab = (s.lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RX:
        return dlab ? s.dll : this.readRx();
      case UART_IER:
        return dlab ? s.dlm : s.ier;
      case UART_IIR:
        return s.iir | UART_IIR_FIFO_BITS;
      case UART_LCR:
        return s.lcr;
      case UART_MCR:
        return s.mcr;
      case UART_LSR:
        if ((s.lsr & UART_LSR_DR) === 0 && s.emptyLsrPolls < RX_POLLS_TO_LISTEN) s.emptyLsrPolls++;
        return s.lsr;
      case UART_MSR:
        return this.modemStatus();
      case UART_SCR:
        return s.scr;
      default:
        return 0;
    }
  }

  private writeRegister(offset: number, value: number): void {
    const s = this.state;
    const dlab = (s.lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case UART_TX:
        if (dlab) s.dll = value;
        else this.transmit(value);
        break;
      case UART_IER:
        if (dlab) s.dlm = value;
        else s.ier = value & UART_IER_MASK;
        break;
      case UART_FCR:
        this.writeFcr(value);
        break;
      case UART_LCR:
        s.lcr = value;
        break;
      case UART_MCR:
        s.mcr = value;
        break;
      case UART_LSR: // factory test; ignored
      case UART_MSR: // read-only
        break;
      case UART_SCR:
        s.scr = value;
        break;
    }
  }

  private readRx(): number {
    const s = this.state;
    const byte = s.rxFifo.shift();
    if (byte === undefined) return 0;
    if (s.rxFifo.length === 0) s.lsr &= ~UART_LSR_DR;
    // A break is the 0 byte at the head of the FIFO; reading it ends the break.
    s.lsr &= ~UART_LSR_BI;
    return byte;
  }

  private transmit(byte: number): void {
    const s = this.state;
    s.emptyLsrPolls = 0;
    if ((s.mcr & UART_MCR_LOOP) !== 0) {
      // Loopback: the byte comes back on the receive side and never leaves the chip.
      if (s.rxFifo.length < UART_FIFO_BYTES) {
        s.rxFifo.push(byte);
        s.lsr |= UART_LSR_DR;
      }
      return;
    }
    s.txFifo.push(byte);
    s.lsr &= ~UART_LSR_TEMT;
    // Transmit is instant, so the FIFO never fills and THRE is back before the guest looks.
    this.flushTx();
  }

  private flushTx(): void {
    const s = this.state;
    s.lsr |= UART_LSR_TEMT | UART_LSR_THRE;
    if (s.txFifo.length === 0) return;
    const bytes = Uint8Array.from(s.txFifo);
    s.txFifo.length = 0;
    this.emit("output", bytes);
  }

  private writeFcr(value: number): void {
    const s = this.state;
    // The clear bits are self-clearing on real hardware: act, and don't keep them.
    if ((value & UART_FCR_CLEAR_RCVR) !== 0) {
      s.rxFifo.length = 0;
      s.lsr &= ~(UART_LSR_DR | UART_LSR_BI);
    }
    if ((value & UART_FCR_CLEAR_XMIT) !== 0) {
      s.txFifo.length = 0;
      s.lsr |= UART_LSR_TEMT | UART_LSR_THRE;
    }
    s.fcr = value & ~(UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
  }

  private modemStatus(): number {
    const mcr = this.state.mcr;
    if ((mcr & UART_MCR_LOOP) === 0) return this.state.msr;
    return (
      ((mcr & UART_MCR_RTS) !== 0 ? UART_MSR_CTS : 0) |
      ((mcr & UART_MCR_DTR) !== 0 ? UART_MSR_DSR : 0) |
      ((mcr & UART_MCR_OUT1) !== 0 ? UART_MSR_RI : 0) |
      ((mcr & UART_MCR_OUT2) !== 0 ? UART_MSR_DCD : 0)
    );
  }

  /** Whether the guest will read what enters the FIFO (see "listening" at the top). */
  private listening(): boolean {
    const s = this.state;
    return (s.ier & UART_IER_RDI) !== 0 || s.emptyLsrPolls >= RX_POLLS_TO_LISTEN;
  }

  /** Moves host input into the receive FIFO, but only once the guest listens and has emptied it. */
  private refillRx(): void {
    const s = this.state;
    if ((s.mcr & UART_MCR_LOOP) !== 0 || !this.listening()) return;
    if ((s.lsr & UART_LSR_DR) !== 0 || s.rxFifo.length !== 0) return;
    if (s.breakPending) {
      s.breakPending = false;
      s.rxFifo.push(0);
      s.lsr |= UART_LSR_DR | UART_LSR_BI;
      return;
    }
    if (this.hostInput.length === 0) return;
    for (const b of this.hostInput.take(UART_FIFO_BYTES)) s.rxFifo.push(b);
    s.lsr |= UART_LSR_DR;
  }

  /**
   * Rebuilds IIR from IER and LSR and drives the line. Like kvmtool, both causes can show at
   * once (IIR = 0x06) and the THRE interrupt stays up while IER.THRI is set: reading IIR
   * does not acknowledge it.
   */
  updateIrq(): void {
    const s = this.state;
    let iir = 0;
    if ((s.ier & UART_IER_RDI) !== 0 && (s.lsr & UART_LSR_DR) !== 0) iir |= UART_IIR_RDI;
    if ((s.ier & UART_IER_THRI) !== 0 && (s.lsr & UART_LSR_TEMT) !== 0) iir |= UART_IIR_THRI;
    s.iir = iir === 0 ? UART_IIR_NO_INT : iir;
    const level = iir !== 0;
    if (level !== s.irqLevel) {
      s.irqLevel = level;
      this.irq.setLevel(this.intid, level);
    }
    // With THRI off the driver has nothing left to send, so nothing may linger in TX.
    if ((s.ier & UART_IER_THRI) === 0) this.flushTx();
  }
}
