/* xenport: Xen guests (`xl create`, type="pvh" or "pv"): detection, the
 * hypercall page, the platform descriptions and the order of the set-up.
 *
 * Xen is found by CPUID (leaves 0x40000000 + 0x100 * i signed "XenVMMXenVMM");
 * the hypercall page is installed through the MSR that leaf base+2 names.
 * The ABI comes from Xen's public headers (Debian's libxen-dev).  The classic
 * PV entry (pv.c) has its hypercall page filled by the domain builder and
 * finds shared_info, the console and xenstore through start_info; the rest
 * is the same.
 */
#include <stdint.h>
#include <string.h>

#include "xen/guest.h"
#include "xen/hypercall.h"
#include "xen/xenbus.h"
#include "xenport/netdev.h"
#include "xenport/x86.h"

int xen_hypercalls_ready;
static uint32_t xen_version;

uint32_t xen_cpuid_base(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 31)))                 /* no hypervisor at all */
        return 0;
    for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
        uint32_t sig[3];
        cpuid(base, 0, &a, &sig[0], &sig[1], &sig[2]);
        if (memcmp(sig, "XenVMMXenVMM", 12) == 0 && a - base >= 2)
            return base;
    }
    return 0;
}

int xen_hypercall_init(uint32_t base)
{
    uint32_t a, b, c, d;
    cpuid(base + 1, 0, &a, &b, &c, &d);
    xen_version = a;
    cpuid(base + 2, 0, &a, &b, &c, &d);     /* a: hypercall pages, b: the MSR */
    if (a < 1)
        return -1;
    wrmsr(b, (uint64_t)(uintptr_t)xp_hypercall_page);
    xen_hypercalls_ready = ((volatile uint8_t *)xp_hypercall_page)[0] != 0xcc;
    return xen_hypercalls_ready ? 0 : -1;
}

int xen_platform_init(void)
{
    if (!xen_hypercalls_ready) {
        xp_printk("xenport: Xen did not fill the hypercall page\n");
        return -1;
    }
    if (xen_pv)
        xen_version = (uint32_t)HYPERVISOR_xen_version(XENVER_version, 0);
    /* PV: shared_info and the console are up already (pv.c). */
    if (!xen_shared_info && xen_shared_info_init() != 0)
        return -1;
    xen_clock_init();
    /* Without the upcall, idle polls the bound ports instead of blocking. */
    xen_events_init();
    evtchn_port_t console_port;
    if (!xen_console_port(&console_port) && xen_console_init() != 0)
        xp_printk("xenport: no PV console (HVM_PARAM_CONSOLE_PFN): output on port 0xe9 only\n");
    xen_sched_init();
    if (xen_gnttab_init() != 0)
        xp_printk("xenport: no grant table: front ends cannot share pages\n");
    if (xs_init() != 0)
        xp_printk("xenport: no xenstore (HVM_PARAM_STORE_PFN): the toolstack cannot reach "
                  "the guest\n");
    else
        xen_control_init();
    return 0;
}

/* "pvh-xen-4.17", "pv-xen-4.17"; called before printf may be used. */
static const char *describe(void)
{
    static char buf[48];
    unsigned major = xen_version >> 16, minor = xen_version & 0xffff;
    char *p = buf;
    size_t n0 = strlen(xp_platform->name);
    memcpy(p, xp_platform->name, n0);
    p += n0;
    *p++ = '-';
    char tmp[12];
    int n = 0;
    do { tmp[n++] = (char)('0' + major % 10); major /= 10; } while (major);
    while (n) *p++ = tmp[--n];
    *p++ = '.';
    do { tmp[n++] = (char)('0' + minor % 10); minor /= 10; } while (minor);
    while (n) *p++ = tmp[--n];
    *p = 0;
    return buf;
}

static void report(void)
{
    if (xen_pv)
        xp_printk("xenport: PV: %lu page-table pages mapped the domain's memory\n",
                  xen_pv_table_pages());
    xen_sched_report();
    xen_console_report();
    xen_netfront_report();
}

/* PVH and PV differ in how they start (pvh.c, pv.c), not in their services. */
#define XEN_SERVICES \
    .describe = describe, \
    .out = &xen_out_console, \
    .err = &xen_err_console, \
    .in = &xen_in_console, \
    .clock = &xen_clock, \
    .exit = xen_exit, \
    .idle = xen_idle, \
    .report = report, \
    .selftest = xen_selftest, \
    .net_probe = xp_netfront_probe

const struct xp_platform xp_pvh_xen_platform = { .name = "pvh-xen", XEN_SERVICES };
const struct xp_platform xp_pv_xen_platform = { .name = "pv-xen", XEN_SERVICES };
