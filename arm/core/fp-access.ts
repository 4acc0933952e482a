// Whether the FP/AdvSIMD unit is implemented. While it is not, ID_AA64PFR0_EL1 says so
// (FP = AdvSIMD = 0xF), and FP/SIMD encodings and FPCR/FPSR accesses are UNDEFINED.
export const fpRegsEnabled: bool = false;
