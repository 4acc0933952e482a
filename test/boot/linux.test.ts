// Debian's arm64 kernel and busybox, booted with `lkvm run` as a user would, driven through
// the console with the same GuestSession API users get.

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { BOOT_MS, IMAGE, INITRD, PROMPT, run } from "../support/debian-guest.ts";

function boot(cpus: number, extra: string[] = []): GuestSession {
  if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
  return GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "512", "-c", String(cpus), "-p", "quiet", ...extra]);
}

describe("Debian's kernel boots to a busybox shell", () => {
  it("with one vCPU: uname, /proc/cpuinfo, the GIC in dmesg, then poweroff", async () => {
    const s = boot(1);
    try {
      await s.waitFor(/lkvm: Linux \S+ is up/, BOOT_MS);
      await s.waitFor(PROMPT, 60_000);
      await run(s, "uname -a", /Linux \S+ 6\.\d+\.\d+-\d+-arm64 #1 SMP .* aarch64 GNU\/Linux/);
      // The CPU model lkvm presents: an Arm Cortex-A57 (MIDR 0x411fd070).
      await run(s, "cat /proc/cpuinfo", /CPU implementer\s*:\s*0x41[\s\S]*CPU part\s*:\s*0xd07/);
      await run(s, "dmesg | grep -i gic", /GICv3: CPU0: found redistributor 0 region 0:0x000000003ffd0000/);
      // Floating point in user space (busybox awk has no math library: plain arithmetic).
      await run(s, "awk 'BEGIN { x = 0; for (i = 1; i <= 1000; i++) x += 1 / (i * i); printf \"%.9f\\n\", x }'", /\n1\.643934567\r?\n/);
      s.send("poweroff -f\n");
      const exit = await s.exited(60_000);
      expect(exit.code).toBe(0);
    } finally {
      s.kill();
    }
  }, BOOT_MS + 300_000);

  it("with two vCPUs, --irqchip gicv3-its and --pmu, both come online through PSCI, Linux probes the ITS and finds the PMU", async () => {
    const s = boot(2, ["--irqchip", "gicv3-its", "--pmu"]);
    try {
      await s.waitFor(PROMPT, BOOT_MS);
      await run(s, "cat /sys/devices/system/cpu/online", /\n0-1\r?\n/);
      await run(s, "grep -c ^processor /proc/cpuinfo", /\n2\r?\n/);
      // kvmtool's ITS, 128 KiB below the two Redistributors, with its tables in guest RAM.
      await run(s, "dmesg | grep -i its", /ITS \[mem 0x3ff90000-0x3ffaffff\][\s\S]*ITS@0x000000003ff90000: allocated \d+ Devices[\s\S]*Interrupt Collections/);
      await run(s, "dmesg | grep -i 'LPI pending table'", /CPU1: using allocated LPI pending table/);
      // Linux's arm_pmuv3 driver probes the /pmu node: six event counters and the cycle counter,
      // and the overflow interrupt as a per-CPU PPI.
      await run(s, "dmesg | grep -i 'hw perfevents'", /hw perfevents: enabled with armv8_pmuv3\S* PMU driver, 7 (\(\S+\) )?counters available/);
      await run(s, "grep arm-pmu /proc/interrupts", /:\s+\d+\s+\d+\s+GICv3\s+23 Level\s+arm-pmu/);
      s.send("poweroff -f\n");
      expect((await s.exited(60_000)).code).toBe(0);
    } finally {
      s.kill();
    }
  }, BOOT_MS + 300_000);
});
