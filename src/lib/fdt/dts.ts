// Prints a tree as dts source, for debugging and --dump-dtb users. Types are guessed from the
// bytes the way dtc guesses them for a blob: printable NUL-terminated text is a string list,
// a multiple of four bytes is cells, anything else is bytes. Whatever the guess, `dtc -I dts`
// compiles the output back to the same bytes.

import type { FdtNode } from "./tree.ts";

function isStringList(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes[bytes.length - 1] !== 0) return false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    // An empty string (a NUL right after a NUL, or leading) would print as "" and read oddly.
    if (b === 0 ? i === 0 || bytes[i - 1] === 0 : b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

function formatValue(bytes: Uint8Array): string {
  if (isStringList(bytes)) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length - 1).toString("latin1");
    const strings = text.split("\0");
    return strings.map((s) => `"${s.replace(/[\\"]/g, "\\$&")}"`).join(", ");
  }
  const hexByte = (b: number) => b.toString(16).padStart(2, "0");
  if (bytes.length % 4 !== 0) return `[${Array.from(bytes, hexByte).join(" ")}]`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cells = Array.from({ length: bytes.length / 4 }, (_, i) => `0x${view.getUint32(i * 4).toString(16)}`);
  return `<${cells.join(" ")}>`;
}

function printNode(node: FdtNode, depth: number, out: string[]): void {
  const indent = "\t".repeat(depth);
  out.push(`${indent}${node.name || "/"} {`);
  for (const [name, bytes] of node.props) {
    out.push(bytes.length === 0 ? `${indent}\t${name};` : `${indent}\t${name} = ${formatValue(bytes)};`);
  }
  for (const child of node.children) {
    out.push("");
    printNode(child, depth + 1, out);
  }
  out.push(`${indent}};`);
}

export function fdtToDts(root: FdtNode): string {
  const out = ["/dts-v1/;", ""];
  printNode(root, 0, out);
  return `${out.join("\n")}\n`;
}
