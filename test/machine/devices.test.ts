// kvmtool's MMIO devices from guests: the 8250 UARTs (probe, loopback, interrupts, console
// input), the MC146818 RTC against the host clock, and the CFI flash against its file.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { expectPassed, guestArgs, report, runGuest } from "../support/run-guest.ts";

describe("the 8250 UART, from guests", () => {
  it("reset values, scratch register, divisor latch, loopback, THRE and RX interrupts", async () => {
    const run = await runGuest("uart");
    expectPassed(run, [
      "LSR after reset = THRE | TEMT (0x60)",
      "the scratch register holds 0x5a",
      "  as SPI 1 (INTID 33) for ttyS1",
      "IER.RDI: received data raises the interrupt",
    ]);
  });

  it("all four UARTs write to the console, as kvmtool's do", async () => {
    const s = GuestSession.start(guestArgs("uarts"));
    const { code, output } = await s.exited(20_000);
    expect(code).toBe(0);
    expect(output.match(/hello from ttyS\d/g)).toEqual(["hello from ttyS0", "hello from ttyS1", "hello from ttyS2", "hello from ttyS3"]);
  });

  it("console input: a typed line arrives through RX interrupts, another by polling LSR.DR", async () => {
    const s = GuestSession.start(guestArgs("uart-echo"));
    await s.waitFor("uart-echo: ready", 20_000);
    s.send("hello lkvm\r");
    await s.waitFor(/echo: hello lkvm\r?\n/, 20_000);
    await s.waitFor("uart-echo: polling", 20_000);
    s.send("second line\r");
    await s.waitFor(/polled: second line\r?\n/, 20_000);
    await s.waitFor(/EXIT: STATUS=\d+/, 20_000);
    expectPassed(report(await s.exited(20_000)), ["the line arrived through interrupts"]);
  });
});

describe("the MC146818 RTC, from a guest", () => {
  it("reads the host's UTC time in BCD", async () => {
    const before = Date.now();
    const run = await runGuest("rtc");
    const after = Date.now();
    expectPassed(run, ["every time register reads as BCD", "the day of the week matches the date (Sunday = 1)"]);
    const m = /rtc: (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)/.exec(run.output);
    expect(m, run.output).not.toBeNull();
    const [, y, mo, d, h, mi, sec] = m!.map(Number);
    const guest = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!);
    // The guest read it between lkvm's start and exit; the RTC has one-second resolution.
    expect(guest).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 2000);
    expect(guest).toBeLessThanOrEqual(after + 2000);
  });
});

describe("the CFI flash, from a guest", () => {
  it("query, JEDEC ID, word program, block erase, buffered program and locks reach the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lkvm-flash-"));
    const file = join(dir, "flash.img");
    const size = 1 << 20;
    const image = Buffer.alloc(size);
    for (let o = 0; o < size; o++) image[o] = (o * 7 + 3) & 0xff;
    image.fill(0xff, 0x10000, 0x20000); // block 1 erased
    writeFileSync(file, image);

    const run = await runGuest("flash", { extra: ["-F", file] });
    expectPassed(run, [
      'CFI query: "QRY" in both chips at word addresses 0x10-0x12',
      "  the word reads back in read-array mode",
      "  the whole block reads 0xff",
      "  the four words read back",
    ]);

    const after = readFileSync(file);
    expect(after.length).toBe(size);
    expect(after.readUInt32LE(0x10100).toString(16)).toBe("12345678");
    for (let i = 0; i < 4; i++) expect(after.readUInt32LE(0x10200 + 4 * i)).toBe(0xa0b0c0d0 + i);
    expect(after.subarray(0x20000, 0x30000).every((b) => b === 0xff)).toBe(true);
    // Everything else is as it was.
    const expected = Buffer.from(image);
    expected.writeUInt32LE(0x12345678, 0x10100);
    for (let i = 0; i < 4; i++) expected.writeUInt32LE(0xa0b0c0d0 + i, 0x10200 + 4 * i);
    expected.fill(0xff, 0x20000, 0x30000);
    expect(after.equals(expected)).toBe(true);
  });
});
