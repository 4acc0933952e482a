// 64-byte single-copy-atomic accesses (FEAT_LS64: LD64B, ST64B, ST64BV, ST64BV0), ARM ARM
// MemLoad64B/MemStore64B. The 64 bytes pass through EXIT_RECORD + EXIT_DATA64 (memory order,
// little-endian doublewords), for RAM as for a device: to a device they go as one access, so
// that the VMM's trap bus can hand a region that accepts them one 64-byte call.
//
// The rules, in the pseudocode's order: the address must be 64-byte aligned (else an Alignment
// fault, whatever the memory type); it is translated as one access (64 aligned bytes never
// cross a page); the memory must be Device or Normal Inner and Outer Non-cacheable, else an
// "Unsupported Exclusive or Atomic access" fault (DFSC 0b110101; with the MMU off, data
// accesses are Device-nGnRnE, so RAM qualifies).

import { ACTIVE_STATE, EXIT_RECORD, EXIT_DATA64, EXIT_ESR, VCPU_ID } from "../abi";
import {
  translate, neededPerms, ramHost, walkFault, walkFlags, walkPa, attrOf, ACC_READ, ACC_WRITE, P_RAM, P_DEVICE,
  FSC_ALIGNMENT,
} from "./mmu";
import { dataAbort } from "./exceptions";
import { accessSyndrome, mmioAccess, mmioCompleted } from "./memory";
import { pageHasCode } from "./jit/marks";
import { jitInvalidateHostPage } from "./jit/cache";
import { cacheCheckOn, checkRead, checkWrite } from "./cache-check";

/** DFSC: Unsupported Exclusive or Atomic access (a memory type the instruction may not use). */
const FSC_UNSUPPORTED_ATOMIC: u32 = 0x35;
/** MAIR attribute of Normal memory, Inner and Outer Non-cacheable. */
const ATTR_NORMAL_NC: u32 = 0x44;

/** Where the 64 bytes are staged. */
export const DATA64: usize = EXIT_RECORD + EXIT_DATA64;

/**
 * Performs a 64-byte access at va: a load fills DATA64, a store writes it out. Returns whether
 * the MMIO target is a device (then the VMM may have left a status word after the data), or
 * -1 after taking an abort (`faulted` is set).
 */
export function access64(va: u64, isWrite: bool): i32 {
  const wnr: u32 = isWrite ? 1 << 6 : 0;
  if ((va & 63) != 0) {
    dataAbort(wnr | FSC_ALIGNMENT, va);
    return -1;
  }
  const acc = isWrite ? ACC_WRITE : ACC_READ;
  if (!translate(va, acc, neededPerms(acc, false))) {
    dataAbort(wnr | walkFault, va);
    return -1;
  }
  if ((walkFlags & P_DEVICE) == 0 && attrOf(walkFlags) != ATTR_NORMAL_NC) {
    dataAbort(wnr | FSC_UNSUPPORTED_ATOMIC, va);
    return -1;
  }
  if ((walkFlags & P_RAM) != 0) {
    // Never through the data cache: Device or Non-cacheable only.
    if (cacheCheckOn) {
      if (isWrite) checkWrite(walkPa, 64, false, false);
      else checkRead(walkPa, 64, false);
    }
    const h = ramHost(walkPa);
    if (isWrite) {
      if (pageHasCode(h)) jitInvalidateHostPage(h);
      memory.copy(h, DATA64, 64);
    } else {
      memory.copy(DATA64, h, 64);
    }
    return 0;
  }
  store<u32>(EXIT_RECORD + EXIT_ESR, accessSyndrome | wnr);
  const outcome = mmioAccess(<i32>load<u32>(ACTIVE_STATE + VCPU_ID), <f64>walkPa, 64, isWrite ? 1 : 0);
  return mmioCompleted(outcome, va) ? 1 : -1;
}
