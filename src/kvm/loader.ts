// Where the kernel (or firmware), initrd and DTB go in guest RAM, by kvmtool's rules
// (arm/kvm.c, arm/aarch64/kvm.c): the arm64 Image header's text_offset (0x80000 without the
// magic), the DTB 2 MiB below the end of the first 256 MiB, the initrd right under the DTB.

import { ConfigError, FileError } from "../errors.ts";

const MiB = 1024 * 1024;
export const FDT_MAX_SIZE = 0x1_0000;
/** DTB and initrd must lie in the first 256 MiB of RAM ("lowmem"). */
const LOWMEM_LIMIT_BYTES = 256 * MiB;
const IMAGE_MAGIC = 0x644d5241; // "ARM\x64" at offset 0x38
export const DEFAULT_TEXT_OFFSET = 0x80000;

export interface RamLayout {
  ramBase: number;
  ramSizeBytes: number;
}

export interface BootLayout {
  /** Where the image is copied and where the boot vCPU starts. */
  imageAddress: number;
  entry: number;
  dtbAddress: number;
  initrd?: { start: number; end: number };
}

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;

/** text_offset from an arm64 Image header, or 0x80000 for a flat binary (or a pre-3.17 Image). */
export function imageTextOffset(image: Uint8Array): number {
  if (image.length < 64) return DEFAULT_TEXT_OFFSET;
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const magic = v.getUint32(0x38, true);
  const textOffset = v.getBigUint64(0x08, true);
  const imageSize = v.getBigUint64(0x10, true);
  if (magic !== IMAGE_MAGIC || imageSize === 0n) return DEFAULT_TEXT_OFFSET;
  if (textOffset >= BigInt(LOWMEM_LIMIT_BYTES)) throw new ConfigError(`kernel Image header has an implausible text_offset 0x${textOffset.toString(16)}`);
  return Number(textOffset);
}

/**
 * Refuses kernels that cannot boot, with a message saying why: compressed kernels (arm64 loads
 * only a raw Image, as kvmtool does) and an Image much shorter than its header's image_size
 * (which also counts the BSS, so a complete file is only somewhat shorter).
 */
export function checkKernelImage(image: Uint8Array, path: string): void {
  if (image.length === 0) throw new FileError(`kernel '${path}' is empty`);
  if (image[0] === 0x1f && image[1] === 0x8b) {
    throw new FileError(`kernel '${path}' is gzip-compressed: give the uncompressed Image (gunzip it first)`);
  }
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length >= 8 && image[0] === 0x4d && image[1] === 0x5a && v.getUint32(4, true) === 0x676d697a) {
    throw new FileError(`kernel '${path}' is an EFI zboot image: give the uncompressed Image inside it`);
  }
  if (image.length >= 64 && v.getUint32(0x38, true) === IMAGE_MAGIC) {
    const imageSize = Number(v.getBigUint64(0x10, true));
    if (imageSize !== 0 && image.length < imageSize / 2) {
      throw new FileError(`kernel '${path}' looks truncated: its header says ${imageSize} bytes, the file has ${image.length}`);
    }
  }
}

/** Places a kernel image and optional initrd as kvmtool does; throws ConfigError if they do not fit. */
export function layoutKernel(ram: RamLayout, kernel: Uint8Array, initrdSizeBytes?: number): BootLayout {
  const imageAddress = ram.ramBase + imageTextOffset(kernel);
  const limit = ram.ramBase + Math.min(ram.ramSizeBytes, LOWMEM_LIMIT_BYTES) - 1;
  const kernelEnd = imageAddress + kernel.length;
  if (kernelEnd > limit) {
    throw new ConfigError(`kernel image too big: ${kernel.length} bytes do not fit in the first ${Math.round((limit + 1 - ram.ramBase) / MiB)} MiB of RAM`);
  }
  const dtbAddress = alignUp(limit - (FDT_MAX_SIZE + 2 * MiB), 2 * MiB);
  if (dtbAddress < kernelEnd) throw new ConfigError("not enough RAM: the device tree would overlap the kernel image (use a larger -m)");
  let initrd: BootLayout["initrd"];
  if (initrdSizeBytes !== undefined) {
    const start = alignUp(dtbAddress - (initrdSizeBytes + 4), 4);
    if (start < kernelEnd) throw new ConfigError("not enough RAM: the initrd would overlap the kernel image (use a larger -m)");
    initrd = { start, end: start + initrdSizeBytes };
  }
  return { imageAddress, entry: imageAddress, dtbAddress, initrd };
}

/** Places a firmware image: at firmwareAddress (default the RAM base), DTB at the next 2 MiB boundary. */
export function layoutFirmware(ram: RamLayout, firmwareSizeBytes: number, firmwareAddress?: number): BootLayout {
  const imageAddress = firmwareAddress ?? ram.ramBase;
  const ramEnd = ram.ramBase + ram.ramSizeBytes;
  if (imageAddress < ram.ramBase || imageAddress >= ramEnd) throw new ConfigError("firmware address is outside RAM");
  const end = imageAddress + firmwareSizeBytes;
  if (end + FDT_MAX_SIZE > ramEnd) throw new ConfigError("firmware image too big: no room left in RAM for the device tree");
  const dtbAddress = alignUp(end, 2 * MiB);
  if (dtbAddress + FDT_MAX_SIZE > ramEnd) throw new ConfigError("firmware image too big: no room left in RAM for the device tree");
  return { imageAddress, entry: imageAddress, dtbAddress };
}

/** kvmtool's kernel command line: its own defaults, then -p (exactly -p with --nodefaults). */
export function kernelCommandLine(params: string, opts: { nodefaults: boolean; console: "serial" | "virtio" }): string {
  if (opts.nodefaults) return params;
  let cmdline = opts.console === "serial" ? " console=ttyS0" : " console=hvc0";
  if (!/(^|\s)root=/.test(params)) cmdline += " root=/dev/vda rw ";
  return `${cmdline} ${params}`;
}
