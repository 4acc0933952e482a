// MSI-X on its own: the capability a driver finds in config space, the table and PBA it
// programs through a BAR, masking with pending bits, and what the table refuses to keep.

import { describe, expect, it } from "vitest";
import { PciConfigSpace, PCI_CAPABILITY_LIST } from "../../../hw/pci/config-space.ts";
import {
  Msix,
  msixBarBytes,
  PCI_CAP_ID_MSIX,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
} from "../../../hw/pci/msix.ts";
import { msiRecorder } from "../../support/virtio-pci-driver.ts";

const DOORBELL = 0x8090_0040n;

function rig(vectorCount = 33) {
  const config = new PciConfigSpace({ vendorId: 0x1af4, deviceId: 0x1041, revisionId: 1, classCode: 0xff0000, subsystemVendorId: 0x1af4, subsystemId: 0x41, interruptPin: 1 }, [
    undefined,
    undefined,
    { kind: "mmio", sizeBytes: msixBarBytes(vectorCount) },
  ]);
  const { msi, messages } = msiRecorder();
  const msix = new Msix({ config, bar: 2, vectorCount, msi, requesterId: () => 3 << 3 });
  const cap = msix.capabilityOffset;
  const control = (bits: number) => config.write(cap + 2, 2, bits);
  const data = new Uint8Array(8);
  const rd32 = (offset: number): number => {
    data.fill(0);
    msix.barAccess(offset, data, 4, false);
    return new DataView(data.buffer).getUint32(0, true);
  };
  const wr32 = (offset: number, value: number): void => {
    new DataView(data.buffer).setUint32(0, value >>> 0, true);
    msix.barAccess(offset, data, 4, true);
  };
  /** Programs vector `v` with an address and data, unmasked. */
  const program = (v: number, address = DOORBELL, value = 0x40 + v): void => {
    wr32(16 * v, Number(address & 0xffff_ffffn));
    wr32(16 * v + 4, Number(address >> 32n));
    wr32(16 * v + 8, value);
    wr32(16 * v + 12, 0);
  };
  return { config, msix, messages, cap, control, rd32, wr32, program, data };
}

describe("MSI-X capability", () => {
  it("has kvmtool's layout: 33 vectors, table at BAR2 offset 0, PBA right after it, a 1 KiB BAR", () => {
    const { config, cap } = rig();
    expect(config.read(PCI_CAPABILITY_LIST, 1)).toBe(cap);
    expect(config.read(cap, 1)).toBe(PCI_CAP_ID_MSIX);
    expect(config.read(cap + 2, 2)).toBe(32); // Table Size is N - 1
    expect(config.read(cap + 4, 4)).toBe(0x0000_0002); // table offset 0, BIR 2
    expect(config.read(cap + 8, 4)).toBe(0x0000_0212); // PBA at 0x210, BIR 2
    expect(msixBarBytes(33)).toBe(1024);
  });

  it("lets the guest change only Enable and Function Mask", () => {
    const { config, cap, control } = rig();
    control(0xffff);
    expect(config.read(cap + 2, 2)).toBe(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 32);
    config.write(cap + 4, 4, 0x1234_5678);
    expect(config.read(cap + 4, 4)).toBe(2);
  });
});

describe("MSI-X table and delivery", () => {
  it("starts with every vector masked; an unmasked vector sends its message with the requester ID", () => {
    const { msix, messages, rd32, program, control } = rig();
    expect(rd32(12)).toBe(1);
    control(PCI_MSIX_FLAGS_ENABLE);
    program(1);
    msix.signal(1);
    expect(messages).toEqual([{ address: DOORBELL, data: 0x41, requesterId: 0x18 }]);
  });

  it("holds a masked vector's message as a pending bit and sends it when the vector is unmasked", () => {
    const { msix, messages, rd32, wr32, program, control } = rig();
    control(PCI_MSIX_FLAGS_ENABLE);
    program(2);
    wr32(16 * 2 + 12, 1);
    msix.signal(2);
    expect(messages).toEqual([]);
    expect(rd32(0x210)).toBe(1 << 2);
    wr32(16 * 2 + 12, 0);
    expect(messages).toEqual([{ address: DOORBELL, data: 0x42, requesterId: 0x18 }]);
    expect(rd32(0x210)).toBe(0);
  });

  it("holds every message while the function is masked and releases them when Function Mask clears", () => {
    const { msix, messages, rd32, program, control } = rig();
    control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    program(0);
    program(32);
    msix.signal(32);
    msix.signal(0);
    expect(messages).toEqual([]);
    expect([rd32(0x210), rd32(0x214)]).toEqual([1, 1]);
    control(PCI_MSIX_FLAGS_ENABLE);
    msix.configWritten();
    expect(messages.map((m) => m.data)).toEqual([0x40, 0x60]);
    expect([rd32(0x210), rd32(0x214)]).toEqual([0, 0]);
  });

  it("keeps the message address DWORD-aligned and the reserved vector-control bits 0", () => {
    const { rd32, wr32 } = rig();
    wr32(0, 0xfee0_0003);
    expect(rd32(0)).toBe(0xfee0_0000);
    wr32(12, 0xffff_fffe);
    expect(rd32(12)).toBe(0);
  });

  it("ignores unaligned or odd-sized table accesses and writes to the PBA", () => {
    const { msix, rd32, wr32, data } = rig();
    wr32(16, 0x1000);
    data.fill(0xff);
    msix.barAccess(17, data, 4, true);
    msix.barAccess(16, data, 2, true);
    msix.barAccess(20, data, 8, true); // a QWORD that is not QWORD-aligned
    expect(rd32(16)).toBe(0x1000);
    wr32(0x210, 0xffff_ffff);
    expect(rd32(0x210)).toBe(0);
  });

  it("takes an aligned QWORD as two DWORDs (address low and high together)", () => {
    const { msix, rd32, data } = rig();
    new DataView(data.buffer).setBigUint64(0, 0x1_2345_6780n, true);
    msix.barAccess(32, data, 8, true);
    expect([rd32(32), rd32(36)]).toEqual([0x2345_6780, 1]);
  });
});
