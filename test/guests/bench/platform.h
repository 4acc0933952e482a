/* The two machines the benchmark guests run on: kvmtool's layout (lkvm) and QEMU's virt. */
#ifndef PLATFORM_H
#define PLATFORM_H
#include "guest.h"

#ifdef PLATFORM_QEMU_VIRT
#define PL011_BASE 0x09000000UL
static inline void platform_putc(char c) {
  while (mmio_read32(PL011_BASE + 0x18) & (1 << 5)) { /* TXFF */
  }
  mmio_write32(PL011_BASE, (u8)c);
}
#else
static inline void platform_putc(char c) { putc(c); }
#endif
#endif
