// A virtual machine: the core, guest RAM, the trap bus, the GIC, the devices, and the run loop
// that drives every vCPU round-robin on this thread (kvmtool's kvm.c + kvm-cpu.c).
//
// The run loop gives each runnable vCPU a slice of instructions, handles its exit, and returns
// to Node's event loop every few milliseconds so console input and timers are served. When
// every vCPU waits for an interrupt it sleeps until the next timer deadline or host input.

import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { EventEmitter } from "eventemitter3";
import * as abi from "../../arm/abi.ts";
import { Core, type CacheFinding, type JitStats, type MmioOutcome } from "../../arm/host/core.ts";
import { createIrqchip, irqchipHasSystemRegisters, type InterruptController } from "../../arm/machine/irqchip.ts";
import { deviceTreeBlob } from "../../arm/machine/device-tree.ts";
import { GuestClock } from "./guest-clock.ts";
import { CNTFRQ_HZ, PMU_PPI, TIMER_PPI, mpidrOf } from "../../arm/machine/memory-map.ts";
import { psciCall, type PsciMachine } from "../../arm/machine/psci.ts";
import { TrapBus, type TrapEvent } from "../iotrap/bus.ts";
import { Serial8250 } from "../../hw/serial8250.ts";
import { HOST_INPUT_HIGH_BYTES } from "../../hw/host-input-queue.ts";
import { VirtioTransport } from "../../virtio/transport.ts";
import type { VirtioDevice } from "../../virtio/device.ts";
import { VirtioConsole } from "../../virtio/console.ts";
import { VirtioBalloon } from "../../virtio/balloon.ts";
import { GuestMemory } from "./guest-memory.ts";
import { MmioSyndromeCheck } from "./mmio-syndrome.ts";
import { closeAfterFailure, closeDevices, createDevices, type Device } from "./device-registry.ts";
import { MACHINE_DEVICES, machineResources } from "./machine-devices.ts";
import type { PciHost } from "../../hw/pci/host.ts";
import { ConfigError, FileError } from "../errors.ts";
import type { RunConfig } from "../cli/config.ts";
import { FDT_MAX_SIZE, checkKernelImage, kernelCommandLine, layoutFirmware, layoutKernel, type BootLayout } from "./loader.ts";

/** Instructions a vCPU runs before the loop looks at the others and the clock. */
const SLICE_INSNS = 200_000;
/** How long the loop runs guest code before giving Node's event loop a turn (devices, the console,
 * and JIT modules compiled in the background: docs/jit.md). */
const EVENT_LOOP_PERIOD_MS = 2;
const TICKS_PER_MS = CNTFRQ_HZ / 1000;
/** Bits of a vCPU's interrupt lines (Core.setIrqLines). */
const IRQ_LINE = 1;
const FIQ_LINE = 2;

export type VmExitReason = "poweroff" | "reset" | "stopped" | "error";

export interface VmExit {
  reason: VmExitReason;
  message?: string;
}

export interface VmEvents {
  /** Bytes the guest wrote to a UART or hvc0 (all reach the console, as in kvmtool). */
  output: (bytes: Uint8Array) => void;
  /** Diagnostic lines from lkvm itself (unclaimed accesses, warnings). */
  log: (line: string) => void;
  /** The guest caught up with queued console input after input() returned false. */
  inputRoom: () => void;
}

interface Vcpu {
  id: number;
  on: boolean;
  /** In WFI (or CPU_SUSPEND): runnable again on an interrupt or its timer deadline. */
  waiting: boolean;
  /** Physical count at which its timer fires next, or -1. */
  timerDeadline: number;
  /** While switched out: its earliest armed timer not raised yet, or -1 (guest-clock.ts). */
  pendingTimerDeadline: number;
  /** Timer output levels last routed to the GIC (Core.timerOutputs). */
  timerOutputs: number;
  /** A timer deadline raised since the vCPU last read the count, or -1 (guest-clock.ts). */
  raisedTimerDeadline: number;
  irqLines: number;
  /** Set by PSCI CPU_ON; applied when the vCPU is next scheduled. */
  pendingOn?: { entry: bigint; contextId: bigint };
}

