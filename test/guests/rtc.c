/* The MC146818 RTC at 0x1010000 (index register, then data at +1): the time registers read the
   host's UTC time in BCD; registers C and D; CMOS RAM. The guest prints the time it read and
   the test compares it with the host clock. kvmtool hw/rtc.c (docs/kvmtool.md §7.2). */
#include "guest.h"

static u8 cmos_read(u8 index) {
  mmio_write8(RTC_BASE, index);
  return mmio_read8(RTC_BASE + 1);
}

static void cmos_write(u8 index, u8 v) {
  mmio_write8(RTC_BASE, index);
  mmio_write8(RTC_BASE + 1, v);
}

static int is_bcd(u8 v) { return (v & 0xf) <= 9 && (v >> 4) <= 9; }
static u32 bcd(u8 v) { return (v >> 4) * 10 + (v & 0xf); }

static void put2(u32 v) {
  putc('0' + v / 10 % 10);
  putc('0' + v % 10);
}

struct tm {
  u8 sec, min, hour, wday, mday, mon, year, century;
};

static void read_tm(struct tm *t) {
  t->sec = cmos_read(0x00);
  t->min = cmos_read(0x02);
  t->hour = cmos_read(0x04);
  t->wday = cmos_read(0x06);
  t->mday = cmos_read(0x07);
  t->mon = cmos_read(0x08);
  t->year = cmos_read(0x09);
  t->century = cmos_read(0x32);
}

/* Day of the week, Sunday = 1 (Sakamoto's method gives Sunday = 0). */
static u32 weekday(u32 y, u32 m, u32 d) {
  static const u32 t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  if (m < 3) y -= 1;
  return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7 + 1;
}

int main(u64 dtb) {
  struct tm a, b;
  /* Read until two reads agree, so no field rolled over in between. */
  read_tm(&a);
  for (int i = 0; i < 10; i++) {
    read_tm(&b);
    if (a.sec == b.sec && a.min == b.min && a.hour == b.hour && a.mday == b.mday && a.mon == b.mon &&
        a.year == b.year)
      break;
    a = b;
  }
  int all_bcd = is_bcd(a.sec) && is_bcd(a.min) && is_bcd(a.hour) && is_bcd(a.wday) && is_bcd(a.mday) &&
                is_bcd(a.mon) && is_bcd(a.year) && is_bcd(a.century);
  check(all_bcd, "every time register reads as BCD");
  u32 sec = bcd(a.sec), min = bcd(a.min), hour = bcd(a.hour), mday = bcd(a.mday), mon = bcd(a.mon);
  u32 year = bcd(a.century) * 100 + bcd(a.year);
  check(sec < 60 && min < 60 && hour < 24, "seconds, minutes and a 24-hour hour are in range");
  check(mday >= 1 && mday <= 31 && mon >= 1 && mon <= 12, "day of month and month are in range");
  check(year >= 2000 && year < 2100, "the century and year registers make a plausible year");
  check_eq(bcd(a.wday), weekday(year, mon, mday), "the day of the week matches the date (Sunday = 1)");
  puts("rtc: ");
  put2(year / 100);
  put2(year % 100);
  putc('-');
  put2(mon);
  putc('-');
  put2(mday);
  putc(' ');
  put2(hour);
  putc(':');
  put2(min);
  putc(':');
  put2(sec);
  puts("\n");

  check_eq(cmos_read(0x0d), 0x80, "register D = VRT (valid RAM and time)");
  check_eq(cmos_read(0x0a) & 0x80, 0, "register A: update in progress is never set");
  cmos_write(0x40, 0x5a);
  cmos_write(0x41, 0xa5);
  check(cmos_read(0x40) == 0x5a && cmos_read(0x41) == 0xa5, "CMOS RAM keeps what is written");
  cmos_write(0x80 | 0x42, 0x3c); /* bit 7 of the index is NMI-disable, not address */
  check_eq(cmos_read(0x42), 0x3c, "index bit 7 does not select another register");

  /* The counter and the RTC agree about how long a second is. */
  u8 s0 = cmos_read(0x00);
  u64 deadline = cntvct() + 3 * 62500000UL;
  while (cmos_read(0x00) == s0 && cntvct() < deadline) {
  }
  u64 t0 = cntvct();
  u8 s1 = cmos_read(0x00);
  while (cmos_read(0x00) == s1 && cntvct() < deadline + 62500000UL) {
  }
  u64 ticks = cntvct() - t0;
  puts("rtc: one second = ");
  put_dec(ticks);
  puts(" ticks\n");
  /* Loose bounds: the host may deschedule lkvm between the two reads of each edge. */
  check(ticks > 62500000UL * 3 / 4 && ticks < 62500000UL * 5 / 4,
        "one RTC second is about CNTFRQ (62.5M) counter ticks");
  return failures;
}
