// The legacy virtio-pci register layout (virtio 0.9.5; virtio 1.2 §4.1.4.8 "Legacy Interfaces:
// A Note on PCI Device Layout"), as kvmtool's virtio/pci-legacy.c serves it in BAR0 (I/O, the
// one Linux's virtio_pci_legacy uses) and BAR1 (memory):
//
//   0x00  host features (32 bits)     0x0e  queue select (16)      0x14  MSI-X config vector (16) ┐ only while
//   0x04  guest features (32)         0x10  queue notify (16)      0x16  MSI-X queue vector (16)  ┘ MSI-X is on
//   0x08  queue PFN (32)              0x12  device status (8)      0x14 or 0x18: device config
//   0x0c  queue size (16, read-only)  0x13  ISR (8, read clears)
//
// A queue is placed by writing its page frame number: 4096-byte pages, the used ring aligned
// to 4096 (VIRTIO_PCI_QUEUE_ADDR_SHIFT, VIRTIO_PCI_VRING_ALIGN); its size is the maximum, as
// the size register is read-only. Fields are little-endian (the guest's endianness on a legacy
// device, and every guest lkvm runs is little-endian). Registers take accesses of their own
// width; the device configuration takes any width inside it.

import { register, registerAccess, type VirtioPciFunction } from "./pci-registers.ts";

export const VIRTIO_PCI_LEGACY_BAR_BYTES = 0x100;
/** Legacy rings: the PFN counts 4 KiB pages, and the used ring starts on a 4 KiB boundary. */
const LEGACY_RINGS = { pageSizeBytes: 4096, alignBytes: 4096 };
/** Where the device configuration starts, without and with MSI-X enabled. */
export const VIRTIO_PCI_LEGACY_CONFIG_OFFSET = 0x14;
export const VIRTIO_PCI_LEGACY_CONFIG_OFFSET_MSIX = 0x18;

export const VIRTIO_PCI_LEGACY_REGISTERS = [
  register("host_features", 0x00, 4, "r"),
  register("guest_features", 0x04, 4, "rw"),
  register("queue_pfn", 0x08, 4, "rw"),
  register("queue_num", 0x0c, 2, "r"),
  register("queue_sel", 0x0e, 2, "rw"),
  register("queue_notify", 0x10, 2, "w"),
  register("status", 0x12, 1, "rw"),
  register("isr", 0x13, 1, "r"),
  register("config_vector", 0x14, 2, "rw"),
  register("queue_vector", 0x16, 2, "rw"),
] as const;

export type VirtioPciLegacyRegister = (typeof VIRTIO_PCI_LEGACY_REGISTERS)[number]["name"];

/** Offsets by name, for tests acting as a driver. */
export const VIRTIO_PCI_LEGACY = Object.fromEntries(VIRTIO_PCI_LEGACY_REGISTERS.map((r) => [r.name, r.offset])) as Record<VirtioPciLegacyRegister, number>;

const ALL = new Map<number, (typeof VIRTIO_PCI_LEGACY_REGISTERS)[number]>(VIRTIO_PCI_LEGACY_REGISTERS.map((r) => [r.offset, r]));
/** Without MSI-X the vector registers are not there: their offsets are device configuration. */
const WITHOUT_MSIX = new Map([...ALL].filter(([offset]) => offset < VIRTIO_PCI_LEGACY_CONFIG_OFFSET));

/** An access at `offset` of BAR0 or BAR1 in the legacy layout. */
export function legacyAccess(fn: VirtioPciFunction, offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
  const configOffset = fn.msixEnabled ? VIRTIO_PCI_LEGACY_CONFIG_OFFSET_MSIX : VIRTIO_PCI_LEGACY_CONFIG_OFFSET;
  if (offset >= configOffset) {
    fn.core.configAccess(offset - configOffset, data, lengthBytes, isWrite);
    return;
  }
  registerAccess(fn.msixEnabled ? ALL : WITHOUT_MSIX, offset, data, lengthBytes, isWrite, {
    read: (name) => readLegacy(fn, name),
    write: (name, value) => writeLegacy(fn, name, value),
    ignored: (what) => fn.core.debug(`ignored ${what} (legacy registers)`),
  });
}

function readLegacy(fn: VirtioPciFunction, name: VirtioPciLegacyRegister): number {
  const c = fn.core;
  switch (name) {
    case "host_features":
      return c.deviceFeaturesPage();
    case "guest_features":
      return c.driverFeaturesPage();
    case "queue_pfn":
      return c.legacyQueuePfn(LEGACY_RINGS.pageSizeBytes);
    case "queue_num":
      return c.readQueueField("size");
    case "queue_sel":
      return c.queueSel;
    case "status":
      return c.status;
    case "isr":
      return fn.takeIsr();
    case "config_vector":
      return fn.configVector;
    case "queue_vector":
      return fn.queueVector;
    default:
      return 0; // write-only registers are filtered out before this
  }
}

function writeLegacy(fn: VirtioPciFunction, name: VirtioPciLegacyRegister, value: number): void {
  const c = fn.core;
  switch (name) {
    case "guest_features":
      c.writeDriverFeatures(value, name);
      return;
    case "queue_pfn":
      c.setLegacyQueuePfn(value, LEGACY_RINGS, name);
      return;
    case "queue_sel":
      // kvmtool's legacy PCI refuses a queue past the last.
      if (value < c.queues.length) c.selectQueue(value);
      else c.complain(`queue-select-${value}`, `queue_sel ${value}: the device has ${c.queues.length} queues; ignored`);
      return;
    case "queue_notify":
      fn.notify(value);
      return;
    case "status":
      fn.writeStatus(value);
      return;
    case "config_vector":
      fn.configVector = value;
      return;
    case "queue_vector":
      fn.queueVector = value;
      return;
  }
}
