/* xenport: the xenstore client: requests and replies over the shared ring,
 * one request at a time, watch events queued as they come between replies.
 * Every wait is bounded (XS_TIMEOUT_NS): a xenstore that does not answer, or
 * answers with bytes that are not a message, is a console message and a
 * crash shutdown, never a hang.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xen/guest.h"
#include "xen/hypercall.h"
#include "xen/xenbus.h"
#include "xen/xs_parse.h"

#define MAX_WATCH_EVENTS 8
#define WAKE_NS 100000000ULL        /* look at the ring at least this often */

static volatile struct xenstore_domain_interface *ring;
static evtchn_port_t port;
static uint32_t next_req_id = 1;
static struct xs_rx rx;

static struct {
    char path[256];
    char token[64];
} events[MAX_WATCH_EVENTS];
static unsigned events_head, nr_events;
static unsigned long nr_events_dropped;

static __attribute__((noreturn)) void fail(const char *what, const char *detail)
{
    xp_printk("xenport: xenstore %s%s%s: stopping\n", what, detail ? ": " : "",
              detail ? detail : "");
    xp_exit(XP_EXIT_CRASH);
}

int xs_init(void)
{
    if (xen_pv) {
        ring = xen_pv_page_of_mfn(xen_pv_start_info->store_mfn);
        if (!ring)
            return -1;
        port = xen_pv_start_info->store_evtchn;
        xs_rx_reset(&rx);
        xen_evtchn_bind(port, 0, 0);
        return 0;
    }
    uint64_t pfn = 0, evtchn = 0;
    if (xen_hvm_get_param(HVM_PARAM_STORE_PFN, &pfn) != 0 || !pfn)
        return -1;
    if (xen_hvm_get_param(HVM_PARAM_STORE_EVTCHN, &evtchn) != 0)
        return -1;
    if (pfn >= (4ULL << 30) >> 12)          /* outside the boot identity map */
        return -1;
    ring = (volatile struct xenstore_domain_interface *)(uintptr_t)(pfn << 12);
    port = (evtchn_port_t)evtchn;
    xs_rx_reset(&rx);
    /* Replies and watch events only have to wake the one waiting. */
    xen_evtchn_bind(port, 0, 0);
    return 0;
}

int xs_ready(void)
{
    return ring != 0;
}

const char *xs_strerror(int err)
{
    return xs_errno_name(err < 0 ? -err : err);
}

static void wait_until(uint64_t deadline)
{
    uint64_t soon = xen_monotonic_ns() + WAKE_NS;
    xen_wait(soon < deadline ? soon : deadline);
}

static void ring_put(const char *data, uint32_t len, uint64_t deadline)
{
    while (len) {
        XENSTORE_RING_IDX cons = ring->req_cons, prod = ring->req_prod;
        xen_mb();
        if (prod - cons > XENSTORE_RING_SIZE)
            fail("request ring is corrupt", 0);
        uint32_t space = XENSTORE_RING_SIZE - (prod - cons);
        if (!space) {
            xen_evtchn_notify(port);
            if (xen_monotonic_ns() >= deadline)
                fail("does not take requests", "the ring stayed full");
            wait_until(deadline);
            continue;
        }
        uint32_t n = len < space ? len : space;
        for (uint32_t i = 0; i < n; i++)
            ring->req[MASK_XENSTORE_IDX(prod++)] = data[i];
        xen_wmb();
        ring->req_prod = prod;
        data += n;
        len -= n;
    }
    xen_evtchn_notify(port);
}

/* Move what the reply ring holds into rx; 1 once rx has a whole message. */
static int ring_take(void)
{
    XENSTORE_RING_IDX cons = ring->rsp_cons, prod = ring->rsp_prod;
    xen_rmb();
    if (prod - cons > XENSTORE_RING_SIZE)
        fail("reply ring is corrupt", 0);
    int whole = 0;
    while (cons != prod && !whole) {
        uint32_t idx = MASK_XENSTORE_IDX(cons);
        uint32_t avail = prod - cons;
        if (avail > XENSTORE_RING_SIZE - idx)
            avail = XENSTORE_RING_SIZE - idx;
        uint32_t used;
        int r = xs_rx_feed(&rx, (const char *)&ring->rsp[idx], avail, &used);
        if (r < 0)
            fail("sent a malformed message", "bad length or type");
        cons += used;
        whole = r;
    }
    if (cons != ring->rsp_cons) {
        xen_mb();
        ring->rsp_cons = cons;
        xen_evtchn_notify(port);
    }
    return whole;
}

