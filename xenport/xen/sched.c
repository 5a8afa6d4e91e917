/* xenport: sleeping and leaving under Xen.
 *
 *   idle  with upcalls: a single-shot timer (VCPUOP_set_singleshot_timer,
 *         VIRQ_TIMER) at the deadline, then SCHEDOP_block: the vCPU sleeps in
 *         Xen until the deadline or any bound event (console input, xenstore);
 *         without them, SCHEDOP_poll on the bound ports with a timeout (at most
 *         10 ms), SCHEDOP_yield if Xen refuses that too;
 *   exit  a last line "xenport: exit status N" (Xen only reports poweroff or
 *         crash), the ring drained (bounded), then SCHEDOP_shutdown: poweroff
 *         for status 0, crash otherwise.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "xen/guest.h"
#include "xen/hypercall.h"

#define MAX_POLL_NS 10000000ULL             /* 10 ms */

static int poll_refused;                    /* SCHEDOP_poll's error: yield instead */
static int timer_ready;                     /* VIRQ_TIMER bound: the single-shot timer wakes us */
static unsigned long nr_blocks, nr_polls, nr_yields, nr_timer_events;

/* The timer's event only has to wake the vCPU. */
static void timer_event(evtchn_port_t port, void *arg)
{
    nr_timer_events++;
}

int xen_sched_init(void)
{
    evtchn_port_t port;
    if (!xen_upcalls_ready)
        return -1;
    /* PV vCPUs start with a 100 Hz periodic timer; an idle guest wants none. */
    HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0);
    if (xen_evtchn_bind_virq(VIRQ_TIMER, timer_event, 0, &port) != 0)
        return -1;
    timer_ready = 1;
    return 0;
}

/* An upcall that lands between xen_block's `sti` and Xen blocking the vCPU
   has handled the event that should wake it: the SCHEDOP_block still in
   %rdi becomes SCHEDOP_yield, so that the caller sees the event at once. */
void xen_block_fixup(struct xen_upcall_frame *f)
{
    uint64_t stub = (uint64_t)(uintptr_t)(xp_hypercall_page + __HYPERVISOR_sched_op * 32);
    if ((f->rip == (uint64_t)(uintptr_t)xen_block_call ||
         (f->rip >= stub && f->rip < stub + 32)) && f->rdi == SCHEDOP_block)
        f->rdi = SCHEDOP_yield;
}

static void poll_wait(uint64_t deadline_ns)
{
    uint64_t now = xen_monotonic_ns();
    uint64_t cap = now + MAX_POLL_NS;
    if (!deadline_ns || deadline_ns > cap)
        deadline_ns = cap;
    if (deadline_ns <= now)
        return;
    if (!poll_refused) {
        evtchn_port_t ports[8];
        int n = xen_evtchn_ports(ports, 8);
        struct sched_poll p;
        set_xen_guest_handle(p.ports, ports);
        p.nr_ports = (unsigned)n;
        p.timeout = deadline_ns + xen_system_time_at_boot;
        for (int i = 0; i < n; i++)
            xen_evtchn_clear(ports[i]);
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

void xen_wait(uint64_t deadline_ns)
{
    if (!timer_ready) {
        poll_wait(deadline_ns);
        return;
    }
    if (deadline_ns) {
        if (deadline_ns <= xen_monotonic_ns())
            return;
        struct vcpu_set_singleshot_timer t = {
            .timeout_abs_ns = deadline_ns + xen_system_time_at_boot,
            .flags = 0,
        };
        if (HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t) != 0) {
            poll_wait(deadline_ns);
            return;
        }
    } else {
        HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, 0);
    }
    nr_blocks++;
    xen_block_vcpu();
}

void xen_idle(uint64_t until_ns)
{
    xen_wait(until_ns);
    xen_control_poll();
}

void xen_sched_report(void)
{
    xp_printk("xenport: idle: %lu SCHEDOP_block (%lu upcalls, %lu events, %lu timer), "
              "%lu SCHEDOP_poll, %lu SCHEDOP_yield", nr_blocks, (unsigned long)xen_nr_upcalls,
              (unsigned long)xen_nr_events, nr_timer_events, nr_polls, nr_yields);
    if (poll_refused)
        xp_printk(" (Xen refused SCHEDOP_poll: %d)", poll_refused);
    xp_printk("\n");
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
    xen_shutdown(status == 0 ? xen_shutdown_reason : SHUTDOWN_crash);
}

void xen_shutdown(unsigned reason)
{
    struct sched_shutdown s = { .reason = reason };
    for (;;) {
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
        HYPERVISOR_sched_op(SCHEDOP_yield, 0);
    }
}
