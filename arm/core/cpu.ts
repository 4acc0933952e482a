// The interpreter's run loop: fetch, decode, execute, until the budget runs out or something
// needs the VMM (the KVM_RUN of this CPU). Exits are reported in the exit record.

import {
  ACTIVE_STATE, PC, HALTED, IRQ_LINES, PSTATE_IL, INSNS_RETIRED, EXIT_RECORD, EXIT_REASON,
  EXIT_INSNS, EXIT_BUDGET, EXIT_HALTED, EXIT_TIMER, EXIT_JIT,
  JIT_INFO, JI_INSNS_JIT, JI_INSNS_INTERP, JI_LOOKUPS, JI_HITS, JI_LIMIT,
} from "../abi";
import { pc, nextPc, setPc, branchTo, getDAIF, getEL, getPAN } from "./state";
import { execute, executeCommon } from "./gen/decoder";
import { decodeAt } from "./decode-cache";
import { clearFault, faulted, takeException, syncException, pcAlignmentFault, instructionAbort, VEC_IRQ, VEC_FIQ, VEC_SERROR, EC_ILLEGAL_STATE } from "./exceptions";
import { fetchTag, fetchHost, setFetchPage, regimeChanged, translate, neededPerms, walkFault, walkFlags, walkPa, ramHost, tlbFillFlat, bigEndianData, attrOf, ACC_EXEC, P_RAM } from "./mmu";
import { fetchFromDevice } from "./memory";
import { attention, attentionRequested, settleAttention, requestAttention } from "./attention";
import { exitReason, setExitReason } from "./exit-request";
import { timerPoll } from "./timer";
import { jitEnabled, blockKey, lookupBlock, countHeat } from "./jit/cache";
import { jitStop, clearJitStop } from "./jit/marks";
import { tailProfile, tailOpen, tailClose, tailReasonForMiss, tailExec, tailMiss, TAIL_NO_KEY, TAIL_BUDGET } from "./jit/tail-profile";
import { cacheCheckOn, checkFetch, attrCacheable } from "./cache-check";
import { sysregs, SCTLR_EL1 } from "./sysreg-file";
import { debugArmed, debugRegistersChanged, debugAfterInstruction, debugBeforeInstruction } from "./debug";
import { pmuArmed, pmuRegistersChanged, pmuInstruction } from "./pmu";

// How often the loop polls the timer, in instructions (a power of two): a few microseconds of
// guest time. Each poll reads the host clock (about 90 ns through performance.now()).
const TIMER_POLL_INTERVAL: u32 = 4096;

/** Instructions retired inside translated blocks by this run() (for the JIT's statistics). */
let jitInsns: u32 = 0;
let jitLookups: u32 = 0;
let jitHits: u32 = 0;

