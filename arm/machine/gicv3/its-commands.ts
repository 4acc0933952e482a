// ITS commands (IHI 0069, "ITS commands"): a 32-byte record of four little-endian doublewords
// in the guest's command queue, decoded here into the fields KVM's vGIC ITS reads. Fields a
// command does not use are decoded anyway and ignored by its handler.

export const ITS_COMMAND_BYTES = 32;

/** Command numbers, DW0 bits [7:0]. The GICv4 (virtual) commands are not listed: KVM ignores them. */
export const ITS_COMMAND = {
  MOVI: 0x01,
  INT: 0x03,
  CLEAR: 0x04,
  SYNC: 0x05,
  MAPD: 0x08,
  MAPC: 0x09,
  MAPTI: 0x0a,
  MAPI: 0x0b,
  INV: 0x0c,
  INVALL: 0x0d,
  MOVALL: 0x0e,
  DISCARD: 0x0f,
} as const;

export type ItsCommandName = keyof typeof ITS_COMMAND;
const NAME_BY_NUMBER = new Map<number, ItsCommandName>(
  Object.entries(ITS_COMMAND).map(([name, n]) => [n, name as ItsCommandName]),
);

export interface ItsCommand {
  /** The command's name, or undefined for a number KVM does not handle (it is skipped). */
  readonly name: ItsCommandName | undefined;
  readonly number: number;
  /** DW0 [63:32]. */
  readonly deviceId: number;
  /** DW1 [31:0]: the EventID (MAPI, MAPTI, INT, INV, CLEAR, DISCARD, MOVI). */
  readonly eventId: number;
  /** DW1 [63:32]: the physical INTID (MAPTI). */
  readonly physicalId: number;
  /** DW1 [4:0] + 1: EventID bits of the device (MAPD). */
  readonly eventIdBits: number;
  /** DW2 [15:0]: the collection (ICID). */
  readonly collection: number;
  /** DW2 [51:8] << 8: the ITT address (MAPD). */
  readonly ittAddress: number;
  /** DW2 [47:16]: the target Redistributor, a processor number as GITS_TYPER.PTA = 0 (MAPC, MOVALL). */
  readonly target: number;
  /** DW2 bit 63 (MAPD, MAPC). */
  readonly valid: boolean;
  /** DW3 [47:16]: MOVALL's second Redistributor. */
  readonly target2: number;
}

/** Decodes the 32 bytes at `bytes[offset]`. */
export function decodeItsCommand(bytes: Uint8Array, offset = 0): ItsCommand {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, ITS_COMMAND_BYTES);
  const lo = (dw: number): number => dv.getUint32(dw * 8, true);
  const hi = (dw: number): number => dv.getUint32(dw * 8 + 4, true);
  const number = lo(0) & 0xff;
  return {
    name: NAME_BY_NUMBER.get(number),
    number,
    deviceId: hi(0),
    eventId: lo(1),
    physicalId: hi(1),
    eventIdBits: (lo(1) & 0x1f) + 1,
    collection: lo(2) & 0xffff,
    ittAddress: (hi(2) & 0xf_ffff) * 2 ** 32 + ((lo(2) & 0xffff_ff00) >>> 0),
    target: ((lo(2) >>> 16) | ((hi(2) & 0xffff) << 16)) >>> 0,
    valid: (hi(2) & 0x8000_0000) !== 0,
    target2: ((lo(3) >>> 16) | ((hi(3) & 0xffff) << 16)) >>> 0,
  };
}

/** Encodes a command, the way a driver builds one (tests and fuzzing). Unset fields are 0. */
export function encodeItsCommand(f: Partial<Omit<ItsCommand, "name" | "eventIdBits">> & { name: ItsCommandName; eventIdBits?: number }): Uint8Array {
  const bytes = new Uint8Array(ITS_COMMAND_BYTES);
  const dv = new DataView(bytes.buffer);
  const set = (dw: number, low: number, high: number): void => {
    dv.setUint32(dw * 8, low >>> 0, true);
    dv.setUint32(dw * 8 + 4, high >>> 0, true);
  };
  const itt = f.ittAddress ?? 0;
  const target = f.target ?? 0;
  const target2 = f.target2 ?? 0;
  set(0, ITS_COMMAND[f.name], f.deviceId ?? 0);
  set(1, f.name === "MAPD" ? (f.eventIdBits ?? 1) - 1 : (f.eventId ?? 0), f.physicalId ?? 0);
  set(
    2,
    (f.collection ?? 0) | (itt % 2 ** 32 & 0xffff_ff00) | ((target & 0xffff) << 16),
    (Math.floor(itt / 2 ** 32) & 0xf_ffff) | (target >>> 16) | (f.valid ? 0x8000_0000 : 0),
  );
  set(3, (target2 & 0xffff) << 16, target2 >>> 16);
  return bytes;
}
