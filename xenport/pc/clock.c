/* xenport: time on a PC: the TSC as the clock, its rate from CPUID leaf 0x15
   when the CPU states it, else measured against the PIT (8254, channel 0); the
   date from the CMOS real-time clock. */
#include <stdint.h>
#include <string.h>

#include "pc/pc.h"
#include "xenport/platform.h"
#include "xenport/x86.h"

#define PIT_HZ 1193182ULL
#define PIT_CH0 0x40
#define PIT_CMD 0x43

static uint64_t tsc_at_boot;
static uint64_t ns_per_tick_q32;        /* nanoseconds per TSC tick, 32.32 fixed point */

static uint64_t tsc_monotonic_ns(void)
{
    uint64_t d = rdtsc() - tsc_at_boot;
    return (uint64_t)(((unsigned __int128)d * ns_per_tick_q32) >> 32);
}

static int64_t wall_clock_offset;

static int64_t tsc_wall_clock_offset_ns(void)
{
    return wall_clock_offset;
}

const struct xp_clock_ops pc_tsc_clock = {
    .name = "tsc",
    .monotonic_ns = tsc_monotonic_ns,
    .wall_clock_offset_ns = tsc_wall_clock_offset_ns,
};

static uint16_t pit_read_ch0(void)
{
    outb(PIT_CMD, 0x00);                    /* latch channel 0 */
    uint8_t lo = inb(PIT_CH0);
    uint8_t hi = inb(PIT_CH0);
    return (uint16_t)(lo | (hi << 8));
}

/* TSC ticks per second measured over ~10 ms of PIT time; 0 when the PIT does
   not count (no PIT on this machine). */
static uint64_t pit_calibrate(void)
{
    /* Channel 0, lobyte/hibyte, mode 2 (rate generator), reload 65536:
       counts down by one per PIT tick and wraps every ~55 ms. */
    outb(PIT_CMD, 0x34);
    outb(PIT_CH0, 0);
    outb(PIT_CH0, 0);
    const uint64_t want = PIT_HZ / 100;     /* 10 ms */
    uint16_t last = pit_read_ch0();
    /* Wait for the first change, to start on a tick boundary. */
    uint64_t t0 = rdtsc();
    for (;;) {
        uint16_t c = pit_read_ch0();
        if (c != last) {
            last = c;
            break;
        }
        if (rdtsc() - t0 > (1ULL << 31))
            return 0;
    }
    uint64_t start = rdtsc();
    uint64_t elapsed = 0;
    while (elapsed < want) {
        uint16_t c = pit_read_ch0();
        elapsed += (uint16_t)(last - c);
        last = c;
        if (rdtsc() - start > (1ULL << 34))
            return 0;
    }
    uint64_t cycles = rdtsc() - start;
    return cycles * PIT_HZ / elapsed;
}

/* The TSC rate when the CPU or the hypervisor states it: CPUID leaf 0x15
   (crystal ratio and frequency), or the timing leaf 0x40000010 (TSC kHz) that
   KVM and VMware offer (QEMU/KVM with invtsc and vmware-cpuid-freq). */
static uint64_t cpuid_tsc_hz(void)
{
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    if (a >= 0x15) {
        cpuid(0x15, 0, &a, &b, &c, &d);
        if (a && b && c)
            return (uint64_t)c * b / a;
    }
    cpuid(1, 0, &a, &b, &c, &d);
    if (c & (1u << 31)) {                   /* running under a hypervisor */
        uint32_t sig[3];
        cpuid(0x40000000, 0, &a, &sig[0], &sig[1], &sig[2]);
        int kvm = memcmp(sig, "KVMKVMKVM\0\0\0", 12) == 0;
        int vmware = memcmp(sig, "VMwareVMware", 12) == 0;
        if ((kvm || vmware) && a >= 0x40000010) {
            cpuid(0x40000010, 0, &a, &b, &c, &d);
            if (a)
                return (uint64_t)a * 1000;
        }
    }
    return 0;
}

/* --- the CMOS real-time clock ------------------------------------------------ */

static uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned bcd(uint8_t v, int is_bcd)
{
    return is_bcd ? (v & 15) + (v >> 4) * 10 : v;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Seconds since the epoch (UTC, as QEMU's RTC keeps it by default); -1 when
   there is no RTC. */
static int64_t rtc_seconds(void)
{
    if (cmos_read(0x0a) == 0xff && cmos_read(0x0b) == 0xff)
        return -1;
    for (int i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
        cpu_relax();
    uint8_t s = cmos_read(0x00), mi = cmos_read(0x02), h = cmos_read(0x04);
    uint8_t d = cmos_read(0x07), mo = cmos_read(0x08), y = cmos_read(0x09);
    uint8_t cent = cmos_read(0x32);
    uint8_t b = cmos_read(0x0b);
    int is_bcd = !(b & 0x04);
    int pm = !(b & 0x02) && (h & 0x80);
    unsigned hour = bcd(h & 0x7f, is_bcd);
    if (!(b & 0x02))
        hour = hour % 12 + (pm ? 12 : 0);
    unsigned year = bcd(y, is_bcd);
    unsigned century = (cent && cent != 0xff) ? bcd(cent, is_bcd) : 20;
    if (century < 19 || century > 30)
        century = 20;
    year += century * 100;
    unsigned month = bcd(mo, is_bcd), day = bcd(d, is_bcd);
    if (month < 1 || month > 12 || day < 1 || day > 31)
        return -1;
    return days_from_civil(year, month, day) * 86400 + hour * 3600 +
           bcd(mi, is_bcd) * 60 + bcd(s, is_bcd);
}

void pc_clock_init(void)
{
    tsc_at_boot = rdtsc();
    uint64_t hz = cpuid_tsc_hz();
    if (hz) {
        xp_tsc_source = "cpuid";
    } else if ((hz = pit_calibrate()) != 0) {
        xp_tsc_source = "pit";
    } else {
        uint32_t a, b, c, d;
        cpuid(0, 0, &a, &b, &c, &d);
        if (a >= 0x16) {
            cpuid(0x16, 0, &a, &b, &c, &d);
            hz = (uint64_t)(a & 0xffff) * 1000000;
        }
        if (!hz)
            hz = 2000000000ULL;
        xp_tsc_source = "guess";
        xp_printk("xenport: no PIT and no CPUID TSC rate: assuming %lu MHz\n",
                  (unsigned long)(hz / 1000000));
    }
    xp_tsc_hz = hz;
    ns_per_tick_q32 = (uint64_t)(((unsigned __int128)1000000000ULL << 32) / hz);
    int64_t now = rtc_seconds();
    if (now >= 0)
        wall_clock_offset = now * 1000000000LL - (int64_t)tsc_monotonic_ns();
}
