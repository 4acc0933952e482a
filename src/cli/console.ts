// The guest console on the host terminal, as kvmtool's term.c does it: stdin in raw mode while
// the guest runs (restored on every exit path), Ctrl-A x to quit, Ctrl-A Ctrl-A to send a
// literal Ctrl-A. Unlike kvmtool, piped stdin reaches the guest too, so scripts can drive it:
// input is read only as fast as the guest takes it (Vm.input's backpressure), so a long script
// piped in arrives whole.
//
// The host side can go away under us: a reader of our output that exits (`lkvm run | head`:
// EPIPE) or a terminal that hangs up (its window closed: EIO on stdin, SIGHUP). Both end the
// VM through the callbacks instead of an unhandled 'error' event.

import type { Vm } from "../kvm/vm.ts";

const CTRL_A = 0x01;

export interface ConsoleHandle {
  /** Restores the terminal and detaches from stdin/stdout. Safe to call twice. */
  close(): void;
}

export interface ConsoleOptions {
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** The terminal hung up (EIO on stdin or stdout). */
  onHangup?: () => void;
  /** Whoever read our output went away (EPIPE). */
  onOutputClosed?: () => void;
}

export function attachConsole(vm: Vm, opts: ConsoleOptions = {}): ConsoleHandle {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  let sawEscape = false;
  let hungUp = false;
  let outputClosed = false;

  const onData = (chunk: Buffer) => {
    const out: number[] = [];
    for (const c of chunk) {
      if (sawEscape) {
        sawEscape = false;
        if (c === 0x78 /* x */) {
          vm.stop();
          return;
        }
        out.push(CTRL_A);
        if (c !== CTRL_A) out.push(c);
      } else if (c === CTRL_A && raw) {
        sawEscape = true;
      } else {
        out.push(c);
      }
    }
    // The guest is behind: stop reading until it has taken most of what is queued.
    if (out.length && !vm.input(Uint8Array.from(out))) stdin.pause();
  };
  const onInputRoom = () => {
    if (!closed) stdin.resume();
  };

  // Guest output is batched: the run loop yields to Node every few milliseconds, and one
  // write per batch is far cheaper than one per byte.
  let pending: Uint8Array[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    if (!outputClosed && !hungUp) stdout.write(Buffer.concat(pending));
    pending = [];
  };
  const onOutput = (bytes: Uint8Array) => {
    pending.push(bytes);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  const hangUp = () => {
    if (hungUp) return;
    hungUp = true;
    opts.onHangup?.();
  };
  const onInputError = () => hangUp();
  // Stays attached after close(): a write queued before it may still fail.
  const onOutputError = (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") {
      if (!outputClosed) {
        outputClosed = true;
        opts.onOutputClosed?.();
      }
    } else {
      hangUp();
    }
  };

  const restore = () => {
    if (!raw || hungUp || !stdin.isTTY) return;
    try {
      stdin.setRawMode(false);
    } catch {
      hungUp = true; // the terminal is gone after all
    }
  };
  stdin.on("data", onData);
  stdin.on("error", onInputError);
  stdout.on("error", onOutputError);
  vm.on("output", onOutput);
  vm.on("inputRoom", onInputRoom);
  process.on("exit", restore);
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      flush();
      vm.off("output", onOutput);
      vm.off("inputRoom", onInputRoom);
      stdin.off("data", onData);
      stdin.pause();
      restore();
      process.off("exit", restore);
    },
  };
}
