// What a device needs from the interrupt controller: drive one level-sensitive line.
// The GIC implements it; tests pass a recorder. `intid` is the GIC INTID (SPIs start at 32),
// not an SPI index.

export interface IrqSink {
  setLevel(intid: number, level: boolean): void;
}
