// Differential tests of the AdvSIMD integer groups against qemu-aarch64, one suite per decode
// group (test/support/diff/simd.ts): every field of every row random, so reserved element
// sizes, immh/Q and imm5 combinations come up and must be UNDEFINED on both sides, on V
// registers of interesting lane values and FPSR with and without QC preset. All X and V
// registers, NZCV, FPSR (QC), FPCR and memory must agree.
//
// Do-not-test list:
//   - PMULL with size = 11 (the 64-bit polynomial multiply of the Cryptographic Extension):
//     qemu's cortex-a57 has it, but our ID_AA64ISAR0_EL1 does not advertise AES/PMULL, so it
//     is UNDEFINED here. Those words are redrawn with another size.

import { simdByElement } from "../../arm/decode/simd-elem.ts";
import { simdInteger } from "../../arm/decode/simd-int.ts";
import { simdIntegerMisc } from "../../arm/decode/simd-misc.ts";
import { simdPermute } from "../../arm/decode/simd-perm.ts";
import { simdShift } from "../../arm/decode/simd-shift.ts";
import { describeRowGroup, fieldOf } from "../support/diff/simd.ts";

describeRowGroup({
  title: "AdvSIMD integer arithmetic, three same and three different, agrees with qemu-aarch64",
  prefix: "simd-int",
  group: simdInteger,
  tweak: (rng, row, word) => (row.name === "PMULL_v" && fieldOf(row, word, "size") === 3 ? (word & ~(3 << 22)) | (rng.below(3) << 22) : word),
});

// Two-register misc and across lanes, vector and scalar.
describeRowGroup({ title: "AdvSIMD integer two-register misc and across lanes agree with qemu-aarch64", prefix: "simd-misc", group: simdIntegerMisc });

// Shift by immediate, vector and scalar: every element size and shift amount, 1 and esize too.
describeRowGroup({ title: "AdvSIMD shifts by immediate agree with qemu-aarch64", prefix: "simd-shift", group: simdShift });

// Vector and scalar x indexed element, integer forms: every index, both halves of the Rm range.
describeRowGroup({ title: "AdvSIMD by-element arithmetic agrees with qemu-aarch64", prefix: "simd-elem", group: simdByElement });

// Copy (DUP, INS, SMOV, UMOV), modified immediate, permute, EXT and TBL/TBX (random index
// bytes, so in-range and out-of-range lookups, with table lists wrapping past V31).
describeRowGroup({ title: "AdvSIMD moves and permutes agree with qemu-aarch64", prefix: "simd-perm", group: simdPermute });
