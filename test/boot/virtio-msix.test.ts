// virtio-pci with MSI-X from Debian's kernel, on each irqchip that has an MSI controller
// (gicv2m: GICv2 + an MSI frame; gicv3-its: GICv3 + an ITS): the guest enables MSI-X on the
// functions, its virtio interrupts arrive as messages (the /proc/interrupts lines of virtio are
// MSI ones, none is a level INTx), and virtio-blk and virtio-rng work over them.

import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { BOOT_MS, IMAGE, INITRD, PROMPT, run } from "../support/debian-guest.ts";

const MARKER = "LKVM-MSIX-DISK!!";

describe.each(["gicv2m", "gicv3-its"])("virtio-pci interrupts as MSI-X with --irqchip %s", (irqchip) => {
  it("the guest enables MSI-X, virtio's interrupts are MSI, and blk and rng work", async () => {
    if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
    const dir = mkdtempSync(join(tmpdir(), "lkvm-msix-"));
    const disk = join(dir, "disk.img");
    const image = Buffer.alloc(4 * 1024 * 1024, 0x5c);
    image.write(MARKER, 0, "latin1");
    writeFileSync(disk, image);

    const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "1", "-p", "quiet", "--irqchip", irqchip, "--rng", "-d", disk, "-n", "mode=none"]);
    try {
      await s.waitFor(/lkvm: Linux \S+ is up/, BOOT_MS);
      await s.waitFor(PROMPT, 60_000);

      // Both functions (rng in slot 0, blk in slot 1) run with MSI-X vectors allocated.
      await run(s, "for d in /sys/bus/pci/devices/*; do echo $(cat $d/device) $(ls $d/msi_irqs | wc -l); done", /\n0x1044 [2-9]\r?\n0x1042 [2-9]\r?\n/);

      // The disk and the rng work over them.
      await run(s, "dd if=/dev/vda bs=16 count=1 2>/dev/null; echo", new RegExp(`\\n${MARKER}\\r?\\n`));
      await run(s, "dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -A n -t x1", /\n( [0-9a-f]{2}){16}\r?\n/);
      await run(s, "dd if=/dev/vda of=/dev/null bs=4096 count=256 skip=16 2>/dev/null; echo dd-status-$?", /dd-status-0/);

      // Every virtio interrupt is a message-signalled one (an ITS-/GICv2m- MSI domain), with a
      // config vector and a queue vector per device; no virtio line is a level INTx.
      const lines = (await run(s, "grep virtio /proc/interrupts; echo end-of-list", /\n([\s\S]*?)end-of-list/))[1]!;
      const virtioLines = lines.split(/\r?\n/).filter((l) => /virtio\d/.test(l));
      expect(virtioLines.length, lines).toBeGreaterThanOrEqual(4);
      for (const l of virtioLines) expect(l).toMatch(/MSI|ITS|GICv2m/);
      expect(lines).not.toMatch(/Level\s+virtio/);
      expect(lines).toMatch(/virtio\d-config/);
      // The disk's queue vector counted interrupts.
      const req = virtioLines.find((l) => /virtio\d-req/.test(l));
      expect(req, lines).toBeDefined();
      expect(Number(req!.trim().split(/\s+/)[1])).toBeGreaterThan(0);

      s.send("poweroff -f\n");
      const exit = await s.exited(60_000);
      expect(exit.code).toBe(0);
      expect(exit.output).not.toMatch(/not initialized by the guest/);
      // Linux's BAR reassignment stacks BAR2s for a moment; that is no news at the default log level.
      expect(exit.output).not.toMatch(/over another region/);
    } finally {
      s.kill();
    }
  }, BOOT_MS + 240_000);
});
