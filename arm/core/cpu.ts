// The interpreter's run loop: fetch, decode, execute, until the budget runs out or something
// needs the VMM (the KVM_RUN of this CPU). Exits are reported in the exit record.

import {
  ACTIVE_STATE, PC, HALTED, IRQ_LINES, PSTATE_IL, INSNS_RETIRED, EXIT_RECORD, EXIT_REASON,
  EXIT_IMM, EXIT_INSNS, EXIT_BUDGET, EXIT_HALTED, EXIT_TIMER, EXIT_MMIO_ABORT,
  DECODE_CACHE_BASE, DECODE_CACHE_ENTRIES,
} from "../abi";
import { pc, nextPc, setPc, branchTo, getDAIF } from "./state";
import { decode, execute } from "./gen/decoder";
import { clearFault, takeException, syncException, pcAlignmentFault, instructionAbort, VEC_IRQ, VEC_FIQ, VEC_SERROR, EC_ILLEGAL_STATE } from "./exceptions";
import { fetchTag, fetchHost, setFetchPage, regimeChanged, translate, neededPerms, walkFault, walkFlags, walkPa, ramHost, ACC_EXEC, P_RAM } from "./mmu";
import { physRead, mmioStop, clearMmioStop } from "./memory";
import { attention, clearAttention, requestAttention } from "./attention";
import { timerPoll } from "./timer";

/**
 * decode() through a direct-mapped cache keyed by the instruction word: hot code repeats a
 * few thousand distinct words, and a hit costs a hash and two loads instead of a walk down
 * the decision tree. Words never change meaning, so the cache is never invalidated.
 */
@inline function decodeCached(insn: u32): u32 {
  const slot = ((insn * 0x9e3779b1) >>> 16) & (DECODE_CACHE_ENTRIES - 1);
  const e = DECODE_CACHE_BASE + (<usize>slot << 3);
  if (load<u32>(e) == insn) return load<u32>(e + 4);
  const op = decode(insn);
  store<u32>(e, insn);
  store<u32>(e + 4, op);
  return op;
}

/** Set by a handler that must return to the VMM after this instruction (HVC, WFI, …). */
let exitReason: u32 = 0;

export function requestExit(reason: u32, imm: u32): void {
  exitReason = reason;
  store<u32>(EXIT_RECORD + EXIT_IMM, imm);
}

// How often the loop polls the timer, in instructions (a power of two).
const TIMER_POLL_INTERVAL: u32 = 1024;

/** Runs up to `budget` instructions on the active vCPU; returns an EXIT_* reason. */
export function run(budget: u32): u32 {
  if (load<u32>(ACTIVE_STATE + HALTED)) return finish(EXIT_HALTED, 0);
  setPc(load<u64>(ACTIVE_STATE + PC));
  exitReason = 0;
  regimeChanged(); // the VMM may have written system registers or PSTATE directly
  requestAttention(); // the VMM may have changed interrupt lines since the last run
  let n: u32 = 0;
  while (n < budget) {
    if ((n & (TIMER_POLL_INTERVAL - 1)) == 0 && timerPoll()) {
      exitReason = EXIT_TIMER;
      break;
    }
    if (attention) {
      // Attention follows timer register writes too: report an output that changed at once,
      // so a timer the guest just masked or reprogrammed does not stay asserted at the GIC.
      if (timerPoll()) {
        exitReason = EXIT_TIMER;
        break;
      }
      if (takePendingInterrupt()) {
        setPc(nextPc);
        continue;
      }
    }
    n++;
    // Fetch. The tag check also fails for a misaligned PC (bits 1:0 set).
    let insn: u32;
    if ((pc & ~<u64>0xffc) == fetchTag) {
      insn = load<u32>(fetchHost + <usize>(pc & 0xfff));
    } else {
      const got = fetchSlow();
      if (got < 0) {
        setPc(nextPc); // an abort was taken
        continue;
      }
      insn = <u32>got;
    }
    clearFault();
    branchTo(pc + 4);
    execute(decodeCached(insn), insn);
    setPc(nextPc);
    if (exitReason) break;
  }
  if (mmioStop) {
    clearMmioStop();
    exitReason = EXIT_MMIO_ABORT;
  }
  return finish(exitReason ? exitReason : EXIT_BUDGET, n);
}

function finish(reason: u32, n: u32): u32 {
  store<u64>(ACTIVE_STATE + PC, pc);
  store<u64>(ACTIVE_STATE + INSNS_RETIRED, load<u64>(ACTIVE_STATE + INSNS_RETIRED) + n);
  store<u32>(EXIT_RECORD + EXIT_REASON, reason);
  store<u64>(EXIT_RECORD + EXIT_INSNS, <u64>n);
  return reason;
}

/** Fetches the instruction at pc the slow way; returns it, or -1 after taking an abort. */
function fetchSlow(): i64 {
  if (pc & 3) {
    pcAlignmentFault();
    return -1;
  }
  if (!translate(pc, ACC_EXEC, neededPerms(ACC_EXEC, false))) {
    instructionAbort(walkFault, pc);
    return -1;
  }
  if (walkFlags & P_RAM) {
    setFetchPage(pc, ramHost(walkPa));
    return <i64>load<u32>(ramHost(walkPa));
  }
  // Execute-in-place from a device (e.g. flash): fetch through the bus, never cached.
  return <i64>(<u32>physRead(walkPa, 4, walkFlags));
}

/**
 * Between instructions: takes an unmasked pending interrupt, or the illegal-state exception.
 * Clears `attention` when nothing is left to do. Returns true if an exception was taken.
 */
function takePendingInterrupt(): bool {
  if (load<u32>(ACTIVE_STATE + PSTATE_IL)) {
    syncException(EC_ILLEGAL_STATE, 0);
    return true;
  }
  const lines = load<u32>(ACTIVE_STATE + IRQ_LINES);
  const daif = getDAIF();
  // DAIF bits: D=9 A=8 I=7 F=6. Lines: bit 0 IRQ, bit 1 FIQ, bit 2 SError.
  if ((lines & 4) && !(daif & (1 << 8))) {
    takeException(VEC_SERROR, (0x2f << 26) | (1 << 25), pc);
    return true;
  }
  if ((lines & 1) && !(daif & (1 << 7))) {
    takeException(VEC_IRQ, 0, pc);
    return true;
  }
  if ((lines & 2) && !(daif & (1 << 6))) {
    takeException(VEC_FIQ, 0, pc);
    return true;
  }
  clearAttention();
  return false;
}

/** Whether an interrupt is pending regardless of masking (WFI wakes on these). */
export function interruptPending(): bool {
  return (load<u32>(ACTIVE_STATE + IRQ_LINES) & 7) != 0;
}
