// A virtio-pci driver for tests: a PCI host with one virtio-pci function on a trap bus, found
// the way Linux's virtio_pci_modern_dev finds it (walk the capability list in config space,
// take each structure's BAR and offset), then driven through the common configuration; or,
// for the legacy layout, driven through BAR0's I/O registers as virtio_pci_legacy does.

import { TrapBus } from "../../src/iotrap/bus.ts";
import type { MsiController } from "../../src/irq.ts";
import { PCI_BASE_ADDRESS_0, PCI_CAPABILITY_LIST, PCI_COMMAND, PCI_COMMAND_MASTER } from "../../hw/pci/config-space.ts";
import { PciHost } from "../../hw/pci/host.ts";
import type { VirtioDevice } from "../../virtio/device.ts";
import { VirtioPciTransport } from "../../virtio/pci.ts";
import { VIRTIO_PCI_COMMON, type VirtioPciCommonField } from "../../virtio/pci-modern.ts";
import { VIRTIO_PCI_LEGACY, type VirtioPciLegacyRegister } from "../../virtio/pci-legacy.ts";
import { VirtioRng } from "../../virtio/rng.ts";
import { GuestCpu } from "./guest-cpu.ts";
import { INTID, driverSequences, guestRam, irqRecorder, type DriverRole } from "./virtio-driver.ts";

export const ECAM_BASE = 0x4000_0000;
const PCI_CAP_ID_VNDR = 0x09;

/** One vendor capability as a driver reads it. */
export interface VirtioPciCap {
  at: number;
  cfgType: number;
  bar: number;
  offset: number;
  lengthBytes: number;
  /** notify_off_multiplier, for the notification capability. */
  multiplier?: number;
}

/** The common-configuration field widths, as the driver uses them. */
const WIDTH: Record<VirtioPciCommonField, 1 | 2 | 4> = {
  device_feature_select: 4, device_feature: 4, driver_feature_select: 4, driver_feature: 4,
  config_msix_vector: 2, num_queues: 2, device_status: 1, config_generation: 1,
  queue_select: 2, queue_size: 2, queue_msix_vector: 2, queue_enable: 2, queue_notify_off: 2,
  queue_desc_lo: 4, queue_desc_hi: 4, queue_driver_lo: 4, queue_driver_hi: 4, queue_device_lo: 4, queue_device_hi: 4,
};

const PCI_FIELD_BY_ROLE: Record<DriverRole, VirtioPciCommonField> = {
  status: "device_status", deviceFeaturesSel: "device_feature_select", deviceFeatures: "device_feature",
  driverFeaturesSel: "driver_feature_select", driverFeatures: "driver_feature", queueSel: "queue_select",
  queueSize: "queue_size", queueReady: "queue_enable", descLow: "queue_desc_lo", descHigh: "queue_desc_hi",
  driverLow: "queue_driver_lo", driverHigh: "queue_driver_hi", deviceLow: "queue_device_lo", deviceHigh: "queue_device_hi",
};

/** An MsiController that records every message. */
export function msiRecorder(phandle = 2) {
  const messages: { address: bigint; data: number; requesterId: number }[] = [];
  const msi: MsiController = { phandle, signalMsi: (address, data, requesterId) => messages.push({ address, data, requesterId }) };
  return { msi, messages };
}

export interface PciRigOptions {
  mem?: ReturnType<typeof guestRam>["mem"];
  legacy?: boolean;
  msi?: MsiController;
  /** Functions to put in the slots before this one (to move its requester ID). */
  slotsBefore?: number;
}

/** The host, the function in its slot, Bus Master on, and the BARs as the guest reads them. */
function pciFunctionRig(device: VirtioDevice, opts: PciRigOptions) {
  const mem = opts.mem ?? guestRam().mem;
  const bus = new TrapBus();
  const { irq, levels } = irqRecorder();
  const log: string[] = [];
  const host = new PciHost((l) => log.push(l), opts.msi);
  host.register(bus);
  for (let i = 0; i < (opts.slotsBefore ?? 0); i++) host.addDevice(new VirtioPciTransport({ intid: INTID + 1 + i, irq, mem, device: new VirtioRng() }));
  const transport = new VirtioPciTransport({ intid: INTID, irq, mem, device, log: (l) => log.push(l), legacy: opts.legacy, msi: opts.msi });
  const slot = host.addDevice(transport);
  const cpu = new GuestCpu(bus);
  const cfg = (register: number) => ECAM_BASE + (slot << 15) + register;
  // Linux's virtio_pci_probe enables Bus Master before any driver runs.
  cpu.write16(cfg(PCI_COMMAND), cpu.read16(cfg(PCI_COMMAND)) | PCI_COMMAND_MASTER);
  /** BAR n's address as the guest reads it (flag bits cleared). */
  const bar = (n: number): number => cpu.read32(cfg(PCI_BASE_ADDRESS_0 + 4 * n)) & ~(n === 0 ? 0x3 : 0xf);
  return { bus, cpu, host, transport, mem, levels, log, cfg, slot, bar };
}

