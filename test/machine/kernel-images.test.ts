// Kernels as the arm64 boot protocol describes them, booted with bin/lkvm: an Image whose
// header's image_size (BSS included) is far larger than the file, the same with the header's
// big-endian flag, and the files lkvm refuses with what to give instead.

import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";

function run(kernel: string) {
  const r = spawnSync("bin/lkvm", ["run", "-k", kernel, "--nodefaults", "-m", "64", "-c", "1", "--loglevel", "warning"], { encoding: "latin1", timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("kernel Images by the boot protocol", () => {
  it("an Image whose image_size counts a 1 MiB BSS boots, and nothing lands in its BSS", () => {
    const image = "build/guests/image-bss.bin";
    expect(statSync(image).size).toBeLessThan(4096); // image_size is over 1 MiB
    const r = run(image);
    expect(r.stdout).toContain("image: loaded with its BSS");
    expect(r.status).toBe(0);
  });

  it("an Image with the big-endian flag boots and runs big-endian once it sets SCTLR_EL1.EE", () => {
    const r = run("build/guests/image-be.bin");
    expect(r.stdout).toContain("image: loaded with its BSS");
    expect(r.status).toBe(0);
  });

  it("ELF files are refused with what to give instead", () => {
    const arm = run("build/guests/hello.elf");
    expect(arm.status).toBe(1);
    expect(arm.stderr).toMatch(/lkvm: error: kernel '.*hello\.elf' is an ELF file: give a raw image .*objcopy -O binary/);
    const host = run(process.execPath); // this machine's node: an x86-64 (or other non-arm64) ELF
    expect(host.status).toBe(1);
    expect(host.stderr).toMatch(/lkvm: error: kernel '.*' is an? (.* )?ELF file/);
  });
});
