// Debian's kernel on a GICv2 (--irqchip gicv2) and on a GICv2 with kvmtool's v2m MSI frame
// (--irqchip gicv2m), two vCPUs: Linux's irq-gic driver finds the distributor and the
// memory-mapped CPU interface from kvmtool's DT, takes the timer, the UART, virtio-blk and
// virtio-rng interrupts and its IPIs through them, and (gicv2m) probes the v2m frame.

import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { BOOT_MS, IMAGE, INITRD, PROMPT, run } from "../support/debian-guest.ts";


/** A /proc/interrupts line's per-CPU counts, by what it names. */
function counts(table: string, name: RegExp): number[] {
  const line = table.split("\n").find((l) => name.test(l));
  expect(line, `no ${name} in\n${table}`).toBeDefined();
  return line!.trim().split(/\s+/).slice(1, 3).map(Number);
}

// kvmtool's numbering: gicv2m keeps SPIs 32-95 for MSIs, so the UARTs start at 96, not 32.
// With gicv2m the virtio-pci functions interrupt through MSI-X instead of their INTx line: one
// "virtioN-..." line per vector rather than one level line per device.
const IRQCHIPS = [
  { irqchip: "gicv2", ttyS0: 32, dmesg: /Root IRQ handler: gic_handle_irq/, virtioLine: /GIC-0\s+\d+ Level\s+virtio\d$/, virtioLines: 2 },
  { irqchip: "gicv2m", ttyS0: 96, dmesg: /GICv2m: range\[mem 0x3ffcf000-0x3ffcffff\], SPI\[32:95\]/, virtioLine: /MSI.*Edge\s+virtio\d-req/, virtioLines: 1 },
] as const;

describe.each(IRQCHIPS)("Debian's kernel with --irqchip $irqchip and two vCPUs", ({ irqchip, ttyS0, dmesg, virtioLine, virtioLines }) => {
  it("boots to the shell; the timer, the UART, virtio-blk, virtio-rng and IPIs interrupt through the GICv2", async () => {
    if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
    const disk = join(mkdtempSync(join(tmpdir(), "lkvm-gicv2-")), "disk.img");
    writeFileSync(disk, Buffer.alloc(4 << 20, 0x5a));
    const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "2", "-p", "quiet", "--rng", "-d", disk, "--irqchip", irqchip, "-n", "mode=none"]);
    try {
      await s.waitFor(/lkvm: Linux \S+ is up/, BOOT_MS);
      await s.waitFor(PROMPT, 60_000);
      const gic = await run(s, "dmesg | grep -i gic", dmesg);
      expect(gic.input).not.toMatch(/GICv3/);
      await run(s, "cat /sys/devices/system/cpu/online", /\n0-1\r?\n/);
      await run(s, "od -A n -t x1 -N 16 /dev/vda", /\n( 5a){16}\r?\n/);
      await run(s, "head -c 16 /dev/hwrng | od -A n -t x1 | wc -w", /\n16\r?\n/);
      const table = (await run(s, "cat /proc/interrupts", /CPU0[\s\S]*Err:/))[0];
      // irq-gic names its chip GIC-0; the DT's timer PPI 11 is INTID 27.
      expect(counts(table, /GIC-0\s+27 Level\s+arch_timer/).every((n) => n > 0), table).toBe(true);
      expect(counts(table, new RegExp(`GIC-0\\s+${ttyS0} Level\\s+ttyS0`))[0]).toBeGreaterThan(0);
      const virtio = table.split(/\r?\n/).filter((l) => virtioLine.test(l));
      expect(virtio, table).toHaveLength(virtioLines);
      for (const line of virtio) expect(Number(line.trim().split(/\s+/)[1]) + Number(line.trim().split(/\s+/)[2])).toBeGreaterThan(0);
      // SGIs through GICD_SGIR: both vCPUs took rescheduling or function-call IPIs.
      const ipis = counts(table, /Function call interrupts/).map((n, i) => n + counts(table, /Rescheduling interrupts/)[i]!);
      expect(ipis.every((n) => n > 0), table).toBe(true);
      s.send("poweroff -f\n");
      expect((await s.exited(60_000)).code).toBe(0);
    } finally {
      s.kill();
    }
  }, BOOT_MS + 300_000);
});