export class Vm extends EventEmitter<VmEvents> {
  readonly core: Core;
  readonly bus: TrapBus;
  /** The interrupt controller --irqchip chose. */
  readonly gic: InterruptController;
  /** Every device of the machine table (machine-devices.ts), in creation order. */
  readonly devices: readonly Device[];
  /** The PCI host bridge (a device of the table too); the DT's /pci node comes from it. */
  readonly pci: PciHost;
  /** ttyS0-3; input goes to ttyS0 unless --console virtio. */
  readonly uarts: Serial8250[];
  /** Where host input goes: ttyS0, or hvc0 with --console virtio. */
  private readonly consoleInput: Serial8250 | VirtioConsole;
  /** --balloon's device, for `lkvm balloon` and `lkvm stat`. */
  readonly balloon?: VirtioBalloon;
  /** Guest RAM as devices see it: their writes into it all pass through guestMemoryWritten. */
  readonly memory: GuestMemory;
  readonly layout: BootLayout;
  readonly dtb: Uint8Array;
  private readonly vcpus: Vcpu[];
  private active = 0;
  private exit?: VmExit;
  private wake?: () => void;
  private pausedFlag = false;
  private readonly startMs = performance.now();
  private readonly clock = new GuestClock();
  /** --check-cache-maintenance: findings so far, by kind. */
  readonly cacheFindings: Record<CacheFinding["kind"], number> = { uncleaned: 0, stale: 0, fetch: 0 };
  /** --loglevel debug: report instructions that take UNDEFINED (the last one per slice). */
  private readonly traceUndefs: boolean;
  /** --mmio-syndrome other than emulate: what KVM would have made of each MMIO access. */
  private readonly syndromeCheck?: MmioSyndromeCheck;

