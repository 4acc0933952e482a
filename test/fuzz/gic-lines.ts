// What the GIC fuzz targets record of a GIC's outputs, and the check they share: each vCPU's
// IRQ and FIQ are reported only when they change, and the last report is the level now.

import { check } from "./harness.ts";

export interface GicLevels {
  irqLevel(vcpu: number): boolean;
  fiqLevel(vcpu: number): boolean;
}

export function lineRecorder(vcpus: number) {
  const irq: boolean[][] = Array.from({ length: vcpus }, () => []);
  const fiq: boolean[][] = Array.from({ length: vcpus }, () => []);
  return {
    onIrqLineChange: (v: number, level: boolean): void => void irq[v]!.push(level),
    onFiqLineChange: (v: number, level: boolean): void => void fiq[v]!.push(level),
    checkReported(gic: GicLevels, v: number): void {
      for (const [name, seen, now] of [["IRQ", irq[v]!, gic.irqLevel(v)], ["FIQ", fiq[v]!, gic.fiqLevel(v)]] as const) {
        check(seen.every((l, i) => l !== (i === 0 ? false : seen[i - 1])), () => `vCPU ${v} ${name} reported without a change`);
        check((seen.at(-1) ?? false) === now, () => `vCPU ${v} ${name} reported ${seen.at(-1)}, level is ${now}`);
      }
    },
  };
}
