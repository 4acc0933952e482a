// The machine's devices, in the order kvmtool creates them on arm64: one table, read by
// createDevices (device-registry.ts). The order decides the numbers: the UARTs take the first
// SPIs (32-35), then each virtio device the next SPI and, on its transport, the next
// virtio-mmio window or PCI slot, in kvmtool's virtio_dev_init order (9p, vsock, balloon, rng,
// net, console, scsi, blk). It is also the order of the devices' device-tree nodes.

import type { RunConfig, VirtioTransportKind } from "../cli/config.ts";
import type { TrapBus } from "../iotrap/bus.ts";
import type { IrqSink, MsiController } from "../irq.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { AddressAllocator, NumberAllocator } from "./resources.ts";
import type { Device, DeviceDefinition } from "./device-registry.ts";
import * as map from "../../arm/machine/memory-map.ts";
import { CfiFlash } from "../../hw/cfi-flash.ts";
import { Serial8250 } from "../../hw/serial8250.ts";
import { Mc146818Rtc } from "../../hw/rtc.ts";
import { Ls64WorkQueue } from "../../hw/ls64-work-queue.ts";
import type { VirtioDevice } from "../../virtio/device.ts";
import { VIRTIO_MMIO_LEGACY_VERSION, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_WINDOW_BYTES, VirtioMmioTransport } from "../../virtio/mmio.ts";
import { VirtioRng } from "../../virtio/rng.ts";
import { VirtioBalloon } from "../../virtio/balloon.ts";
import { VirtioConsole } from "../../virtio/console.ts";
import { VirtioP9 } from "../../virtio/9p/device.ts";
import { VirtioBlk } from "../../virtio/blk.ts";
import { VirtioNet } from "../../virtio/net/device.ts";
import { UserNetwork } from "../net/user-network.ts";
import { PciHost } from "../../hw/pci/host.ts";
import { VirtioPciTransport } from "../../virtio/pci.ts";

/** What a device's create() may use. */
export interface MachineContext {
  readonly cfg: RunConfig;
  readonly bus: TrapBus;
  readonly irq: IrqSink;
  readonly memory: GuestMemory;
  readonly log: (line: string) => void;
  /** SPIs, handed out from INTID 32 in creation order (kvmtool's irq__alloc_line). */
  readonly spis: NumberAllocator;
  /** 0x200-byte virtio-mmio windows from 0x3000000 up. */
  readonly virtioMmioWindows: AddressAllocator;
  /** The PCI host bridge: it hands out slots and BARs to PCI devices. */
  readonly pci: PciHost;
}

/** What the irqchip means for the other devices: the SPIs it keeps, its MSI controller. */
export interface IrqchipResources {
  reservedSpiCount: number;
  msi?: MsiController;
}

/** The allocators of a fresh machine, and the PCI host that allocates on its bus. */
export function machineResources(
  log: (line: string) => void,
  irqchip: IrqchipResources = { reservedSpiCount: 0 },
): Pick<MachineContext, "spis" | "virtioMmioWindows" | "pci"> {
  return {
    // kvmtool's gicv2m reserves its MSI SPIs first (gic__create, core_init), so devices start above.
    spis: new NumberAllocator("SPIs", map.SPI_BASE_INTID + irqchip.reservedSpiCount, map.SPI_LAST_INTID),
    virtioMmioWindows: new AddressAllocator("the virtio-mmio area", map.VIRTIO_MMIO_BASE, map.VIRTIO_MMIO_LIMIT - map.VIRTIO_MMIO_BASE),
    pci: new PciHost(log, irqchip.msi),
  };
}

/** Puts a device on the bus; if that fails, closes it (it may hold an open file) and rethrows. */
function onBus<D extends Device & { register(bus: TrapBus): void }>(device: D, bus: TrapBus): D {
  try {
    device.register(bus);
  } catch (e) {
    device.close?.();
    throw e;
  }
  return device;
}

/**
 * A virtio model behind a transport: `transport` (a device's own choice, such as virtio-net's
 * `-n trans=`) or else --virtio-transport. On MMIO it takes the next window and SPI; on PCI the
 * next slot, the next SPI for its INTA, and MSI-X when the PCI host has an MSI controller.
 */
