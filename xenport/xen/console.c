/* xenport: the consoles under Xen.
 *
 * The PV console ring (HVM_PARAM_CONSOLE_PFN, _EVTCHN; PV: start_info) is
 * stdout, stdin and stderr: what `xl console` shows and xenconsoled logs.
 * Under PVH stderr is also copied to port 0xe9, which Xen prints on its own
 * console (`xl dmesg`, guest_loglvl=all); until the ring is up (and when
 * there is none), port 0xe9 is the only console.  A PV guest has no I/O
 * ports: the ring only.
 */
#include <stddef.h>
#include <stdint.h>

#include <xen/io/console.h>

#include "xen/guest.h"
#include "xen/hypercall.h"
#include "xenport/x86.h"

#define DEBUGCON 0xe9
#define DRAIN_NS 2000000000ULL              /* how long a full ring may stall */

static volatile struct xencons_interface *ring;
static evtchn_port_t ring_port;
static int ring_stalled;                    /* the backend stopped reading: drop output */

static void e9_write(const char *buf, size_t len)
{
    if (xen_pv)
        return;
    for (size_t i = 0; i < len; i++)
        outb(DEBUGCON, (uint8_t)buf[i]);
}

int xen_console_port(evtchn_port_t *port)
{
    *port = ring_port;
    return ring != 0;
}

/* Wait (bounded) until the ring has room for `space_needed` bytes. */
static int ring_wait_consumed(XENCONS_RING_IDX space_needed, uint64_t timeout_ns)
{
    uint64_t deadline = xen_monotonic_ns() + timeout_ns;
    for (;;) {
        XENCONS_RING_IDX used = ring->out_prod - ring->out_cons;
        if (sizeof(ring->out) - used >= space_needed)
            return 1;
        if (xen_monotonic_ns() >= deadline)
            return 0;
        xen_evtchn_notify(ring_port);
        /* Not only until the backend's event: xenconsoled may not send one. */
        uint64_t soon = xen_monotonic_ns() + 10000000ULL;
        xen_wait(soon < deadline ? soon : deadline);
    }
}

void xen_console_drain(void)
{
    if (ring && !ring_stalled)
        ring_wait_consumed(sizeof(ring->out), DRAIN_NS);
}

static void ring_write(const char *buf, size_t len)
{
    while (len) {
        XENCONS_RING_IDX cons = ring->out_cons, prod = ring->out_prod;
        xen_mb();
        size_t space = sizeof(ring->out) - (prod - cons);
        if (space == 0) {
            if (ring_stalled || !ring_wait_consumed(1, DRAIN_NS)) {
                ring_stalled = 1;
                return;
            }
            continue;
        }
        ring_stalled = 0;
        size_t n = len < space ? len : space;
        for (size_t i = 0; i < n; i++)
            ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = buf[i];
        xen_wmb();
        ring->out_prod = prod;
        buf += n;
        len -= n;
        xen_evtchn_notify(ring_port);
    }
}

static void out_write(const char *buf, size_t len)
{
    if (ring)
        ring_write(buf, len);
    else
        e9_write(buf, len);
}

static void err_write(const char *buf, size_t len)
{
    if (ring)
        ring_write(buf, len);
    e9_write(buf, len);
}

/* Console input, as on the serial line: Ctrl-D at the start of a read is the
   end of input.  No ring: no input (end of input at once). */
static size_t ring_read(char *buf, size_t len, int block)
{
    if (!len || !ring)
        return 0;
    for (;;) {
        XENCONS_RING_IDX cons = ring->in_cons, prod = ring->in_prod;
        xen_rmb();
        size_t n = 0;
        int eof = 0;
        while (cons != prod && n < len) {
            char c = ring->in[MASK_XENCONS_IDX(cons, ring->in)];
            if (c == 0x04) {
                if (n == 0) {
                    cons++;
                    eof = 1;
                }
                break;
            }
            cons++;
            buf[n++] = c;
            if (c == '\n')
                break;
        }
        if (cons != ring->in_cons) {
            xen_mb();
            ring->in_cons = cons;
            xen_evtchn_notify(ring_port);
        }
        if (n || eof || !block)
            return n;
        /* idle, not xen_wait: a reader waiting for input still hears xl shutdown. */
        xen_idle(0);
    }
}

static const char *out_where(void)
{
    return ring ? "xen-console-ring" : xen_pv ? 0 : "xen-0xe9";
}

static const char *err_where(void)
{
    if (xen_pv)
        return ring ? "xen-console-ring" : 0;
    return ring ? "xen-console-ring+0xe9" : "xen-0xe9";
}

static const char *in_where(void)
{
    return ring ? "xen-console-ring" : 0;
}

const struct xp_console_ops xen_out_console = {
    .name = "xen-console-ring",
    .write = out_write,
    .where = out_where,
};

const struct xp_console_ops xen_err_console = {
    .name = "xen-console-ring+0xe9",
    .write = err_write,
    .where = err_where,
};

const struct xp_console_ops xen_in_console = {
    .name = "xen-console-ring",
    .read = ring_read,
    .where = in_where,
};

int xen_console_init(void)
{
    if (xen_pv) {
        const struct start_info *si = xen_pv_start_info;
        ring = xen_pv_page_of_mfn(si->console.domU.mfn);
        if (!ring)
            return -1;
        ring_port = si->console.domU.evtchn;
        xen_evtchn_bind(ring_port, 0, 0);
        return 0;
    }
    uint64_t pfn = 0, port = 0;
    if (xen_hvm_get_param(HVM_PARAM_CONSOLE_PFN, &pfn) != 0 || !pfn)
        return -1;
    if (xen_hvm_get_param(HVM_PARAM_CONSOLE_EVTCHN, &port) != 0)
        return -1;
    if (pfn >= (4ULL << 30) >> 12)          /* outside the boot identity map */
        return -1;
    ring_port = (evtchn_port_t)port;
    ring = (volatile struct xencons_interface *)(uintptr_t)(pfn << 12);
    /* Its events (input, output taken) only wake a waiting reader or writer. */
    xen_evtchn_bind(ring_port, 0, 0);
    return 0;
}

void xen_console_report(void)
{
    if (ring_stalled)
        xp_printk("xenport: the console ring stalled: output was dropped\n");
}
