/* mmio-accessor.c with Linux's accessor: a plain `strb` (valid syndrome, ISV = 1). */
#define ACCESSOR_PLAIN 1
#include "mmio-accessor.c"
