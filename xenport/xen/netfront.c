/* xenport: the network front end of a Xen guest (device/vif/0), polled.
 *
 * The back end (Linux netback in dom0, bridged by the toolstack's vif script)
 * shares two rings with us, one page each, from Xen's public netif.h: TX
 * (our frames out) and RX (empty buffers we offer, filled by the back end's
 * grant copies: request-rx-copy).  One event channel serves both.  What we ask
 * for: no checksum offload (feature-no-csum-offload), no scatter-gather, no
 * GSO, no multi-queue; feature-rx-notify, which Linux netback requires (it
 * then waits for our event when it ran out of RX requests).
 *
 * Buffers are granted once, at set-up, and stay granted: RX_BUFS pages, one
 * per RX request (the request's id is the page's index), and TX slots of
 * 2 KiB, two per page, so a frame never crosses a page (netback treats that as
 * fatal).  The handshake: Initialising, wait for the back end's InitWait, the
 * keys in one transaction, then Connected at once (netback connects when the
 * front end is Connected, not Initialised) and wait for the back end's
 * Connected.  Every wait is bounded.
 *
 * Polled as the virtio driver is: receive() takes the RX responses, offers
 * each buffer again and notifies when the ring says so; transmit() takes the
 * TX responses back first.  The event handler only counts: its use is that an
 * arriving frame ends the vCPU's block in idle.  Whatever the back end writes
 * is checked (response ids, status, offset + length within the page, the
 * producer index within the ring): what does not fit is counted as malformed
 * and never reaches the caller.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen/guest.h"
#include "xen/hypercall.h"
#include "xen/xenbus.h"
#include "xenport/mm.h"
#include "xenport/netdev.h"

#include <xen/io/netif.h>

#define NODE         "device/vif/0"
#define RX_RING_ENTRIES __CONST_RING_SIZE(netif_rx, PAGE)     /* 256 */
#define RX_BUFS      64                 /* fewer than the ring holds */
#define TX_SLOTS     64
#define TX_SLOT_SIZE 2048
#define ETH_HEADER   14
#define ETH_MAX_FRAME 1514
#define PAGE         4096
#define WAIT_NS      (20ULL * 1000000000ULL)      /* the back end's states, nested TCG */

struct netfront {
    struct xp_netdev nd;                /* first: the stack's pointer is ours */
    struct xenbus_front f;
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    netif_tx_sring_t *tx_sring;
    netif_rx_sring_t *rx_sring;
    grant_ref_t tx_ring_ref, rx_ring_ref;
    evtchn_port_t port;
    uint8_t *rx_page[RX_BUFS];
    grant_ref_t rx_ref[RX_BUFS];
    uint16_t rx_at[RX_RING_ENTRIES];   /* the buffer of each ring entry, as offered */
    uint8_t *tx_mem;                    /* TX_SLOTS / 2 pages */
    grant_ref_t tx_ref[TX_SLOTS / 2];
    uint8_t tx_held[TX_SLOTS];
    uint16_t tx_free[TX_SLOTS];
    unsigned tx_nfree;
    int skipping;                       /* dropping the rest of a multi-slot frame */
    int extras;                         /* extra-info slots to skip */
    int broken;                         /* the back end broke the ring: no more use */
    uint64_t malformed, events, notifies, tx_errors;
};

static struct netfront nf;
static int probed;
static struct xp_netdev *probe_result;

static void on_event(evtchn_port_t port, void *arg)
{
    ((struct netfront *)arg)->events++;
}

static void notify(struct netfront *n)
{
    n->notifies++;
    xen_evtchn_notify(n->port);
}

static void rx_offer(struct netfront *n, unsigned id)
{
    RING_IDX i = n->rx.req_prod_pvt;
    netif_rx_request_t *req = RING_GET_REQUEST(&n->rx, i);
    req->id = (uint16_t)id;
    req->gref = n->rx_ref[id];
    n->rx_at[i & (RX_RING_ENTRIES - 1)] = (uint16_t)id;
    n->rx.req_prod_pvt = i + 1;
}

static void rx_push(struct netfront *n)
{
    int kick;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&n->rx, kick);
    if (kick)
        notify(n);
}

/* The responses the back end says it produced, if the count is believable:
   no more than the requests it was given (requested: req_prod_pvt - cons). */
static int responses_ready(struct netfront *n, RING_IDX prod, RING_IDX cons, RING_IDX requested)
{
    if (prod - cons > requested) {
        n->malformed++;
        n->broken = 1;
        xp_printk("xenport: netfront: the back end's response index is beyond the ring "
                  "(%u after %u); the device is no longer used\n", prod, cons);
        return 0;
    }
    return 1;
}

