// The PCI host bridge as kvmtool's arm64 has it (pci.c, arm/pci.c): one bus (0), configuration
// space through ECAM at 0x40000000 (pci-host-ecam-generic, 4 KiB per function) and through
// the legacy mechanism #1 ports 0xcf8/0xcfc; BARs in a 32-bit MMIO window from 0x50000000 and
// in the I/O window at port 0 (first assignments from 0x6200); INTx routed to SPIs through the
// DT's interrupt-map.
//
// Devices sit in slots 0-31, function 0 only; an empty slot or another function reads all
// ones, as a bus with nothing there does. Every config write may move a BAR or turn decoding on
// or off, so after each one the host puts the BARs on the trap bus where the guest now wants
// them: a BAR decodes while its command enable (IO or MEMORY) is set and its address lies in
// its window. Linux sizes and reassigns every BAR at boot (pci_bus_assign_resources).

import type { TrapBus, BusKind } from "../../src/iotrap/bus.ts";
import { BusError } from "../../src/iotrap/errors.ts";
import type { MsiController } from "../../src/irq.ts";
import { u64Cells, type FdtNode } from "../../src/lib/fdt/tree.ts";
import { AddressAllocator, NumberAllocator } from "../../src/kvm/resources.ts";
import * as map from "../../arm/machine/memory-map.ts";
import { IRQ_TYPE, spiCells } from "../../arm/machine/interrupt-specifier.ts";
import {
  PCI_BAR_COUNT,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_CONFIG_SPACE_BYTES,
  PCI_INTERRUPT_PIN,
  type PciConfigSpace,
} from "./config-space.ts";

export const PCI_SLOTS = 32;
/** ECAM offset = bus << 20 | device << 15 | function << 12 | register. */
const ECAM_DEVICE_SHIFT = 15;
const ECAM_FUNCTION_SHIFT = 12;
const ECAM_BUS_SHIFT = 20;
/** CONFIG_ADDRESS (0xcf8): enable bit 31, bus 23:16, device 15:11, function 10:8, register 7:2. */
const CONFIG_ADDRESS_ENABLE = 0x8000_0000;
/** I/O BARs are handed out in blocks of this size (kvmtool's PCI_IO_SIZE). */
export const PCI_IO_BLOCK_BYTES = 0x100;

/** DT: the phys.hi cell of a PCI address (IEEE 1275 PCI binding): space code in bits 25:24. */
const OF_PCI_SPACE_IO = 0x0100_0000;
const OF_PCI_SPACE_MEM32 = 0x0200_0000;
/** interrupt-map-mask: match the device number and the pin. */
const OF_PCI_DEVICE_SHIFT = 11;
const INTERRUPT_MAP_MASK = [0xf800, 0, 0, 7];

/** A function on the bus: its config space, and what its BARs do once placed. */
export interface PciDevice {
  readonly name: string;
  readonly config: PciConfigSpace;
  /** An access to BAR `bar` at `offset` from its base (the trap bus's handler shape). */
  barAccess(bar: number, offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void;
  /** The SPI its INTx pin drives, if it uses INTx (it then gets an interrupt-map entry). */
  readonly intxIntid?: number;
  /** The guest wrote the config space (INTX_DISABLE may have changed). */
  configWritten?(): void;
  /** The host put the function in `slot`: its requester ID is `slot << 3` (bus 0, function 0). */
  pluggedIn?(slot: number): void;
}

/** The requester ID (bus << 8 | device << 3 | function) of function 0 in `slot` on bus 0. */
export const pciRequesterId = (slot: number): number => slot << 3;

interface BarMapping {
  bus: BusKind;
  base: number;
}

const hex = (n: number): string => "0x" + n.toString(16);

export class PciHost {
  readonly name = "pci-host";
  private readonly slots = new NumberAllocator("PCI device slots", 0, PCI_SLOTS - 1);
  private readonly mmioBars = new AddressAllocator("the PCI MMIO window", map.PCI_MMIO_BASE, map.PCI_MMIO_SIZE_BYTES);
  private readonly ioBars = new AddressAllocator("the PCI I/O window", map.PCI_IOPORT_BASE, map.IOPORT_SIZE_BYTES - map.PCI_IOPORT_BASE);
  private readonly devices: (PciDevice | undefined)[] = new Array(PCI_SLOTS).fill(undefined);
  private readonly mappings = new Map<PciDevice, (BarMapping | undefined)[]>();
  /** The latched CONFIG_ADDRESS of the legacy mechanism. */
  private configAddress = 0;
  private readonly complained = new Set<string>();
  /** The trap bus, once register() has claimed the host's regions on it; BARs go there too. */
  private bus?: TrapBus;

