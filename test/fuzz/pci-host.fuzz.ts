// The PCI host bridge (hw/pci/host.ts) with two virtio-pci functions (virtio/pci.ts, rng models)
// behind it, driven through the trap bus by a guest that does anything: config accesses of any
// width at any register of any slot and function, through ECAM and the legacy ports; BARs
// sized, moved onto each other, into and out of their windows; decoding switched on and off;
// loads and stores anywhere the BARs might be.
//
// Must hold, for every sequence:
// - no exception reaches the bus;
// - a BAR decodes only where its config space says, with its command enable set and inside
//   its window; and never where another region is (the bus refuses overlaps);
// - responsive: after all that, putting the BARs back and decoding on makes both functions
//   answer their common configuration again.

import fc from "fast-check";
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY } from "../../hw/pci/config-space.ts";
import { PciHost } from "../../hw/pci/host.ts";
import { VirtioPciTransport, VIRTIO_PCI_MMIO_BAR } from "../../virtio/pci.ts";
import { VIRTIO_PCI_COMMON } from "../../virtio/pci-modern.ts";
import { VirtioRng } from "../../virtio/rng.ts";
import { guestRam } from "../support/virtio-driver.ts";
import { busRig, check, perform, valueArb, sequenceArb, type Access, type FuzzTarget, type Width, widthArb } from "./harness.ts";

const ECAM = 0x4000_0000;
const MMIO_WINDOW = 0x5000_0000;
const ecam = (slot: number, fn: number, register: number) => ECAM + (slot << 15) + (fn << 12) + register;

type Op =
  | { kind: "ecam"; slot: number; fn: number; access: Access }
  | { kind: "legacy"; address: number; access: Access }
  | { kind: "bar"; base: number; access: Access };

/** Values a config register cares about: BAR addresses in and out of the windows, command bits. */
const configValueArb = fc.oneof(
  { weight: 2, arbitrary: valueArb },
  { weight: 2, arbitrary: fc.constantFrom(0x5000_0000, 0x5000_0100, 0x5000_1000, 0x6200, 0x1001, 0x3000_0000, 0xffff_ffff, 0x7fff_ff00).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(0, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 0x400, 0xffff).map(BigInt) },
);
const registerArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(PCI_COMMAND, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_0 + 4, PCI_BASE_ADDRESS_0 + 8, 0x3c, 0x34, 0) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xfff }) },
);
const configAccessArb: fc.Arbitrary<Access> = fc.record({
  offset: registerArb,
  width: fc.oneof({ weight: 3, arbitrary: fc.constant<Width>(4) }, { weight: 2, arbitrary: widthArb }),
  write: fc.boolean(),
  value: configValueArb,
});
const barAccessArb: fc.Arbitrary<Access> = fc.record({
  offset: fc.oneof(fc.constantFrom(0x14, 0x16, 0x18, 0x1c, 0x38, 0x3c), fc.integer({ min: 0, max: 0x1ff })),
  width: widthArb,
  write: fc.boolean(),
  value: valueArb,
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("ecam" as const), slot: fc.constantFrom(0, 1, 2, 31), fn: fc.constantFrom(0, 0, 0, 1), access: configAccessArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("legacy" as const), address: fc.oneof(fc.constantFrom(0x8000_0000, 0x8000_0800, 0x8000_0804, 0x8000_0010), fc.integer({ min: 0, max: 0xffff_ffff })), access: configAccessArb.map((a) => ({ ...a, offset: a.offset & 3 })) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("bar" as const), base: fc.constantFrom(MMIO_WINDOW, MMIO_WINDOW + 0x1000, 0x1000, 0x6200, 0x6300), access: barAccessArb }) },
);

export const pciHostTarget: FuzzTarget = {
  name: "pci-host",
  description: "PCI config (ECAM, 0xcf8/0xcfc) and BAR sequences over two virtio-pci functions",
  quickRuns: 300,
  build() {
    const property = fc.property(sequenceArb(opArb, 60), (ops) => {
      const { bus, cpu } = busRig();
      const { mem } = guestRam(1 << 20);
      const host = new PciHost();
      host.register(bus);
      const devices = [36, 37].map((intid) => new VirtioPciTransport({ intid, irq: { setLevel() {} }, mem, device: new VirtioRng() }));
      for (const d of devices) host.addDevice(d);
      for (const op of ops) {
        if (op.kind === "ecam") perform(cpu, ecam(op.slot, op.fn, 0), op.access);
        else if (op.kind === "bar") perform(cpu, op.base, op.access);
        else {
          cpu.write32(0xcf8, op.address);
          perform(cpu, 0xcfc, op.access);
        }
        for (const d of devices) {
          for (const bar of [0, 1]) {
            const at = host.barMapping(d, bar);
            if (at === undefined) continue;
            const enable = bar === 0 ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
            check(at.base === d.config.barAddress(bar), () => `${d.name} BAR${bar} decodes at 0x${at.base.toString(16)}, config says 0x${d.config.barAddress(bar)!.toString(16)}`);
            check((d.config.command & enable) !== 0, `${d.name} BAR${bar} decodes with its enable clear`);
          }
        }
      }
      // Put the memory BARs back (slot 1's first, out of slot 0's way) and turn decoding on.
      const memoryBar = PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_MMIO_BAR;
      cpu.write32(ecam(1, 0, memoryBar), MMIO_WINDOW + 0x1000);
      cpu.write32(ecam(0, 0, memoryBar), MMIO_WINDOW);
      devices.forEach((_, slot) => cpu.write16(ecam(slot, 0, PCI_COMMAND), PCI_COMMAND_MEMORY));
      devices.forEach((_, slot) => {
        check(cpu.read16(ecam(slot, 0, 0)) === 0x1af4, `slot ${slot} no longer answers config reads`);
        const queues = cpu.read16(MMIO_WINDOW + 0x1000 * slot + VIRTIO_PCI_COMMON.num_queues);
        check(queues === 1, () => `slot ${slot}'s common configuration reads num_queues ${queues} after its BAR was put back`);
      });
    });
    return { property };
  },
};
