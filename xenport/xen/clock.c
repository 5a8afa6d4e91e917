/* xenport: time under Xen: Xen system time from vcpu_info[0].time in
   shared_info (pvclock), the date from shared_info's wall clock. */
#include <stdint.h>

#include "xen/guest.h"
#include "xenport/x86.h"

uint64_t xen_system_time_at_boot;
unsigned long xen_clock_tsc_behind;
static uint64_t last_ns;
static int64_t wall_clock_offset;

/* Xen system time (ns since Xen booted), from vcpu 0's time info. */
static uint64_t xen_system_time(void)
{
    volatile struct vcpu_time_info *t = &xen_shared_info->vcpu_info[0].time;
    uint32_t version;
    uint64_t stamp, system, tsc;
    uint32_t mul;
    int8_t shift;
    do {
        version = t->version;
        xen_rmb();
        stamp = t->tsc_timestamp;
        system = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        tsc = rdtsc();
        xen_rmb();
    } while ((version & 1) || version != t->version);
    /* A TSC behind the stamp (an emulated TSC, or one read on another pCPU
       under nested Xen) would scale to an enormous time, and the never-backwards
       rule would then hold the clock there: count it as the stamp's own time. */
    uint64_t delta = tsc - stamp;
    if ((int64_t)delta < 0) {
        xen_clock_tsc_behind++;
        delta = 0;
    }
    if (shift >= 0)
        delta <<= shift;
    else
        delta >>= -shift;
    return system + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t xen_monotonic_ns(void)
{
    if (!xen_shared_info)
        return 0;
    uint64_t now = xen_system_time() - xen_system_time_at_boot;
    if (now < last_ns)                      /* never backwards (one vCPU) */
        now = last_ns;
    last_ns = now;
    return now;
}

static int64_t xen_wall_clock_offset_ns(void)
{
    return wall_clock_offset;
}

const struct xp_clock_ops xen_clock = {
    .name = "xen-pvclock",
    .monotonic_ns = xen_monotonic_ns,
    .wall_clock_offset_ns = xen_wall_clock_offset_ns,
};

void xen_clock_init(void)
{
    volatile struct shared_info *s = xen_shared_info;
    xen_system_time_at_boot = xen_system_time();
    last_ns = 0;
    volatile struct vcpu_time_info *t = &s->vcpu_info[0].time;
    /* TSC rate (for --xen-info): ((10^9 << 32) / mul) >> shift. */
    uint64_t hz = (uint64_t)(((unsigned __int128)1000000000ULL << 32) /
                             (t->tsc_to_system_mul ? t->tsc_to_system_mul : 1));
    hz = t->tsc_shift >= 0 ? hz >> t->tsc_shift : hz << -t->tsc_shift;
    xp_tsc_hz = hz;
    xp_tsc_source = "xen";
    /* The date: Xen's wall clock is the epoch time at system time 0. */
    uint32_t v;
    uint64_t sec, nsec;
    do {
        v = s->wc_version;
        xen_rmb();
        sec = s->wc_sec | ((uint64_t)s->xen_wc_sec_hi << 32);
        nsec = s->wc_nsec;
        xen_rmb();
    } while ((v & 1) || v != s->wc_version);
    wall_clock_offset = (int64_t)(sec * 1000000000ULL + nsec + xen_system_time_at_boot);
}
