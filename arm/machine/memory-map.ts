// The arm64 machine's numbers, exactly as kvmtool lays it out (arm/include/arm-common/kvm-arch.h):
// the guest physical memory map, the interrupt numbering, the device-tree phandles and the
// vCPUs' MPIDRs. Every other file takes them from here; where the wasm core needs one too it
// comes from arm/abi.ts, which both worlds compile.
//
//   0x0000_0000 ┌──────────────────────────────┐
//               │ I/O port window (64 KiB)      │ accesses become port I/O, port = address;
//               │                               │ PCI config ports 0xcf8/0xcfc, I/O BARs from 0x6200
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
//   0x3ffc_f000 │ (GICv2m MSI frame, 4 KiB)     │ --irqchip gicv2m
//   0x3ffd_0000 │ (GICv2 CPU interface, 128 KiB)│ --irqchip gicv2, gicv2m
//   0x3fff_0000 ├──────────────────────────────┤
//               │ GIC distributor (64 KiB)      │
//   0x4000_0000 ├──────────────────────────────┤
//               │ PCI config space (ECAM)       │ 256 MiB, bus 0 only
//   0x5000_0000 ├──────────────────────────────┤
//               │ PCI MMIO window (32-bit)      │ BARs, bus address = CPU address
//   0x8000_0000 ├──────────────────────────────┤
//               │ RAM (-m size[@addr])          │
//               └──────────────────────────────┘

import { CNTFRQ_HZ, MPIDR_AFF0_VCPUS } from "../abi.ts";

export const IOPORT_BASE = 0x0;
export const IOPORT_SIZE_BYTES = 0x1_0000;

export const UART_BASE = 0x0100_0000;
export const UART_STRIDE_BYTES = 0x1000;
export const UART_COUNT = 4;
export const UART_AREA_BYTES = 0x1_0000;
/** ttyS<n>'s registers. */
export function uartBase(n: number): number {
  return UART_BASE + n * UART_STRIDE_BYTES;
}

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
export const GIC_DIST_SIZE_BYTES = 0x1_0000;
export const GIC_REDIST_SIZE_BYTES = 0x2_0000; // per vCPU: RD_base + SGI_base frames
/** kvmtool's ARM_GIC_SIZE: the distributor and a GICv2 CPU interface, below PCI. */
const GIC_AREA_BYTES = 0x3_0000;

export const PCI_CFG_BASE = 0x4000_0000;
/** ECAM: 4 KiB per function, 8 functions, 32 devices, 256 buses (kvmtool's PCI_CFG_SIZE). */
export const PCI_CFG_SIZE_BYTES = 0x1000_0000;
export const PCI_MMIO_BASE = PCI_CFG_BASE + PCI_CFG_SIZE_BYTES;
export const RAM_DEFAULT_BASE = 0x8000_0000;
export const PCI_MMIO_SIZE_BYTES = RAM_DEFAULT_BASE - PCI_MMIO_BASE;

export const GIC_DIST_BASE = PCI_CFG_BASE - GIC_DIST_SIZE_BYTES;
/** A GICv2's memory-mapped CPU interface (kvmtool's ARM_GIC_CPUI_BASE), below the distributor. */
export const GICV2_CPU_SIZE_BYTES = 0x2_0000;
export const GICV2_CPU_BASE = GIC_DIST_BASE - GICV2_CPU_SIZE_BYTES;
/** gicv2m's MSI frame, right below the CPU interface (kvmtool's KVM_VGIC_V2M_SIZE). */
export const GICV2M_FRAME_SIZE_BYTES = 0x1000;
export const GICV2M_FRAME_BASE = GICV2_CPU_BASE - GICV2M_FRAME_SIZE_BYTES;
/** The virtio-mmio area runs up to the GIC (kvmtool's ARM_VIRTIO_MMIO_SIZE). */
export const VIRTIO_MMIO_LIMIT = PCI_CFG_BASE - GIC_AREA_BYTES;

/** PCI I/O BARs are handed out from this port up (kvmtool's PCI_IOPORT_START), in 0x100 blocks. */
export const PCI_IOPORT_BASE = 0x6200;
/** The legacy configuration mechanism #1: address at 0xcf8, data at 0xcfc..0xcff. */
export const PCI_CONFIG_ADDRESS_PORT = 0xcf8;
export const PCI_CONFIG_DATA_PORT = 0xcfc;

// ---- interrupt numbering (GICv3 INTIDs) ----

export const PPI_BASE_INTID = 16;
export const SPI_BASE_INTID = 32;
/** kvmtool's GIC_MAX_IRQ: KVM_IRQ_LINE ignores INTIDs above 255, so SPIs are 32-255. */
export const SPI_LAST_INTID = 255;
export const TIMER_PPI = { secure: 29, nonSecure: 30, virtual: 27, hyp: 26 } as const;
/** The PMU's overflow interrupt, kvmtool's KVM_ARM_PMUv3_PPI. */
export const PMU_PPI = 23;

// ---- device-tree phandles (kvmtool's enum phandles) ----

export const PHANDLE_GIC = 1;
export const PHANDLE_MSI = 2;

// ---- vCPUs ----

/** KVM's MPIDR affinity for a vCPU: Aff0 = id % 16, Aff1 = id / 16 (the core's MPIDR_EL1 too). */
export function mpidrOf(vcpu: number): number {
  return (Math.floor(vcpu / MPIDR_AFF0_VCPUS) << 8) | vcpu % MPIDR_AFF0_VCPUS;
}

/** The generic timer's frequency, as the core's CNTFRQ_EL0 reads it. */
export { CNTFRQ_HZ };
