/* xenport: --xen-selftest: the grant table and the xenstore client against
 * the real Xen (tests/xenport/test_xen_guest.py boots it); with a vif, the
 * network front end against its back end: connected, its MAC, a frame out
 * and its TX response back, an ARP request from 10.0.3.2 for 10.0.3.1 (the
 * address of the tests' dom0 bridge; without an answer the line says so, and
 * only the other checks count).  Every check prints a line; the result is the
 * number of failures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen/guest.h"
#include "xen/xenbus.h"
#include "xenport/netdev.h"

#define T "data/xp-selftest"

static int failures;

static void check(int ok, const char *what)
{
    xp_printk("xenport: selftest %s: %s\n", ok ? "ok" : "FAILED", what);
    if (!ok)
        failures++;
}

static uint8_t page_a[4096] __attribute__((aligned(4096)));
static uint8_t page_b[4096] __attribute__((aligned(4096)));

static void gnttab_checks(domid_t self)
{
    check(xen_gnttab_ready(), "gnttab: the table is mapped");
    if (!xen_gnttab_ready())
        return;
    unsigned initial = xen_gnttab_nr_free();
    static grant_ref_t refs[4096];
    unsigned n = 0;
    int unique = 1;
    while (n < 4096 && xen_gnttab_grant(self, xen_frame_of(page_a), 1, &refs[n]) == 0) {
        if (refs[n] < GNTTAB_NR_RESERVED_ENTRIES)
            unique = 0;
        n++;
    }
    check(n == initial && n > 0, "gnttab: every free reference can be granted, then none");
    for (unsigned i = 1; i < n && unique; i++)
        for (unsigned j = 0; j < i; j++)
            if (refs[i] == refs[j]) {
                unique = 0;
                break;
            }
    check(unique, "gnttab: references are distinct and not reserved");
    int ended = 1;
    for (unsigned i = 0; i < n; i++)
        ended &= xen_gnttab_end(refs[i]) == 0;
    check(ended && xen_gnttab_nr_free() == initial, "gnttab: ending access frees them all");
    check(xen_gnttab_end(1) != 0, "gnttab: a reserved reference cannot be ended");

    /* Granted to ourselves, a page can be copied through its reference. */
    for (int i = 0; i < 4096; i++)
        page_a[i] = (uint8_t)(i * 7 + 3);
    memset(page_b, 0, sizeof(page_b));
    grant_ref_t ref;
    if (xen_gnttab_grant(self, xen_frame_of(page_a), 1, &ref) != 0) {
        check(0, "gnttab: grant for the copy");
        return;
    }
    int rc = xen_gnttab_copy_from(self, ref, page_b, 4096);
    if (rc)
        xp_printk("xenport: selftest: GNTTABOP_copy: %d\n", rc);
    check(rc == 0 && memcmp(page_a, page_b, 4096) == 0,
          "gnttab: GNTTABOP_copy through the grant reads the page");
    check(xen_gnttab_end(ref) == 0, "gnttab: end access after the copy");
}

/* Xen's clock read back to back: never a step of seconds (a reading gone
   wrong would hold the clock there, and every bounded wait with it), and a
   sleep of 50 ms moves it by about that much. */
static void clock_checks(void)
{
    char line[160];
    uint64_t prev = xen_monotonic_ns(), largest = 0;
    for (int i = 0; i < 5000; i++) {
        uint64_t now = xen_monotonic_ns();
        if (now - prev > largest)
            largest = now - prev;
        prev = now;
    }
    snprintf(line, sizeof(line), "clock: 5000 readings, the largest step %lu us, "
             "TSC behind the stamp %lu times", (unsigned long)(largest / 1000),
             xen_clock_tsc_behind);
    check(largest < 10000000000ULL, line);
    uint64_t t0 = xen_monotonic_ns();
    while (xen_monotonic_ns() < t0 + 50000000ULL)
        xen_wait(t0 + 50000000ULL);
    uint64_t slept = xen_monotonic_ns() - t0;
    snprintf(line, sizeof(line), "clock: a 50 ms wait took %lu us", (unsigned long)(slept / 1000));
    check(slept >= 50000000ULL && slept < 10000000000ULL, line);
}

