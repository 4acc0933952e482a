import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { FileError } from "../../src/errors.ts";
import { DEFAULT_TEXT_OFFSET, checkKernelImage, imageHeader, imageTextOffset, kernelCommandLine, layoutFirmware, layoutKernel } from "../../src/kvm/loader.ts";

const MiB = 1024 * 1024;
const ram = (sizeMiB: number, base = 0x8000_0000) => ({ ramBase: base, ramSizeBytes: sizeMiB * MiB });

/** An arm64 Image header (Documentation/arch/arm64/booting.rst) with the given fields. */
function imageWithHeader(textOffset: bigint, imageSize: bigint, length = 4096): Uint8Array {
  const b = new Uint8Array(length);
  const v = new DataView(b.buffer);
  v.setBigUint64(0x08, textOffset, true);
  v.setBigUint64(0x10, imageSize, true);
  v.setUint32(0x38, 0x644d5241, true); // "ARM\x64"
  return b;
}

describe("kernel loading, by kvmtool's rules", () => {
  it("loads an Image at RAM base + text_offset from its header", () => {
    expect(imageTextOffset(imageWithHeader(0n, 0x200_0000n))).toBe(0);
    expect(imageTextOffset(imageWithHeader(0x80000n, 0x200_0000n))).toBe(0x80000);
    expect(layoutKernel(ram(512), imageWithHeader(0n, 0x100n)).imageAddress).toBe(0x8000_0000);
  });

  it("loads a flat binary (no magic) or a pre-3.17 Image (image_size 0) at RAM base + 0x80000", () => {
    expect(imageTextOffset(new Uint8Array(4096))).toBe(DEFAULT_TEXT_OFFSET);
    expect(imageTextOffset(imageWithHeader(0n, 0n))).toBe(DEFAULT_TEXT_OFFSET);
    expect(layoutKernel(ram(64), new Uint8Array(100)).entry).toBe(0x8008_0000);
  });

  it("puts the DTB 2 MiB below the end of the first 256 MiB, and the initrd right under it", () => {
    // kvmtool: 0x8FE00000 with RAM >= 256 MiB, 0x83E00000 with 64 MiB.
    expect(layoutKernel(ram(512), new Uint8Array(100)).dtbAddress).toBe(0x8fe0_0000);
    expect(layoutKernel(ram(64), new Uint8Array(100)).dtbAddress).toBe(0x83e0_0000);
    const l = layoutKernel(ram(512), new Uint8Array(100), 1000);
    expect(l.initrd!.end).toBeLessThanOrEqual(l.dtbAddress);
    expect(l.dtbAddress - l.initrd!.end).toBeLessThan(8);
    expect(l.initrd!.start % 4).toBe(0);
    expect(l.initrd!.end - l.initrd!.start).toBe(1000);
  });

  it("follows a RAM base moved with -m size@addr", () => {
    expect(layoutKernel(ram(512, 0x1_0000_0000), new Uint8Array(100)).dtbAddress).toBe(0x1_0fe0_0000);
  });

  it("refuses a kernel, or an initrd, that does not fit", () => {
    expect(() => layoutKernel(ram(16), new Uint8Array(20 * MiB))).toThrow(ConfigError);
    expect(() => layoutKernel(ram(64), new Uint8Array(40 * MiB), 30 * MiB)).toThrow(ConfigError);
  });

  it("places firmware at the RAM base by default and the DTB at the next 2 MiB boundary", () => {
    const l = layoutFirmware(ram(256), 3 * MiB + 5);
    expect(l.entry).toBe(0x8000_0000);
    expect(l.dtbAddress).toBe(0x8040_0000);
    expect(layoutFirmware(ram(256), 100, 0x8100_0000).entry).toBe(0x8100_0000);
    expect(() => layoutFirmware(ram(16), 100, 0x9000_0000)).toThrow(ConfigError);
  });

  it("amends the command line as kvmtool does, unless --nodefaults", () => {
    const serial = { nodefaults: false, console: "serial", framebuffer: false } as const;
    expect(kernelCommandLine("quiet", serial)).toBe(" console=ttyS0 root=/dev/vda rw  quiet");
    expect(kernelCommandLine("root=/dev/sda", serial)).toBe(" console=ttyS0 root=/dev/sda");
    expect(kernelCommandLine("a b", { ...serial, nodefaults: true })).toBe("a b");
    // --vnc/--gtk/--sdl: kvmtool names tty0 instead of the serial console.
    expect(kernelCommandLine("quiet", { ...serial, framebuffer: true })).toBe(" console=tty0 root=/dev/vda rw  quiet");
    // -d DIR: kvmtool's 9p root arguments, with the tag named as root=.
    expect(kernelCommandLine("quiet", { ...serial, rootShare: true })).toBe(
      " console=ttyS0 root=/dev/root rw rootflags=trans=virtio,version=9p2000.L,cache=loose rootfstype=9p quiet",
    );
  });

  it("refuses a gzip-compressed kernel, an ELF file and an empty file, naming the problem", () => {
    expect(() => checkKernelImage(Uint8Array.from([0x1f, 0x8b, 8, 0]), "vmlinuz")).toThrow(/gzip-compressed/);
    expect(() => checkKernelImage(new Uint8Array(0), "empty")).toThrow(FileError);
    const elf = (machine: number) => {
      const b = new Uint8Array(64);
      b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]); // ELF64, little-endian
      new DataView(b.buffer).setUint16(18, machine, true);
      return b;
    };
    expect(() => checkKernelImage(elf(183), "vmlinux")).toThrow(/ELF file: give a raw image .*objcopy -O binary/);
    expect(() => checkKernelImage(elf(62), "bzImage.elf")).toThrow(/x86-64 ELF file: lkvm boots arm64/);
    expect(() => checkKernelImage(new Uint8Array(100), "test.flat")).not.toThrow();
  });

  it("takes image_size as the file plus its BSS: a short file loads, and nothing is placed over the BSS", () => {
    // 4 KiB of file, 32 MiB with BSS: fine, the boot protocol's image_size includes the BSS.
    const image = imageWithHeader(0x80000n, 0x200_0000n, 4096);
    expect(() => checkKernelImage(image, "Image")).not.toThrow();
    const l = layoutKernel(ram(128), image, 1000);
    expect(l.initrd!.start).toBeGreaterThanOrEqual(l.imageAddress + 0x200_0000);
    // The DTB and initrd would land in the BSS with 34 MiB of RAM; more than RAM is refused.
    expect(() => layoutKernel(ram(34), image)).toThrow(/overlap the kernel/);
    expect(() => layoutKernel(ram(16), image)).toThrow(/image_size .* does not fit/);
  });

  it("reads the header's big-endian flag (flags bit 0)", () => {
    const image = imageWithHeader(0x80000n, 0x2000n);
    expect(imageHeader(image)!.bigEndian).toBe(false);
    new DataView(image.buffer).setBigUint64(0x18, 0xbn, true);
    expect(imageHeader(image)!.bigEndian).toBe(true);
    expect(() => checkKernelImage(image, "Image.be")).not.toThrow();
  });
});
