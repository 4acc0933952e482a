// virtio-9p, virtio-blk and virtio-rng over each of kvmtool's four transports (pci, pci-legacy,
// mmio, mmio-legacy), from Debian's kernel: the initramfs loads virtio_mmio, virtio_pci,
// virtio_blk, virtio_rng and 9p; the shell reads and writes the disks and the share and draws
// random bytes, and after poweroff the host checks the image files and the shared directory.
// One boot per transport, every device in it.

import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { BOOT_MS, IMAGE, INITRD, PROMPT, run } from "../support/debian-guest.ts";

const SECTOR = 512;
const DISK_BYTES = 8 * 1024 * 1024;
const MARKER = "LKVM-DISK-SECT0!";

/** Byte i of sector s is (s * 7 + i) & 0xff, except a marker at the start of sector 0. */
function patternImage(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = ((Math.floor(i / SECTOR) * 7 + i) & 0xff);
  b.write(MARKER, 0, "latin1");
  return b;
}

/** `od -A n -t x1` of the first 16 bytes, as the guest's busybox prints them. */
const odLine = (bytes: Buffer): string => [...bytes.subarray(0, 16)].map((x) => x.toString(16).padStart(2, "0")).join(" ");

/**
 * How each transport shows in the guest: its interrupts' trigger, whether the driver runs the
 * device as virtio 1.x (VIRTIO_F_VERSION_1 negotiated) and, on PCI, the device IDs of the
 * functions in slot order (9p, rng, blk, blk).
 */
const TRANSPORTS = [
  { transport: "mmio", trigger: "Edge", version1: 1, pciIds: undefined },
  { transport: "mmio-legacy", trigger: "Edge", version1: 0, pciIds: undefined },
  { transport: "pci", trigger: "Level", version1: 1, pciIds: ["0x1049", "0x1044", "0x1042", "0x1042"] },
  { transport: "pci-legacy", trigger: "Level", version1: 0, pciIds: ["0x1009", "0x1004", "0x1001", "0x1001"] },
] as const;

