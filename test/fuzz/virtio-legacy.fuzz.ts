// The legacy transports (virtio-pci legacy with MSI-X, virtio-mmio version 1) with virtio-rng
// behind them, driven by a driver that does anything: any register at any width, PFNs
// anywhere, page sizes and alignments of any value, MSI-X table writes and capability toggles,
// notifies at any time.
//
// Must hold, for every sequence:
// - no exception reaches the bus, and nothing is written outside guest RAM;
// - every MSI the function sends (after the random phase, used buffers go out through whatever
//   table and vectors the guest left) has an address with bits 1:0 clear, and the function's
//   requester ID;
// - responsive: after all that, a reset and a proper legacy bring-up serve a request.

import fc from "fast-check";
import { PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL } from "../../hw/pci/msix.ts";
import { VIRTIO_MMIO_CONFIG_OFFSET, VIRTIO_MMIO_LEGACY_REGISTERS, VIRTIO_MMIO_WINDOW_BYTES } from "../../virtio/mmio.ts";
import { VIRTIO_PCI_LEGACY_REGISTERS } from "../../virtio/pci-legacy.ts";
import { RNG_QUEUE_SIZE, VirtioRng } from "../../virtio/rng.ts";
import { DriverQueue, MMIO_BASE, mmioRig } from "../support/virtio-driver.ts";
import { legacyPciRig, msiRecorder } from "../support/virtio-pci-driver.ts";
import { GuardedRam, RAM_BASE, accessArb, check, perform, sequenceArb, valueArb, type Access, type FuzzTarget } from "./harness.ts";
import { BUFFER_AREA, VIRTIO_RAM_BYTES } from "./rings.ts";

const PAGE = 4096;
const PFN = RAM_BASE / PAGE;
const BUF = BUFFER_AREA + 0x1000;

/** Values a legacy driver writes: statuses, PFNs in and out of RAM, page sizes, vectors. */
const legacyValueArb = fc.oneof(
  { weight: 3, arbitrary: valueArb },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 3, 7, 0x80, PFN, PFN + 1, PFN + 7, 0x1000, 4096, 16384, 0xffff).map(BigInt) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }).map(BigInt) },
);

type Op =
  | { kind: "access"; access: Access }
  | { kind: "msix"; access: Access }
  | { kind: "control"; bits: number }
  | { kind: "program"; vector: number; address: number; data: number; masked: boolean }
  | { kind: "bringUp"; vectors: [number, number] }
  | { kind: "request" }
  | { kind: "reset" };

const vectorArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 34 }) },
  { weight: 1, arbitrary: fc.constant(0xffff) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);

function opArb(windowBytes: number, offsets: readonly number[]): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 10, arbitrary: accessArb(windowBytes, offsets, legacyValueArb).map((access) => ({ kind: "access" as const, access })) },
    { weight: 3, arbitrary: accessArb(0x400, [0, 4, 8, 12, 16, 28, 0x210], legacyValueArb).map((access) => ({ kind: "msix" as const, access })) },
    { weight: 2, arbitrary: fc.constantFrom(0, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL).map((bits) => ({ kind: "control" as const, bits })) },
    {
      weight: 3,
      arbitrary: fc.record({ vector: fc.integer({ min: 0, max: 3 }), address: fc.integer({ min: 0, max: 0xffff_ffff }), data: fc.integer({ min: 0, max: 0xffff_ffff }), masked: fc.boolean() }).map((p) => ({ kind: "program" as const, ...p })),
    },
    { weight: 2, arbitrary: fc.tuple(vectorArb, vectorArb).map((vectors) => ({ kind: "bringUp" as const, vectors })) },
    { weight: 3, arbitrary: fc.constant({ kind: "request" as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: "reset" as const }) },
  );
}

/** The driver's view of queue 0 at page PFN, in the legacy layout, with its rings cleared. */
function freshQueue(ram: GuardedRam): DriverQueue {
  ram.mem.write(RAM_BASE, new Uint8Array(BUFFER_AREA - RAM_BASE));
  const desc = PFN * PAGE;
  const avail = desc + 16 * RNG_QUEUE_SIZE;
  return new DriverQueue(ram.mem, RNG_QUEUE_SIZE, desc, avail, Math.ceil((avail + 6 + 2 * RNG_QUEUE_SIZE) / PAGE) * PAGE);
}

/** What a legacy transport rig gives the property: its window, a driver, and its interrupts. */
interface LegacyRig {
  cpu: ReturnType<typeof legacyPciRig>["cpu"];
  base: number;
  msixAccess(a: Access): void;
  control(bits: number): void;
  reset(): void;
  /**
   * Resets and brings queue 0 up at page PFN the way Linux does; true if DRIVER_OK stuck. With
   * `vectors` (config, queue 0), MSI-X is left as the guest set it; without, it is turned off.
   */
  bringUp(vectors?: [number, number]): boolean;
  notify(): void;
  /** Used-buffer interrupts seen so far (INTx edges, or MSI messages). */
  interrupts(): number;
  messages: { address: bigint; requesterId: number }[];
  requesterId: number;
}