  constructor(readonly cfg: RunConfig) {
    super();
    this.traceUndefs = cfg.loglevel === "debug";
    this.bus = new TrapBus({
      debugMmio: cfg.debugMmio,
      debugIoport: cfg.debugIoport,
      log: (line) => this.emit("log", line),
      onAccess: cfg.traceMmio ? (e) => this.emit("log", describeAccess(e)) : undefined,
    });
    this.vcpus = Array.from({ length: cfg.cpus }, (_, id) => ({
      id, on: id === 0, waiting: false, timerDeadline: -1, pendingTimerDeadline: -1, raisedTimerDeadline: -1, timerOutputs: 0, irqLines: 0,
    }));
    this.core = new Core({
      ramBase: cfg.ramBase,
      ramSizeBytes: cfg.ramSizeBytes,
      cpuFeatures: cfg.cpuFeatures | (cfg.pmu ? abi.CPU_FEAT_PMU : 0),
      // A GICv2 has no ICC_* system registers.
      gicSystemRegisters: irqchipHasSystemRegisters(cfg.irqchip),
      host: {
        mmio: (vcpu, gpa, data, len, isWrite) => this.mmioAccess(vcpu, gpa, data, len, isWrite),
        sysreg: (vcpu, enc, isWrite, value) => this.gic.sysreg(vcpu, enc, isWrite, value),
        counter: () => this.counter(),
        guestCounter: () => this.guestCounter(),
        translated: (ms) => this.clock.holdBack(ms * TICKS_PER_MS),
        cacheFinding: (f) => {
          this.cacheFindings[f.kind]++;
          this.emit("log", describeCacheFinding(f));
        },
      },
      checkCacheMaintenance: cfg.checkCacheMaintenance,
      // Threshold 0 (tests) translates every block before it runs again; otherwise modules
      // compile in the background while the guest runs on (docs/jit.md).
      jit: { enabled: cfg.jit, threshold: cfg.jitThreshold, background: cfg.jitThreshold !== 0 },
    });
    if (cfg.mmioSyndrome !== "emulate") {
      this.syndromeCheck = new MmioSyndromeCheck(cfg.mmioSyndrome, this.core, this.bus, (line) => this.emit("log", line));
    }
    this.memory = new GuestMemory({
      bytes: this.core.ram(),
      ramBase: cfg.ramBase,
      onWrite: (gpa, lengthBytes) => this.guestMemoryWritten(gpa, lengthBytes),
    });
    const log = (line: string) => this.emit("log", line);
    this.gic = createIrqchip(cfg.irqchip, {
      vcpuCount: cfg.cpus,
      onIrqLineChange: (vcpu, level) => this.setIrqLine(vcpu, IRQ_LINE, level),
      // Group 0 interrupts are FIQs (a GICv3 with one Security state; a GICv2 with FIQEn).
      onFiqLineChange: (vcpu, level) => this.setIrqLine(vcpu, FIQ_LINE, level),
      memory: this.memory, // the ITS's and the LPIs' tables
      // Dropped ITS commands, ignored MSIs: at --loglevel debug.
      debugLog: cfg.loglevel === "debug" ? log : undefined,
    });
    this.gic.register(this.bus);

    // The PCI host reports BARs the guest stacked on another region: during Linux's BAR
    // reassignment that happens for a moment on every boot, so only with --debug-mmio or debug.
    const pciLog = cfg.debugMmio || cfg.loglevel === "debug" ? log : () => {};
    const resources = machineResources(pciLog, this.gic);
    this.pci = resources.pci;
    this.devices = createDevices(MACHINE_DEVICES, { cfg, bus: this.bus, irq: this.gic, memory: this.memory, log, ...resources });
    try {
      this.uarts = this.devices.filter((d) => d instanceof Serial8250);
      // All four write to the console, as kvmtool's do, and hvc0 too; input goes to the
      // --console device (input()).
      for (const uart of this.uarts) uart.on("output", (bytes) => this.emit("output", bytes));
      const models = this.devices.map(virtioModelOf);
      const hvc = models.find((m) => m instanceof VirtioConsole);
      hvc?.on("output", (bytes) => this.emit("output", bytes));
      this.consoleInput = hvc ?? this.uarts[0]!;
      this.consoleInput.on("inputRoom", () => this.emit("inputRoom"));
      this.balloon = models.find((m) => m instanceof VirtioBalloon);
      ({ layout: this.layout, dtb: this.dtb } = this.loadAndDescribe(cfg));
    } catch (e) {
      closeAfterFailure(this.devices);
      throw e;
    }
    this.resetVcpus(cfg);
  }

  /** Loads the payload (kernel, initrd or firmware) and writes the device tree for it. */
  private loadAndDescribe(cfg: RunConfig): { layout: BootLayout; dtb: Uint8Array } {
    const ram = { ramBase: cfg.ramBase, ramSizeBytes: cfg.ramSizeBytes };
    let layout: BootLayout;
    if (cfg.firmware !== undefined) {
      const fw = readImage(cfg.firmware, "firmware");
      layout = layoutFirmware(ram, fw.length, cfg.firmwareAddress);
      this.core.writePhys(layout.imageAddress, fw);
    } else {
      const kernel = readImage(cfg.kernel!, "kernel");
      checkKernelImage(kernel, cfg.kernel!);
      const initrd = cfg.initrd !== undefined ? readImage(cfg.initrd, "initrd") : undefined;
      layout = layoutKernel(ram, kernel, initrd?.length);
      this.core.writePhys(layout.imageAddress, kernel);
      if (initrd) this.core.writePhys(layout.initrd!.start, initrd);
    }
    const dtb = deviceTreeBlob({
      cpus: cfg.cpus,
      mpidr: mpidrOf,
      ramBase: cfg.ramBase,
      ramSizeBytes: cfg.ramSizeBytes,
      // With --firmware, /chosen/bootargs carries only -p (kvmtool commit 5e4b563).
      bootargs: cfg.firmware !== undefined ? cfg.params : kernelCommandLine(cfg.params, cfg),
      kaslrSeed: cfg.kaslrSeed,
      initrd: layout.initrd,
      intc: this.gic,
      pmu: cfg.pmu,
      devices: this.devices,
      pciHost: this.pci,
      stdoutPath: `/${this.uarts[0]!.nodeName}`,
    });
    if (dtb.length > FDT_MAX_SIZE) throw new ConfigError(`device tree too large (${dtb.length} bytes)`);
    this.core.writePhys(layout.dtbAddress, dtb);
    if (cfg.dumpDtb !== undefined) {
      try {
        writeFileSync(cfg.dumpDtb, dtb);
      } catch (e) {
        throw new FileError(`cannot write device tree to '${cfg.dumpDtb}': ${(e as NodeJS.ErrnoException).code}`);
      }
    }
    return { layout, dtb };
  }

