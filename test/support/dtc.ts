// Runs Debian's dtc, our oracle, and parses the dts it prints. Not a test file itself.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DtcRun {
  output: Buffer;
  /** dtc's stderr, one line each. */
  messages: string[];
}

/** Runs `dtc <args> -o out in` with `input` written to a temp file; throws if dtc fails. */
export function dtc(args: string[], input: Uint8Array | string): DtcRun {
  const dir = mkdtempSync(join(tmpdir(), "lkvm-fdt-"));
  try {
    const inPath = join(dir, "in");
    const outPath = join(dir, "out");
    writeFileSync(inPath, input);
    const run = spawnSync("dtc", [...args, "-o", outPath, inPath], { encoding: "utf8" });
    if (run.error) throw run.error;
    if (run.status !== 0) throw new Error(`dtc ${args.join(" ")} exited ${run.status}:\n${run.stderr}`);
    return { output: readFileSync(outPath), messages: run.stderr.split("\n").filter((l) => l !== "") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function dtbToDts(blob: Uint8Array): { dts: string; messages: string[] } {
  const run = dtc(["-I", "dtb", "-O", "dts"], blob);
  return { dts: run.output.toString("utf8"), messages: run.messages };
}

export function dtsToDtb(source: string, extraArgs: string[] = []): Uint8Array {
  return new Uint8Array(dtc(["-I", "dts", "-O", "dtb", ...extraArgs], source).output);
}

/** What dtc said about a node, as { check, path }, from lines like "<stdout>: Warning (x): /memory: …". */
export function warnings(messages: string[]): { check: string; path: string }[] {
  return messages.map((line) => {
    const m = /Warning \(([\w-]+)\): (\S+?):/.exec(line);
    if (!m) throw new Error(`unexpected dtc output: ${line}`);
    return { check: m[1]!, path: m[2]! };
  });
}

export interface DtsProp {
  /** The value as dtc printed it, e.g. `<0x01 0x02>`; "" for an empty property. */
  text: string;
  /** The bytes that value stands for. */
  bytes: Uint8Array;
}

export interface ParsedDts {
  memReserve: { address: bigint; size: bigint }[];
  /** Node paths ("/", "/cpus/cpu@0") in the order dtc printed them. */
  nodes: Map<string, Map<string, DtsProp>>;
}

/**
 * Parses the dts that `dtc -O dts` prints: one statement a line, values made of "strings",
 * <cells> and [bytes]. Just enough of the language for dtc's own output.
 */
export function parseDts(dts: string): ParsedDts {
  const parsed: ParsedDts = { memReserve: [], nodes: new Map() };
  const path: string[] = [];
  const nodePath = () => (path.length <= 1 ? "/" : path.slice(1).map((p) => `/${p}`).join(""));
  for (const raw of dts.split("\n")) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if (line === "" || line === "/dts-v1/;") continue;
    if ((m = /^\/memreserve\/\s+(\S+)\s+(\S+);$/.exec(line))) {
      parsed.memReserve.push({ address: BigInt(m[1]!), size: BigInt(m[2]!) });
    } else if ((m = /^(\S+) \{$/.exec(line))) {
      path.push(m[1]!);
      parsed.nodes.set(nodePath(), new Map());
    } else if (line === "};") {
      path.pop();
    } else if ((m = /^(\S+?)(?: = (.*))?;$/.exec(line))) {
      const text = m[2] ?? "";
      parsed.nodes.get(nodePath())!.set(m[1]!, { text, bytes: valueBytes(text) });
    } else {
      throw new Error(`cannot parse dts line: ${raw}`);
    }
  }
  return parsed;
}

function valueBytes(text: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === ",") {
      i++;
    } else if (c === '"') {
      i = readString(text, i + 1, out);
    } else if (c === "<") {
      const end = text.indexOf(">", i);
      for (const cell of text.slice(i + 1, end).split(" ").filter(Boolean)) {
        const v = Number(cell);
        out.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
      }
      i = end + 1;
    } else if (c === "[") {
      const end = text.indexOf("]", i);
      for (const b of text.slice(i + 1, end).split(" ").filter(Boolean)) out.push(parseInt(b, 16));
      i = end + 1;
    } else {
      throw new Error(`cannot parse dts value: ${text}`);
    }
  }
  return new Uint8Array(out);
}

/** Reads a quoted string's bytes (and its NUL) from just after the opening quote. */
function readString(text: string, i: number, out: number[]): number {
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, v: 11, f: 12, '"': 34, "\\": 92, "'": 39 };
  while (text[i] !== '"') {
    if (text[i] !== "\\") {
      out.push(text.charCodeAt(i++));
      continue;
    }
    const e = text[i + 1]!;
    let m: RegExpExecArray | null;
    if ((m = /^x([0-9a-fA-F]{1,2})/.exec(text.slice(i + 1)))) {
      out.push(parseInt(m[1]!, 16));
      i += 1 + m[0].length;
    } else if ((m = /^[0-7]{1,3}/.exec(text.slice(i + 1)))) {
      out.push(parseInt(m[0], 8));
      i += 1 + m[0].length;
    } else {
      out.push(simple[e] ?? e.charCodeAt(0));
      i += 2;
    }
  }
  out.push(0);
  return i + 1;
}
