// The guest console on the host terminal, as kvmtool's term.c does it: stdin in raw mode while
// the guest runs (restored on every exit path), Ctrl-A x to quit, Ctrl-A Ctrl-A to send a
// literal Ctrl-A. Unlike kvmtool, piped stdin reaches the guest too, so scripts can drive it.

import type { Vm } from "../kvm/vm.ts";

const CTRL_A = 0x01;

export interface ConsoleHandle {
  /** Restores the terminal and detaches from stdin/stdout. Safe to call twice. */
  close(): void;
}

export function attachConsole(vm: Vm, stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout): ConsoleHandle {
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  let sawEscape = false;

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
    if (out.length) vm.input(Uint8Array.from(out));
  };

  // Guest output is batched: the run loop yields to Node every few milliseconds, and one
  // write per batch is far cheaper than one per byte.
  let pending: Uint8Array[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    stdout.write(Buffer.concat(pending));
    pending = [];
  };
  const onOutput = (bytes: Uint8Array) => {
    pending.push(bytes);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  const restore = () => {
    if (raw && stdin.isTTY) stdin.setRawMode(false);
  };
  stdin.on("data", onData);
  vm.on("output", onOutput);
  process.on("exit", restore);
  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      flush();
      vm.off("output", onOutput);
      stdin.off("data", onData);
      stdin.pause();
      restore();
      process.off("exit", restore);
    },
  };
}
