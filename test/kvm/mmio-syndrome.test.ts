// MmioSyndromeCheck (src/kvm/mmio-syndrome.ts) on its own: which accesses it lets through, what
// each mode answers, and that a polling loop is reported once. The core is a stand-in that
// answers what Core does during an mmio call.

import { describe, expect, it } from "vitest";
import { MMIO_FETCH } from "../../arm/abi.ts";
import type { Core } from "../../arm/host/core.ts";
import { TrapBus } from "../../src/iotrap/bus.ts";
import { MmioSyndromeCheck, type MmioSyndromeMode } from "../../src/kvm/mmio-syndrome.ts";

const ISV = 1 << 24;
const STR_POST = 0x38001401; // strb w1, [x0], #1
const STR_POST_OP = 42; // any op number: ldstMnemonic is tested on its own

function setup(mode: Exclude<MmioSyndromeMode, "emulate">) {
  const core = { mmioSyndrome: 0, mmioInsnPc: 0x8008_0000n, mmioInsnWord: STR_POST, decodeOp: () => STR_POST_OP };
  const bus = new TrapBus();
  let arrayMode = true;
  bus.register({ bus: "mmio", base: 0x100_0000, sizeBytes: 0x1000, name: "uart", handler: () => {} });
  bus.register({ bus: "mmio", base: 0x200_0000, sizeBytes: 0x1000, name: "flash", handler: () => {}, memslotBacked: (w) => !w && arrayMode });
  const lines: string[] = [];
  const check = new MmioSyndromeCheck(mode, core as unknown as Core, bus, (l) => lines.push(l));
  return { core, check, lines, setArrayMode: (on: boolean) => (arrayMode = on) };
}

describe("MmioSyndromeCheck", () => {
  it("checks only accesses without a valid syndrome", () => {
    const { core, check } = setup("kvm");
    core.mmioSyndrome = ISV | (3 << 22);
    expect(check.needsCheck()).toBe(false);
    core.mmioSyndrome = 1 << 6; // WnR only: ISV = 0
    expect(check.needsCheck()).toBe(true);
  });

  it("warn: performs the access, and says so once per PC", () => {
    const { core, check, lines } = setup("warn");
    expect(check.invalidSyndrome(0x100_0007, 1, true)).toBe(true);
    expect(check.invalidSyndrome(0x100_0007, 1, true)).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/at pc 0x80080000: MMIO write of 1 byte at 0x1000007 \(uart\) has no valid syndrome/);
    core.mmioInsnPc = 0x8008_0004n;
    check.invalidSyndrome(0x100_0000, 4, false);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain("MMIO read of 4 bytes at 0x1000000");
  });

  it("kvm stops the VM (false) after KVM's own message; nisv-exit refuses with an external abort", () => {
    const kvm = setup("kvm");
    expect(kvm.check.invalidSyndrome(0x100_0000, 1, true)).toBe(false);
    expect(kvm.lines.at(-1)).toContain("load/store instruction decoding not implemented");
    expect(setup("nisv-exit").check.invalidSyndrome(0x100_0000, 1, true)).toBe("external-abort");
  });

  it("lets through what never traps under KVM: reads of a memory slot, and instruction fetches", () => {
    const { core, check, lines, setArrayMode } = setup("kvm");
    expect(check.invalidSyndrome(0x200_0010, 4, false)).toBe(true); // flash in read-array mode
    expect(check.invalidSyndrome(0x200_0010, 4, true)).toBe(false); // a write still traps
    setArrayMode(false);
    core.mmioInsnPc = 0x8008_0010n;
    expect(check.invalidSyndrome(0x200_0010, 4, false)).toBe(false); // a command mode read traps
    core.mmioSyndrome = MMIO_FETCH;
    expect(check.invalidSyndrome(0x200_0010, 4, false)).toBe(true);
    expect(lines.filter((l) => l.includes("Warning"))).toHaveLength(2);
  });
});