static void tx_reclaim(struct netfront *n)
{
    if (n->broken)
        return;
    int more;
    do {
        RING_IDX prod = n->tx.sring->rsp_prod;
        xen_rmb();                      /* the responses after the index */
        if (!responses_ready(n, prod, n->tx.rsp_cons, n->tx.req_prod_pvt - n->tx.rsp_cons))
            return;
        for (RING_IDX i = n->tx.rsp_cons; i != prod; i++) {
            netif_tx_response_t r = *RING_GET_RESPONSE(&n->tx, i);
            /* NETIF_RSP_NULL answers an extra slot, and we send none. */
            if (r.status == NETIF_RSP_NULL || r.id >= TX_SLOTS || !n->tx_held[r.id]) {
                n->malformed++;
                continue;
            }
            if (r.status != NETIF_RSP_OKAY)
                n->tx_errors++;
            n->tx_held[r.id] = 0;
            n->tx_free[n->tx_nfree++] = r.id;
        }
        n->tx.rsp_cons = prod;
        RING_FINAL_CHECK_FOR_RESPONSES(&n->tx, more);
    } while (more);
}

static int nf_transmit(struct xp_netdev *dev, const void *frame, size_t len)
{
    struct netfront *n = (struct netfront *)dev;
    if (!frame || len < ETH_HEADER || len > ETH_MAX_FRAME || n->broken) {
        dev->tx_dropped++;
        return -1;
    }
    tx_reclaim(n);                      /* which may find the ring broken */
    if (n->broken || n->tx_nfree == 0 || RING_FULL(&n->tx)) {
        dev->tx_dropped++;
        return -1;
    }
    unsigned slot = n->tx_free[--n->tx_nfree];
    memcpy(n->tx_mem + (size_t)slot * TX_SLOT_SIZE, frame, len);
    netif_tx_request_t *req = RING_GET_REQUEST(&n->tx, n->tx.req_prod_pvt);
    req->gref = n->tx_ref[slot / 2];
    req->offset = (uint16_t)((slot % 2) * TX_SLOT_SIZE);
    req->flags = 0;                     /* checksums done, no more data, no extras */
    req->id = (uint16_t)slot;
    req->size = (uint16_t)len;
    n->tx_held[slot] = 1;
    n->tx.req_prod_pvt++;
    int kick;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&n->tx, kick);
    if (kick)
        notify(n);
    dev->tx_frames++;
    dev->tx_bytes += len;
    return 0;
}

/* One response: the frame's length copied into buf, or 0.  The back end
   answers each request in the request's own place (netback does), so the
   buffer is the one offered at that place, whatever the response says; it is
   offered again in any case, and the ring stays full. */
static size_t rx_one(struct netfront *n, RING_IDX i, void *buf, size_t cap)
{
    netif_rx_response_t r = *RING_GET_RESPONSE(&n->rx, i);
    unsigned id = n->rx_at[i & (RX_RING_ENTRIES - 1)];
    if (n->extras) {
        /* An extra-info slot (we asked for none). */
        const struct netif_extra_info *x = (const struct netif_extra_info *)&r;
        n->malformed++;
        if (!(x->flags & XEN_NETIF_EXTRA_FLAG_MORE))
            n->extras = 0;
        rx_offer(n, id);
        return 0;
    }
    if (r.id != id) {
        n->malformed++;                 /* not the buffer of this place */
        rx_offer(n, id);
        return 0;
    }
    size_t got = 0;
    int more = (r.flags & NETRXF_more_data) != 0;
    if (r.flags & NETRXF_extra_info)
        n->extras = 1;
    if (n->skipping || more) {
        /* A frame in several slots (we offer no scatter-gather): dropped whole. */
        if (!n->skipping)
            n->nd.rx_dropped++;
        n->skipping = more;
    } else if (r.status < 0) {
        n->nd.rx_dropped++;             /* NETIF_RSP_ERROR, _DROPPED */
    } else if (r.status < ETH_HEADER || (size_t)r.offset + (size_t)r.status > PAGE) {
        n->malformed++;
    } else if ((size_t)r.status > cap || !buf) {
        n->nd.rx_dropped++;
    } else {
        got = (size_t)r.status;
        memcpy(buf, n->rx_page[id] + r.offset, got);
        n->nd.rx_frames++;
        n->nd.rx_bytes += got;
    }
    rx_offer(n, id);
    return got;
}

static size_t nf_receive(struct xp_netdev *dev, void *buf, size_t cap)
{
    struct netfront *n = (struct netfront *)dev;
    if (n->broken)
        return 0;
    size_t got = 0;
    int offered = 0, more;
    do {
        RING_IDX prod = n->rx.sring->rsp_prod;
        xen_rmb();
        if (!responses_ready(n, prod, n->rx.rsp_cons, n->rx.req_prod_pvt - n->rx.rsp_cons))
            return 0;
        while (!got && n->rx.rsp_cons != prod) {
            got = rx_one(n, n->rx.rsp_cons, buf, cap);
            n->rx.rsp_cons++;
            offered = 1;
        }
        if (got)
            break;
        /* Nothing left: ask for an event at the next response. */
        RING_FINAL_CHECK_FOR_RESPONSES(&n->rx, more);
    } while (more);
    if (offered)
        rx_push(n);
    return got;
}

