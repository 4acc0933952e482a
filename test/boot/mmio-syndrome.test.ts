// Debian's kernel under --mmio-syndrome=kvm: Linux's MMIO accessors are single loads and
// stores in inline asm (arch/arm64/include/asm/io.h), so KVM can emulate every one of them.
// Should any driver on the boot path (8250, GICv3, RTC, virtio-mmio) use a form without a valid
// syndrome, lkvm stops the VM as KVM_RUN would, and this fails with the instruction named.

import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";

const IMAGE = "cache/guest/Image";
const INITRD = "cache/guest/initramfs.cpio.gz";
const BOOT_MS = 240_000;

describe("Debian's kernel under --mmio-syndrome=kvm", () => {
  it("boots two vCPUs with virtio-rng and a disk, and powers off: no access KVM could not emulate", async () => {
    if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
    const disk = join(mkdtempSync(join(tmpdir(), "lkvm-nisv-")), "disk.img");
    writeFileSync(disk, Buffer.alloc(1 << 20));
    const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "2", "--rng", "-d", disk, "--mmio-syndrome=kvm"]);
    await s.waitFor(/[~/] ?# /, BOOT_MS);
    s.send("head -c 16 /dev/hwrng | wc -c; dd if=/dev/vda of=/dev/null bs=4k count=4 2>&1 | tail -1; poweroff -f\n");
    const { code, output } = await s.exited(BOOT_MS);
    expect(output).not.toContain("Warning:");
    expect(output).not.toContain("KVM_RUN failed");
    expect(code, output.slice(-2000)).toBe(0);
    expect(output).toMatch(/^16\r?$/m); // virtio-rng answered
  }, BOOT_MS * 2);
});
