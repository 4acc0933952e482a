// One function's configuration space, as a driver sees it: read-only IDs, the writable command
// bits, BAR sizing by writing all ones, and the capability list.

import { describe, expect, it } from "vitest";
import {
  PCI_BASE_ADDRESS_0,
  PCI_CAPABILITY_LIST,
  PCI_COMMAND,
  PCI_DEVICE_ID,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_VENDOR_ID,
  PciConfigSpace,
} from "../../../hw/pci/config-space.ts";

const identity = { vendorId: 0x1af4, deviceId: 0x1042, revisionId: 1, classCode: 0x018000, subsystemVendorId: 0x1af4, subsystemId: 0x40, interruptPin: 1 };
const bar = (i: number) => PCI_BASE_ADDRESS_0 + 4 * i;

describe("PCI config space", () => {
  it("reads back the identity and ignores writes to it", () => {
    const c = new PciConfigSpace(identity);
    c.write(PCI_VENDOR_ID, 4, 0x1234_5678);
    expect(c.read(PCI_VENDOR_ID, 2)).toBe(0x1af4);
    expect(c.read(PCI_DEVICE_ID, 2)).toBe(0x1042);
    expect(c.read(0x08, 4)).toBe(0x0180_0001); // revision 1, class 01 80 00
    expect(c.read(PCI_INTERRUPT_PIN, 1)).toBe(1);
  });

  it("keeps only the command bits kvmtool lets through, drops status writes, stores the interrupt line", () => {
    const c = new PciConfigSpace(identity);
    c.write(PCI_COMMAND, 2, 0xffff);
    expect(c.read(PCI_COMMAND, 2)).toBe(0x0547); // IO MEM MASTER PARITY SERR INTX_DISABLE
    c.write(PCI_STATUS, 2, 0xffff);
    expect(c.read(PCI_STATUS, 2)).toBe(0);
    c.write(PCI_INTERRUPT_LINE, 1, 0x24);
    expect(c.read(PCI_INTERRUPT_LINE, 1)).toBe(0x24);
  });

  it("sizes BARs the standard way: all ones read back the size mask with the flag bits", () => {
    const c = new PciConfigSpace(identity, [{ kind: "io", sizeBytes: 0x100 }, { kind: "mmio", sizeBytes: 0x4000 }]);
    for (const i of [0, 1, 2]) c.write(bar(i), 4, 0xffff_ffff);
    expect(c.read(bar(0), 4)).toBe(0xffff_ff01); // I/O space indicator stays
    expect(c.read(bar(1), 4)).toBe(0xffff_c000); // 32-bit, not prefetchable
    expect(c.read(bar(2), 4)).toBe(0); // no BAR2
  });

  it("moves a BAR to an address aligned to its size, whatever low bits are written", () => {
    const c = new PciConfigSpace(identity, [undefined, { kind: "mmio", sizeBytes: 0x1000 }]);
    c.write(bar(1), 4, 0x5123_4fff);
    expect(c.barAddress(1)).toBe(0x5123_4000);
    expect(c.barAddress(0)).toBeUndefined();
  });

  it("chains capabilities from the capability pointer and flags the list in the status", () => {
    const c = new PciConfigSpace(identity);
    const first = c.addCapability(0x09, new Uint8Array([16, 1, 0, 0]));
    const second = c.addCapability(0x09, new Uint8Array([16, 2]));
    expect(c.read(PCI_CAPABILITY_LIST, 1)).toBe(first);
    expect(c.read(first + 1, 1)).toBe(second);
    expect(c.read(second + 1, 1)).toBe(0);
    expect(c.read(second + 2, 2)).toBe(0x0210);
    expect(c.read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST).toBe(PCI_STATUS_CAP_LIST);
    c.write(first + 2, 1, 0xff);
    expect(c.read(first + 2, 1)).toBe(16);
  });
});