  /**
   * vCPU reset state (kvmtool's reset_vcpu_aarch64): EL1h, DAIF masked, MMU off, x0 = DTB on
   * the boot vCPU; the others stay off until PSCI CPU_ON.
   */
  private resetVcpus(cfg: RunConfig): void {
    for (let i = cfg.cpus - 1; i >= 0; i--) {
      this.core.reset(i, i !== 0);
      if (i === 0) {
        this.core.pc = BigInt(this.layout.entry);
        this.core.setX(0, BigInt(this.layout.dtbAddress));
      } else {
        this.core.save(i);
      }
    }
    this.active = 0;
  }

  /**
   * The generic timer's physical count: 62.5 MHz since the VM started, held back near a timer
   * deadline while its interrupt has not reached the guest yet (guest-clock.ts).
   */
  counter(): number {
    const host = (performance.now() - this.startMs) * TICKS_PER_MS;
    const active = this.vcpus[this.active]!;
    let pending = active.on ? this.core.timerPendingDeadline() : -1;
    for (const v of this.vcpus) {
      const d = v.id === this.active ? v.raisedTimerDeadline : v.on ? v.pendingTimerDeadline : -1;
      if (d >= 0 && (pending < 0 || d < pending)) pending = d;
    }
    return this.clock.read(host, pending);
  }

  /**
   * The count as the active vCPU reads it (CNTPCT, CNTVCT, TVAL, ISTATUS; the core's own
   * polls use counter()). Its first read after its timer was raised is the one that can show
   * the interrupt's lateness, so until then the raised deadline holds time too: the host's
   * time between raising the interrupt and running the guest again stays hidden.
   */
  private guestCounter(): number {
    const count = this.counter();
    this.vcpus[this.active]!.raisedTimerDeadline = -1;
    return count;
  }

  /**
   * Host input for the guest console (ttyS0, or hvc0 with --console virtio). Nothing is
   * dropped; false means the guest is behind, and the caller should stop reading its source
   * until "inputRoom".
   */
  input(bytes: Uint8Array): boolean {
    const target = this.consoleInput;
    target.pushInput(bytes);
    this.wake?.();
    return target.queuedInputBytes <= HOST_INPUT_HIGH_BYTES;
  }

  /** Ends the VM (Ctrl-A x, `lkvm stop`): run() resolves with reason "stopped". */
  stop(reason: VmExitReason = "stopped", message?: string): void {
    this.exit ??= { reason, message };
    this.wake?.();
  }

  /**
   * `lkvm pause`: run() stops executing guest code until resume(). The console, the devices and
   * the control socket stay alive; the generic timer keeps counting host time, as KVM's does.
   */
  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    this.wake?.();
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /**
   * Calls read with vCPU `vcpu` loaded into the core (Core save/load, as the scheduler switches),
   * then loads the previously active one again: how `lkvm debug --dump` reads any vCPU. Only
   * between slices (from the event loop), never from a device handler.
   */
  inspectVcpu<T>(vcpu: number, read: (core: Core) => T): T {
    const was = this.vcpus[this.active]!;
    this.switchTo(this.vcpus[vcpu]!);
    try {
      return read(this.core);
    } finally {
      this.switchTo(was);
    }
  }

