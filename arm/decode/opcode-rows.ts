// Rows of the AdvSIMD groups whose handlers decode the opcode field, as the ARM ARM's decode
// pseudocode does: the rows fix the allocated opcodes (so the unallocated ones match no row),
// and each passes its opcode to the handler it shares with the rest of its group.

import type { Row } from "./table.ts";
import { concat } from "./transforms.ts";

/**
 * A row passing `opcode` after `args`: fixed bits as a constant, or with a field in it
 * ("0 op 00") as their concatenation. `set` adds constants the handler takes (see fixedU).
 */
export function opcodeRow(
  name: string, title: string, handler: string, pattern: string, opcode: string, args: string[],
  set: Record<string, number> = {},
): Row {
  const parts = opcode.split(" ");
  const fixed = parts.every((p) => /^[01]+$/.test(p));
  return {
    name, title, pattern, handler,
    ...(fixed ? { set: { ...set, opcode: parseInt(parts.join(""), 2) } } : { set, derive: { opcode: concat(...parts) } }),
    args: [...args, "opcode"],
  };
}

/** The U a row passes when its pattern fixes U ("0", "1"); a "U" field passes itself. */
export function fixedU(u: string): Record<string, number> {
  return u === "U" ? {} : { U: parseInt(u, 2) };
}
