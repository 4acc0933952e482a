// virtio-blk and virtio-rng over each transport (virtio-mmio, virtio-pci), from Debian's kernel:
// the initramfs loads virtio_mmio, virtio_pci, virtio_blk and virtio_rng; the shell reads and
// writes the disks and draws random bytes, and after poweroff the host checks the image files.

import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";

const IMAGE = "cache/guest/Image";
const INITRD = "cache/guest/initramfs.cpio.gz";
const BOOT_MS = 240_000;
const PROMPT = /[~/] ?# /;
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

async function run(s: GuestSession, command: string, expected: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  s.send(`${command}\n`);
  const m = await s.waitFor(expected, timeoutMs);
  await s.waitFor(PROMPT, timeoutMs);
  return m;
}

/** How each transport shows in the guest: its interrupts' trigger, and what else to check. */
const TRANSPORTS = [
  { transport: "mmio", trigger: "Edge" },
  { transport: "pci", trigger: "Level" },
] as const;

describe.each(TRANSPORTS)("virtio devices over $transport from Debian's kernel", ({ transport, trigger }) => {
  it("virtio-blk reads and writes the image (and a ,ro one refuses writes); virtio-rng feeds /dev/hwrng", async () => {
    if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
    const dir = mkdtempSync(join(tmpdir(), "lkvm-virtio-"));
    const disk = join(dir, "disk.img");
    const roDisk = join(dir, "ro.img");
    const original = patternImage(DISK_BYTES);
    writeFileSync(disk, original);
    const roOriginal = Buffer.alloc(1024 * 1024, 0x6b);
    writeFileSync(roDisk, roOriginal);

    const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "1", "-p", "quiet", "--rng", "-d", disk, "-d", `${roDisk},ro`, "--virtio-transport", transport]);
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

      // Each device has its own SPI after the UARTs (36-39), in kvmtool's order (rng, the
      // implicit NIC, blk, blk): edge for virtio-mmio, level INTx for virtio-pci.
      await run(s, "grep virtio /proc/interrupts | awk '{ print $4, $5, $6 }' | sort", new RegExp(`\\n36 ${trigger} virtio0\\r?\\n37 ${trigger} virtio1\\r?\\n38 ${trigger} virtio2\\r?\\n39 ${trigger} virtio3\\r?\\n`));
      if (transport === "pci") {
        // Four functions from Red Hat's virtio vendor ID, modern device IDs (rng, net, blk, blk).
        await run(s, "for d in /sys/bus/pci/devices/*; do echo $(cat $d/vendor $d/device); done", /\n0x1af4 0x1044\r?\n0x1af4 0x1041\r?\n0x1af4 0x1042\r?\n0x1af4 0x1042\r?\n/);
      }

      s.send("poweroff -f\n");
      const exit = await s.exited(60_000);
      expect(exit.code).toBe(0);
      // No complaint about the guest's driver, and no exit hint.
      expect(exit.output).not.toMatch(/not initialized by the guest|^virtio-(blk|rng|net)/m);
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
  }, BOOT_MS + 300_000);
});