/** Runs up to `budget` instructions on the active vCPU; returns an EXIT_* reason. */
export function run(budget: u32): u32 {
  if (load<u32>(ACTIVE_STATE + HALTED)) return finish(EXIT_HALTED, 0);
  setPc(load<u64>(ACTIVE_STATE + PC));
  setExitReason(0);
  jitInsns = 0;
  regimeChanged(); // the VMM may have written system registers or PSTATE directly
  requestAttention(); // the VMM may have changed interrupt lines since the last run
  debugRegistersChanged(); // the VMM may have reset or switched the vCPU
  pmuRegistersChanged();
  let n: u32 = 0;
  // While the PMU is armed (pmu.ts), attention stays raised and the top of the loop counts the
  // instruction before: `uncounted` says there is one, `countNext` that the one about to run
  // started armed (the instruction that arms the PMU is not counted, in blocks or here).
  let uncounted = false;
  let countNext = false;
  let lastInsn: u32 = 0;
  let nextPoll: u32 = 0;
  // At a block boundary (after a branch, an exception or a block; and on entry) the run loop
  // looks for a translated block starting at pc (docs/jit.md).
  let boundary = true;
  // min(budget, nextPoll): one compare per instruction for both.
  let stopAt: u32 = 0;
  while (true) {
    if (n >= stopAt) {
      if (n >= budget) break;
      if (n >= nextPoll) {
        nextPoll = (n & ~(TIMER_POLL_INTERVAL - 1)) + TIMER_POLL_INTERVAL;
        stopAt = min<u32>(budget, nextPoll);
        if (timerPoll()) {
          setExitReason(EXIT_TIMER);
          break;
        }
      }
    }
    if (attention) {
      if (pmuArmed) {
        if (uncounted) {
          uncounted = false;
          pmuInstruction(lastInsn);
          if (exitReason) break; // the overflow interrupt changed level
        }
        countNext = true;
        boundary = false; // no translated code: it would not count
      }
      // While debug is armed, attention stays raised: every instruction is checked here, and
      // none runs translated (boundary stays false; blocks return on attention).
      if (debugArmed) {
        debugAfterInstruction();
        boundary = false;
      }
      // Attention follows timer register writes too: report an output that changed at once,
      // so a timer the guest just masked or reprogrammed does not stay asserted at the GIC.
      // (While debug or the PMU holds attention raised, only when something asked for it.)
      if (attentionRequested) {
        if (timerPoll()) {
          setExitReason(EXIT_TIMER);
          break;
        }
        if (takePendingInterrupt()) {
          setPc(nextPc);
          boundary = true;
          continue;
        }
      }
      if (debugArmed && debugBeforeInstruction()) {
        setPc(nextPc);
        continue;
      }
    }
    if (boundary && jitEnabled) {
      boundary = false;
      if (tailProfile) tailClose(n);
      const key = jitKey();
      if (key != 0) {
        jitLookups++;
        const block = lookupBlock(key);
        if (block != 0) {
          if ((block >>> 16) <= budget - n) {
            clearJitStop();
            const before = n;
            n = runBlocks(block & 0xffff, budget, n, nextPoll);
            jitInsns += n - before;
            boundary = true;

            if (exitReason) break;
            continue;
          }
          if (tailProfile) tailOpen(n, TAIL_BUDGET);
        } else {
          if (tailProfile) tailOpen(n, tailReasonForMiss(key));
          if (countHeat(key)) {
            setExitReason(EXIT_JIT);
            break;
          }
        }
      } else if (tailProfile) {
        tailOpen(n, TAIL_NO_KEY);
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
        setPc(nextPc); // an abort was taken, or the VMM stopped the vCPU at the fetch
        boundary = true;
        if (exitReason) break;
        continue;
      }
      insn = <u32>got;
    }
    clearFault();
    branchTo(pc + 4);
    executeCommon(decodeAt(fetchHost + <usize>(pc & 0xfff), insn), insn);
    uncounted = countNext;
    countNext = false;
    lastInsn = insn;
    if (nextPc != pc + 4) boundary = true;
    setPc(nextPc);
    if (exitReason) break;
  }
  if (pmuArmed && uncounted) pmuInstruction(lastInsn);
  return finish(exitReason ? exitReason : EXIT_BUDGET, n);
}

function finish(reason: u32, n: u32): u32 {
  if (tailProfile) tailClose(n);
  store<u64>(JIT_INFO + JI_INSNS_JIT, load<u64>(JIT_INFO + JI_INSNS_JIT) + jitInsns);
  store<u64>(JIT_INFO + JI_INSNS_INTERP, load<u64>(JIT_INFO + JI_INSNS_INTERP) + (n - jitInsns));
  store<u64>(JIT_INFO + JI_LOOKUPS, load<u64>(JIT_INFO + JI_LOOKUPS) + jitLookups);
  store<u64>(JIT_INFO + JI_HITS, load<u64>(JIT_INFO + JI_HITS) + jitHits);
  jitInsns = 0;
  jitLookups = 0;
  jitHits = 0;
  store<u64>(ACTIVE_STATE + PC, pc);
  store<u64>(ACTIVE_STATE + INSNS_RETIRED, load<u64>(ACTIVE_STATE + INSNS_RETIRED) + n);
  store<u32>(EXIT_RECORD + EXIT_REASON, reason);
  store<u64>(EXIT_RECORD + EXIT_INSNS, <u64>n);
  return reason;
}

/**
 * Runs the translated block in `slot` at pc, then the blocks that follow it back to back while
 * each next one is already translated and fits in the budget, and nothing needs the main loop
 * (an exit, attention, jitStop, a timer poll). Returns the new count.
 */
