// The arm64 guest physical memory map, exactly as kvmtool lays it out
// (arm/include/arm-common/kvm-arch.h):
//
//   0x0000_0000 ┌──────────────────────────────┐
//               │ I/O port window (64 KiB)      │ accesses become port I/O, port = address
//   0x0001_0000 ├──────────────────────────────┤
//               │ (unused)                      │
//   0x0100_0000 ├──────────────────────────────┤
//               │ UART0-3, 0x1000 apart         │ 8250, 8 byte registers each
//   0x0101_0000 ├──────────────────────────────┤
//               │ RTC (MC146818)                │
//   0x0102_0000 ├──────────────────────────────┤
//               │ (pvtime in kvmtool; unused)   │
//   0x0103_0000 ├──────────────────────────────┤
//               │ LS64 work queue (4 KiB)       │ --ls64-work-queue only (lkvm's own)
//   0x0103_1000 ├──────────────────────────────┤
//               │ (unused)                      │
//   0x0200_0000 ├──────────────────────────────┤
//               │ CFI flash (-F, ≤ 16 MiB)      │
//   0x0300_0000 ├──────────────────────────────┤
//               │ virtio-mmio, 0x200 per device │
//               │            …                  │
//               │ GICv3 redistributors          │ 128 KiB per vCPU, just below the distributor
//   0x3fff_0000 ├──────────────────────────────┤
//               │ GICv3 distributor (64 KiB)    │
//   0x4000_0000 ├──────────────────────────────┤
//               │ PCI config (ECAM) and MMIO    │ (no PCI in lkvm yet)
//   0x8000_0000 ├──────────────────────────────┤
//               │ RAM (-m size[@addr])          │
//               └──────────────────────────────┘

export const IOPORT_BASE = 0x0;
export const IOPORT_SIZE_BYTES = 0x1_0000;

export const UART_BASE = 0x0100_0000;
export const UART_STRIDE_BYTES = 0x1000;
export const UART_COUNT = 4;
export const UART_AREA_BYTES = 0x1_0000;

export const RTC_BASE = UART_BASE + UART_AREA_BYTES;
export const RTC_AREA_BYTES = 0x1_0000;

/** kvmtool's pvtime area (ARM_PVTIME_BASE), which lkvm leaves free. */
export const PVTIME_BASE = RTC_BASE + RTC_AREA_BYTES;
export const PVTIME_AREA_BYTES = 0x1_0000;

/** The LS64 work queue, after the pvtime area: no kvmtool device will land there. */
export const LS64_WORK_QUEUE_BASE = PVTIME_BASE + PVTIME_AREA_BYTES;

export const FLASH_BASE = 0x0200_0000;
export const FLASH_MAX_BYTES = 0x0100_0000;

export const VIRTIO_MMIO_BASE = FLASH_BASE + FLASH_MAX_BYTES;
export const VIRTIO_MMIO_STRIDE_BYTES = 0x200;

/** The GICv3 distributor ends at 1 GiB; the redistributors sit below it (gicv3.ts, gicRedistBase). */
export const GIC_DIST_BASE = 0x3fff_0000;
export const GIC_DIST_SIZE_BYTES = 0x1_0000;
export const GIC_REDIST_SIZE_BYTES = 0x2_0000; // per vCPU: RD_base + SGI_base frames

export const PCI_CFG_BASE = 0x4000_0000;
export const RAM_DEFAULT_BASE = 0x8000_0000;

// Interrupt numbering (GICv3 INTIDs).
export const SPI_BASE_INTID = 32;
/** DT interrupt specifiers name SPIs by index from INTID 32. */
export function spiIndex(intid: number): number {
  return intid - SPI_BASE_INTID;
}
export const UART_INTIDS = [32, 33, 34, 35];
/**
 * kvmtool hands out SPIs in init order (irq__alloc_line): the UARTs (dev_init), then each
 * virtio device (virtio_dev_init), one line apiece.
 */
export const VIRTIO_FIRST_INTID = UART_INTIDS[UART_INTIDS.length - 1]! + 1;
export const TIMER_PPI = { secure: 29, nonSecure: 30, virtual: 27, hyp: 26 } as const;
