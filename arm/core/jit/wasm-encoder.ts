// A WebAssembly binary encoder writing into linear memory (the JIT_MODULE buffer): LEB128,
// sections and function bodies whose sizes are patched in afterwards, and the opcodes the
// translator uses. Binary format: WebAssembly Core Specification 1.0, chapter 5.

/** Where the next byte goes. */
export let pos: usize = 0;
/** The buffer's end: writers check room before each block (see translate.ts), not per byte. */
export let limit: usize = 0;

export function encoderStart(base: usize, sizeBytes: usize): void {
  pos = base;
  limit = base + sizeBytes;
}

/** Moves the write position back to `at` (to emit something again). */
export function rewind(at: usize): void {
  pos = at;
}

@inline export function byte(b: u32): void {
  store<u8>(pos, <u8>b);
  pos++;
}

export function u32leb(v: u32): void {
  do {
    let b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    byte(b);
  } while (v != 0);
}

export function i32leb(v: i32): void {
  while (true) {
    const b = <u32>v & 0x7f;
    v >>= 7;
    if ((v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0)) {
      byte(b);
      return;
    }
    byte(b | 0x80);
  }
}

export function i64leb(v: i64): void {
  while (true) {
    const b = <u32>(v & 0x7f);
    v >>= 7;
    if ((v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0)) {
      byte(b);
      return;
    }
    byte(b | 0x80);
  }
}

/** Reserves a 5-byte LEB128 u32 to be patched by `patchSize` (non-minimal LEBs are valid). */
export function reserveSize(): usize {
  const at = pos;
  pos += 5;
  return at;
}

