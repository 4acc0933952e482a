/* The device tree the guest receives in x0, read the way kvm-unit-tests' setup does: the FDT
   header, /memory, /cpus, /chosen (bootargs, initrd), and stdout-path through /aliases to the
   UART's reg. The guest prints what it found for the test to compare with what it passed to
   lkvm (-m, -c, -p, -i); it checks the initrd bytes in RAM itself.
   Devicetree Specification v0.4, chapter 5 (flattened format); docs/kvmtool.md §4.2, §5. */
#include "guest.h"

static u32 be32(const void *p) {
  const u8 *b = p;
  return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}
static u64 be64(const void *p) { return (u64)be32(p) << 32 | be32((const u8 *)p + 4); }

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}
static u64 slen(const char *s) {
  u64 n = 0;
  while (s[n]) n++;
  return n;
}

static const u8 *fdt;

/* Finds property `prop` of the node at `path` ("/", "/chosen", "/cpus/cpu@1"); NULL if absent.
   Also counts the children of that node whose name starts with `child_prefix`, if given. */
static const u8 *fdt_prop(const char *path, const char *prop, u32 *len, const char *child_prefix, int *children) {
  const u8 *st = fdt + be32(fdt + 8);
  const char *strings = (const char *)fdt + be32(fdt + 12);
  char cur[256];
  u64 curlen = 0;
  int depth = 0, match_depth = -1;
  const u8 *found = NULL;
  if (children) *children = 0;
  for (;;) {
    u32 tok = be32(st);
    st += 4;
    if (tok == 1) { /* BEGIN_NODE */
      const char *name = (const char *)st;
      u64 n = slen(name);
      st += (n + 4) & ~3UL;
      if (depth == match_depth + 1 && match_depth >= 0 && child_prefix && children) {
        u64 k = 0;
        while (child_prefix[k] && child_prefix[k] == name[k]) k++;
        if (!child_prefix[k]) (*children)++;
      }
      if (depth > 0) {
        if (curlen + n + 2 > sizeof cur) return NULL;
        if (curlen != 1) cur[curlen++] = '/';
        memcpy(cur + curlen, name, n);
        curlen += n;
      } else {
        cur[0] = '/';
        curlen = 1;
      }
      cur[curlen] = 0;
      depth++;
      if (streq(cur, path)) match_depth = depth - 1;
    } else if (tok == 2) { /* END_NODE */
      depth--;
      if (depth == match_depth) match_depth = -1;
      while (curlen > 1 && cur[curlen - 1] != '/') curlen--;
      if (curlen > 1) curlen--;
      cur[curlen] = 0;
      if (depth == 0) break;
    } else if (tok == 3) { /* PROP */
      u32 plen = be32(st), nameoff = be32(st + 4);
      const u8 *val = st + 8;
      st += 8 + ((plen + 3) & ~3U);
      if (match_depth == depth - 1 && match_depth >= 0 && !found && streq(strings + nameoff, prop)) {
        found = val;
        if (len) *len = plen;
      }
    } else if (tok == 4) { /* NOP */
    } else {
      break; /* END or garbage */
    }
  }
  return found;
}

int main(u64 dtb) {
  fdt = (const u8 *)dtb;
  puts("fdt: dtb at ");
  put_hex(dtb);
  puts("\n");
  check_eq(be32(fdt), 0xd00dfeed, "FDT magic");
  check(be32(fdt + 20) >= 17 && be32(fdt + 24) <= 16, "version >= 17, last compatible version <= 16");
  u32 total = be32(fdt + 4);
  check(total > 64 && total <= 0x10000, "totalsize fits kvmtool's FDT_MAX_SIZE (64 KiB)");
  check(be64(fdt + be32(fdt + 16)) == 0 && be64(fdt + be32(fdt + 16) + 8) == 0, "an empty memory reservation map");

  u32 len = 0;
  const u8 *p = fdt_prop("/", "#address-cells", &len, NULL, NULL);
  check(p && be32(p) == 2, "/ #address-cells = 2");
  p = fdt_prop("/memory", "reg", &len, NULL, NULL);
  check(p && len == 16, "/memory reg is one (address, size) pair of 2 cells each");
  if (p) {
    puts("fdt: memory ");
    put_hex(be64(p));
    puts(" ");
    put_hex(be64(p + 8));
    puts("\n");
    check(dtb >= be64(p) && dtb < be64(p) + be64(p + 8), "the DTB lies in RAM");
  }
  int ncpus = 0;
  fdt_prop("/cpus", "#address-cells", NULL, "cpu@", &ncpus);
  puts("fdt: cpus ");
  put_dec(ncpus);
  puts("\n");
  p = fdt_prop("/cpus/cpu@1", "reg", &len, NULL, NULL);
  check(ncpus < 2 || (p && be32(p) == 1), "/cpus/cpu@1 reg = MPIDR 1");

  p = fdt_prop("/chosen", "bootargs", &len, NULL, NULL);
  puts("fdt: bootargs \"");
  if (p) puts((const char *)p);
  puts("\"\n");

  const u8 *s = fdt_prop("/chosen", "linux,initrd-start", &len, NULL, NULL);
  const u8 *e = fdt_prop("/chosen", "linux,initrd-end", &len, NULL, NULL);
  if (s && e) {
    u64 start = be64(s), end = be64(e);
    puts("fdt: initrd ");
    put_hex(start);
    puts(" ");
    put_hex(end);
    puts(" sum ");
    u64 sum = 0;
    for (u64 a = start; a < end; a++) sum += *(volatile u8 *)a;
    put_dec(sum);
    puts(" head \"");
    for (u64 a = start; a < end && a < start + 27; a++) putc(*(volatile u8 *)a);
    puts("\"\n");
    check(end <= dtb && dtb - end < 4 + 4, "the initrd ends right below the DTB");
  }

  /* stdout-path -> /aliases -> the UART node -> its reg, as kvm-unit-tests finds its console. */
  p = fdt_prop("/chosen", "stdout-path", &len, NULL, NULL);
  check(p && streq((const char *)p, "serial0"), "/chosen stdout-path = \"serial0\"");
  const u8 *alias = fdt_prop("/aliases", "serial0", &len, NULL, NULL);
  check(alias != NULL, "/aliases serial0 exists");
  if (alias) {
    p = fdt_prop((const char *)alias, "reg", &len, NULL, NULL);
    check(p && be64(p) == UART0, "the console's node has reg = 0x1000000 (the UART this guest prints on)");
    p = fdt_prop((const char *)alias, "compatible", &len, NULL, NULL);
    check(p && streq((const char *)p, "ns16550a"), "  and is an ns16550a");
  }
  p = fdt_prop("/psci", "method", &len, NULL, NULL);
  check(p && streq((const char *)p, "hvc"), "/psci method = \"hvc\"");
  return failures;
}
