// `lkvm run --cpu-features`: optional architecture features on top of the default vCPU model
// (a Cortex-A57, ARMv8.0-A), named as the ARM ARM names them without the FEAT_ prefix. The
// syntax is a comma-separated list of +name (add) and -name (remove), applied in order, so
// that more features can join the table without a new option.

import { CPU_FEAT_LS64, CPU_FEAT_LS64_ACCDATA, CPU_FEAT_LS64_V } from "../abi.ts";

export interface CpuFeature {
  /** abi.CPU_FEAT_* bit. */
  bit: number;
  /** Bits the feature needs, and brings along. */
  needs: number;
  describe: string;
}

export const CPU_FEATURES: Record<string, CpuFeature> = {
  ls64: { bit: CPU_FEAT_LS64, needs: 0, describe: "FEAT_LS64: LD64B, ST64B (ID_AA64ISAR1_EL1.LS64 = 1)" },
  ls64_v: { bit: CPU_FEAT_LS64_V, needs: CPU_FEAT_LS64, describe: "FEAT_LS64_V: also ST64BV (LS64 = 2)" },
  ls64_accdata: {
    bit: CPU_FEAT_LS64_ACCDATA,
    needs: CPU_FEAT_LS64 | CPU_FEAT_LS64_V,
    describe: "FEAT_LS64_ACCDATA: also ST64BV0 and ACCDATA_EL1 (LS64 = 3)",
  },
};

/** Why a --cpu-features list was refused. */
export class CpuFeatureError extends Error {
  override name = "CpuFeatureError";
}

/**
 * The CPU_FEAT_* mask of a list such as "+ls64_v" or "+ls64_accdata,-ls64_accdata". Adding a
 * feature adds what it needs; removing one removes what needs it.
 */
export function parseCpuFeatures(list: string): number {
  let mask = 0;
  for (const item of list.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const m = /^([+-])([a-z0-9_]+)$/.exec(item);
    const feature = m ? CPU_FEATURES[m[2]!] : undefined;
    if (!m || feature === undefined) {
      throw new CpuFeatureError(`invalid CPU feature '${item}': expected +name or -name, name one of ${Object.keys(CPU_FEATURES).join(", ")}`);
    }
    if (m[1] === "+") {
      mask |= feature.bit | feature.needs;
    } else {
      mask &= ~feature.bit;
      for (const other of Object.values(CPU_FEATURES)) if (other.needs & feature.bit) mask &= ~other.bit;
    }
  }
  return mask;
}
