/* xenport: sleeping and leaving under Xen.
 *
 *   idle  SCHEDOP_poll on the console's event channel with a timeout (the
 *         vCPU sleeps in Xen until input or the deadline), SCHEDOP_yield if
 *         Xen refuses it;
 *   exit  a last line "xenport: exit status N" (Xen only reports poweroff or
 *         crash), the ring drained (bounded), then SCHEDOP_shutdown: poweroff
 *         for status 0, crash otherwise.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "xen/guest.h"
#include "xen/hypercall.h"

#define MAX_WAIT_NS 10000000ULL             /* 10 ms */

static int poll_refused;                    /* SCHEDOP_poll's error: yield instead */
static unsigned long nr_polls, nr_yields;

void xen_wait(uint64_t deadline_ns)
{
    uint64_t now = xen_monotonic_ns();
    uint64_t cap = now + MAX_WAIT_NS;
    if (!deadline_ns || deadline_ns > cap)
        deadline_ns = cap;
    if (deadline_ns <= now)
        return;
    if (!poll_refused) {
        evtchn_port_t port;
        int have_ring = xen_console_port(&port);
        struct sched_poll p;
        set_xen_guest_handle(p.ports, &port);
        p.nr_ports = have_ring ? 1 : 0;
        p.timeout = deadline_ns + xen_system_time_at_boot;
        if (have_ring)
            xen_evtchn_clear(port);
        long rc = HYPERVISOR_sched_op(SCHEDOP_poll, &p);
        if (rc == 0) {
            nr_polls++;
            return;
        }
        poll_refused = (int)rc;
    }
    nr_yields++;
    HYPERVISOR_sched_op(SCHEDOP_yield, 0);
}

void xen_idle(uint64_t until_ns)
{
    xen_wait(until_ns);
}

void xen_sched_report(void)
{
    if (poll_refused)
        xp_printk("xenport: idle: %lu SCHEDOP_poll, %lu SCHEDOP_yield (Xen refused "
                  "SCHEDOP_poll: %d)\n", nr_polls, nr_yields, poll_refused);
    else
        xp_printk("xenport: idle: %lu SCHEDOP_poll, %lu SCHEDOP_yield\n", nr_polls, nr_yields);
}

void xen_exit(int status)
{
    /* Xen only tells poweroff from crash: the status goes on the console. */
    xp_printk("xenport: exit status %d\n", status);
    if (!xen_hypercalls_ready) {
        /* No SCHEDOP_shutdown: a triple fault, which Xen reports as reboot (a
           halt with interrupts off would read as poweroff). */
        xp_cpu_reset();
    }
    xen_console_drain();
    struct sched_shutdown s = {
        .reason = status == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash,
    };
    for (;;) {
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
        HYPERVISOR_sched_op(SCHEDOP_yield, 0);
    }
}