/* --- set-up ----------------------------------------------------------------- */

static int parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        char *end;
        unsigned long b = strtoul(s, &end, 16);
        if (end == s || end - s > 2 || b > 255 || (i < 5 ? *end != ':' : *end != 0))
            return -1;
        mac[i] = (uint8_t)b;
        s = end + 1;
    }
    return 0;
}

static int grant(struct netfront *n, const void *page, int readonly, grant_ref_t *ref)
{
    return xen_gnttab_grant(n->f.backend_id, xen_frame_of(page), readonly, ref);
}

/* The keys for the back end, in one transaction (retried when xenstore asks). */
static int write_keys(struct netfront *n)
{
    char path[128], value[16];
    static const char *const fixed[][2] = {
        { "request-rx-copy", "1" }, { "feature-rx-notify", "1" },
        { "feature-no-csum-offload", "1" }, { "feature-sg", "0" },
        { "feature-gso-tcpv4", "0" }, { "feature-gso-tcpv6", "0" },
    };
    for (int tries = 0; tries < 8; tries++) {
        xs_transaction_t tx;
        int rc = xs_transaction_start(&tx);
        if (rc < 0)
            return rc;
        snprintf(path, sizeof(path), "%s/tx-ring-ref", n->f.nodename);
        snprintf(value, sizeof(value), "%u", n->tx_ring_ref);
        rc = xs_write(tx, path, value);
        snprintf(path, sizeof(path), "%s/rx-ring-ref", n->f.nodename);
        snprintf(value, sizeof(value), "%u", n->rx_ring_ref);
        if (rc == 0)
            rc = xs_write(tx, path, value);
        snprintf(path, sizeof(path), "%s/event-channel", n->f.nodename);
        snprintf(value, sizeof(value), "%u", n->port);
        if (rc == 0)
            rc = xs_write(tx, path, value);
        for (unsigned k = 0; rc == 0 && k < sizeof(fixed) / sizeof(fixed[0]); k++) {
            snprintf(path, sizeof(path), "%s/%s", n->f.nodename, fixed[k][0]);
            rc = xs_write(tx, path, fixed[k][1]);
        }
        if (rc < 0) {
            xs_transaction_end(tx, 1);
            return rc;
        }
        rc = xs_transaction_end(tx, 0);
        if (rc != -EAGAIN)
            return rc;
    }
    return -EAGAIN;
}

static const char *setup(struct netfront *n, int *err)
{
    char path[96], value[32];
    snprintf(path, sizeof(path), "%s/mac", NODE);
    int rc = xs_read(XS_NO_TRANSACTION, path, value, sizeof(value));
    if (rc < 0 || (size_t)rc >= sizeof(value) || parse_mac(value, n->nd.mac) != 0) {
        *err = rc < 0 ? rc : -EINVAL;
        return "no usable mac in xenstore";
    }
    if ((rc = xenbus_front_init(&n->f, NODE)) < 0) {
        *err = rc;
        return "cannot read its back end";
    }
    rc = xenbus_wait_backend(&n->f, XenbusStateInitWait, WAIT_NS);
    if (rc < 0 || rc > XenbusStateConnected) {
        *err = rc < 0 ? rc : -EIO;
        return "the back end did not come to InitWait";
    }
    /* The rings and the buffers, granted to the back end. */
    n->tx_sring = xp_page_alloc(1, 1);
    n->rx_sring = xp_page_alloc(1, 1);
    n->tx_mem = xp_page_alloc(TX_SLOTS / 2, 1);
    if (!n->tx_sring || !n->rx_sring || !n->tx_mem)
        return "no memory for the rings";
    memset(n->tx_sring, 0, PAGE);
    memset(n->rx_sring, 0, PAGE);
    memset(n->tx_mem, 0, (TX_SLOTS / 2) * PAGE);
    SHARED_RING_INIT(n->tx_sring);
    SHARED_RING_INIT(n->rx_sring);
    FRONT_RING_INIT(&n->tx, n->tx_sring, PAGE);
    FRONT_RING_INIT(&n->rx, n->rx_sring, PAGE);
    if (grant(n, n->tx_sring, 0, &n->tx_ring_ref) || grant(n, n->rx_sring, 0, &n->rx_ring_ref))
        return "the grant table is full";
    for (unsigned i = 0; i < TX_SLOTS / 2; i++)
        if (grant(n, n->tx_mem + (size_t)i * PAGE, 1, &n->tx_ref[i]))
            return "the grant table is full";
    for (unsigned i = 0; i < TX_SLOTS; i++)
        n->tx_free[i] = (uint16_t)(TX_SLOTS - 1 - i);
    n->tx_nfree = TX_SLOTS;
    for (unsigned i = 0; i < RX_BUFS; i++) {
        n->rx_page[i] = xp_page_alloc(1, 1);
        if (!n->rx_page[i])
            return "no memory for the receive buffers";
        memset(n->rx_page[i], 0, PAGE);
        if (grant(n, n->rx_page[i], 0, &n->rx_ref[i]))
            return "the grant table is full";
    }
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = n->f.backend_id };
    long hc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
    if (hc != 0) {
        *err = (int)hc;
        return "EVTCHNOP_alloc_unbound failed";
    }
    n->port = a.port;
    if (xen_evtchn_bind(n->port, on_event, n) != 0)
        return "cannot bind the event channel";
    if ((rc = write_keys(n)) < 0) {
        *err = rc;
        return "cannot write its keys";
    }
    /* Linux netback connects when the front end says Connected. */
    if ((rc = xenbus_switch_state(&n->f, XenbusStateConnected)) < 0) {
        *err = rc;
        return "cannot write its state";
    }
    rc = xenbus_wait_backend(&n->f, XenbusStateConnected, WAIT_NS);
    if (rc != XenbusStateConnected) {
        *err = rc < 0 ? rc : -EIO;
        return rc < 0 ? "the back end did not connect" : "the back end is closing";
    }
    for (unsigned i = 0; i < RX_BUFS; i++)
        rx_offer(n, i);
    rx_push(n);
    notify(n);                          /* whatever it waits for, it looks now */
    return 0;
}