export function onVirtioTransport(ctx: MachineContext, makeModel: () => VirtioDevice, transport: VirtioTransportKind = ctx.cfg.virtioTransport): Device {
  const { irq, memory: mem, log } = ctx;
  if (transport === "pci" || transport === "pci-legacy") {
    const intid = ctx.spis.allocate();
    const device = makeModel();
    const pciFunction = new VirtioPciTransport({ intid, irq, mem, device, log, debug: ctx.cfg.debugMmio, legacy: transport === "pci-legacy", msi: ctx.pci.msi });
    try {
      ctx.pci.addDevice(pciFunction);
    } catch (e) {
      pciFunction.close();
      throw e;
    }
    return pciFunction;
  }
  const base = ctx.virtioMmioWindows.allocate(VIRTIO_MMIO_WINDOW_BYTES);
  const intid = ctx.spis.allocate();
  const device = makeModel();
  const version = transport === "mmio-legacy" ? VIRTIO_MMIO_LEGACY_VERSION : VIRTIO_MMIO_VERSION;
  return onBus(new VirtioMmioTransport({ base, intid, irq, mem, device, log, debugMmio: ctx.cfg.debugMmio, version }), ctx.bus);
}

export const MACHINE_DEVICES: readonly DeviceDefinition<MachineContext>[] = [
  {
    // kvmtool's pci__init (dev_base_init): ECAM and the config ports; its /pci node is written
    // after the MMIO devices' (device-tree.ts), as kvmtool's arm/fdt.c does.
    name: "pci-host",
    level: "devBase",
    count: () => 1,
    create: (ctx) => onBus(ctx.pci, ctx.bus),
  },
  {
    name: "cfi-flash",
    level: "dev",
    count: (ctx) => (ctx.cfg.flash === undefined ? 0 : 1),
    create: (ctx) => onBus(new CfiFlash({ base: map.FLASH_BASE, path: ctx.cfg.flash!, log: ctx.log }), ctx.bus),
  },
  {
    name: "serial8250",
    level: "dev",
    count: () => map.UART_COUNT,
    create: (ctx, n) => onBus(new Serial8250({ base: map.uartBase(n), intid: ctx.spis.allocate(), irq: ctx.irq }), ctx.bus),
  },
  {
    name: "rtc",
    level: "dev",
    count: () => 1,
    create: (ctx) => onBus(new Mc146818Rtc({ base: map.RTC_BASE }), ctx.bus),
  },
  {
    name: "virtio-9p",
    level: "virtioDev",
    count: (ctx) => ctx.cfg.shares.length,
    create: (ctx, n) => onVirtioTransport(ctx, () => new VirtioP9({ ...ctx.cfg.shares[n]!, log: ctx.log })),
  },
  {
    name: "virtio-balloon",
    level: "virtioDev",
    count: (ctx) => (ctx.cfg.balloon ? 1 : 0),
    create: (ctx) => onVirtioTransport(ctx, () => new VirtioBalloon({ ramSizeBytes: ctx.cfg.ramSizeBytes, log: ctx.log })),
  },
  {
    name: "virtio-rng",
    level: "virtioDev",
    count: (ctx) => (ctx.cfg.rng ? 1 : 0),
    create: (ctx) => onVirtioTransport(ctx, () => new VirtioRng({ log: ctx.log })),
  },
  {
    name: "virtio-net",
    level: "virtioDev",
    count: (ctx) => ctx.cfg.nics.length,
    create: (ctx, n) => {
      const nic = ctx.cfg.nics[n]!;
      const makeModel = () => {
        const backend = new UserNetwork({ ...nic, log: ctx.log });
        return new VirtioNet({ mac: nic.guestMac, backend, log: ctx.log });
      };
      return onVirtioTransport(ctx, makeModel, nic.transport);
    },
  },
  {
    // --console virtio: hvc0 (the UARTs stay, as in kvmtool).
    name: "virtio-console",
    level: "virtioDev",
    count: (ctx) => (ctx.cfg.console === "virtio" ? 1 : 0),
    create: (ctx) => onVirtioTransport(ctx, () => new VirtioConsole({ log: ctx.log })),
  },
  {
    name: "virtio-blk",
    level: "virtioDev",
    count: (ctx) => ctx.cfg.disks.length,
    create: (ctx, n) => onVirtioTransport(ctx, () => new VirtioBlk({ ...ctx.cfg.disks[n]!, log: ctx.log })),
  },
  {
    // lkvm's own (--ls64-work-queue): a device for FEAT_LS64's 64-byte accesses, after kvmtool's.
    name: "ls64-work-queue",
    level: "late",
    count: (ctx) => (ctx.cfg.ls64WorkQueue ? 1 : 0),
    create: (ctx) => onBus(new Ls64WorkQueue({ base: map.LS64_WORK_QUEUE_BASE }), ctx.bus),
  },
];
