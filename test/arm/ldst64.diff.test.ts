// Why FEAT_LS64 has no differential test: qemu-aarch64, the oracle for every other instruction
// group, does not implement it, even with -cpu max (QEMU 7.2, Debian 12). This checks that it
// still doesn't; once it fails, LD64B/ST64B can be compared with qemu like the other loads and
// stores, and the hand-worked vectors of test/arm/ldst64.test.ts get an oracle.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasTool } from "../support/tools.ts";

const CC = "aarch64-linux-gnu-gcc";
const PROBE = `
static unsigned long buf[8] __attribute__((aligned(64))) = {1, 2, 3, 4, 5, 6, 7, 8};
int main(void) {
  unsigned long x0;
  __asm__ volatile(".arch armv8.7-a+ls64\\n mov x9, %1\\n ld64b x0, [x9]\\n mov %0, x0"
                   : "=r"(x0) : "r"(buf) : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x9", "memory");
  return (int)x0; /* 1 if LD64B loaded buf[0] */
}
`;

describe.skipIf(!hasTool(CC) || !hasTool("qemu-aarch64"))(`qemu-aarch64 and FEAT_LS64 (needs ${CC}, qemu-aarch64)`, () => {
  it("qemu-aarch64 -cpu max still raises SIGILL on LD64B: there is no oracle to compare with", () => {
    const dir = mkdtempSync(join(tmpdir(), "lkvm-ls64-"));
    try {
      writeFileSync(join(dir, "probe.c"), PROBE);
      const cc = spawnSync(CC, ["-static", "-O1", "-o", join(dir, "probe"), join(dir, "probe.c")], { encoding: "utf8" });
      expect(cc.status, cc.stderr).toBe(0);
      const run = spawnSync("qemu-aarch64", ["-cpu", "max", join(dir, "probe")], { encoding: "utf8" });
      expect(run.signal ?? run.status, "qemu ran LD64B: add a differential test for FEAT_LS64").toBe("SIGILL");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