static void queue_watch_event(void)
{
    const char *s[2];
    if (xs_split(rx.payload, rx.hdr.len, s, 2) < 2)
        return;                             /* not path and token: ignore */
    if (nr_events == MAX_WATCH_EVENTS) {
        events_head = (events_head + 1) % MAX_WATCH_EVENTS;
        nr_events--;
        nr_events_dropped++;
    }
    unsigned i = (events_head + nr_events) % MAX_WATCH_EVENTS;
    strncpy(events[i].path, s[0], sizeof(events[i].path) - 1);
    events[i].path[sizeof(events[i].path) - 1] = 0;
    strncpy(events[i].token, s[1], sizeof(events[i].token) - 1);
    events[i].token[sizeof(events[i].token) - 1] = 0;
    nr_events++;
}

/* Take watch events off the ring (no waiting); a reply there is stale. */
static void drain_events(void)
{
    while (ring_take()) {
        if (rx.hdr.type == XS_WATCH_EVENT)
            queue_watch_event();
        xs_rx_reset(&rx);
    }
}

static const char *type_name(uint32_t type)
{
    switch (type) {
    case XS_READ: return "XS_READ";
    case XS_WRITE: return "XS_WRITE";
    case XS_RM: return "XS_RM";
    case XS_DIRECTORY: return "XS_DIRECTORY";
    case XS_WATCH: return "XS_WATCH";
    case XS_UNWATCH: return "XS_UNWATCH";
    case XS_TRANSACTION_START: return "XS_TRANSACTION_START";
    case XS_TRANSACTION_END: return "XS_TRANSACTION_END";
    default: return "a request";
    }
}

/* Send type with the payload parts; wait for its reply, left in rx (the
   caller resets it).  0 or -errno. */
