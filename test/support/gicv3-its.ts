// A GICv3 with an ITS, driven as a guest drives it (test/arm/gicv3-its*.test.ts): register
// offsets and fields written from the GICv3 specification (IHI 0069, "ITS registers" and
// "LPI support"), guest RAM the tables live in, and the setup sequence Linux and
// kvm-unit-tests follow (property and pending tables, EnableLPIs, command queue, BASERs).

import { GuestMemory } from "../../src/kvm/guest-memory.ts";
import { encodeItsCommand, type ItsCommand, type ItsCommandName } from "../../arm/machine/gicv3/its-commands.ts";
import { GICD, GICR_STRIDE, ICC_EOIR1_EL1, ICC_IAR1_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1, machine } from "./gicv3.ts";

export const RAM_BASE = 0x8000_0000;
export const RAM_BYTES = 16 << 20;

// Redistributor RD_base, LPI registers.
export const GICR_CTLR_ENABLE_LPIS = 1 << 0;
export const GICR_TYPER_PLPIS = 1n << 0n;
export const GICR_PROPBASER = 0x0070;
export const GICR_PENDBASER = 0x0078;
export const GICR_INVLPIR = 0x00a0;
export const GICR_INVALLR = 0x00b0;
export const GICR_SYNCR = 0x00c0;

// The ITS control frame, and the translation frame's doorbell.
export const GITS_CTLR = 0x0000;
export const GITS_IIDR = 0x0004;
export const GITS_TYPER = 0x0008;
export const GITS_CBASER = 0x0080;
export const GITS_CWRITER = 0x0088;
export const GITS_CREADR = 0x0090;
export const GITS_BASER = 0x0100;
export const GITS_PIDR2 = 0xffe8;
export const GITS_TRANSLATER = 0x1_0040;
export const GITS_CTLR_ENABLED = 1;
export const GITS_CTLR_QUIESCENT = 0x8000_0000;
export const BASER_VALID = 1n << 63n;
export const BASER_INDIRECT = 1n << 62n;
export const CBASER_VALID = 1n << 63n;

/** LPI property byte: priority in [7:2], Enable in bit 0 (Linux's LPI_PROP_DEFAULT_PRIO = 0xa0). */
export const prop = (priority: number, enabled = true): number => (priority & 0xfc) | (enabled ? 1 : 0);

// Where this test guest puts its tables (all 64 KiB aligned, inside RAM).
export const PROP_TABLE = RAM_BASE + 0x10_0000; // 64 KiB: 16 ID bits
export const PEND_TABLES = RAM_BASE + 0x20_0000; // 64 KiB per vCPU
export const QUEUE = RAM_BASE + 0x40_0000; // 4 KiB: 128 commands
export const DEVICE_TABLE = RAM_BASE + 0x50_0000; // one 64 KiB page: 8192 devices
export const COLLECTION_TABLE = RAM_BASE + 0x60_0000;

export function itsMachine(vcpuCount: number) {
  const ram = new Uint8Array(RAM_BYTES);
  const memory = new GuestMemory({ bytes: ram, ramBase: RAM_BASE });
  const log: string[] = [];
  const m = machine(vcpuCount, undefined, { memory, log: (line) => log.push(line) });
  const itsBase = m.redistBase - 0x2_0000;
  const its = (offset: number): number => itsBase + offset;
  const rd = (vcpu: number, offset = 0): number => m.redistBase + vcpu * GICR_STRIDE + offset;
  let writeOffset = 0;
  let queueBytes = 0x1000;

  /** Queues commands at CWRITER and rings the doorbell once, as Linux's its_send_single_command. */
  const send = (...cmds: (Partial<ItsCommand> & { name: ItsCommandName })[]): void => {
    for (const c of cmds) {
      memory.write(QUEUE + writeOffset, encodeItsCommand(c));
      writeOffset = (writeOffset + 32) % queueBytes;
    }
    m.cpu0.write64(its(GITS_CWRITER), BigInt(writeOffset));
  };

  /** A new command queue (CBASER written with the ITS disabled, then enabled again). */
  const setQueue = (cbaser: bigint): void => {
    m.cpu0.write32(its(GITS_CTLR), 0);
    m.cpu0.write64(its(GITS_CBASER), cbaser);
    m.cpu0.write32(its(GITS_CTLR), GITS_CTLR_ENABLED);
    queueBytes = (Number(cbaser & 0xffn) + 1) * 0x1000;
    writeOffset = 0;
  };

  /** The whole of Linux's bring-up: GIC, LPIs on every Redistributor, the ITS enabled. */
  const bringUp = (): void => {
    const c = m.cpu0;
    c.write32(GICD, 0x13); // ARE, EnableGrp1, EnableGrp0
    c.write64(rd(0, GICR_PROPBASER), BigInt(PROP_TABLE) | 15n); // IDbits = 16 - 1
    for (let v = 0; v < vcpuCount; v++) {
      c.write64(rd(v, GICR_PENDBASER), BigInt(PEND_TABLES + v * 0x1_0000));
      c.write32(rd(v, 0), GICR_CTLR_ENABLE_LPIS);
      m.msr(v, ICC_PMR_EL1, 0xf0);
      m.msr(v, ICC_IGRPEN1_EL1, 1);
    }
    c.write64(its(GITS_BASER), BASER_VALID | BigInt(DEVICE_TABLE));
    c.write64(its(GITS_BASER + 8), BASER_VALID | BigInt(COLLECTION_TABLE));
    setQueue(CBASER_VALID | BigInt(QUEUE)); // Size 0: one 4 KiB page
  };

  const setProp = (intid: number, value: number): void => memory.write(PROP_TABLE + intid - 8192, Uint8Array.of(value));
  /** IAR1 on a vCPU, then EOIR1 for what it returned. */
  const take = (vcpu: number): number => {
    const intid = Number(m.mrs(vcpu, ICC_IAR1_EL1)!);
    if (intid !== 1023) m.msr(vcpu, ICC_EOIR1_EL1, intid);
    return intid;
  };
  return { ...m, memory, ram, log, itsBase, its, rd, send, bringUp, setQueue, setProp, take, GICD };
}
