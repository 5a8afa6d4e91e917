/* xenport: shared_info and event channels. */
#include <stdint.h>

#include "xen/guest.h"
#include "xen/hypercall.h"

/* shared_info lives in a page of the kernel's .bss, which Xen replaces with
   the real one (an HVM/PVH guest chooses where it appears). */
static uint8_t shared_info_page[4096] __attribute__((aligned(4096)));
volatile struct shared_info *xen_shared_info;

int xen_shared_info_init(void)
{
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
