import { describe, expect, it } from "vitest";
import { PSCI, PSCI_RET, SMCCC, psciCall, type PsciMachine } from "../../arm/machine/psci.ts";

function machine(cpus: number) {
  const on = Array.from({ length: cpus }, (_, i) => i === 0);
  const events: string[] = [];
  const m: PsciMachine = {
    vcpuByMpidr: (mpidr) => (mpidr < BigInt(cpus) ? Number(mpidr) : -1),
    isOn: (v) => on[v]!,
    cpuOn: (v, entry, ctx) => { on[v] = true; events.push(`on ${v} 0x${entry.toString(16)} ${ctx}`); },
    cpuOff: (v) => { on[v] = false; events.push(`off ${v}`); },
    waitForInterrupt: (v) => events.push(`wfi ${v}`),
    systemEvent: (k) => events.push(k),
  };
  return { m, events };
}

const call = (m: PsciMachine, ...x: (number | bigint)[]) => psciCall(m, 0, [...x.map(BigInt), 0n, 0n, 0n].slice(0, 4));
const code = (v: bigint | undefined) => (v === undefined ? undefined : Number(BigInt.asIntN(64, v)));

describe("PSCI as the guest calls it", () => {
  it("reports PSCI 1.1 and SMCCC 1.1", () => {
    const { m } = machine(1);
    expect(call(m, PSCI.VERSION)).toBe(0x10001n);
    expect(call(m, SMCCC.VERSION)).toBe(0x10001n);
  });

  it("brings a secondary vCPU up with CPU_ON, then refuses a second CPU_ON", () => {
    const { m, events } = machine(2);
    expect(code(call(m, PSCI.CPU_ON_64, 1, 0x80001000, 42))).toBe(PSCI_RET.SUCCESS);
    expect(events).toEqual(["on 1 0x80001000 42"]);
    expect(code(call(m, PSCI.CPU_ON_64, 1, 0x80001000, 42))).toBe(PSCI_RET.ALREADY_ON);
    expect(code(call(m, PSCI.CPU_ON_64, 7, 0, 0))).toBe(PSCI_RET.INVALID_PARAMETERS);
  });

  it("answers AFFINITY_INFO for on and off vCPUs", () => {
    const { m } = machine(2);
    expect(code(call(m, PSCI.AFFINITY_INFO_64, 0, 0))).toBe(0);
    expect(code(call(m, PSCI.AFFINITY_INFO_64, 1, 0))).toBe(1);
  });

  it("ends the VM on SYSTEM_OFF and on SYSTEM_RESET, as kvmtool does", () => {
    const { m, events } = machine(1);
    expect(call(m, PSCI.SYSTEM_OFF)).toBeUndefined();
    expect(call(m, PSCI.SYSTEM_RESET)).toBeUndefined();
    expect(events).toEqual(["off", "reset"]);
  });

  it("lists implemented functions in PSCI_FEATURES and refuses unknown calls", () => {
    const { m } = machine(1);
    expect(code(call(m, PSCI.FEATURES, PSCI.CPU_ON_64))).toBe(0);
    expect(code(call(m, PSCI.FEATURES, 0x8400_0012))).toBe(PSCI_RET.NOT_SUPPORTED);
    expect(code(call(m, 0xc200_0000))).toBe(PSCI_RET.NOT_SUPPORTED);
    expect(code(call(m, SMCCC.ARCH_FEATURES, SMCCC.ARCH_WORKAROUND_1))).toBe(-2);
  });
});