static int request(uint32_t type, xs_transaction_t tx, const char *const *parts,
                   const uint32_t *lens, int nparts)
{
    if (!ring)
        return -ENODEV;
    struct xsd_sockmsg h = { .type = type, .req_id = next_req_id++, .tx_id = tx, .len = 0 };
    for (int i = 0; i < nparts; i++)
        h.len += lens[i];
    if (h.len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    drain_events();
    uint64_t deadline = xen_monotonic_ns() + XS_TIMEOUT_NS;
    ring_put((const char *)&h, sizeof(h), deadline);
    for (int i = 0; i < nparts; i++)
        ring_put(parts[i], lens[i], deadline);
    for (;;) {
        if (!ring_take()) {
            if (xen_monotonic_ns() >= deadline)
                fail("does not answer", type_name(type));
            wait_until(deadline);
            continue;
        }
        if (rx.hdr.type == XS_WATCH_EVENT) {
            queue_watch_event();
            xs_rx_reset(&rx);
            continue;
        }
        if (rx.hdr.req_id != h.req_id) {
            xs_rx_reset(&rx);
            continue;
        }
        int rc = xs_reply_status(&rx, type);
        if (rc < 0)
            xs_rx_reset(&rx);
        return rc;
    }
}

static int request_path(uint32_t type, xs_transaction_t tx, const char *path)
{
    const char *parts[1] = { path };
    uint32_t lens[1] = { (uint32_t)strlen(path) + 1 };
    return request(type, tx, parts, lens, 1);
}

int xs_read(xs_transaction_t tx, const char *path, char *buf, size_t size)
{
    int rc = request_path(XS_READ, tx, path);
    if (rc < 0)
        return rc;
    uint32_t n = rx.hdr.len;
    if (size) {
        uint32_t m = n < size - 1 ? n : (uint32_t)(size - 1);
        memcpy(buf, rx.payload, m);
        buf[m] = 0;
    }
    xs_rx_reset(&rx);
    return (int)n;
}

int xs_write(xs_transaction_t tx, const char *path, const char *value)
{
    const char *parts[2] = { path, value };
    uint32_t lens[2] = { (uint32_t)strlen(path) + 1, (uint32_t)strlen(value) };
    int rc = request(XS_WRITE, tx, parts, lens, 2);
    if (rc == 0)
        xs_rx_reset(&rx);
    return rc;
}

int xs_rm(xs_transaction_t tx, const char *path)
{
    int rc = request_path(XS_RM, tx, path);
    if (rc == 0)
        xs_rx_reset(&rx);
    return rc;
}

int xs_directory(xs_transaction_t tx, const char *path, char *buf, size_t size,
                 const char **names, int max)
{
    int rc = request_path(XS_DIRECTORY, tx, path);
    if (rc < 0)
        return rc;
    uint32_t n = rx.hdr.len;
    if (n > size) {
        xs_rx_reset(&rx);
        return -E2BIG;
    }
    memcpy(buf, rx.payload, n);
    xs_rx_reset(&rx);
    rc = xs_split(buf, n, names, max);
    return rc;
}

int xs_transaction_start(xs_transaction_t *tx)
{
    const char *parts[1] = { "" };
    uint32_t lens[1] = { 1 };
    int rc = request(XS_TRANSACTION_START, XS_NO_TRANSACTION, parts, lens, 1);
    if (rc < 0)
        return rc;
    char *end;
    unsigned long id = strtoul(rx.payload, &end, 10);
    int ok = end != rx.payload && id != 0;
    xs_rx_reset(&rx);
    if (!ok)
        return -EIO;
    *tx = (xs_transaction_t)id;
    return 0;
}

int xs_transaction_end(xs_transaction_t tx, int abort)
{
    const char *parts[1] = { abort ? "F" : "T" };
    uint32_t lens[1] = { 2 };
    int rc = request(XS_TRANSACTION_END, tx, parts, lens, 1);
    if (rc == 0)
        xs_rx_reset(&rx);
    return rc;
}

int xs_watch(const char *path, const char *token)
{
    const char *parts[2] = { path, token };
    uint32_t lens[2] = { (uint32_t)strlen(path) + 1, (uint32_t)strlen(token) + 1 };
    int rc = request(XS_WATCH, XS_NO_TRANSACTION, parts, lens, 2);
    if (rc == 0)
        xs_rx_reset(&rx);
    return rc;
}

int xs_unwatch(const char *path, const char *token)
{
    const char *parts[2] = { path, token };
    uint32_t lens[2] = { (uint32_t)strlen(path) + 1, (uint32_t)strlen(token) + 1 };
    int rc = request(XS_UNWATCH, XS_NO_TRANSACTION, parts, lens, 2);
    if (rc == 0)
        xs_rx_reset(&rx);
    return rc;
}

/* The queue's index of the first event for token, or -1. */
static int find_event(const char *token)
{
    for (unsigned k = 0; k < nr_events; k++) {
        unsigned i = (events_head + k) % MAX_WATCH_EVENTS;
        if (strcmp(events[i].token, token) == 0)
            return (int)k;
    }
    return -1;
}

int xs_watch_pending(const char *token)
{
    if (!ring)
        return 0;
    drain_events();
    return find_event(token) >= 0;
}

int xs_next_watch(const char *token, char *path, size_t path_size, uint64_t deadline_ns)
{
    if (!ring)
        return 0;
    for (;;) {
        drain_events();
        int k = find_event(token);
        if (k >= 0) {
            unsigned i = (events_head + (unsigned)k) % MAX_WATCH_EVENTS;
            strncpy(path, events[i].path, path_size - 1);
            path[path_size - 1] = 0;
            /* Close the gap: the later events move up one place. */
            for (unsigned j = (unsigned)k; j + 1 < nr_events; j++)
                events[(events_head + j) % MAX_WATCH_EVENTS] =
                    events[(events_head + j + 1) % MAX_WATCH_EVENTS];
            nr_events--;
            return 1;
        }
        if (!deadline_ns || xen_monotonic_ns() >= deadline_ns)
            return 0;
        wait_until(deadline_ns);
    }
}
