// Where the kernel (or firmware), initrd and DTB go in guest RAM, by kvmtool's rules
// (arm/kvm.c, arm/aarch64/kvm.c): the arm64 Image header's text_offset (0x80000 without the
// magic), the DTB 2 MiB below the end of the first 256 MiB, the initrd right under the DTB.

import { ConfigError, FileError } from "../errors.ts";

const MiB = 1024 * 1024;
export const FDT_MAX_SIZE = 0x1_0000;
/** DTB and initrd must lie in the first 256 MiB of RAM ("lowmem"). */
const LOWMEM_LIMIT_BYTES = 256 * MiB;
const IMAGE_MAGIC = 0x644d5241; // "ARM\x64" at offset 0x38
const IMAGE_HEADER_BYTES = 64;
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

/** The fields of an arm64 Image header (Documentation/arch/arm64/booting.rst), all little-endian. */
export interface ImageHeader {
  textOffset: number;
  /** Bytes the kernel needs from its load address: the file plus its BSS. */
  imageSizeBytes: number;
  /** flags bit 0: the kernel's data endianness. */
  bigEndian: boolean;
}

/**
 * The Image header, or undefined for a flat binary or a pre-3.17 Image (image_size 0), which
 * kvmtool loads at text_offset 0x80000 and sizes by the file.
 */
export function imageHeader(image: Uint8Array): ImageHeader | undefined {
  if (image.length < IMAGE_HEADER_BYTES) return undefined;
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const magic = v.getUint32(0x38, true);
  const textOffset = v.getBigUint64(0x08, true);
  const imageSize = v.getBigUint64(0x10, true);
  if (magic !== IMAGE_MAGIC || imageSize === 0n) return undefined;
  if (textOffset >= BigInt(LOWMEM_LIMIT_BYTES)) throw new ConfigError(`kernel Image header has an implausible text_offset 0x${textOffset.toString(16)}`);
  if (imageSize > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConfigError(`kernel Image header has an implausible image_size 0x${imageSize.toString(16)}`);
  return { textOffset: Number(textOffset), imageSizeBytes: Number(imageSize), bigEndian: (v.getBigUint64(0x18, true) & 1n) !== 0n };
}

/** text_offset from an arm64 Image header, or 0x80000 for a flat binary (or a pre-3.17 Image). */
export function imageTextOffset(image: Uint8Array): number {
  return imageHeader(image)?.textOffset ?? DEFAULT_TEXT_OFFSET;
}

/** ELF e_machine values worth naming. */
const ELF_MACHINES: Record<number, string> = { 3: "x86 (i386)", 40: "32-bit Arm", 62: "x86-64", 183: "AArch64", 243: "RISC-V" };

/**
 * Refuses kernels that cannot boot, with a message saying what to give instead: compressed
 * kernels and EFI zboot images (arm64 loads only a raw Image, as kvmtool does) and ELF files
 * (vmlinux, or a linked bare-metal program). A file shorter than its header's image_size is
 * fine: image_size counts the BSS, which is not in the file. Big-endian kernels (flags bit 0)
 * need nothing from the loader: the header is little-endian whatever the kernel's data
 * endianness, instructions always are, and the kernel sets SCTLR_EL1.EE itself. `image` may be
 * the file's first 64 bytes only (ImageFile.head), with its size in `sizeBytes`.
 */
export function checkKernelImage(image: Uint8Array, path: string, sizeBytes = image.length): void {
  if (sizeBytes === 0) throw new FileError(`kernel '${path}' is empty`);
  if (image[0] === 0x1f && image[1] === 0x8b) {
    throw new FileError(`kernel '${path}' is gzip-compressed: give the uncompressed Image (gunzip it first)`);
  }
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length >= 8 && image[0] === 0x4d && image[1] === 0x5a && v.getUint32(4, true) === 0x676d697a) {
    throw new FileError(`kernel '${path}' is an EFI zboot image: give the uncompressed Image inside it`);
  }
  if (image.length >= 20 && v.getUint32(0, false) === 0x7f454c46 /* "\x7fELF" */) {
    const machine = v.getUint16(18, image[5] !== 2 /* EI_DATA: 2 = big-endian */);
    const arch = ELF_MACHINES[machine] ?? `machine ${machine}`;
    if (machine !== 183) throw new FileError(`kernel '${path}' is an ${arch} ELF file: lkvm boots arm64 (AArch64) guests only`);
    throw new FileError(
      `kernel '${path}' is an ELF file: give a raw image (for Linux, arch/arm64/boot/Image rather than vmlinux; ` +
        `for a bare-metal program, 'aarch64-linux-gnu-objcopy -O binary ${path} ${path.replace(/\.elf$/, "")}.bin')`,
    );
  }
}

/**
 * Places a kernel image and optional initrd as kvmtool does; throws ConfigError if they do not
 * fit. `kernel` may be the file's first 64 bytes only, with its size in `kernelSizeBytes`.
 */
export function layoutKernel(ram: RamLayout, kernel: Uint8Array, initrdSizeBytes?: number, kernelSizeBytes = kernel.length): BootLayout {
  const header = imageHeader(kernel);
  const imageAddress = ram.ramBase + (header?.textOffset ?? DEFAULT_TEXT_OFFSET);
  const ramEnd = ram.ramBase + ram.ramSizeBytes;
  // The kernel owns image_size bytes from its load address (its BSS too): nothing may go there.
  const kernelEnd = imageAddress + Math.max(kernelSizeBytes, header?.imageSizeBytes ?? 0);
  if (header && kernelEnd > ramEnd) {
    throw new ConfigError(`kernel image too big: its header's image_size (${header.imageSizeBytes} bytes, BSS included) does not fit in ${Math.round(ram.ramSizeBytes / MiB)} MiB of RAM`);
  }
  const limit = ram.ramBase + Math.min(ram.ramSizeBytes, LOWMEM_LIMIT_BYTES) - 1;
  if (imageAddress + kernelSizeBytes > limit) {
    throw new ConfigError(`kernel image too big: ${kernelSizeBytes} bytes do not fit in the first ${Math.round((limit + 1 - ram.ramBase) / MiB)} MiB of RAM`);
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
export function kernelCommandLine(
  params: string,
  opts: { nodefaults: boolean; console: "serial" | "virtio"; framebuffer: boolean; rootShare?: boolean },
): string {
  if (opts.nodefaults) return params;
  // A framebuffer option names tty0 instead of the serial or virtio console, as in kvmtool.
  let cmdline = opts.framebuffer ? " console=tty0" : opts.console === "serial" ? " console=ttyS0" : " console=hvc0";
  // -d DIR: the directory is the root, over 9p (tag /dev/root). kvmtool leaves root= to the
  // kernel's default; it is written out here so an initramfs /init can find the tag.
  if (opts.rootShare) cmdline += ` root=${ROOT_9P_TAG} rw rootflags=trans=virtio,version=9p2000.L,cache=loose rootfstype=9p`;
  else if (!/(^|\s)root=/.test(params)) cmdline += " root=/dev/vda rw ";
  return `${cmdline} ${params}`;
}

/** The 9p tag of a directory given to -d, kvmtool's. */
export const ROOT_9P_TAG = "/dev/root";
