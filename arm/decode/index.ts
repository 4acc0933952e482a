// The whole A64 decode table: its groups in ARM ARM order. Op numbers are 1-based positions
// in this order (0 is UNALLOCATED); the generator and TypeScript-side tools both use them.

import { numberRows, type Group, type NumberedRow } from "./table.ts";
import { branchesExceptionsSystem } from "./branch-system.ts";
import { dataProcessingImmediate } from "./dp-imm.ts";
import { loadsAndStores } from "./ldst.ts";
import { dataProcessingRegister } from "./dp-reg.ts";
import { simdLoadsStores } from "./ldst-simd.ts";
import { scalarFloatingPoint, fpConversions } from "./fp.ts";
import { simdInteger } from "./simd-int.ts";
import { simdIntegerMisc } from "./simd-misc.ts";
import { simdFloatingPoint, simdFloatingPointIndexed } from "./simd-fp.ts";
import { simdPermute } from "./simd-perm.ts";
import { simdShift } from "./simd-shift.ts";
import { simdByElement } from "./simd-elem.ts";
import { loadsAndStores64 } from "./ldst64.ts";

export const groups: Group[] = [
  dataProcessingImmediate,
  branchesExceptionsSystem,
  loadsAndStores,
  dataProcessingRegister,
  simdLoadsStores,
  scalarFloatingPoint,
  fpConversions,
  simdInteger,
  simdIntegerMisc,
  simdFloatingPoint,
  simdFloatingPointIndexed,
  simdPermute,
  simdShift,
  simdByElement,
  loadsAndStores64,
];

export type { NumberedRow };

export function allRows(): NumberedRow[] {
  return numberRows(groups);
}
