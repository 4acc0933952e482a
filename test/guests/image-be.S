// image-bss.S with the Image header's big-endian flag (flags bit 0) set: lkvm boots it, and
// the program's big-endian stores work once it sets SCTLR_EL1.EE, as a BE kernel does first.
#define IMAGE_FLAGS 0xb
#define BIG_ENDIAN_CHECK
#include "image-bss.S"
