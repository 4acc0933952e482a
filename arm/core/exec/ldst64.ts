// Handlers for FEAT_LS64 (ARM ARM C6.2 LD64B, ST64B, ST64BV, ST64BV0; see arm/decode/ldst64.ts):
// 64-byte single-copy-atomic loads and stores of eight consecutive X registers, for devices
// such as work-queue portals. Memory rules and the access itself: ../memory64.ts.
//
// In the pseudocode's order: the feature and Rt (UNDEFINED unless Rt is even and at most 22,
// so that Xt..Xt+7 exist), the EL0 enable in SCTLR_EL1 (else a trap to EL1, EC 0x0A), SP
// alignment, then the access; registers are written only once it completed. The syndrome a
// hypervisor would see carries ISV = 0 and ISS.LST (bits 12:11), naming the instruction.
//
// qemu-aarch64 does not implement FEAT_LS64 (7.2 with -cpu max raises SIGILL on LD64B;
// test/arm/ldst64.diff.test.ts keeps checking), so there is no differential oracle:
// test/arm/ldst64.test.ts and test/guests/ls64.c check these against the ARM ARM pseudocode
// with hand-worked vectors.

import { getX, setX, getXSP, getEL } from "../state";
import { setSyndrome, dataBigEndian } from "../memory";
import { access64, DATA64 } from "../memory64";
import { faulted, undefinedInstruction, syncException } from "../exceptions";
import { sysregs, SCTLR_EL1, ACCDATA_EL1, SCTLR_ENALS, SCTLR_ENASR, SCTLR_ENAS0 } from "../sysregs";
import { hasFeature } from "../cpu-features";
import { CPU_FEAT_LS64, CPU_FEAT_LS64_V, CPU_FEAT_LS64_ACCDATA, EXIT_RECORD, EXIT_DATA64_STATUS } from "../../abi";
import { baseAligned } from "./addressing";

/** EC of LD64B/ST64B/ST64BV/ST64BV0 trapped by an enable bit. */
const EC_LS64_TRAP: u32 = 0x0a;
// ISS.LST of the abort syndrome, and the ISS of the EC 0x0A trap, per instruction.
const LST_ST64BV: u32 = 1;
const LST_LD64B_ST64B: u32 = 2;
const LST_ST64BV0: u32 = 3;
const TRAP_ISS_ST64BV0: u32 = 0;
const TRAP_ISS_ST64BV: u32 = 1;
const TRAP_ISS_LD64B_ST64B: u32 = 2;
/** What ST64BV/ST64BV0 return when the location gives no status (RAM: no device answers). */
const STATUS_UNSUPPORTED: u64 = 0xffff_ffff_ffff_ffff;

/**
 * The checks before any access: the feature, Rt (Rt<4:3> = 11 or Rt<0> = 1 is UNDEFINED), and
 * at EL0 the SCTLR_EL1 enable. Returns false after taking the exception.
 */
function allowed(feature: u32, rt: u32, enable: u64, trapIss: u32): bool {
  if (!hasFeature(feature) || (rt & 0x18) == 0x18 || (rt & 1) != 0) {
    undefinedInstruction();
    return false;
  }
  if (getEL() == 0 && (sysregs[SCTLR_EL1] & enable) == 0) {
    syncException(EC_LS64_TRAP, trapIss);
    return false;
  }
  return true;
}

@inline function doubleword(v: u64): u64 {
  return dataBigEndian() ? bswap<u64>(v) : v;
}

/** Stages Xt..Xt+7 (with ACCDATA_EL1 in the low 32 bits of the first, for ST64BV0) in DATA64. */
function stageStore(rt: u32, accdata: u32): void {
  for (let i: u32 = 0; i < 8; i++) {
    let v = getX(rt + i);
    if (i == 0 && accdata != 0) v = (v & 0xffff_ffff_0000_0000) | (sysregs[ACCDATA_EL1] & 0xffff_ffff);
    store<u64>(DATA64 + <usize>(i * 8), doubleword(v));
  }
}

export function exec_LD64B(rn: u32, rt: u32): void {
  if (!allowed(CPU_FEAT_LS64, rt, SCTLR_ENALS, TRAP_ISS_LD64B_ST64B)) return;
  if (!baseAligned(rn)) return;
  setSyndrome(LST_LD64B_ST64B << 11);
  access64(getXSP(rn), false);
  if (faulted) return;
  for (let i: u32 = 0; i < 8; i++) setX(rt + i, doubleword(load<u64>(DATA64 + <usize>(i * 8))));
}

export function exec_ST64B(rn: u32, rt: u32): void {
  if (!allowed(CPU_FEAT_LS64, rt, SCTLR_ENALS, TRAP_ISS_LD64B_ST64B)) return;
  if (!baseAligned(rn)) return;
  setSyndrome(LST_LD64B_ST64B << 11);
  stageStore(rt, 0);
  access64(getXSP(rn), true);
}

/** ST64BV (accdata = 0) and ST64BV0: a store with return; Xs gets the device's status. */
export function exec_ST64BV(rs: u32, rn: u32, rt: u32, accdata: u32): void {
  const ok = accdata != 0
    ? allowed(CPU_FEAT_LS64_ACCDATA, rt, SCTLR_ENAS0, TRAP_ISS_ST64BV0)
    : allowed(CPU_FEAT_LS64_V, rt, SCTLR_ENASR, TRAP_ISS_ST64BV);
  if (!ok || !baseAligned(rn)) return;
  setSyndrome((accdata != 0 ? LST_ST64BV0 : LST_ST64BV) << 11);
  stageStore(rt, accdata);
  const device = access64(getXSP(rn), true);
  if (faulted) return;
  setX(rs, device == 1 ? load<u64>(EXIT_RECORD + EXIT_DATA64_STATUS) : STATUS_UNSUPPORTED);
}
