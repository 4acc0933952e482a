// Scripted guest sessions: start `lkvm run`, wait for console output, type into the console,
// and collect the exit status. This is the API lkvm's own boot tests use, and the one offered
// to users who test kernels, firmware and userlands in CI.
//
//   const s = GuestSession.start(["-k", "Image", "-i", "initrd.img", "-m", "256"]);
//   await s.waitFor(/# $/m, 60_000);
//   s.send("uname -a\n");
//   const line = await s.waitFor(/Linux \S+ .*aarch64/, 10_000);
//   s.send("poweroff -f\n");
//   const { code } = await s.exited(30_000);

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

export class SessionTimeoutError extends Error {
  override name = "SessionTimeoutError";
}

export class SessionExitedError extends Error {
  override name = "SessionExitedError";
}

export interface SessionOptions {
  /** Path to the lkvm executable (default: bin/lkvm of this checkout, or `lkvm` on PATH). */
  lkvm?: string;
  /** Extra environment for the lkvm process. */
  env?: NodeJS.ProcessEnv;
}

export interface SessionExit {
  /** The process exit code (0: the guest powered off), or null if killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Everything the guest and lkvm printed (stdout and stderr, interleaved as they arrived). */
  output: string;
}

function defaultLkvm(): string {
  try {
    return fileURLToPath(new URL("../../bin/lkvm", import.meta.url));
  } catch {
    return "lkvm";
  }
}

export class GuestSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private text = "";
  /** Where the next waitFor() starts looking: each match consumes the output before it. */
  private cursor = 0;
  private listeners = new Set<() => void>();
  private exit?: SessionExit;
  private readonly exitPromise: Promise<SessionExit>;

  private constructor(args: string[], opts: SessionOptions) {
    this.child = spawn(opts.lkvm ?? defaultLkvm(), ["run", ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const onData = (chunk: Buffer) => {
      this.text += chunk.toString("latin1");
      for (const l of this.listeners) l();
    };
    this.child.stdout.on("data", onData);
    this.child.stderr.on("data", onData);
    this.exitPromise = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        this.exit = { code, signal, output: this.text };
        for (const l of this.listeners) l();
        resolve(this.exit);
      });
    });
  }

  /** Starts `lkvm run <args>`. */
  static start(args: string[], opts: SessionOptions = {}): GuestSession {
    return new GuestSession(args, opts);
  }

  /** All output so far. */
  get output(): string {
    return this.text;
  }

  /**
   * Resolves with the first match of `pattern` in output not yet consumed by an earlier wait;
   * rejects with SessionTimeoutError after timeoutMs, or SessionExitedError if lkvm exits first.
   */
  waitFor(pattern: string | RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const re = typeof pattern === "string" ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : pattern;
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.text.slice(this.cursor));
        if (m) {
          this.cursor += m.index + m[0].length;
          finish();
          resolve(m);
        } else if (this.exit) {
          finish();
          reject(new SessionExitedError(`lkvm exited (code ${this.exit.code}) before ${re} appeared; output ends:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new SessionTimeoutError(`${re} did not appear within ${timeoutMs} ms; output ends:\n${this.tail()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Types text into the guest's console. */
  send(text: string): void {
    if (!this.exit) this.child.stdin.write(Buffer.from(text, "latin1"));
  }

  /** Ends the console input, as the end of a file piped into `lkvm run` does. */
  endInput(): void {
    this.child.stdin.end();
  }

  /** Resolves when lkvm exits; kills it (SIGKILL) and rejects after timeoutMs. */
  exited(timeoutMs: number): Promise<SessionExit> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(new SessionTimeoutError(`lkvm did not exit within ${timeoutMs} ms; output ends:\n${this.tail()}`));
      }, timeoutMs);
      void this.exitPromise.then((e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
  }

  /** Kills lkvm (SIGKILL unless another signal is named), as a crash or `kill -9` would. */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.exit) this.child.kill(signal);
  }

  private tail(): string {
    return this.text.slice(-2000);
  }
}
