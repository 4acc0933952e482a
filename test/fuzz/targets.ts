// Every fuzz target, in the order `make fuzz` runs them.

import { cfiFlashTarget } from "./cfi-flash.fuzz.ts";
import { cpioTarget } from "./cpio.fuzz.ts";
import { fdtTarget } from "./fdt.fuzz.ts";
import { gicv2Target } from "./gicv2.fuzz.ts";
import { gicv3Target } from "./gicv3.fuzz.ts";
import { gicv3ItsTarget } from "./gicv3-its.fuzz.ts";
import type { FuzzTarget } from "./harness.ts";
import { ipcProtocolTarget } from "./ipc-protocol.fuzz.ts";
import { pciHostTarget } from "./pci-host.fuzz.ts";
import { psciTarget } from "./psci.fuzz.ts";
import { rtcTarget } from "./rtc.fuzz.ts";
import { serial8250Target } from "./serial8250.fuzz.ts";
import { virtioBlkTarget, virtioP9Target, virtioRngTarget } from "./virtio-mmio.fuzz.ts";
import { virtioQueueTarget } from "./virtio-queue.fuzz.ts";
import { virtioMmioLegacyTarget, virtioPciLegacyTarget } from "./virtio-legacy.fuzz.ts";
import { virtio9pTarget } from "./virtio-9p.fuzz.ts";
import { virtioNetTarget } from "./virtio-net.fuzz.ts";

export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  virtioQueueTarget,
  virtioBlkTarget,
  virtioRngTarget,
  pciHostTarget,
  virtioPciLegacyTarget,
  virtioMmioLegacyTarget,
  virtioP9Target,
  virtio9pTarget,
  virtioNetTarget,
  serial8250Target,
  rtcTarget,
  cfiFlashTarget,
  gicv3Target,
  gicv3ItsTarget,
  gicv2Target,
  psciTarget,
  fdtTarget,
  cpioTarget,
  ipcProtocolTarget,
];
