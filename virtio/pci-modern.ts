// The modern virtio-pci register layout (virtio 1.2 §4.1.4), as kvmtool's virtio/pci-modern.c
// lays it out in each of BAR0 (I/O) and BAR1 (memory), 0x100 bytes:
//
//   0x00  common configuration (56 bytes): features, status, MSI-X vectors, queue set-up
//   0x38  notification: one doorbell for every queue (notify_off_multiplier 0); write the index
//   0x3c  ISR status: bit 0 used buffer, bit 1 configuration change; reading clears it
//   0x40  device-specific configuration, up to the end of the BAR
//
// and the vendor-specific capabilities in config space that point the driver at them.
//
// Common-configuration fields take accesses of their own width only (§4.1.3.1); the 64-bit
// queue addresses also take two 32-bit halves, as Linux writes them. Other accesses are ignored.

import type { PciConfigSpace } from "../hw/pci/config-space.ts";
import type { QueueField } from "./transport.ts";
import { register, registerAccess, type VirtioPciFunction } from "./pci-registers.ts";

export const VIRTIO_PCI_MODERN_BAR_BYTES = 0x100;
/** The BAR the capabilities name (BAR0, I/O, has the same layout). */
const CAPABILITY_BAR = 1;

// Where the structures sit in the BAR.
export const VIRTIO_PCI_COMMON_OFFSET = 0x00;
export const VIRTIO_PCI_COMMON_BYTES = 0x38;
export const VIRTIO_PCI_NOTIFY_OFFSET = 0x38;
export const VIRTIO_PCI_NOTIFY_BYTES = 4;
export const VIRTIO_PCI_ISR_OFFSET = 0x3c;
export const VIRTIO_PCI_ISR_BYTES = 4;
export const VIRTIO_PCI_DEVICE_OFFSET = 0x40;

/** Vendor-specific capability types (struct virtio_pci_cap.cfg_type). */
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;
const PCI_CAP_ID_VNDR = 0x09;

/** struct virtio_pci_common_cfg (§4.1.4.3), the 64-bit addresses as 32-bit halves. */
export const VIRTIO_PCI_COMMON_FIELDS = [
  register("device_feature_select", 0x00, 4, "rw"),
  register("device_feature", 0x04, 4, "r"),
  register("driver_feature_select", 0x08, 4, "rw"),
  register("driver_feature", 0x0c, 4, "rw"),
  register("config_msix_vector", 0x10, 2, "rw"),
  register("num_queues", 0x12, 2, "r"),
  register("device_status", 0x14, 1, "rw"),
  register("config_generation", 0x15, 1, "r"),
  register("queue_select", 0x16, 2, "rw"),
  register("queue_size", 0x18, 2, "rw"),
  register("queue_msix_vector", 0x1a, 2, "rw"),
  register("queue_enable", 0x1c, 2, "rw"),
  register("queue_notify_off", 0x1e, 2, "r"),
  register("queue_desc_lo", 0x20, 4, "rw"),
  register("queue_desc_hi", 0x24, 4, "rw"),
  register("queue_driver_lo", 0x28, 4, "rw"),
  register("queue_driver_hi", 0x2c, 4, "rw"),
  register("queue_device_lo", 0x30, 4, "rw"),
  register("queue_device_hi", 0x34, 4, "rw"),
] as const;

export type VirtioPciCommonField = (typeof VIRTIO_PCI_COMMON_FIELDS)[number]["name"];

/** Offsets by name, for tests acting as a driver. */
export const VIRTIO_PCI_COMMON = Object.fromEntries(VIRTIO_PCI_COMMON_FIELDS.map((f) => [f.name, f.offset])) as Record<VirtioPciCommonField, number>;

const BY_OFFSET = new Map<number, (typeof VIRTIO_PCI_COMMON_FIELDS)[number]>(VIRTIO_PCI_COMMON_FIELDS.map((f) => [f.offset, f]));

/** The queue fields and what of the selected queue each reads or writes (queue_size reads 0
 * for a queue that does not exist, telling the driver so). */
const QUEUE_FIELDS: Partial<Record<VirtioPciCommonField, QueueField>> = {
  queue_size: "size",
  queue_enable: "ready",
  queue_desc_lo: "descLow",
  queue_desc_hi: "descHigh",
  queue_driver_lo: "driverLow",
  queue_driver_hi: "driverHigh",
  queue_device_lo: "deviceLow",
  queue_device_hi: "deviceHigh",
};

/** A struct virtio_pci_cap after its ID and next pointer, with `extra` bytes after it. */
function vendorCapability(cfgType: number, offset: number, lengthBytes: number, extra: number[] = []): Uint8Array {
  const body = new Uint8Array(14 + extra.length);
  const v = new DataView(body.buffer);
  body[0] = 2 + body.length; // cap_len, counting cap_vndr and cap_next
  body[1] = cfgType;
  body[2] = CAPABILITY_BAR;
  v.setUint32(6, offset, true);
  v.setUint32(10, lengthBytes, true);
  body.set(extra, 14);
  return body;
}