  /**
   * @param msi the irqchip's MSI controller, if it has one: the /pci node names it as
   *   `msi-parent`, and MSI-capable functions deliver through it.
   */
  constructor(
    private readonly log: (line: string) => void = () => {},
    readonly msi?: MsiController,
  ) {}

  /** Claims ECAM and the legacy configuration ports. */
  register(bus: TrapBus): void {
    this.bus = bus;
    bus.register({
      bus: "mmio",
      base: map.PCI_CFG_BASE,
      sizeBytes: map.PCI_CFG_SIZE_BYTES,
      name: `pci-ecam@${hex(map.PCI_CFG_BASE)}`,
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => this.ecamAccess(offset, data, lengthBytes, isWrite),
    });
    bus.register({
      bus: "ioport",
      base: map.PCI_CONFIG_ADDRESS_PORT,
      sizeBytes: 4,
      name: "pci-config-address",
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => this.configAddressAccess(offset, data, lengthBytes, isWrite),
    });
    bus.register({
      bus: "ioport",
      base: map.PCI_CONFIG_DATA_PORT,
      sizeBytes: 4,
      name: "pci-config-data",
      handler: (_vcpu, offset, data, lengthBytes, isWrite) => this.configDataAccess(offset, data, lengthBytes, isWrite),
    });
  }