static void xenstore_checks(const char *home)
{
    char buf[256], buf2[64];
    const char *names[8];
    xs_rm(XS_NO_TRANSACTION, T);
    check(xs_write(XS_NO_TRANSACTION, T "/a", "hello") == 0, "xenstore: write");
    check(xs_read(XS_NO_TRANSACTION, T "/a", buf, sizeof(buf)) == 5 && strcmp(buf, "hello") == 0,
          "xenstore: read what was written");
    check(xs_read(XS_NO_TRANSACTION, T "/a", buf2, 3) == 5 && strcmp(buf2, "he") == 0,
          "xenstore: a read into a small buffer is cut, with the whole length");
    int rc = xs_read(XS_NO_TRANSACTION, T "/missing", buf, sizeof(buf));
    check(rc == -ENOENT && strcmp(xs_strerror(rc), "ENOENT") == 0,
          "xenstore: a missing key is ENOENT");
    xs_write(XS_NO_TRANSACTION, T "/b", "");
    rc = xs_directory(XS_NO_TRANSACTION, T, buf, sizeof(buf), names, 8);
    check(rc == 2 && ((strcmp(names[0], "a") == 0 && strcmp(names[1], "b") == 0) ||
                      (strcmp(names[0], "b") == 0 && strcmp(names[1], "a") == 0)),
          "xenstore: directory lists the children");
    check(xs_rm(XS_NO_TRANSACTION, T "/b") == 0 &&
          xs_read(XS_NO_TRANSACTION, T "/b", buf, sizeof(buf)) == -ENOENT, "xenstore: rm");

    xs_transaction_t tx;
    check(xs_transaction_start(&tx) == 0 && xs_write(tx, T "/a", "in-tx") == 0 &&
          xs_transaction_end(tx, 1) == 0 &&
          xs_read(XS_NO_TRANSACTION, T "/a", buf, sizeof(buf)) == 5 && strcmp(buf, "hello") == 0,
          "xenstore: an aborted transaction changes nothing");
    check(xs_transaction_start(&tx) == 0 && xs_write(tx, T "/a", "committed") == 0 &&
          xs_transaction_end(tx, 0) == 0 &&
          xs_read(XS_NO_TRANSACTION, T "/a", buf, sizeof(buf)) == 9 &&
          strcmp(buf, "committed") == 0, "xenstore: a committed transaction writes");

    char path[128];
    uint64_t soon = xen_monotonic_ns() + 2000000000ULL;
    check(xs_watch(T "/w", "tok") == 0 && xs_next_watch("tok", path, sizeof(path), soon) == 1,
          "xenstore: a watch fires once when set");
    check(!xs_watch_pending("tok"), "xenstore: then it is quiet");
    xs_write(XS_NO_TRANSACTION, T "/w", "1");
    soon = xen_monotonic_ns() + 2000000000ULL;
    check(xs_next_watch("tok", path, sizeof(path), soon) == 1 && strstr(path, T "/w") != 0,
          "xenstore: a watch fires on a write");
    check(xs_unwatch(T "/w", "tok") == 0, "xenstore: unwatch");
    xs_write(XS_NO_TRANSACTION, T "/w", "2");
    check(xs_next_watch("tok", path, sizeof(path), xen_monotonic_ns() + 300000000ULL) == 0,
          "xenstore: no event after unwatch");

    /* The front-end state machine against a back end played here. */
    struct xenbus_front f;
    char back[128];
    snprintf(back, sizeof(back), "%s/" T "/back", home);
    xs_write(XS_NO_TRANSACTION, T "/front/backend", back);
    xs_read(XS_NO_TRANSACTION, "domid", buf2, sizeof(buf2));
    xs_write(XS_NO_TRANSACTION, T "/front/backend-id", buf2);
    xs_write(XS_NO_TRANSACTION, T "/back/state", "2");
    check(xenbus_front_init(&f, T "/front") == 0 && f.state == XenbusStateInitialising &&
          strcmp(f.backend, back) == 0, "xenbus: front end Initialising");
    check(xenbus_backend_state(&f) == XenbusStateInitWait, "xenbus: the back end's state");
    check(xenbus_wait_backend(&f, XenbusStateConnected, 300000000ULL) == -ETIMEDOUT,
          "xenbus: waiting for a back end that does not move times out");
    xs_write(XS_NO_TRANSACTION, T "/back/state", "4");
    check(xenbus_front_connect(&f, 2000000000ULL) == 0 &&
          xs_read(XS_NO_TRANSACTION, T "/front/state", buf, sizeof(buf)) == 1 &&
          strcmp(buf, "4") == 0, "xenbus: Connected once the back end is");
    xs_write(XS_NO_TRANSACTION, T "/back/state", "6");
    check(xenbus_front_close(&f, 2000000000ULL) == 0 &&
          xs_read(XS_NO_TRANSACTION, T "/front/state", buf, sizeof(buf)) == 1 &&
          strcmp(buf, "6") == 0, "xenbus: Closed after the back end");
    xs_rm(XS_NO_TRANSACTION, T);
}