function runBlocks(slot: u32, budget: u32, n: u32, nextPoll: u32): u32 {
  let hits: u32 = 0;
  while (true) {
    hits++;
    // A looping block iterates, and a block calls the next one directly, while they stay
    // within this; each direct call lowers it by what the caller retired (docs/jit.md).
    const limit = min<u32>(budget - n, TIMER_POLL_INTERVAL);
    store<u32>(JIT_INFO + JI_LIMIT, limit);
    n += <u32>call_indirect<i32>(slot, pc);
    n += limit - load<u32>(JIT_INFO + JI_LIMIT);
    setPc(load<u64>(ACTIVE_STATE + PC));
    if (exitReason != 0 || attention || n >= nextPoll || jitStop) break;
    // The next block's key: its page is usually the fetch page already; if not, jitKey
    // translates pc (a TLB hit, mostly), as the main loop would.
    const key = jitKey();
    if (key == 0) break;
    const block = lookupBlock(key);
    if (block == 0 || (block >>> 16) > budget - n) break;
    slot = block & 0xffff;
    clearJitStop();
  }
  jitHits += hits;
  jitLookups += hits - 1;
  return n;
}

/**
 * The block key for pc (docs/jit.md): the wasm address of the instruction (translating pc
 * into the fetch-page cache if needed) with EL and data endianness; 0 when pc cannot start a
 * block (misaligned, not executable, not in RAM, PAN set): the interpreter then handles it.
 */
@inline function jitKey(): u32 {
  if ((pc & ~<u64>0xffc) != fetchTag) {
    if ((pc & 3) != 0 || !translate(pc, ACC_EXEC, neededPerms(ACC_EXEC, false)) || (walkFlags & P_RAM) == 0) return 0;
    setFetchPage(pc, ramHost(walkPa));
  }
  // Generated code bakes the EL's permission bits into its TLB probes; PAN would add one.
  if (getPAN() != 0) return 0;
  return blockKey(fetchHost + <usize>(pc & 0xfff), getEL(), bigEndianData);
}

/**
 * The JIT's fallback (docs/jit.md): runs one instruction with the interpreter's handler, for
 * translated code. Returns 1 when the block must return to the run loop — the instruction
 * branched, took an exception, asked for an exit, changed something the block depends on
 * (jitStop) or made an interrupt worth checking (attention) — with the PC to continue at
 * stored in the state area; 0 to go on with the next instruction.
 */
export function jitExec(op: u32, insn: u32, at: u64): i32 {
  if (tailProfile) tailExec(op);
  return execFromBlock(op, insn, at);
}

function execFromBlock(op: u32, insn: u32, at: u64): i32 {
  setPc(at);
  clearFault();
  branchTo(at + 4);
  execute(op, insn);
  if (nextPc != at + 4 || faulted || exitReason != 0 || attention || jitStop) {
    store<u64>(ACTIVE_STATE + PC, nextPc);
    return 1;
  }
  return 0;
}

/**
 * jitExec for a load or store whose inline TLB probe missed on `va`. With the MMU off, first
 * fills the flat TLB entry so that the next probe of that page hits.
 */
export function jitExecMiss(op: u32, insn: u32, at: u64, va: u64): i32 {
  tlbFillFlat(va);
  if (tailProfile) tailMiss();
  return execFromBlock(op, insn, at);
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
    if (cacheCheckOn) {
      // No fetch-page cache: every fetch is checked (cache-check.ts).
      const iCache = (sysregs[SCTLR_EL1] & (1 << 12)) != 0 && attrCacheable(attrOf(walkFlags));
      checkFetch(walkPa, iCache);
    } else {
      setFetchPage(pc, ramHost(walkPa));
    }
    return <i64>load<u32>(ramHost(walkPa));
  }
  // Execute-in-place from a device (e.g. flash): fetch through the bus, never cached.
  return fetchFromDevice(walkPa);
}

/**
 * Between instructions: takes an unmasked pending interrupt, or the illegal-state exception.
 * Settles `attention` when nothing is left to do. Returns true if an exception was taken.
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
  settleAttention(debugArmed || pmuArmed);
  return false;
}