function legacyTarget(name: string, description: string, windowBytes: number, offsets: readonly number[], makeRig: (ram: GuardedRam, device: VirtioRng) => LegacyRig): FuzzTarget {
  return {
    name,
    description,
    quickRuns: 150,
    build() {
      const device = new VirtioRng({ fill: (view) => view.fill(0x5a) });
      const ram = new GuardedRam(VIRTIO_RAM_BYTES);
      const inputArb = fc.record({
        ops: sequenceArb(opArb(windowBytes, offsets), 30),
        // Then interrupts through whatever table the guest left: MSI-X mostly on.
        control: fc.constantFrom(PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0),
        vectors: fc.tuple(vectorArb, vectorArb),
      });
      const property = fc.property(inputArb, ({ ops, control, vectors }) => {
        device.reset();
        ram.reset();
        const rig = makeRig(ram, device);
        let queue: DriverQueue | undefined;
        for (const op of ops) {
          if (op.kind === "access") perform(rig.cpu, rig.base, op.access);
          else if (op.kind === "msix") rig.msixAccess(op.access);
          else if (op.kind === "control") rig.control(op.bits);
          else if (op.kind === "program") {
            const at = 16 * op.vector;
            for (const [offset, value] of [[0, op.address], [4, 0], [8, op.data], [12, op.masked ? 1 : 0]] as const) {
              rig.msixAccess({ offset: at + offset, width: 4, write: true, value: BigInt(value) });
            }
          }
          else if (op.kind === "bringUp") {
            queue = freshQueue(ram);
            rig.bringUp(op.vectors);
          } else if (op.kind === "request" && queue !== undefined) {
            queue.add([{ gpa: BUF, lengthBytes: 16, writable: true }]);
            rig.notify();
          } else if (op.kind === "reset") rig.reset();
        }
        ram.checkIntact();
        rig.control(control);
        const q2 = freshQueue(ram);
        rig.bringUp(vectors);
        for (let i = 0; i < 2; i++) {
          q2.add([{ gpa: BUF, lengthBytes: 16, writable: true }]);
          rig.notify();
        }
        ram.checkIntact();
        for (const m of rig.messages) {
          check((m.address & 3n) === 0n, () => `an MSI to 0x${m.address.toString(16)}: bits 1:0 set`);
          check(m.requesterId === rig.requesterId, () => `an MSI with requester ID ${m.requesterId}`);
        }

        // Responsive: a proper bring-up serves one request.
        const q = freshQueue(ram);
        check(rig.bringUp(), "a proper legacy bring-up did not reach DRIVER_OK");
        ram.mem.write(BUF, new Uint8Array(32));
        const head = q.add([{ gpa: BUF, lengthBytes: 32, writable: true }]);
        const before = rig.interrupts();
        rig.notify();
        const used = q.takeUsed();
        check(used.length === 1 && used[0]!.id === head && used[0]!.len === 32, () => `request used as ${JSON.stringify(used)}`);
        check(rig.interrupts() > before, "a served request raised no interrupt");
        ram.checkIntact();
      });
      return { property };
    },
  };
}

const PCI_OFFSETS = VIRTIO_PCI_LEGACY_REGISTERS.map((r) => r.offset);

export const virtioPciLegacyTarget = legacyTarget(
  "virtio-pci-legacy",
  "legacy virtio-pci with MSI-X: no exception, nothing outside RAM, only programmed MSIs, still serves after",
  0x100,
  [...PCI_OFFSETS, 0x18, 0x1c],
  (ram, device) => {
    const { msi, messages } = msiRecorder();
    const r = legacyPciRig(device, { mem: ram.mem, msi });
    const cap = r.transport.msix!.capabilityOffset;
    const table = r.bar(2);
    return {
      cpu: r.cpu,
      base: r.io,
      msixAccess: (a) => perform(r.cpu, table, a),
      control: (bits) => r.cpu.write16(r.cfg(cap + 2), bits),
      reset: () => r.wr("status", 0),
      bringUp(vectors) {
        if (vectors === undefined) {
          // MSI-X off, so the request's interrupt is INTx whatever the table holds.
          r.cpu.write16(r.cfg(cap + 2), 0);
          r.bringUp([PFN]);
        } else r.bringUp([PFN], undefined, { config: vectors[0], queues: [vectors[1]] });
        return r.rd("status") === 7;
      },
      notify: () => r.wr("queue_notify", 0),
      interrupts: () => r.levels.filter((l) => l).length + messages.length,
      messages,
      requesterId: r.slot << 3,
    };
  },
);

export const virtioMmioLegacyTarget = legacyTarget(
  "virtio-mmio-legacy",
  "virtio-mmio version 1: no exception, nothing outside RAM, still serves after",
  VIRTIO_MMIO_WINDOW_BYTES,
  [...VIRTIO_MMIO_LEGACY_REGISTERS.map((r) => r.offset), VIRTIO_MMIO_CONFIG_OFFSET],
  (ram, device) => {
    const r = mmioRig(device, ram.mem, 1);
    return {
      cpu: r.cpu,
      base: MMIO_BASE,
      msixAccess: () => {},
      control: () => {},
      reset: () => r.wr("Status", 0),
      bringUp() {
        r.wr("GuestPageSize", PAGE);
        r.wr("Status", 0);
        r.wr("Status", 1);
        r.wr("Status", 3);
        r.wr("DriverFeatures", 0);
        r.wr("QueueSel", 0);
        r.wr("QueueNum", RNG_QUEUE_SIZE);
        r.wr("QueueAlign", PAGE);
        r.wr("QueuePFN", PFN);
        r.wr("Status", 7);
        return r.rd("Status") === 7;
      },
      notify: () => r.wr("QueueNotify", 0),
      interrupts: () => r.edges(),
      messages: [],
      requesterId: 0,
    };
  },
);