/* --- netfront ------------------------------------------------------------ */

static const uint8_t arp_sender[4] = { 10, 0, 3, 2 }, arp_target[4] = { 10, 0, 3, 1 };

static size_t arp_request(uint8_t *f, const uint8_t mac[6])
{
    static const uint8_t head[] = { 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 };
    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    memcpy(f + 12, head, sizeof(head));
    memcpy(f + 22, mac, 6);
    memcpy(f + 28, arp_sender, 4);
    memset(f + 32, 0, 6);
    memcpy(f + 38, arp_target, 4);
    return 42;
}

static int is_arp_reply(const uint8_t *f, size_t len, const uint8_t mac[6], uint8_t from[6])
{
    if (len < 42 || memcmp(f, mac, 6) != 0 || f[12] != 0x08 || f[13] != 0x06 ||
        f[20] != 0 || f[21] != 2 || memcmp(f + 28, arp_target, 4) != 0 ||
        memcmp(f + 38, arp_sender, 4) != 0)
        return 0;
    memcpy(from, f + 22, 6);
    return 1;
}

static void netfront_checks(void)
{
    char line[200];
    static uint8_t frame[2048];
    struct xen_netfront_info in;
    struct xp_netdev *nd = xp_netfront_probe();
    check(nd != 0 && xen_netfront_info(&in) == 0 && in.backend_state == XenbusStateConnected,
          "netfront: device/vif/0 connected to its back end");
    if (!nd)
        return;
    const uint8_t *m = nd->mac;
    snprintf(line, sizeof(line), "netfront: mac %02x:%02x:%02x:%02x:%02x:%02x from xenstore, "
             "back end %s (domain %u), event channel %u, %u+%u buffers",
             m[0], m[1], m[2], m[3], m[4], m[5], in.backend, in.backend_id, in.port,
             in.rx_bufs, in.tx_slots);
    check(xp_netfront_probe() == nd && strcmp(nd->name, "netfront") == 0 &&
          (m[0] & 1) == 0 && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) != 0, line);

    uint64_t tx0 = nd->tx_frames;
    size_t n = arp_request(frame, nd->mac);
    int sent = nd->transmit(nd, frame, n) == 0;
    uint8_t from[6];
    int answered = 0;
    uint64_t deadline = xen_monotonic_ns() + 3000000000ULL;
    while (sent && xen_monotonic_ns() < deadline) {
        size_t got = nd->receive(nd, frame, sizeof(frame));
        if (got && is_arp_reply(frame, got, nd->mac, from))
            answered = 1;
        xen_netfront_info(&in);                 /* takes the TX responses back */
        if (answered && in.tx_in_flight == 0)
            break;
        if (!got)
            xen_wait(xen_monotonic_ns() + 1000000ULL);
    }
    check(sent && nd->tx_frames == tx0 + 1 && in.tx_in_flight == 0 && in.tx_errors == 0,
          "netfront: a frame transmitted and its TX response received");
    if (answered)
        xp_printk("xenport: selftest ok: netfront: ARP 10.0.3.1 is at "
                  "%02x:%02x:%02x:%02x:%02x:%02x\n",
                  from[0], from[1], from[2], from[3], from[4], from[5]);
    else
        xp_printk("xenport: selftest: netfront: no ARP reply from 10.0.3.1 within 3 s "
                  "(not counted)\n");
    check(nd->transmit(nd, frame, 13) == -1 && nd->transmit(nd, frame, 1515) == -1,
          "netfront: frames shorter than a header or longer than 1514 bytes are refused");
    snprintf(line, sizeof(line), "netfront: rx %lu frames, malformed %lu, events %lu",
             (unsigned long)nd->rx_frames, (unsigned long)in.malformed,
             (unsigned long)in.events);
    check(in.malformed == 0, line);
}

int xen_selftest(void)
{
    char domid[16], home[64];
    failures = 0;
    check(xs_ready(), "xenstore: the ring is there");
    if (!xs_ready())
        return failures;
    int rc = xs_read(XS_NO_TRANSACTION, "domid", domid, sizeof(domid));
    check(rc > 0, "xenstore: read our domid");
    if (rc <= 0)
        return failures;
    snprintf(home, sizeof(home), "/local/domain/%s", domid);
    clock_checks();
    gnttab_checks((domid_t)strtoul(domid, 0, 10));
    xenstore_checks(home);
    char vif[8];
    if (xs_read(XS_NO_TRANSACTION, "device/vif/0/backend-id", vif, sizeof(vif)) > 0)
        netfront_checks();
    xp_printk("xenport: selftest: %d failures\n", failures);
    return failures;
}