describe.each(TRANSPORTS)("virtio devices over $transport from Debian's kernel", ({ transport, trigger, version1, pciIds }) => {
  it("virtio-blk reads and writes the image (and a ,ro one refuses writes); virtio-rng feeds /dev/hwrng; virtio-9p shares a directory", async () => {
    if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
    const dir = mkdtempSync(join(tmpdir(), "lkvm-virtio-"));
    const disk = join(dir, "disk.img");
    const roDisk = join(dir, "ro.img");
    const original = patternImage(DISK_BYTES);
    writeFileSync(disk, original);
    const roOriginal = Buffer.alloc(1024 * 1024, 0x6b);
    writeFileSync(roDisk, roOriginal);
    const share = mkdtempSync(join(tmpdir(), "lkvm-virtio-9p-"));
    writeFileSync(join(share, "from-host.txt"), `made on the host for ${transport}\n`);

    const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "1", "-p", "quiet", "--9p", `${share},share`, "--rng", "-d", disk, "-d", `${roDisk},ro`, "--virtio-transport", transport, "-n", "mode=none"]);
    let randomMd5 = "";
    try {
      await s.waitFor(/lkvm: Linux \S+ is up/, BOOT_MS);
      await s.waitFor(PROMPT, 60_000);

      // The disks: capacity in 512-byte sectors, read-only flag, serial number (GET_ID).
      await run(s, "cat /sys/block/vda/size /sys/block/vda/ro", new RegExp(`\\n${DISK_BYTES / SECTOR}\\r?\\n0\\r?\\n`));
      await run(s, "cat /sys/block/vdb/size /sys/block/vdb/ro", /\n2048\r?\n1\r?\n/);
      await run(s, "cat /sys/block/vda/serial; echo", /\n\d{3,20}\r?\n/);

      // Reads: the marker in sector 0 and the pattern far into the disk.
      const od = (sector: number) => `dd if=/dev/vda bs=512 skip=${sector} count=1 2>/dev/null | od -A n -t x1 | head -1`;
      await run(s, od(0), new RegExp(odLine(original)));
      await run(s, od(12345), new RegExp(odLine(original.subarray(12345 * SECTOR))));

      // Writes, flushed with conv=fsync: a short text padded to a sector, and 16 KiB of
      // random bytes from the rng whose checksum the guest prints.
      await run(s, "printf 'written-by-the-guest' | dd of=/dev/vda bs=512 seek=2048 conv=sync,fsync 2>/dev/null; echo dd-status-$?", /dd-status-0/);
      await run(s, "dd if=/dev/hwrng of=/tmp/r bs=4096 count=4 2>/dev/null; dd if=/tmp/r of=/dev/vda bs=4096 seek=512 conv=fsync 2>/dev/null; echo dd-status-$?", /dd-status-0/);
      randomMd5 = (await run(s, "md5sum /tmp/r", /\n([0-9a-f]{32}) {2}\/tmp\/r/))[1]!;
      // The guest sees its own write through the device, not just its page cache.
      await run(s, "echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=512 skip=2048 count=1 2>/dev/null | head -c 20; echo", /\nwritten-by-the-guest\r?\n/);

      // The read-only disk refuses writes.
      await run(s, "dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null; echo dd-status-$?", /dd-status-[1-9]/);

      // The rng is the kernel's current hwrng, and /dev/hwrng gives bytes.
      await run(s, "cat /sys/class/misc/hw_random/rng_current", /\nvirtio_rng\.0\r?\n/);
      await run(s, "dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -A n -t x1", /\n( [0-9a-f]{2}){16}\r?\n/);

      // The share: the guest reads the host's file and leaves one of its own.
      await run(s, "mkdir -p /mnt && mount -t 9p -o trans=virtio,version=9p2000.L share /mnt; echo mount-status-$?", /mount-status-0/);
      await run(s, "cat /mnt/from-host.txt", new RegExp(`\\nmade on the host for ${transport}\\r?\\n`));
      await run(s, "echo made-in-the-guest > /mnt/from-guest.txt && sync && umount /mnt; echo umount-status-$?", /umount-status-0/);

      // Each device has its own SPI after the UARTs (36-39), in kvmtool's order (9p, rng, blk,
      // blk): edge for virtio-mmio, level INTx for virtio-pci.
      const lines = [36, 37, 38, 39].map((intid, i) => `${intid} ${trigger} virtio${i}\\r?\\n`).join("");
      await run(s, "grep virtio /proc/interrupts | awk '{ print $4, $5, $6 }' | sort", new RegExp(`\\n${lines}`));
      // The driver runs a modern transport as virtio 1.x and a legacy one without VERSION_1.
      await run(s, "for d in /sys/bus/virtio/devices/*; do cut -c33 $d/features; done | sort -u | tr '\\n' ' '; echo", new RegExp(`\\n${version1} \\r?\\n`));
      if (pciIds !== undefined) {
        // Four functions from Red Hat's virtio vendor ID, bound to virtio-pci, in slot order.
        const ids = pciIds.map((id) => `0x1af4 ${id} virtio-pci\\r?\\n`).join("");
        await run(s, "for d in /sys/bus/pci/devices/*; do echo $(cat $d/vendor $d/device) $(basename $(readlink $d/driver)); done", new RegExp(`\\n${ids}`));
      } else {
        // Four virtio-mmio windows from 0x3000000, bound to virtio-mmio; no PCI function.
        await run(s, "ls /sys/bus/platform/drivers/virtio-mmio/ | grep virtio | tr '\\n' ' '; echo", /\n3000000\.virtio 3000200\.virtio 3000400\.virtio 3000600\.virtio \r?\n/);
        await run(s, "ls /sys/bus/pci/devices | wc -l", /\n0\r?\n/);
      }

      s.send("poweroff -f\n");
      const exit = await s.exited(60_000);
      expect(exit.code).toBe(0);
      // No complaint about the guest's driver, and no exit hint.
      expect(exit.output).not.toMatch(/not initialized by the guest|^virtio-(blk|rng|9p|net)/m);
    } finally {
      s.kill();
    }

    // On the host: exactly the guest's writes, and nothing else, are in the image.
    const after = readFileSync(disk);
    const expected = Buffer.from(original);
    expected.fill(0, 2048 * SECTOR, 2049 * SECTOR);
    expected.write("written-by-the-guest", 2048 * SECTOR, "latin1");
    const random = after.subarray(512 * 4096, 516 * 4096);
    expect(createHash("md5").update(random).digest("hex")).toBe(randomMd5);
    random.copy(expected, 512 * 4096);
    expect(after.equals(expected)).toBe(true);
    expect(readFileSync(roDisk).equals(roOriginal)).toBe(true);
    expect(readFileSync(join(share, "from-guest.txt"), "utf8")).toBe("made-in-the-guest\n");
  }, BOOT_MS + 300_000);
});
