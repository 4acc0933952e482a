// --firmware: the image is loaded at --firmware-address (default: the RAM base) and entered
// there with x0 = the DTB, placed at the next 2 MiB boundary after the image
// (docs/kvmtool.md §4.3).

import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";

describe("lkvm run --firmware", () => {
  it("enters a firmware image at --firmware-address with x0 = the DTB, bootargs = -p only", async () => {
    const dtb = join(mkdtempSync(join(tmpdir(), "lkvm-fw-")), "fw.dtb");
    // The hello guest is linked at RAM + 0x80000, so it must be loaded there.
    const s = GuestSession.start(["-f", "build/guests/hello.bin", "--firmware-address", "0x80080000", "-m", "64", "-c", "1", "-p", "fw-args", "--dump-dtb", dtb]);
    await s.waitFor(/EXIT: STATUS=1\r?\n/, 30_000);
    expect(s.output).toMatch(/ok - x0 holds the device tree address/);
    expect(s.output).toMatch(/ok - the device tree starts with the FDT magic/);
    expect((await s.exited(30_000)).code).toBe(0);
    const dts = execFileSync("dtc", ["-q", "-I", "dtb", "-O", "dts", dtb], { encoding: "utf8" });
    // With --firmware kvmtool passes only the user's -p (no console=, root=).
    expect(dts).toMatch(/bootargs = "fw-args";/);
  });

  it("refuses a firmware address outside RAM", async () => {
    const s = GuestSession.start(["-f", "build/guests/hello.bin", "--firmware-address", "0x1000", "-m", "64"]);
    const exit = await s.exited(30_000);
    expect(exit.code).toBe(1);
    expect(exit.output).toMatch(/lkvm: error: firmware address 0x1000 is outside RAM/);
  });
});
