/* xenport: shared_info and event channels.
 *
 * Events arrive as an upcall on the PVH callback vector (HVM_PARAM_CALLBACK_IRQ,
 * vector type), which Xen raises while vcpu_info's evtchn_upcall_pending is
 * set; a PV guest registers an event callback instead, and keeps
 * evtchn_upcall_mask set except while it blocks.  Interrupts (PV: events) are on
 * only while the vCPU blocks (xen_block_vcpu), so handlers run there, never
 * in the middle of the VM.  The
 * dispatcher walks the two-level pending bitmap and calls the handler bound
 * to each port (the console, xenstore, VIRQ_TIMER, later the front ends);
 * events on other ports are just cleared.  Without the vector (Xen refused
 * it) idle falls back to SCHEDOP_poll on the bound ports (sched.c).
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "xen/guest.h"
#include "xen/hypercall.h"

#define UPCALL_VECTOR 0xf3
#define MAX_BINDINGS  16

/* shared_info lives in a page of the kernel's .bss, which Xen replaces with
   the real one (an HVM/PVH guest chooses where it appears; a PV guest maps
   the machine frame start_info names there). */
static uint8_t shared_info_page[4096] __attribute__((aligned(4096)));
volatile struct shared_info *xen_shared_info;

struct binding {
    evtchn_port_t port;
    xen_evtchn_handler handler;
    void *arg;
};
static struct binding bindings[MAX_BINDINGS];
static int nr_bindings;

int xen_upcalls_ready;
uint64_t xen_nr_upcalls, xen_nr_events;

int xen_shared_info_init(void)
{
    if (xen_pv) {
        /* No console yet: the caller crashes the guest on failure. */
        if (xen_pv_map_frame(shared_info_page, xen_pv_start_info->shared_info >> 12) != 0)
            return -1;
        xen_shared_info = (volatile struct shared_info *)shared_info_page;
        xen_shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
        return 0;
    }
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = (xen_pfn_t)((uintptr_t)shared_info_page >> 12),
    };
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc != 0) {
        xp_printk("xenport: XENMEM_add_to_physmap(shared_info) failed: %ld\n", rc);
        return -1;
    }
    xen_shared_info = (volatile struct shared_info *)shared_info_page;
    return 0;
}

void xen_evtchn_notify(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };
    HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

void xen_evtchn_clear(evtchn_port_t port)
{
    const unsigned bits = sizeof(xen_ulong_t) * 8;
    __atomic_fetch_and(&xen_shared_info->evtchn_pending[port / bits],
                       ~((xen_ulong_t)1 << (port % bits)), __ATOMIC_SEQ_CST);
}

int xen_evtchn_bind(evtchn_port_t port, xen_evtchn_handler handler, void *arg)
{
    if (nr_bindings == MAX_BINDINGS) {
        xp_printk("xenport: too many event channels bound (%d)\n", MAX_BINDINGS);
        return -1;
    }
    bindings[nr_bindings++] = (struct binding){ port, handler, arg };
    /* Unmasking re-raises an event that came while masked. */
    struct evtchn_unmask u = { .port = port };
    HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
    return 0;
}

int xen_evtchn_bind_virq(uint32_t virq, xen_evtchn_handler handler, void *arg,
                         evtchn_port_t *port)
{
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = 0 };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);
    if (rc != 0) {
        xp_printk("xenport: EVTCHNOP_bind_virq(%u) failed: %ld\n", virq, rc);
        return -1;
    }
    *port = b.port;
    return xen_evtchn_bind(b.port, handler, arg);
}

int xen_evtchn_ports(evtchn_port_t *ports, int max)
{
    int n = 0;
    for (int i = 0; i < nr_bindings && n < max; i++)
        ports[n++] = bindings[i].port;
    return n;
}

static void dispatch(evtchn_port_t port)
{
    xen_nr_events++;
    for (int i = 0; i < nr_bindings; i++)
        if (bindings[i].port == port) {
            if (bindings[i].handler)
                bindings[i].handler(port, bindings[i].arg);
            return;
        }
}

/* Called by the stub with interrupts off (PV: events masked); a PV stack
   need not be 16-byte aligned. */
__attribute__((force_align_arg_pointer)) void xen_upcall(struct xen_upcall_frame *f)
{
    xen_nr_upcalls++;
    xen_block_fixup(f);
    volatile struct vcpu_info *v = &xen_shared_info->vcpu_info[0];
    volatile struct shared_info *s = xen_shared_info;
    const unsigned bits = sizeof(xen_ulong_t) * 8;
    do {
        v->evtchn_upcall_pending = 0;
        xen_ulong_t sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
        while (sel) {
            unsigned w = (unsigned)__builtin_ctzl(sel);
            sel &= sel - 1;
            xen_ulong_t ready = s->evtchn_pending[w] & ~s->evtchn_mask[w];
            while (ready) {
                unsigned b = (unsigned)__builtin_ctzl(ready);
                ready &= ready - 1;
                evtchn_port_t port = w * bits + b;
                xen_evtchn_clear(port);
                dispatch(port);
            }
        }
    } while (v->evtchn_upcall_pending);
}

static int pv_events_init(void)
{
    struct callback_register event = {
        .type = CALLBACKTYPE_event,
        .flags = CALLBACKF_mask_events,
        .address = (unsigned long)xen_pv_upcall_stub,
    };
    struct callback_register failsafe = {
        .type = CALLBACKTYPE_failsafe,
        .flags = CALLBACKF_mask_events,
        .address = (unsigned long)xen_pv_failsafe_stub,
    };
    long rc = HYPERVISOR_callback_op(CALLBACKOP_register, &event);
    if (rc == 0)
        rc = HYPERVISOR_callback_op(CALLBACKOP_register, &failsafe);
    if (rc != 0) {
        xp_printk("xenport: CALLBACKOP_register refused: %ld; idle polls\n", rc);
        return -1;
    }
    xen_upcalls_ready = 1;
    return 0;
}

void xen_pv_failsafe(void)
{
    xp_panic("Xen: failsafe callback (a segment register could not be loaded)");
}

void xen_block_vcpu(void)
{
    if (!xen_pv) {
        xen_block(xp_hypercall_page + __HYPERVISOR_sched_op * 32, SCHEDOP_block);
        return;
    }
    HYPERVISOR_sched_op(SCHEDOP_block, 0);
    xen_shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
}

int xen_events_init(void)
{
    if (xen_pv)
        return pv_events_init();
    xen_shared_info->vcpu_info[0].evtchn_upcall_mask = 0;
    xp_cpu_set_gate(UPCALL_VECTOR, xen_upcall_stub);
    long rc = xen_hvm_set_param(HVM_PARAM_CALLBACK_IRQ,
                                ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | UPCALL_VECTOR);
    if (rc != 0) {
        xp_printk("xenport: HVM_PARAM_CALLBACK_IRQ (vector) refused: %ld; idle polls\n", rc);
        return -1;
    }
    xen_upcalls_ready = 1;
    return 0;
}
