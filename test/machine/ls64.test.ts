// FEAT_LS64 from a guest (test/guests/ls64.c): LD64B/ST64B/ST64BV/ST64BV0 to RAM, to the
// LS64 work queue (one 64-byte access on the trap bus), to the 8250 (an external abort), and
// UNDEFINED on the default CPU model. qemu-aarch64 implements no FEAT_LS64, so the guest's
// expectations are the ARM ARM pseudocode's, worked by hand (see the guest's comment).

import { describe, expect, it } from "vitest";
import { expectPassed, runGuest } from "../support/run-guest.ts";

const WITH_LS64 = ["--cpu-features", "+ls64_accdata", "--ls64-work-queue"];

describe("FEAT_LS64, from a guest", () => {
  it("with --cpu-features +ls64_accdata: RAM, the work queue, the 8250, alignment and memory types", async () => {
    const run = await runGuest("ls64", { extra: WITH_LS64 });
    expectPassed(run, [
      "ID_AA64ISAR1_EL1.LS64 = 3 (LS64, LS64_V, LS64_ACCDATA)",
      "  and loads the eight doublewords into x0..x7 in address order",
      "  and returns 0xffffffffffffffff: no device to give a status",
      "ST64BV0: ACCDATA_EL1 replaces bits 31:0 of the first doubleword",
      "LD64B 8 bytes off a 64-byte boundary: an alignment fault",
      "LD64B with an odd Rt is UNDEFINED",
      "LD64B from the portal dequeues the same 64 bytes",
      "  one more: status 1 (retry), the queue is full",
      "LD64B from the 8250: a synchronous external abort",
      "LD64B from Normal write-back memory: unsupported atomic access fault",
      "LD64B from Normal Non-cacheable memory works",
    ]);
    // The default --mmio-syndrome=warn names the refused accesses.
    expect(run.output).toMatch(/Warning: "ld64b x0, \[x9\]" at pc 0x8008[0-9a-f]{4}: 64-byte load at 0x1001000 \(serial8250@0x1001000\) refused/);
  });

  it("each 64-byte store reaches the work queue as one 64-byte access", async () => {
    const run = await runGuest("ls64", { extra: [...WITH_LS64, "--trace-mmio"] });
    expectPassed(run);
    const portal = run.output.split("\n").filter((l) => / 0x1030000 = /.test(l) || / 0x10300[0-3][0-9a-f] = /.test(l));
    // ST64BV, 8 x ST64BV0, the refused ST64BV and ST64B: 11 stores; LD64B twice: 2 loads.
    expect(portal.filter((l) => l.startsWith("mmio vcpu0 W64 0x1030000 = 0x")), run.output).toHaveLength(11);
    expect(portal.filter((l) => l.startsWith("mmio vcpu0 R64 0x1030000 = 0x"))).toHaveLength(2);
    expect(portal.filter((l) => !/ [RW]64 /.test(l))).toEqual([]);
    // The first descriptor, as 64 little-endian bytes: doubleword i = 0xd0d0_000i_0000_c0de.
    const first = portal.find((l) => l.includes(" W64 "))!;
    const value = BigInt(/= (0x[0-9a-f]+)/.exec(first)![1]!);
    for (let i = 0n; i < 8n; i++) expect((value >> (64n * i)) & 0xffff_ffff_ffff_ffffn).toBe(0xd0d0_0000_0000_c0den | (i << 32n));
  });

  it("under --mmio-syndrome=kvm, a refused access prints KVM's exit: the ESR (EC 0x24, ISS.LST) and the IPA", async () => {
    const run = await runGuest("ls64", { extra: [...WITH_LS64, "--mmio-syndrome=kvm"] });
    expectPassed(run); // the guest still gets its external aborts: the canonical answer
    // LD64B: LST = 0b10, DFSC = a stage 2 translation fault; ST64BV x10: LST = 0b01, WnR = 1,
    // and ISS2 (bits 36:32) = 10, its status register Xs.
    expect(run.output).toContain("KVM_EXIT_ARM_LDST64B: esr 0x92001007, fault_ipa 0x1001000");
    expect(run.output).toContain("KVM_EXIT_ARM_LDST64B: esr 0xa92000847, fault_ipa 0x1001000");
  });

  it("on the default Cortex-A57 model every LS64 instruction and ACCDATA_EL1 is UNDEFINED", async () => {
    const run = await runGuest("ls64");
    expectPassed(run, [
      "without FEAT_LS64 LD64B is UNDEFINED",
      "  ST64B is UNDEFINED",
      "  ST64BV is UNDEFINED",
      "  ST64BV0 is UNDEFINED",
      "  MRS ACCDATA_EL1 is UNDEFINED",
    ]);
    expect(run.output).toContain("# ls64: ID_AA64ISAR1_EL1.LS64 = 0");
  });
});
