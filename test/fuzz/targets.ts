// Every fuzz target, in the order `make fuzz` runs them.

import type { FuzzTarget } from "./harness.ts";
import { virtioBlkTarget, virtioRngTarget } from "./virtio-mmio.fuzz.ts";
import { virtioQueueTarget } from "./virtio-queue.fuzz.ts";

export const FUZZ_TARGETS: readonly FuzzTarget[] = [virtioQueueTarget, virtioBlkTarget, virtioRngTarget];
