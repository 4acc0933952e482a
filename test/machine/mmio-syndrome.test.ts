// --mmio-syndrome, from guests: a barebox-style post-index MMIO accessor (no valid syndrome,
// which KVM cannot emulate) and the same accessor written as Linux writes it (a plain strb),
// under each mode (src/kvm/mmio-syndrome.ts).

import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { expectPassed, guestArgs, report, runGuest } from "../support/run-guest.ts";

/** The guest's "# accessor:" line as numbers. */
function accessorLine(output: string): Record<string, bigint> {
  const m = /# accessor: (.*)/.exec(output);
  expect(m, output).not.toBeNull();
  return Object.fromEntries(m![1]!.trim().split(" ").map((kv) => kv.split("=")).map(([k, v]) => [k!, BigInt(v!)]));
}

const SCRATCH_GPA = 0x1001007; // ttyS1's scratch register
/** lkvm's diagnosis of the post-index store: the mnemonic, PC, address and device. */
const DIAGNOSIS = /Warning: "strb w\d+, \[x\d+\], #1" at pc 0x8008[0-9a-f]{4}: MMIO write of 1 byte at 0x1001007 \(serial8250@0x1001000\) has no valid syndrome \(ESR_EL2\.ISV = 0\): KVM could not emulate it/g;

describe("a post-index MMIO accessor (no valid syndrome)", () => {
  it("warn (the default): emulated, with one warning for the three writes from one PC", async () => {
    const run = await runGuest("mmio-accessor");
    expect(run.code, run.output).toBe(0);
    expect(run.output.match(DIAGNOSIS), run.output).toHaveLength(1);
    expect(run.output).toContain("emulated anyway");
    const seen = accessorLine(run.output);
    expect(seen.aborts).toBe(0n);
    expect(seen.scr).toBe(0x5cn); // the last of 0x5a, 0x5b, 0x5c reached the device
  });

  it("kvm: the diagnosis, then the VM stops as KVM_RUN fails, exit status non-zero", async () => {
    const session = GuestSession.start(guestArgs("mmio-accessor", { extra: ["--mmio-syndrome=kvm"] }));
    const { code, output } = await session.exited(20_000);
    expect(code, output).not.toBe(0);
    expect(output.match(DIAGNOSIS), output).toHaveLength(1);
    expect(output).toContain("lkvm: error: KVM_RUN failed: Function not implemented");
    expect(output).toContain("mmio-accessor: post-index"); // it ran up to the accessor…
    expect(output).not.toContain("# accessor:"); // …and no further
  });

  it("nisv-exit: each write takes a synchronous external data abort (EC 0x25, DFSC 0x10)", async () => {
    const run = await runGuest("mmio-accessor", { extra: ["--mmio-syndrome=nisv-exit"] });
    expect(run.code, run.output).toBe(0);
    const seen = accessorLine(run.output);
    expect(seen.aborts).toBe(3n);
    // EC 0x25 (data abort, same EL), IL = 1, ISS = DFSC 0x10 only, as KVM injects it.
    expect(seen.esr).toBe((0x25n << 26n) | (1n << 25n) | 0x10n);
    expect(seen.far).toBe(BigInt(SCRATCH_GPA));
    expect(seen.scr).toBe(0n); // refused: the device never saw the writes
    expect(run.output).toContain("injecting an external abort");
  });

  it("nisv-exit with every block translated first (--jit-threshold 0): the same aborts, the same PC", async () => {
    const run = await runGuest("mmio-accessor", { extra: ["--mmio-syndrome=nisv-exit", "--jit-threshold", "0"] });
    const seen = accessorLine(run.output);
    expect(seen.aborts).toBe(3n);
    expect(seen.far).toBe(BigInt(SCRATCH_GPA));
    // The warning names the instruction the guest's ELR points at.
    expect(run.output).toContain(`at pc 0x${seen.elr!.toString(16)}:`);
  });

  it("emulate: the access happens and nothing is said", async () => {
    const run = await runGuest("mmio-accessor", { extra: ["--mmio-syndrome=emulate"] });
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toContain("Warning");
    expect(accessorLine(run.output).scr).toBe(0x5cn);
  });
});

describe("the same accessor with a plain strb (valid syndrome)", () => {
  for (const mode of ["warn", "kvm", "nisv-exit", "emulate"]) {
    it(`passes silently under --mmio-syndrome=${mode}`, async () => {
      const session = GuestSession.start(guestArgs("mmio-accessor-plain", { extra: [`--mmio-syndrome=${mode}`] }));
      await session.waitFor(/EXIT: STATUS=\d+/, 20_000);
      const run = report(await session.exited(20_000));
      expectPassed(run, ["the plain accessor takes no abort", "  and its last write reached the scratch register"]);
      expect(run.output).not.toContain("Warning");
    });
  }
});

describe("valid 64-bit accesses to 32-bit-only registers under --mmio-syndrome=kvm", () => {
  it("GICD_IROUTER and GICR_TYPER (plain ldr/str x: ISV = 1) still split into two 32-bit halves, and nothing stops", async () => {
    const run = await runGuest("gic-ipi", { cpus: 2, extra: ["--mmio-syndrome=kvm"] });
    expectPassed(run, ["an SPI routed to vCPU 1 through GICD_IROUTER is taken there"]);
    expect(run.output).not.toContain("Warning");
  });
});

describe("--mmio-syndrome", () => {
  it("refuses an unknown mode in one line", async () => {
    const session = GuestSession.start(guestArgs("mmio-accessor-plain", { extra: ["--mmio-syndrome=strict"] }));
    const { code, output } = await session.exited(20_000);
    expect(code).toBe(1);
    expect(output).toMatch(/lkvm: error: .*strict/);
  });
});
