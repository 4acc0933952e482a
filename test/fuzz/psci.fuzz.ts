// PSCI and SMCCC calls (arm/machine/psci.ts): what a guest's HVC #0 hands the VMM in x0-x3,
// any function ID (32- and 64-bit conventions, unknown ones) with any arguments, from any
// vCPU that is on, against a machine of 1-4 vCPUs whose power states the calls change.
//
// Must hold: no exception; x0 is left alone only by CPU_OFF, SYSTEM_OFF and SYSTEM_RESET, and
// otherwise is a 64-bit value; CPU_ON powers on only a vCPU that exists and is off (at the
// entry point given, truncated to 32 bits for the SMC32 form) and answers ALREADY_ON or
// INVALID_PARAMETERS otherwise; AFFINITY_INFO tells the truth.

import fc from "fast-check";
import { mpidrOf } from "../../arm/machine/memory-map.ts";
import { PSCI, PSCI_RET, SMCCC, psciCall, type PsciMachine } from "../../arm/machine/psci.ts";
import { check, sequenceArb, type FuzzTarget } from "./harness.ts";

const u64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n));
const AFFINITY = 0xff_00ff_ffffn; // Aff3, Aff2, Aff1, Aff0 of an MPIDR
/** A vCPU's affinity as KVM assigns it; the machine's lookup by MPIDR compares these. */
const kvmMpidr = (v: number): bigint => (1n << 31n) | BigInt(mpidrOf(v)); // bit 31 is RES1
const affinity = (v: number): bigint => kvmMpidr(v) & AFFINITY;
const FUNCTIONS = [...Object.values(PSCI), ...Object.values(SMCCC), 0x8400_0007, 0x8400_00ff, 0xc400_0008];

const argArb = (vcpus: number): fc.Arbitrary<bigint> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: vcpus }).map(kvmMpidr) },
    { weight: 1, arbitrary: fc.constantFrom(0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, (1n << 64n) - 1n) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
  );

const callArb = (vcpus: number) =>
  fc.record({
    caller: fc.integer({ min: 0, max: vcpus - 1 }),
    fn: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...FUNCTIONS).map(BigInt) },
      { weight: 1, arbitrary: fc.constantFrom(...FUNCTIONS).map((f) => BigInt(f) | 0xdead_0000_0000n) }, // junk above the ID
      { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
    ),
    args: fc.tuple(argArb(vcpus), argArb(vcpus), argArb(vcpus)),
  });

const inputArb = fc
  .integer({ min: 1, max: 4 })
  .chain((vcpus) => fc.record({ vcpus: fc.constant(vcpus), calls: sequenceArb(callArb(vcpus), 30) }));

export const psciTarget: FuzzTarget = {
  name: "psci",
  description: "PSCI/SMCCC calls with any function ID and arguments",
  quickRuns: 400,
  build() {
    const property = fc.property(inputArb, ({ vcpus, calls }) => {
      const on = Array.from({ length: vcpus }, (_, v) => v === 0);
      const started: { vcpu: number; entry: bigint }[] = [];
      const machine: PsciMachine = {
        vcpuByMpidr: (mpidr) => on.findIndex((_, v) => affinity(v) === (mpidr & AFFINITY)),
        isOn: (v) => on[v]!,
        cpuOn: (v, entry) => {
          check(!on[v]!, () => `CPU_ON powered on vCPU ${v}, which was already on`);
          on[v] = true;
          started.push({ vcpu: v, entry });
        },
        cpuOff: (v) => void (on[v] = false),
        waitForInterrupt: () => {},
        systemEvent: () => {},
      };
      for (const { caller, fn, args } of calls) {
        if (!on[caller]) continue; // only a running vCPU makes calls
        const id = Number(fn & 0xffff_ffffn);
        const before = [...on];
        started.length = 0;
        const x0 = psciCall(machine, caller, [fn, ...args]);
        const leavesX0 = id === PSCI.CPU_OFF || id === PSCI.SYSTEM_OFF || id === PSCI.SYSTEM_RESET;
        check((x0 === undefined) === leavesX0, () => `0x${id.toString(16)} returned ${x0}`);
        if (x0 !== undefined) check(x0 >= 0n && x0 < 1n << 64n, () => `0x${id.toString(16)} returned ${x0}, not a 64-bit value`);
        // SMC32 calls see only the low 32 bits of an argument, so no Aff3.
        const mpidr = id === PSCI.CPU_ON_32 || id === PSCI.AFFINITY_INFO_32 ? args[0] & 0xffff_ffffn : args[0];
        const target = before.findIndex((_, v) => affinity(v) === (mpidr & AFFINITY));
        if (id === PSCI.CPU_ON_32 || id === PSCI.CPU_ON_64) {
          const expected = target < 0 ? PSCI_RET.INVALID_PARAMETERS : before[target] ? PSCI_RET.ALREADY_ON : PSCI_RET.SUCCESS;
          check(x0 === u64(expected), () => `CPU_ON of ${args[0]} answered ${x0}, not ${expected}`);
          const entry = id === PSCI.CPU_ON_32 ? args[1] & 0xffff_ffffn : args[1];
          const ok = expected === PSCI_RET.SUCCESS ? started.length === 1 && started[0]!.vcpu === target && started[0]!.entry === entry : started.length === 0;
          check(ok, () => `CPU_ON of vCPU ${target} at 0x${entry.toString(16)} started ${started.map((p) => `vCPU ${p.vcpu} at 0x${p.entry.toString(16)}`).join(", ") || "nothing"}`);
        } else {
          check(started.length === 0, () => `0x${id.toString(16)} powered on a vCPU`);
        }
        if ((id === PSCI.AFFINITY_INFO_32 || id === PSCI.AFFINITY_INFO_64) && target >= 0 && (args[1] & (id === PSCI.AFFINITY_INFO_32 ? 0xffff_ffffn : (1n << 64n) - 1n)) === 0n) {
          check(x0 === (before[target] ? 0n : 1n), () => `AFFINITY_INFO of vCPU ${target} answered ${x0}`);
        }
      }
    });
    return { property };
  },
};
