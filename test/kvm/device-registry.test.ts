// The device table's rules: creation in table order, levels in kvmtool's order, and on a
// failure every device already created is closed, newest first (kvmtool's util/init.c).

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, FileError } from "../../src/errors.ts";
import { DeviceCreationError, checkLevelOrder, closeDevices, createDevices, type Device, type DeviceDefinition } from "../../src/kvm/device-registry.ts";
import { CfiFlash } from "../../hw/cfi-flash.ts";
import { VirtioBlk } from "../../virtio/blk.ts";
import { imageFolder, openFdCount as openFds } from "../support/host-files.ts";

const { dir, image } = imageFolder("lkvm-registry-");

/** A device that records its creation and closing in `events`. */
function recording(events: string[], name: string): Device {
  events.push(`create ${name}`);
  return { name, close: () => void events.push(`close ${name}`) };
}

const def = (name: string, level: DeviceDefinition<string[]>["level"], count = 1): DeviceDefinition<string[]> => ({
  name,
  level,
  count: () => count,
  create: (events, n) => recording(events, `${name}${n}`),
});

describe("createDevices", () => {
  it("creates each definition's instances in table order", () => {
    const events: string[] = [];
    const devices = createDevices([def("flash", "dev", 0), def("uart", "dev", 2), def("rtc", "dev"), def("blk", "virtioDev", 2)], events);
    expect(devices.map((d) => d.name)).toEqual(["uart0", "uart1", "rtc0", "blk0", "blk1"]);
    closeDevices(devices);
    expect(events.slice(5)).toEqual(["close blk1", "close blk0", "close rtc0", "close uart1", "close uart0"]);
  });

  it("refuses a table whose init levels go backwards", () => {
    expect(() => checkLevelOrder([def("blk", "virtioDev"), def("uart", "dev")])).toThrow(/uart \(dev\) comes after blk \(virtioDev\)/);
    expect(() => checkLevelOrder([def("pci", "devBase"), def("uart", "dev"), def("late", "late")])).not.toThrow();
  });

  it("closes what it created, newest first, when the third device fails; a user's error passes unchanged", () => {
    const events: string[] = [];
    const failing: DeviceDefinition<string[]> = { name: "blk", level: "virtioDev", count: () => 1, create: () => { throw new FileError("cannot open disk image 'x'"); } };
    const error = (() => {
      try {
        createDevices([def("uart", "dev", 2), failing, def("never", "late")], events);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(FileError);
    expect(events).toEqual(["create uart0", "create uart1", "close uart1", "close uart0"]);
  });

  it("closes every device even when one fails to close, and reports that failure after", () => {
    const events: string[] = [];
    const stuck: Device = { name: "stuck", close: () => { throw new Error("EIO"); } };
    expect(() => closeDevices([recording(events, "a"), stuck, recording(events, "c")])).toThrow("EIO");
    expect(events).toEqual(["create a", "create c", "close c", "close a"]);
  });

  it("reports the creation failure, not a close failure during the unwinding", () => {
    const stuck: DeviceDefinition<string[]> = { name: "stuck", level: "dev", count: () => 1, create: () => ({ name: "stuck", close: () => { throw new Error("EIO"); } }) };
    const failing: DeviceDefinition<string[]> = { name: "blk", level: "virtioDev", count: () => 1, create: () => { throw new FileError("cannot open disk image 'x'"); } };
    expect(() => createDevices([stuck, failing], [])).toThrow(FileError);
  });

  it("names the device when its creation fails for another reason (our bug)", () => {
    const broken: DeviceDefinition<string[]> = { name: "rtc", level: "dev", count: () => 1, create: () => { throw new TypeError("oops"); } };
    expect(() => createDevices([broken], [])).toThrow(DeviceCreationError);
    expect(() => createDevices([broken], [])).toThrow(/creating rtc #0 failed: oops/);
  });

  it("leaves no file descriptor open when the third device fails after two opened files", () => {
    const flashPath = image("flash.img", 1 << 20);
    const diskPath = image("disk.img", 1 << 20);
    const before = openFds();
    type Ctx = { opened: number };
    const table: DeviceDefinition<Ctx>[] = [
      { name: "cfi-flash", level: "dev", count: () => 1, create: (ctx) => (ctx.opened++, new CfiFlash({ base: 0x200_0000, path: flashPath })) },
      { name: "virtio-blk", level: "virtioDev", count: () => 2, create: (ctx, n) => (ctx.opened++, new VirtioBlk({ path: n === 0 ? diskPath : join(dir, "missing.img"), readOnly: false })) },
    ];
    const ctx = { opened: 0 };
    expect(() => createDevices(table, ctx)).toThrow(ConfigError);
    expect(ctx.opened).toBe(3);
    expect(openFds()).toBe(before);
  });
});
