// Comparing a reference result with the core's, field by field, with messages that say which
// instruction and which register differ.

import { signalName, type Case, type Result } from "./case.ts";

const hex = (v: bigint | number) => "0x" + v.toString(16);

/** Differences between the reference and the core, empty when they agree. */
export function resultDifferences(k: Case, ref: Result, ours: Result): string[] {
  const out: string[] = [];
  if (ref.signal !== ours.signal) out.push(`signal: qemu ${signalName(ref.signal)}, core ${signalName(ours.signal)}`);
  if (ref.pc !== ours.pc) out.push(`pc: qemu ${hex(ref.pc)}, core ${hex(ours.pc)}`);
  for (let i = 0; i < 31; i++) {
    if (ref.x[i] !== ours.x[i]) out.push(`x${i}: qemu ${hex(ref.x[i]!)}, core ${hex(ours.x[i]!)}`);
  }
  if (ref.sp !== ours.sp) out.push(`sp: qemu ${hex(ref.sp)}, core ${hex(ours.sp)}`);
  if (ref.nzcv !== ours.nzcv) out.push(`nzcv: qemu ${hex(ref.nzcv)}, core ${hex(ours.nzcv)}`);
  for (let i = 0; i < 32; i++) {
    const [a, b] = [ref.v[i]!, ours.v[i]!];
    if (a[0] !== b[0] || a[1] !== b[1]) out.push(`v${i}: qemu ${hex(a[1])}:${hex(a[0])}, core ${hex(b[1])}:${hex(b[0])}`);
  }
  if (ref.fpsr !== ours.fpsr) out.push(`fpsr: qemu ${hex(ref.fpsr)}, core ${hex(ours.fpsr)}`);
  if (ref.fpcr !== ours.fpcr) out.push(`fpcr: qemu ${hex(ref.fpcr)}, core ${hex(ours.fpcr)}`);
  if (ref.signal === 11 || ref.signal === 7) {
    if (ref.faultAddr !== ours.faultAddr) out.push(`fault address: qemu ${ref.faultAddr === undefined ? "-" : hex(ref.faultAddr)}, core ${ours.faultAddr === undefined ? "-" : hex(ours.faultAddr)}`);
  }
  const [ma, mb] = [ref.mem, ours.mem];
  for (let i = 0; i < ma.length; i++) {
    if (ma[i] !== mb[i]) {
      out.push(`DATA+${hex(i)}: qemu ${hex(ma[i]!)}, core ${hex(mb[i]!)}`);
      break;
    }
  }
  if (out.length) out.unshift(`case ${k.insns.map((w) => w.toString(16).padStart(8, "0")).join(" ")}:`);
  return out;
}