/** Appends kvmtool's vendor capabilities: common, notify, ISR, device (if any), PCI_CFG. */
export function addModernCapabilities(config: PciConfigSpace, deviceConfigBytes: number): void {
  const deviceCfgBytes = Math.min(deviceConfigBytes, VIRTIO_PCI_MODERN_BAR_BYTES - VIRTIO_PCI_DEVICE_OFFSET);
  config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET, VIRTIO_PCI_COMMON_BYTES));
  config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET, VIRTIO_PCI_NOTIFY_BYTES, [0, 0, 0, 0]));
  config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET, VIRTIO_PCI_ISR_BYTES));
  if (deviceCfgBytes > 0) {
    config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFFSET, deviceCfgBytes));
  }
  // The spec requires a PCI-configuration access capability; like kvmtool, lkvm advertises
  // it and its window does nothing (no driver lkvm boots uses it).
  config.addCapability(PCI_CAP_ID_VNDR, vendorCapability(VIRTIO_PCI_CAP_PCI_CFG, 0, 0, [0, 0, 0, 0]));
}

/** An access at `offset` of BAR0 or BAR1 in the modern layout. */
export function modernAccess(fn: VirtioPciFunction, offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
  if (offset < VIRTIO_PCI_COMMON_BYTES) commonAccess(fn, offset, data, lengthBytes, isWrite);
  else if (offset < VIRTIO_PCI_ISR_OFFSET) notifyAccess(fn, data, lengthBytes, isWrite);
  else if (offset < VIRTIO_PCI_DEVICE_OFFSET) {
    if (!isWrite && offset === VIRTIO_PCI_ISR_OFFSET) data[0] = fn.takeIsr();
  } else fn.core.configAccess(offset - VIRTIO_PCI_DEVICE_OFFSET, data, lengthBytes, isWrite);
}

function commonAccess(fn: VirtioPciFunction, offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
  // A 64-bit access to a queue address is its two 32-bit halves.
  if (lengthBytes === 8 && BY_OFFSET.get(offset)?.name.endsWith("_lo")) {
    commonAccess(fn, offset, data.subarray(0, 4), 4, isWrite);
    commonAccess(fn, offset + 4, data.subarray(4, 8), 4, isWrite);
    return;
  }
  registerAccess(BY_OFFSET, offset, data, lengthBytes, isWrite, {
    read: (name) => readCommon(fn, name),
    write: (name, value) => writeCommon(fn, name, value),
    ignored: (what) => fn.core.debug(`ignored ${what} (common config)`),
  });
}

function readCommon(fn: VirtioPciFunction, name: VirtioPciCommonField): number {
  const c = fn.core;
  const queueField = QUEUE_FIELDS[name];
  if (queueField !== undefined) return c.readQueueField(queueField);
  switch (name) {
    case "device_feature_select":
      return c.deviceFeaturesSel;
    case "device_feature":
      return c.deviceFeaturesPage();
    case "driver_feature_select":
      return c.driverFeaturesSel;
    case "driver_feature":
      return c.driverFeaturesPage();
    case "config_msix_vector":
      return fn.configVector;
    case "queue_msix_vector":
      return fn.queueVector;
    case "num_queues":
      return c.queues.length;
    case "device_status":
      return c.status;
    case "config_generation":
      return c.configGeneration;
    case "queue_select":
      return c.queueSel;
    case "queue_notify_off":
      return 0; // one doorbell for every queue
    default:
      return 0; // the queue fields are read above
  }
}

function writeCommon(fn: VirtioPciFunction, name: VirtioPciCommonField, value: number): void {
  const c = fn.core;
  const queueField = QUEUE_FIELDS[name];
  if (queueField !== undefined) {
    c.writeQueueField(queueField, value, name);
    return;
  }
  switch (name) {
    case "device_feature_select":
      c.deviceFeaturesSel = value;
      return;
    case "driver_feature_select":
      c.driverFeaturesSel = value;
      return;
    case "driver_feature":
      c.writeDriverFeatures(value, name);
      return;
    case "queue_select":
      // An out-of-range select is refused, as kvmtool's modern PCI does.
      if (value < c.queues.length) c.selectQueue(value);
      else c.complain(`queue-select-${value}`, `queue_select ${value}: the device has ${c.queues.length} queues; ignored`);
      return;
    case "device_status":
      fn.writeStatus(value);
      return;
    case "config_msix_vector":
      fn.configVector = value;
      return;
    case "queue_msix_vector":
      fn.queueVector = value;
      return;
  }
}

function notifyAccess(fn: VirtioPciFunction, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
  if (!isWrite) return;
  if (lengthBytes !== 2 && lengthBytes !== 4) {
    fn.core.debug(`ignored ${lengthBytes}-byte notification`);
    return;
  }
  fn.notify(data[0]! | (data[1]! << 8));
}