  /**
   * Puts a device in the next free slot, gives each BAR its first address (kvmtool's order:
   * naturally aligned, upward) and turns decoding on, as kvmtool's devices start. Returns the
   * slot.
   */
  addDevice(device: PciDevice): number {
    if (this.bus === undefined) throw new Error("PciHost.addDevice before register()");
    const slot = this.slots.allocate();
    device.config.bars.forEach((bar, i) => {
      if (bar === undefined) return;
      const base = bar.kind === "io" ? this.ioBars.allocate(Math.max(bar.sizeBytes, PCI_IO_BLOCK_BYTES)) : this.mmioBars.allocate(bar.sizeBytes);
      device.config.setBarAddress(i, base);
    });
    device.config.setCommand(device.config.command | PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    this.devices[slot] = device;
    this.mappings.set(device, new Array(PCI_BAR_COUNT).fill(undefined));
    this.placeBars();
    device.pluggedIn?.(slot);
    return slot;
  }

  /** The device in a slot, if any. */
  device(slot: number): PciDevice | undefined {
    return this.devices[slot];
  }

  /** Where BAR `bar` of a device decodes now, or undefined while it does not. */
  barMapping(device: PciDevice, bar: number): Readonly<BarMapping> | undefined {
    return this.mappings.get(device)?.[bar];
  }

  /** kvmtool's /pci node (arm/pci.c), written after the MMIO devices' nodes. */
  hostBridgeNode(parent: FdtNode): FdtNode {
    const node = parent
      .child("pci")
      .prop("device_type", "pci")
      .prop("#address-cells", [3])
      .prop("#size-cells", [2])
      .prop("#interrupt-cells", [1])
      .prop("compatible", "pci-host-ecam-generic")
      .prop("dma-coherent", null)
      .prop("bus-range", [0, 0])
      .prop("reg", [...u64Cells(map.PCI_CFG_BASE), ...u64Cells(map.PCI_CFG_SIZE_BYTES)])
      .prop("ranges", [
        OF_PCI_SPACE_IO, ...u64Cells(map.IOPORT_BASE), ...u64Cells(map.IOPORT_BASE), ...u64Cells(map.IOPORT_SIZE_BYTES),
        OF_PCI_SPACE_MEM32, ...u64Cells(map.PCI_MMIO_BASE), ...u64Cells(map.PCI_MMIO_BASE), ...u64Cells(map.PCI_MMIO_SIZE_BYTES),
      ]);
    const entries: number[] = [];
    this.devices.forEach((device, slot) => {
      if (device?.intxIntid === undefined) return;
      const pin = device.config.read(PCI_INTERRUPT_PIN, 1);
      entries.push(slot << OF_PCI_DEVICE_SHIFT, 0, 0, pin, map.PHANDLE_GIC, 0, 0, ...spiCells(device.intxIntid, IRQ_TYPE.levelHigh));
    });
    node.prop("interrupt-map", entries);
    if (entries.length > 0) node.prop("interrupt-map-mask", INTERRUPT_MAP_MASK);
    if (this.msi !== undefined) node.prop("msi-parent", [this.msi.phandle]);
    return node;
  }

  // ---- configuration space ----

  private ecamAccess(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    const bus = offset >>> ECAM_BUS_SHIFT;
    const slot = (offset >>> ECAM_DEVICE_SHIFT) & (PCI_SLOTS - 1);
    const fn = (offset >>> ECAM_FUNCTION_SHIFT) & 7;
    const register = offset & (PCI_CONFIG_SPACE_BYTES - 1);
    this.configAccess(bus, slot, fn, register, data, lengthBytes, isWrite);
  }

  private configAddressAccess(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    // Only whole 32-bit accesses reach CONFIG_ADDRESS, as on a PC chipset.
    if (offset !== 0 || lengthBytes !== 4) {
      if (!isWrite) data.fill(0xff, 0, lengthBytes);
      return;
    }
    const view = new DataView(data.buffer, data.byteOffset, 4);
    if (isWrite) this.configAddress = view.getUint32(0, true);
    else view.setUint32(0, this.configAddress, true);
  }

  private configDataAccess(offset: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    const a = this.configAddress;
    if ((a & CONFIG_ADDRESS_ENABLE) === 0) {
      if (!isWrite) data.fill(0xff, 0, lengthBytes);
      return;
    }
    // Register 7:2 reaches the first 256 bytes, the part of the space legacy software knows.
    const register = (a & 0xfc) + offset;
    this.configAccess((a >>> 16) & 0xff, (a >>> 11) & 0x1f, (a >>> 8) & 7, register, data, lengthBytes, isWrite);
  }

  private configAccess(bus: number, slot: number, fn: number, register: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): void {
    const device = bus === 0 && fn === 0 ? this.devices[slot] : undefined;
    // 1, 2 or 4 bytes within one register (kvmtool drops an access that crosses one).
    const fits = (lengthBytes === 1 || lengthBytes === 2 || lengthBytes === 4) && (register & 3) + lengthBytes <= 4;
    if (device === undefined || !fits) {
      if (!isWrite) data.fill(0xff, 0, lengthBytes);
      return;
    }
    if (!isWrite) {
      const value = device.config.read(register, lengthBytes);
      for (let i = 0; i < lengthBytes; i++) data[i] = Math.floor(value / 256 ** i) & 0xff;
      return;
    }
    let value = 0;
    for (let i = lengthBytes - 1; i >= 0; i--) value = value * 256 + data[i]!;
    device.config.write(register, lengthBytes, value);
    this.placeBars();
    device.configWritten?.();
  }

  // ---- BARs on the trap bus ----

  /** Where each BAR should decode now: with its enable set and inside its window. */
  private wantedMapping(device: PciDevice, bar: number): BarMapping | undefined {
    const decl = device.config.bars[bar];
    const base = device.config.barAddress(bar);
    if (decl === undefined || base === undefined) return undefined;
    const command = device.config.command;
    if (decl.kind === "io") {
      if ((command & PCI_COMMAND_IO) === 0 || base === 0 || base + decl.sizeBytes > map.IOPORT_SIZE_BYTES) return undefined;
      return { bus: "ioport", base };
    }
    if ((command & PCI_COMMAND_MEMORY) === 0 || base < map.PCI_MMIO_BASE || base + decl.sizeBytes > map.PCI_MMIO_BASE + map.PCI_MMIO_SIZE_BYTES) return undefined;
    return { bus: "mmio", base };
  }

  /**
   * Moves every BAR whose wanted place changed: all the moves away first, then the arrivals,
   * so two BARs that swap places never collide. A BAR the guest put over another region
   * stays off the bus (logged once) until it moves again.
   */
  private placeBars(): void {
    const bus = this.bus!;
    const arrivals: [PciDevice, number, BarMapping][] = [];
    for (const [device, mapped] of this.mappings) {
      for (let bar = 0; bar < PCI_BAR_COUNT; bar++) {
        const want = this.wantedMapping(device, bar);
        const have = mapped[bar];
        if (have?.bus === want?.bus && have?.base === want?.base) continue;
        if (have !== undefined) bus.deregister(have.bus, have.base);
        mapped[bar] = undefined;
        if (want !== undefined) arrivals.push([device, bar, want]);
      }
    }
    for (const [device, bar, want] of arrivals) {
      const size = device.config.bars[bar]!.sizeBytes;
      try {
        bus.register({
          bus: want.bus,
          base: want.base,
          sizeBytes: size,
          name: `${device.name} BAR${bar}`,
          handler: (_vcpu, offset, data, lengthBytes, isWrite) => device.barAccess(bar, offset, data, lengthBytes, isWrite),
        });
        this.mappings.get(device)![bar] = want;
      } catch (e) {
        if (!(e instanceof BusError)) throw e;
        const key = `${device.name}-${bar}-${want.base}`;
        if (!this.complained.has(key)) {
          this.complained.add(key);
          this.log(`${device.name}: BAR${bar} placed at ${hex(want.base)} over another region; it does not decode there`);
        }
      }
    }
  }
}