  /** Runs the guest until it powers off or is stopped. */
  async run(): Promise<VmExit> {
    let lastYield = performance.now();
    while (!this.exit) {
      if (this.pausedFlag) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        lastYield = performance.now();
        continue;
      }
      let ranAny = false;
      for (const v of this.vcpus) {
        if (this.exit) break;
        if (!v.on || (v.waiting && !this.wakeIfDue(v))) continue;
        this.runVcpu(v);
        ranAny = true;
      }
      if (this.exit) break;
      if (!ranAny) {
        await this.sleepUntilEvent();
        lastYield = performance.now();
      } else if (performance.now() - lastYield >= EVENT_LOOP_PERIOD_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    closeDevices(this.devices);
    if (this.cfg.loglevel === "info" || this.cfg.loglevel === "debug") {
      for (const d of this.devices) {
        const hint = d.exitHint?.();
        if (hint !== undefined) this.emit("log", `  # ${hint}`);
      }
    }
    if (this.cfg.debugJit) for (const line of describeJitStats(this.core)) this.emit("log", line);
    if (this.cfg.checkCacheMaintenance) this.emit("log", summarizeCacheFindings(this.cacheFindings));
    return this.exit!;
  }

  /**
   * Devices' writes into guest RAM (virtio buffers and used rings) all end here, through
   * this.memory: the JIT drops translated code in [gpa, gpa + lengthBytes) (docs/jit.md,
   * "Invalidation").
   */
  guestMemoryWritten(gpa: number, lengthBytes: number): void {
    this.core.jitInvalidate(gpa, lengthBytes);
  }

  /** A guest access outside RAM, as the core hands it over (CoreHost.mmio). */
  /**
   * An instruction fetch outside RAM. KVM runs code only from memory slots: kvmtool maps the
   * CFI flash as one while it is in read-array mode, and anything else gets the synchronous
   * external abort KVM injects (rather than a run of zeros).
   */
  private fetchFromDevice(vcpu: number, gpa: number, data: Uint8Array): MmioOutcome {
    if (this.bus.claimant(gpa, 4)?.memslotBacked?.(false) !== true) {
      if (this.cfg.debugMmio) this.emit("log", `MMIO warning: instruction fetch at 0x${gpa.toString(16)}, which no memory backs: external abort`);
      return "external-abort";
    }
    this.bus.access(vcpu, gpa, data, 4, false);
    return true;
  }

  private mmioAccess(vcpu: number, gpa: number, data: Uint8Array, lengthBytes: number, isWrite: boolean): MmioOutcome {
    if ((this.core.mmioSyndrome & abi.MMIO_FETCH) !== 0) return this.fetchFromDevice(vcpu, gpa, data);
    const check = this.syndromeCheck;
    if (lengthBytes === 64) {
      if (this.bus.access64(vcpu, gpa, data, isWrite)) return true;
      check?.refused64(gpa, isWrite);
      return "external-abort";
    }
    if (check !== undefined && check.needsCheck()) {
      const outcome = check.invalidSyndrome(gpa, lengthBytes, isWrite);
      if (outcome !== true) return outcome;
    }
    this.bus.access(vcpu, gpa, data, lengthBytes, isWrite);
    return true;
  }

  private wakeIfDue(v: Vcpu): boolean {
    if ((v.irqLines & (IRQ_LINE | FIQ_LINE)) || (v.timerDeadline >= 0 && this.counter() >= v.timerDeadline)) v.waiting = false;
    return !v.waiting;
  }

  private async sleepUntilEvent(): Promise<void> {
    let deadline = Infinity;
    for (const v of this.vcpus) if (v.on && v.waiting && v.timerDeadline >= 0) deadline = Math.min(deadline, v.timerDeadline);
    if (!this.vcpus.some((v) => v.on)) {
      this.stop("error", "every vCPU is powered off");
      return;
    }
    this.counter(); // brings the clock up to now before asking how far the deadline is
    const ms = deadline === Infinity ? 1000 : this.clock.hostTicksUntil(deadline) / TICKS_PER_MS;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
  }

  private switchTo(v: Vcpu): void {
    if (this.active === v.id) return;
    this.vcpus[this.active]!.pendingTimerDeadline = this.core.timerPendingDeadline();
    this.core.save(this.active);
    this.core.load(v.id);
    this.active = v.id;
  }

  private runVcpu(v: Vcpu): void {
    this.switchTo(v);
    if (v.pendingOn) {
      // PSCI CPU_ON: a fresh vCPU at the entry point, EL1h, MMU off, x0 = context id.
      this.core.reset(v.id);
      this.core.pc = v.pendingOn.entry;
      this.core.setX(0, v.pendingOn.contextId);
      v.pendingOn = undefined;
    }
    this.core.setIrqLines(v.irqLines);
    const undefsBefore = this.traceUndefs ? this.core.stateU32(abi.UNDEF_COUNT) : 0;
    const exit = this.core.run(SLICE_INSNS);
    if (this.traceUndefs && this.core.stateU32(abi.UNDEF_COUNT) !== undefsBefore) {
      const insn = this.core.stateU32(abi.UNDEF_INSN);
      const pc = this.core.stateU64(abi.UNDEF_PC);
      this.emit("log", `vCPU ${v.id}: UNDEFINED instruction 0x${insn.toString(16).padStart(8, "0")} at pc 0x${pc.toString(16)}`);
    }
    // The PMU's overflow interrupt: EXIT_PMU reports a change at once, but it may also change
    // in the instruction that ends a run() for another reason.
    if (this.cfg.pmu) this.gic.setPpiLevel(v.id, PMU_PPI, this.core.pmuInterrupt());
    switch (exit) {
      case abi.EXIT_BUDGET:
      case abi.EXIT_YIELD:
      case abi.EXIT_PMU:
        return;
      case abi.EXIT_TIMER: {
        const out = this.core.timerOutputs();
        if (out & ~v.timerOutputs) v.raisedTimerDeadline = this.core.timerDeadline();
        v.timerOutputs = out;
        this.gic.setPpiLevel(v.id, TIMER_PPI.virtual, (out & 1) !== 0);
        this.gic.setPpiLevel(v.id, TIMER_PPI.nonSecure, (out & 2) !== 0);
        return;
      }
      case abi.EXIT_WFI:
        v.waiting = true;
        v.timerDeadline = this.core.timerDeadline();
        return;
      case abi.EXIT_HVC:
      case abi.EXIT_SMC: {
        const x = [0, 1, 2, 3].map((i) => this.core.x(i));
        const r = psciCall(this.psci, v.id, x);
        if (r !== undefined) this.core.setX(0, r);
        return;
      }
      case abi.EXIT_HALTED:
        v.on = false;
        return;
      case abi.EXIT_MMIO_ABORT:
        // An access KVM could not emulate (--mmio-syndrome=kvm): kvmtool's die_perror("KVM_RUN failed").
        this.stop("error", `KVM_RUN failed: Function not implemented (vCPU ${v.id} at pc 0x${this.core.pc.toString(16)})`);
        return;
      default:
        this.stop("error", `vCPU ${v.id}: unexpected exit ${exit} at pc 0x${this.core.pc.toString(16)}`);
    }
  }

  private setIrqLine(vcpu: number, line: number, level: boolean): void {
    const v = this.vcpus[vcpu];
    if (!v) return;
    v.irqLines = level ? v.irqLines | line : v.irqLines & ~line;
    if (vcpu === this.active) this.core.setIrqLines(v.irqLines);
    if (level && v.waiting) this.wake?.();
  }

  private readonly psci: PsciMachine = {
    vcpuByMpidr: (mpidr) => {
      const aff = Number(mpidr & 0xff_00ff_ffffn);
      return this.vcpus.findIndex((v) => mpidrOf(v.id) === aff);
    },
    isOn: (vcpu) => this.vcpus[vcpu]!.on,
    cpuOn: (vcpu, entry, contextId) => {
      const v = this.vcpus[vcpu]!;
      v.on = true;
      v.waiting = false;
      v.pendingOn = { entry, contextId };
    },
    cpuOff: (vcpu) => {
      this.vcpus[vcpu]!.on = false;
      if (vcpu === this.active) this.core.halted = true;
    },
    waitForInterrupt: (vcpu) => {
      const v = this.vcpus[vcpu]!;
      v.waiting = true;
      v.timerDeadline = this.core.timerDeadline();
    },
    systemEvent: (kind) => this.stop(kind === "off" ? "poweroff" : "reset"),
  };
}

/** The virtio model behind a device's transport (virtio-mmio or virtio-pci), if it is one. */
function virtioModelOf(device: Device): VirtioDevice | undefined {
  const core = (device as { core?: unknown }).core;
  return core instanceof VirtioTransport ? core.device : undefined;
}

/** --trace-mmio: one access as a line, "mmio vcpu0 W4 0x3fff0000 = 0x1 serial8250@0x1000000". */
export function describeAccess(e: TrapEvent): string {
  const width = e.lengthBytes * 2;
  return `${e.bus} vcpu${e.vcpu} ${e.isWrite ? "W" : "R"}${e.lengthBytes} 0x${e.gpa.toString(16)} = 0x${e.value.toString(16).padStart(width, "0")} ${e.device ?? "(unclaimed)"}`;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** --check-cache-maintenance: one finding as a line. */
export function describeCacheFinding(f: CacheFinding): string {
  const where = `cache maintenance: vcpu${f.vcpu} pc ${hex(f.pc)}:`;
  switch (f.kind) {
    case "uncleaned":
      return `${where} non-cacheable read of ${hex(f.pa)}, a line last written through the data cache and not cleaned to the PoC since (DC CVAC or DC CIVAC missing): memory holds older data`;
    case "stale":
      return `${where} cacheable read of ${hex(f.pa)}, a line last written non-cacheably and not invalidated since (DC IVAC or DC CIVAC missing): the cache may hold an older copy`;
    case "fetch":
      return `${where} instruction fetch from ${hex(f.pa)}, written as data with no ${f.missing} since (the sequence is DC CVAU, DSB, IC IVAU, DSB, ISB): the old instruction may run`;
  }
}

/** --check-cache-maintenance: the line at exit. */
export function summarizeCacheFindings(n: Record<CacheFinding["kind"], number>): string {
  const total = n.uncleaned + n.stale + n.fetch;
  if (total === 0) return "cache maintenance: no findings";
  return `cache maintenance: ${total} finding${total === 1 ? "" : "s"} (${n.uncleaned} non-cacheable reads of uncleaned lines, ${n.stale} cacheable reads of stale lines, ${n.fetch} fetches of unsynchronized code)`;
}

/** --debug-jit: what the JIT did, as a few log lines. */
export function describeJitStats(core: Core): string[] {
  if (!core.jitEnabled) return ["  # JIT: off (--no-jit)"];
  const s: JitStats = core.jitStats();
  const total = s.insnsJit + s.insnsInterpreted;
  const pct = (part: bigint | number, whole: bigint | number) =>
    Number(whole) === 0 ? "0.0%" : `${((Number(part) / Number(whole)) * 100).toFixed(1)}%`;
  return [
    `  # JIT: ${s.modules} modules, ${s.blocks} blocks, ${(s.bytes / 1024).toFixed(1)} KiB of wasm, ${s.compileMs.toFixed(1)} ms translating and compiling`,
    `  # JIT: ${total} instructions, ${pct(s.insnsJit, total)} in translated blocks; ` +
      `${pct(s.insnsInline, s.insnsInline + s.insnsFallback)} of translated instructions inline (${s.insnsInline} inline, ${s.insnsFallback} through jitExec)`,
    `  # JIT: ${s.lookups} block lookups by the run loop, ${pct(s.hits, s.lookups)} ran a block; ${s.dispatches} blocks entered from another through the dispatcher; ` +
      `${s.chains} block exits call the next block directly` + (s.regions ? `; ${s.regions} page regions` : ""),
    `  # JIT: ${s.invalidatedPages} code pages invalidated, ${s.flushes} cache flushes`,
  ];
}

function readImage(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new FileError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code}`);
  }
}