export function pciRig(device: VirtioDevice, mem = guestRam().mem, opts: Omit<PciRigOptions, "mem" | "legacy"> = {}) {
  const rig = pciFunctionRig(device, { ...opts, mem });
  const { cpu, cfg } = rig;

  const caps: VirtioPciCap[] = [];
  for (let at = cpu.read8(cfg(PCI_CAPABILITY_LIST)); at !== 0; at = cpu.read8(cfg(at + 1))) {
    if (cpu.read8(cfg(at)) !== PCI_CAP_ID_VNDR) continue;
    const cap: VirtioPciCap = { at, cfgType: cpu.read8(cfg(at + 3)), bar: cpu.read8(cfg(at + 4)), offset: cpu.read32(cfg(at + 8)), lengthBytes: cpu.read32(cfg(at + 12)) };
    if (cpu.read8(cfg(at + 2)) >= 20) cap.multiplier = cpu.read32(cfg(at + 16));
    caps.push(cap);
  }
  /** Where a structure is, as a guest-physical address (memory BARs only). */
  const where = (cfgType: number): number => {
    const cap = caps.find((c) => c.cfgType === cfgType);
    if (cap === undefined) throw new Error(`no capability of type ${cfgType}`);
    return (cpu.read32(cfg(PCI_BASE_ADDRESS_0 + 4 * cap.bar)) & ~0xf) + cap.offset;
  };
  const common = where(1);
  const rd = (name: VirtioPciCommonField): number => Number(cpu.read(common + VIRTIO_PCI_COMMON[name], WIDTH[name]));
  const wr = (name: VirtioPciCommonField, value: number): void => cpu.write(common + VIRTIO_PCI_COMMON[name], WIDTH[name], value);
  const notify = (queue: number): void => cpu.write16(where(2), queue);
  const readIsr = (): number => cpu.read8(where(3));
  /** The device-specific configuration (a device without one has no capability for it). */
  const deviceConfig = (): number => where(4);

  const driver = driverSequences({
    read: (role) => rd(PCI_FIELD_BY_ROLE[role]),
    write: (role, value) => wr(PCI_FIELD_BY_ROLE[role], value),
  });
  return { ...rig, caps, common, deviceConfig, rd, wr, notify, readIsr, ...driver };
}

/** Register widths of the legacy layout. */
const LEGACY_WIDTH: Record<VirtioPciLegacyRegister, 1 | 2 | 4> = {
  host_features: 4, guest_features: 4, queue_pfn: 4, queue_num: 2, queue_sel: 2, queue_notify: 2,
  status: 1, isr: 1, config_vector: 2, queue_vector: 2,
};

/** A legacy function driven through BAR0 (I/O ports), as Linux's virtio_pci_legacy drives it. */
export function legacyPciRig(device: VirtioDevice, opts: Omit<PciRigOptions, "legacy"> = {}) {
  const rig = pciFunctionRig(device, { ...opts, legacy: true });
  const { cpu, bar } = rig;
  const io = bar(0);
  const rd = (name: VirtioPciLegacyRegister): number => Number(cpu.read(io + VIRTIO_PCI_LEGACY[name], LEGACY_WIDTH[name]));
  const wr = (name: VirtioPciLegacyRegister, value: number): void => cpu.write(io + VIRTIO_PCI_LEGACY[name], LEGACY_WIDTH[name], value);
  /** vp_legacy's probe: reset, ACKNOWLEDGE, DRIVER, 32 feature bits, each queue by PFN, DRIVER_OK. */
  const bringUp = (pfns: number[], accept = rd("host_features"), vectors?: { config: number; queues: number[] }): void => {
    wr("status", 0);
    wr("status", 1);
    wr("status", 3);
    wr("guest_features", accept);
    if (vectors) wr("config_vector", vectors.config);
    pfns.forEach((pfn, i) => {
      wr("queue_sel", i);
      if (vectors) wr("queue_vector", vectors.queues[i]!);
      wr("queue_pfn", pfn);
    });
    wr("status", 7);
  };
  return { ...rig, io, rd, wr, bringUp };
}