struct xp_netdev *xp_netfront_probe(void)
{
    if (probed)
        return probe_result;
    probed = 1;
    if (!xen_hypercalls_ready)
        return 0;                       /* not on Xen */
    if (!xs_ready() || !xen_gnttab_ready())
        return 0;
    char value[160];
    if (xs_read(XS_NO_TRANSACTION, NODE "/backend", value, sizeof(value)) < 0)
        return 0;                       /* no vif */
    struct netfront *n = &nf;
    memset(n, 0, sizeof(*n));
    int err = 0;
    const char *error = setup(n, &err);
    if (error) {
        xp_printk("xenport: netfront %s: %s (%s)\n", NODE, error,
                  err ? xs_strerror(err) : "-");
        /* Leave the back end a state it understands; the pages stay granted
           (the back end may have mapped the rings). */
        xenbus_switch_state(&n->f, XenbusStateClosed);
        n->broken = 1;
        return 0;
    }
    n->nd.name = "netfront";
    n->nd.mtu = 1500;
    n->nd.transmit = nf_transmit;
    n->nd.receive = nf_receive;
    probe_result = &n->nd;
    return probe_result;
}

int xen_netfront_info(struct xen_netfront_info *info)
{
    if (!probe_result)
        return -1;
    struct netfront *n = &nf;
    tx_reclaim(n);
    info->backend = n->f.backend;
    info->backend_id = n->f.backend_id;
    info->port = n->port;
    info->tx_ring_ref = n->tx_ring_ref;
    info->rx_ring_ref = n->rx_ring_ref;
    info->rx_bufs = RX_BUFS;
    info->tx_slots = TX_SLOTS;
    info->tx_in_flight = TX_SLOTS - n->tx_nfree;
    info->malformed = n->malformed;
    info->events = n->events;
    info->notifies = n->notifies;
    info->tx_errors = n->tx_errors;
    info->backend_state = xenbus_backend_state(&n->f);
    return 0;
}

void xen_netfront_report(void)
{
    struct xen_netfront_info in;
    if (xen_netfront_info(&in) != 0)
        return;
    struct xp_netdev *d = probe_result;
    xp_printk("xenport: net %s mac %02x:%02x:%02x:%02x:%02x:%02x, back end %s (domain %u, "
              "state %d), event channel %u, %u+%u buffers\n", d->name,
              d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5],
              in.backend, in.backend_id, in.backend_state, in.port, in.rx_bufs, in.tx_slots);
    xp_printk("xenport: net %s: tx %lu frames %lu bytes, rx %lu frames %lu bytes, "
              "dropped tx %lu rx %lu, tx errors %lu, malformed %lu, events %lu, "
              "notifies %lu\n", d->name,
              (unsigned long)d->tx_frames, (unsigned long)d->tx_bytes,
              (unsigned long)d->rx_frames, (unsigned long)d->rx_bytes,
              (unsigned long)d->tx_dropped, (unsigned long)d->rx_dropped,
              (unsigned long)in.tx_errors, (unsigned long)in.malformed,
              (unsigned long)in.events, (unsigned long)in.notifies);
}