/** Patches the size reserved at `at` with the number of bytes written since. */
export function patchSize(at: usize): void {
  let v = <u32>(pos - at - 5);
  for (let i: usize = 0; i < 4; i++) {
    store<u8>(at + i, <u8>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  store<u8>(at + 4, <u8>(v & 0x7f));
}

/** A name made of the decimal digits of n. */
export function numberName(n: u32): void {
  let digits: u32 = 1;
  for (let v = n; v >= 10; v /= 10) digits++;
  u32leb(digits);
  for (let i: u32 = digits; i > 0; i--) {
    let v = n;
    for (let j: u32 = 1; j < i; j++) v /= 10;
    byte(0x30 + v % 10);
  }
}

export function name(s: string): void {
  u32leb(<u32>s.length);
  for (let i = 0; i < s.length; i++) byte(<u32>s.charCodeAt(i));
}

// ---- module structure ----
export const SEC_TYPE: u32 = 1;
export const SEC_IMPORT: u32 = 2;
export const SEC_FUNCTION: u32 = 3;
export const SEC_EXPORT: u32 = 7;
export const SEC_CODE: u32 = 10;

export const T_I32: u32 = 0x7f;
export const T_I64: u32 = 0x7e;
export const T_FUNC: u32 = 0x60;
export const T_FUNCREF: u32 = 0x70;
export const T_VOID: u32 = 0x40; // the empty block type

export const IMPORT_FUNC: u32 = 0x00;
export const IMPORT_TABLE: u32 = 0x01;
export const IMPORT_MEMORY: u32 = 0x02;
export const EXPORT_FUNC: u32 = 0x00;

export function header(): void {
  byte(0x00); byte(0x61); byte(0x73); byte(0x6d); // "\0asm"
  byte(0x01); byte(0x00); byte(0x00); byte(0x00); // version 1
}

// ---- instructions ----
export const OP_UNREACHABLE: u32 = 0x00;
export const OP_BLOCK: u32 = 0x02;
export const OP_LOOP: u32 = 0x03;
export const OP_IF: u32 = 0x04;
export const OP_ELSE: u32 = 0x05;
export const OP_END: u32 = 0x0b;
export const OP_BR: u32 = 0x0c;
export const OP_BR_IF: u32 = 0x0d;
export const OP_RETURN: u32 = 0x0f;
export const OP_CALL: u32 = 0x10;
export const OP_DROP: u32 = 0x1a;
export const OP_SELECT: u32 = 0x1b;
export const OP_LOCAL_GET: u32 = 0x20;
export const OP_LOCAL_SET: u32 = 0x21;
export const OP_LOCAL_TEE: u32 = 0x22;

export const OP_I32_LOAD: u32 = 0x28;
export const OP_I64_LOAD: u32 = 0x29;
export const OP_I32_LOAD8_S: u32 = 0x2c;
export const OP_I32_LOAD8_U: u32 = 0x2d;
export const OP_I32_LOAD16_S: u32 = 0x2e;
export const OP_I32_LOAD16_U: u32 = 0x2f;
export const OP_I64_LOAD8_S: u32 = 0x30;
export const OP_I64_LOAD8_U: u32 = 0x31;
export const OP_I64_LOAD16_S: u32 = 0x32;
export const OP_I64_LOAD16_U: u32 = 0x33;
export const OP_I64_LOAD32_S: u32 = 0x34;
export const OP_I64_LOAD32_U: u32 = 0x35;
export const OP_I32_STORE: u32 = 0x36;
export const OP_I64_STORE: u32 = 0x37;
export const OP_I32_STORE8: u32 = 0x3a;
export const OP_I32_STORE16: u32 = 0x3b;
export const OP_I64_STORE8: u32 = 0x3c;
export const OP_I64_STORE16: u32 = 0x3d;
export const OP_I64_STORE32: u32 = 0x3e;

export const OP_I32_CONST: u32 = 0x41;
export const OP_I64_CONST: u32 = 0x42;

export const OP_I32_EQZ: u32 = 0x45;
export const OP_I32_EQ: u32 = 0x46;
export const OP_I32_NE: u32 = 0x47;
export const OP_I32_LT_S: u32 = 0x48;
export const OP_I32_LT_U: u32 = 0x49;
export const OP_I32_GT_S: u32 = 0x4a;
export const OP_I32_GT_U: u32 = 0x4b;
export const OP_I32_LE_S: u32 = 0x4c;
export const OP_I32_LE_U: u32 = 0x4d;
export const OP_I32_GE_S: u32 = 0x4e;
export const OP_I32_GE_U: u32 = 0x4f;
export const OP_I64_EQZ: u32 = 0x50;
export const OP_I64_EQ: u32 = 0x51;
export const OP_I64_NE: u32 = 0x52;
export const OP_I64_LT_S: u32 = 0x53;
export const OP_I64_LT_U: u32 = 0x54;
export const OP_I64_GT_S: u32 = 0x55;
export const OP_I64_GT_U: u32 = 0x56;
export const OP_I64_LE_S: u32 = 0x57;
export const OP_I64_LE_U: u32 = 0x58;
export const OP_I64_GE_S: u32 = 0x59;
export const OP_I64_GE_U: u32 = 0x5a;

export const OP_I32_CLZ: u32 = 0x67;
export const OP_I32_ADD: u32 = 0x6a;
export const OP_I32_SUB: u32 = 0x6b;
export const OP_I32_MUL: u32 = 0x6c;
export const OP_I32_AND: u32 = 0x71;
export const OP_I32_OR: u32 = 0x72;
export const OP_I32_XOR: u32 = 0x73;
export const OP_I32_SHL: u32 = 0x74;
export const OP_I32_SHR_S: u32 = 0x75;
export const OP_I32_SHR_U: u32 = 0x76;
export const OP_I32_ROTR: u32 = 0x78;
export const OP_I64_CLZ: u32 = 0x79;
export const OP_I64_ADD: u32 = 0x7c;
export const OP_I64_SUB: u32 = 0x7d;
export const OP_I64_MUL: u32 = 0x7e;
export const OP_I64_AND: u32 = 0x83;
export const OP_I64_OR: u32 = 0x84;
export const OP_I64_XOR: u32 = 0x85;
export const OP_I64_SHL: u32 = 0x86;
export const OP_I64_SHR_S: u32 = 0x87;
export const OP_I64_SHR_U: u32 = 0x88;
export const OP_I64_ROTR: u32 = 0x8a;

export const OP_I32_WRAP_I64: u32 = 0xa7;
export const OP_I64_EXTEND_I32_S: u32 = 0xac;
export const OP_I64_EXTEND_I32_U: u32 = 0xad;
export const OP_I32_EXTEND8_S: u32 = 0xc0;
export const OP_I32_EXTEND16_S: u32 = 0xc1;
export const OP_I64_EXTEND8_S: u32 = 0xc2;
export const OP_I64_EXTEND16_S: u32 = 0xc3;
export const OP_I64_EXTEND32_S: u32 = 0xc4;

// ---- instruction helpers ----

@inline export function op(code: u32): void { byte(code); }

export function i32Const(v: i32): void {
  byte(OP_I32_CONST);
  i32leb(v);
}

export function i64Const(v: i64): void {
  byte(OP_I64_CONST);
  i64leb(v);
}

export function localGet(i: u32): void {
  byte(OP_LOCAL_GET);
  u32leb(i);
}

export function localSet(i: u32): void {
  byte(OP_LOCAL_SET);
  u32leb(i);
}

export function localTee(i: u32): void {
  byte(OP_LOCAL_TEE);
  u32leb(i);
}

export function call(funcIndex: u32): void {
  byte(OP_CALL);
  u32leb(funcIndex);
}

/** A load or store with its memarg (alignment as log2, constant offset). */
export function memOp(code: u32, alignLog2: u32, offset: u32): void {
  byte(code);
  u32leb(alignLog2);
  u32leb(offset);
}

/** `if` with no result. */
export function ifVoid(): void {
  byte(OP_IF);
  byte(T_VOID);
}

/** `if` with an i32 result. */
export function ifI32(): void {
  byte(OP_IF);
  byte(T_I32);
}

/** `block` with no result. */
export function blockVoid(): void {
  byte(OP_BLOCK);
  byte(T_VOID);
}

export function end(): void {
  byte(OP_END);
}
