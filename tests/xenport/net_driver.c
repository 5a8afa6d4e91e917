/* Hosted driver for the guest's network (tests/xenport/test_net_host.py): lwIP
 * as xenport configures it, xenport/net/netif.c and xenport/net/socket.c (its
 * calls renamed xpt_* by net_rename.h), over a fake network device, a fake
 * clock and a peer this program plays with a small TCP/IP stack of its own.
 *
 *   net_driver serve            the socket calls against a well-behaved peer
 *   net_driver fuzz SEED N      N malformed frames among live connections
 *   net_driver dhcp SEED N      a DHCP lease, then N malformed server replies
 *
 * The build (test_net_host.py) swaps three things: netif.c's TSC-seeded
 * xp_net_random for the seeded one here, lwIP's malloc (core/mem.c, through
 * net_lwip_mem.h) for counting and sometimes failing wrappers, and the
 * allocations of lwIP's timers (core/timeouts.c) for ones that never fail.
 *
 * Output: "ok NAME" for each check passed, "FAIL ..." for one that is not,
 * counters as "NAME VALUE" lines, and "done FAILURES" last.  lwIP's failed
 * assertions and xp_panic abort; AddressSanitizer and UBSan abort too.
 */
#include "net_rename.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/udp.h"

#include "net/socket.h"
#include "xenport/net.h"
#include "xenport/netdev.h"
#include "xenport/platform.h"

/* --- checks -------------------------------------------------------------------- */

static int failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            failures++;                                                         \
            printf("FAIL line %d: %s: ", __LINE__, #cond);                      \
            printf(__VA_ARGS__);                                                \
            printf("\n");                                                       \
            fflush(stdout);                                                     \
        }                                                                       \
    } while (0)

static void ok(const char *name)
{
    printf("ok %s\n", name);
}

/* --- randomness ------------------------------------------------------------------ */

static uint64_t rng_state = 1, stack_rng_state = 2;

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

static uint32_t rnd(uint32_t n)                 /* 0 .. n-1 */
{
    return n ? (uint32_t)((xorshift(&rng_state) >> 32) % n) : 0;
}

static int chance(int percent)
{
    return (int)rnd(100) < percent;
}

static void seed(uint64_t s)
{
    rng_state = s * 0x9e3779b97f4a7c15ULL + 1;
    stack_rng_state = s * 0xbf58476d1ce4e5b9ULL + 7;
    for (int i = 0; i < 8; i++) {
        xorshift(&rng_state);
        xorshift(&stack_rng_state);
    }
}

/* The stack's random numbers (ISNs, ports, DHCP xid): netif.c's TSC-seeded one
   is renamed away (-Dxp_net_random=...), so that a seed replays a run. */
uint32_t xp_net_random(void)
{
    return (uint32_t)(xorshift(&stack_rng_state) >> 32);
}

/* --- what xenport would provide ----------------------------------------------------- */

static uint64_t now_ns = 1000000000ULL;
static unsigned long idles;                  /* since the driver last looked */

uint64_t xp_monotonic_ns(void)
{
    return now_ns;
}

static int quiet;

void xp_printk(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void xp_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "xp_panic: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    printf("FAIL xp_panic\n");
    fflush(stdout);
    abort();
}

unsigned long xp_signals_delivered(void)
{
    return 0;
}

static void peer_service(void);

/* The platform's idle: time passes (to until_ns, at most 1 ms at a time as the
   network's wake-up asks) and the peer answers what the guest sent. */
static void host_idle(uint64_t until_ns)
{
    if (++idles > 2000000)
        xp_panic("a blocking call waited more than %lu idles", idles);
    peer_service();
    now_ns = until_ns > now_ns ? until_ns : now_ns + 1000000ULL;
}

static const struct xp_platform host_platform = {
    .name = "host", .idle = host_idle, .net_probe = xp_virtio_net_probe,
};
const struct xp_platform *xp_platform = &host_platform;

/* lwIP's memory (mem.c compiled with -include net_lwip_mem.h):
   counted, and failing on demand. */
static long lwip_blocks;
static int fail_permille;                    /* allocations that fail, per 1000 */
static unsigned long failed_allocs;

static int no_fail;

static int fail_now(void)
{
    if (fail_permille && !no_fail && (int)rnd(1000) < fail_permille) {
        failed_allocs++;
        return 1;
    }
    return 0;
}

void *xpt_lwip_malloc(size_t n)
{
    void *p = fail_now() ? 0 : malloc(n);
    if (p)
        lwip_blocks++;
    return p;
}

void *xpt_lwip_calloc(size_t c, size_t n)
{
    void *p = fail_now() ? 0 : calloc(c, n);
    if (p)
        lwip_blocks++;
    return p;
}

/* lwIP's timers assert that their allocations succeed (a fixed pool in lwIP's
   own configurations): timeouts.c's memp_malloc is this, which never fails. */
void *xpt_timeout_memp_malloc(memp_t type)
{
    no_fail++;
    void *p = memp_malloc(type);
    no_fail--;
    return p;
}

void xpt_lwip_free(void *p)
{
    if (p)
        lwip_blocks--;
    free(p);
}

/* --- the device ----------------------------------------------------------------------- */

#define FRAME_CAP 2048
#define RXQ 1024
#define TXQ 1024

struct frame {
    size_t len;
    uint8_t b[FRAME_CAP];
};

static struct frame rxq[RXQ], txq[TXQ];
static int rx_head, rx_len, tx_head, tx_len;
static unsigned long rx_overflow, tx_seen, bad_tx, tx_oversize;

static const uint8_t GUEST_MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t PEER_MAC[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static const uint8_t BCAST_MAC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define PEER_IP  0x0a000001u
#define GUEST_IP 0x0a000002u

static void inject(const uint8_t *f, size_t len)
{
    if (len > FRAME_CAP)
        len = FRAME_CAP;
    if (rx_len == RXQ) {
        rx_overflow++;
        return;
    }
    struct frame *fr = &rxq[(rx_head + rx_len++) % RXQ];
    fr->len = len;
    memcpy(fr->b, f, len);
}

static int fake_transmit(struct xp_netdev *dev, const void *frame, size_t len)
{
    if (len > 1514)
        tx_oversize++;
    if (tx_len == TXQ || len > FRAME_CAP) {
        dev->tx_dropped++;
        return -1;
    }
    struct frame *fr = &txq[(tx_head + tx_len++) % TXQ];
    fr->len = len;
    memcpy(fr->b, frame, len);
    dev->tx_frames++;
    dev->tx_bytes += len;
    return 0;
}

static size_t fake_receive(struct xp_netdev *dev, void *buf, size_t cap)
{
    while (rx_len) {
        struct frame *fr = &rxq[rx_head];
        rx_head = (rx_head + 1) % RXQ;
        rx_len--;
        if (fr->len == 0 || fr->len > cap) {       /* a device drops these */
            dev->rx_dropped++;
            continue;
        }
        memcpy(buf, fr->b, fr->len);
        dev->rx_frames++;
        dev->rx_bytes += fr->len;
        return fr->len;
    }
    return 0;
}

static struct xp_netdev fake_dev = {
    .name = "fake-net",
    .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
    .mtu = 1500,
    .transmit = fake_transmit,
    .receive = fake_receive,
};

struct xp_netdev *xp_virtio_net_probe(void)
{
    return &fake_dev;
}

/* --- headers and checksums --------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint32_t sum_bytes(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
    uint32_t s = sum_bytes(0, ip + 12, 8);
    return s + proto + (uint32_t)l4len;
}

#define ETH 14

static size_t eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put16(f + 12, type);
    return ETH;
}

static uint16_t ip_id = 1;

/* Ethernet + a 20-byte IPv4 header for l4len bytes; answers where L4 starts. */
static size_t ip_header(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, size_t l4len)
{
    eth_header(f, GUEST_MAC, PEER_MAC, 0x0800);
    uint8_t *ip = f + ETH;
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, (uint16_t)(20 + l4len));
    put16(ip + 4, ip_id++);
    put16(ip + 6, 0x4000);                   /* DF */
    ip[8] = 64;
    ip[9] = proto;
    put16(ip + 10, 0);
    put32(ip + 12, src);
    put32(ip + 16, dst);
    return ETH + 20;
}

/* The IPv4 header's checksum and, for a whole datagram, TCP's, UDP's or ICMP's,
   over what the headers claim as far as the frame goes. */
static void fix_checksums(uint8_t *f, size_t len)
{
    if (len < ETH + 20 || get16(f + 12) != 0x0800)
        return;
    uint8_t *ip = f + ETH;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (ihl < 20 || ETH + ihl > len)
        return;
    put16(ip + 10, 0);
    put16(ip + 10, fold(sum_bytes(0, ip, ihl)));
    size_t tot = get16(ip + 2);
    if (tot < ihl || ETH + tot > len)
        tot = len - ETH;
    if (get16(ip + 6) & 0x3fff)
        return;                              /* a fragment: L4 spans the datagram */
    uint8_t *l4 = ip + ihl;
    size_t n = tot - ihl;
    switch (ip[9]) {
    case 6:
        if (n >= 20) {
            put16(l4 + 16, 0);
            put16(l4 + 16, fold(sum_bytes(pseudo(ip, 6, n), l4, n)));
        }
        break;
    case 17:
        if (n >= 8) {
            put16(l4 + 6, 0);
            uint16_t c = fold(sum_bytes(pseudo(ip, 17, n), l4, n));
            put16(l4 + 6, c ? c : 0xffff);
        }
        break;
    case 1:
        if (n >= 4) {
            put16(l4 + 2, 0);
            put16(l4 + 2, fold(sum_bytes(0, l4, n)));
        }
        break;
    }
}

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32 };

static size_t tcp_frame(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                        uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                        const uint8_t *opts, size_t olen, const void *data, size_t dlen)
{
    size_t hl = 20 + ((olen + 3) & ~(size_t)3);
    size_t at = ip_header(f, 6, src, dst, hl + dlen);
    uint8_t *t = f + at;
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = flags;
    put16(t + 14, win);
    put16(t + 16, 0);
    put16(t + 18, 0);
    memset(t + 20, 0, hl - 20);               /* padding: EOL */
    if (olen)
        memcpy(t + 20, opts, olen);
    if (dlen)
        memcpy(t + hl, data, dlen);
    size_t len = at + hl + dlen;
    fix_checksums(f, len);
    return len;
}

static size_t udp_frame(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                        const void *data, size_t dlen)
{
    size_t at = ip_header(f, 17, src, dst, 8 + dlen);
    uint8_t *u = f + at;
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)(8 + dlen));
    put16(u + 6, 0);
    memcpy(u + 8, data, dlen);
    size_t len = at + 8 + dlen;
    fix_checksums(f, len);
    return len;
}

static size_t arp_frame(uint8_t *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
                        uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
    eth_header(f, eth_dst, sha, 0x0806);
    uint8_t *a = f + ETH;
    put16(a, 1);
    put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    memcpy(a + 8, sha, 6);
    put32(a + 14, spa);
    memcpy(a + 18, tha, 6);
    put32(a + 24, tpa);
    return ETH + 28;
}

/* Whether a frame the guest sent is well formed: an ARP packet, or IPv4 with
   its checksums right. */
static int tx_well_formed(const uint8_t *f, size_t len)
{
    if (len < ETH || len > 1514)
        return 0;
    uint16_t type = get16(f + 12);
    if (type == 0x0806)
        return len >= ETH + 28 && get16(f + 14) == 1 && get16(f + 16) == 0x0800 &&
               f[18] == 6 && f[19] == 4 && (get16(f + 20) == 1 || get16(f + 20) == 2);
    if (type != 0x0800 || len < ETH + 20)
        return 0;
    const uint8_t *ip = f + ETH;
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || ETH + tot > len)
        return 0;
    if (fold(sum_bytes(0, ip, ihl)) != 0)
        return 0;
    if (get16(ip + 6) & 0x3fff)
        return 1;
    const uint8_t *l4 = ip + ihl;
    size_t n = tot - ihl;
    switch (ip[9]) {
    case 6:
        return n >= 20 && (size_t)(l4[12] >> 4) * 4 >= 20 && (size_t)(l4[12] >> 4) * 4 <= n &&
               fold(sum_bytes(pseudo(ip, 6, n), l4, n)) == 0;
    case 17:
        return n >= 8 && get16(l4 + 4) == n &&
               (get16(l4 + 6) == 0 || fold(sum_bytes(pseudo(ip, 17, n), l4, n)) == 0);
    case 1:
        return n >= 4 && fold(sum_bytes(0, l4, n)) == 0;
    }
    return 0;
}

/* --- the peer: 10.0.0.1, a TCP stack that never loses anything ---------------------------- */

enum { P_FREE, P_SYN_SENT, P_SYN_RCVD, P_EST, P_DEAD };

struct peer {
    int state;
    uint16_t pport, gport;              /* the peer's port, the guest's */
    uint32_t snd_nxt, rcv_nxt;
    int got_fin, got_rst, sent_fin;
    size_t nin;                         /* bytes from the guest, the first IN_MAX kept */
    uint8_t in[4096];
};

#define PEERS 128
#define IN_MAX 4096
static struct peer peers[PEERS];
static uint16_t next_pport = 30000;
static unsigned long peer_resets, arp_requests, arp_answered, dhcp_served;
static uint16_t passive_port = 7;       /* the peer accepts connections here */

/* DHCP server state (the dhcp scenario). */
static int dhcp_server;
static uint32_t dhcp_xid;
static int dhcp_have_xid;
static uint8_t dhcp_reply[600];
static size_t dhcp_reply_len;

static void peer_segment(struct peer *p, uint8_t flags, const void *data, size_t n)
{
    static uint8_t f[FRAME_CAP];
    size_t len = tcp_frame(f, PEER_IP, GUEST_IP, p->pport, p->gport, p->snd_nxt, p->rcv_nxt,
                           flags, 65535, 0, 0, data, n);
    inject(f, len);
}

static struct peer *peer_find(uint16_t pport, uint16_t gport)
{
    for (int i = 0; i < PEERS; i++)
        if (peers[i].state != P_FREE && peers[i].pport == pport && peers[i].gport == gport)
            return &peers[i];
    return 0;
}

static struct peer *peer_alloc(void)
{
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < PEERS; i++)
            if (peers[i].state == P_FREE || (pass >= 1 && peers[i].state == P_DEAD) ||
                (pass == 2 && peers[i].state != P_EST)) {   /* a handshake that stalled */
                memset(&peers[i], 0, sizeof peers[i]);
                return &peers[i];
            }
    return 0;
}

static uint16_t fresh_port(void)
{
    for (;;) {
        uint16_t port = next_pport++;
        if (next_pport > 60000)
            next_pport = 30000;
        int used = 0;
        for (int i = 0; i < PEERS; i++)
            used |= peers[i].state != P_FREE && peers[i].pport == port;
        if (!used)
            return port;
    }
}

/* The peer opens a connection to the guest's gport: sends the SYN. */
static struct peer *peer_open(uint16_t gport)
{
    struct peer *p = peer_alloc();
    if (!p)
        return 0;
    p->state = P_SYN_SENT;
    p->pport = fresh_port();
    p->gport = gport;
    p->snd_nxt = (uint32_t)rnd(0xffffffffu);
    static const uint8_t mss[4] = { 2, 4, 1460 >> 8, 1460 & 255 };
    static uint8_t f[FRAME_CAP];
    size_t len = tcp_frame(f, PEER_IP, GUEST_IP, p->pport, gport, p->snd_nxt, 0, SYN, 65535,
                           mss, 4, 0, 0);
    inject(f, len);
    p->snd_nxt++;
    return p;
}

static void peer_send(struct peer *p, const void *data, size_t n)
{
    peer_segment(p, PSH | ACK, data, n);
    p->snd_nxt += (uint32_t)n;
}

static void peer_fin(struct peer *p)
{
    if (p->sent_fin || p->state != P_EST)
        return;
    peer_segment(p, FIN | ACK, 0, 0);
    p->snd_nxt++;
    p->sent_fin = 1;
}

static void peer_rst(struct peer *p)
{
    peer_segment(p, RST | ACK, 0, 0);
    p->state = P_DEAD;
}

static void reset_unknown(const uint8_t *ip, const uint8_t *t, size_t dlen)
{
    uint8_t flags = t[13];
    if (flags & RST)
        return;
    static uint8_t f[FRAME_CAP];
    uint32_t seq = (flags & ACK) ? get32(t + 8) : 0;
    uint32_t ack = get32(t + 4) + (uint32_t)dlen + !!(flags & SYN) + !!(flags & FIN);
    size_t len = tcp_frame(f, get32(ip + 16), get32(ip + 12), get16(t + 2), get16(t),
                           seq, ack, (flags & ACK) ? RST : RST | ACK, 0, 0, 0, 0, 0);
    inject(f, len);
    peer_resets++;
}

static void peer_tcp(const uint8_t *ip, const uint8_t *t, size_t n)
{
    size_t hl = (size_t)(t[12] >> 4) * 4;
    if (hl < 20 || hl > n)
        return;
    uint16_t gport = get16(t), pport = get16(t + 2);
    uint32_t seq = get32(t + 4), ack = get32(t + 8);
    uint8_t flags = t[13];
    const uint8_t *data = t + hl;
    size_t dlen = n - hl;
    struct peer *p = peer_find(pport, gport);
    if (!p && (flags & (SYN | ACK)) == SYN && pport == passive_port) {
        p = peer_alloc();
        if (!p)
            return;
        p->state = P_SYN_RCVD;
        p->pport = pport;
        p->gport = gport;
        p->snd_nxt = (uint32_t)rnd(0xffffffffu);
        p->rcv_nxt = seq + 1;
        peer_segment(p, SYN | ACK, 0, 0);
        p->snd_nxt++;
        return;
    }
    if (!p) {
        reset_unknown(ip, t, dlen);
        return;
    }
    if (p->state == P_DEAD) {                /* finished or reset: quiet */
        if (flags & RST)
            p->got_rst = 1;
        return;
    }
    if (flags & RST) {
        p->got_rst = 1;
        p->state = P_DEAD;
        return;
    }
    if (p->state == P_SYN_SENT) {
        if ((flags & (SYN | ACK)) == (SYN | ACK) && ack == p->snd_nxt) {
            p->rcv_nxt = seq + 1;
            p->state = P_EST;
            peer_segment(p, ACK, 0, 0);
        }
        return;
    }
    if (p->state == P_SYN_RCVD) {
        if ((flags & ACK) && ack == p->snd_nxt)
            p->state = P_EST;
        else if (flags & SYN) {
            p->snd_nxt--;
            peer_segment(p, SYN | ACK, 0, 0);
            p->snd_nxt++;
            return;
        }
    }
    if (flags & SYN) {                      /* a SYN-ACK again: our ACK once more */
        peer_segment(p, ACK, 0, 0);
        return;
    }
    int32_t off = (int32_t)(p->rcv_nxt - seq);
    if (off >= 0 && (size_t)off <= dlen) {
        size_t fresh = dlen - (size_t)off;
        for (size_t i = 0; i < fresh; i++, p->nin++)
            if (p->nin < IN_MAX)
                p->in[p->nin] = data[off + i];
        p->rcv_nxt += (uint32_t)fresh;
        if ((flags & FIN) && !p->got_fin) {
            p->got_fin = 1;
            p->rcv_nxt++;
        }
        if (fresh || (flags & FIN))
            peer_segment(p, ACK, 0, 0);
        if (p->got_fin && !p->sent_fin)     /* the server is done: so is the client */
            peer_fin(p);
        if (p->got_fin && p->sent_fin && (flags & ACK) && ack == p->snd_nxt)
            p->state = P_DEAD;              /* both FINs acknowledged */
        else if (off == 1 && dlen == 0)     /* a keep-alive probe */
            peer_segment(p, ACK, 0, 0);
    } else if (dlen || (flags & FIN)) {
        peer_segment(p, ACK, 0, 0);         /* old or early: where we are */
    }
}

/* A DHCP server for 10.0.0.2: offers to discovers, ACKs requests for 10.0.0.2,
   NAKs requests for anything else. */
static void dhcp_serve(const uint8_t *b, size_t n)
{
    if (n < 240 || b[0] != 1 || get32(b + 236) != 0x63825363)
        return;
    int type = 0;
    uint32_t requested = get32(b + 12);       /* ciaddr */
    for (size_t i = 240; i < n && b[i] != 255;) {
        if (b[i] == 0) {
            i++;
            continue;
        }
        if (i + 1 >= n || i + 2 + b[i + 1] > n)
            break;
        if (b[i] == 53 && b[i + 1] >= 1)
            type = b[i + 2];
        if (b[i] == 50 && b[i + 1] == 4)
            requested = get32(b + i + 2);
        i += 2 + b[i + 1];
    }
    int reply;
    if (type == 1)
        reply = 2;                           /* OFFER */
    else if (type == 3)
        reply = requested == GUEST_IP ? 5 : 6;   /* ACK or NAK */
    else
        return;
    dhcp_xid = get32(b + 4);
    dhcp_have_xid = 1;
    uint8_t *r = dhcp_reply;
    memset(r, 0, 300);
    r[0] = 2;
    r[1] = 1;
    r[2] = 6;
    memcpy(r + 4, b + 4, 4);
    if (reply != 6) {
        put32(r + 16, GUEST_IP);
        put32(r + 20, PEER_IP);
    }
    memcpy(r + 28, b + 28, 16);
    put32(r + 236, 0x63825363);
    size_t i = 240;
    r[i++] = 53; r[i++] = 1; r[i++] = (uint8_t)reply;
    r[i++] = 54; r[i++] = 4; put32(r + i, PEER_IP); i += 4;
    if (reply != 6) {
        r[i++] = 51; r[i++] = 4; put32(r + i, 120); i += 4;
        r[i++] = 1; r[i++] = 4; put32(r + i, 0xffffff00u); i += 4;
        r[i++] = 3; r[i++] = 4; put32(r + i, PEER_IP); i += 4;
        r[i++] = 6; r[i++] = 4; put32(r + i, PEER_IP); i += 4;
    }
    r[i++] = 255;
    dhcp_reply_len = i > 300 ? i : 300;
    static uint8_t f[FRAME_CAP];
    size_t len = udp_frame(f, PEER_IP, 0xffffffffu, 67, 68, dhcp_reply, dhcp_reply_len);
    memcpy(f, BCAST_MAC, 6);
    inject(f, len);
    dhcp_served++;
}

/* Everything the guest sent: checked, then answered as the peer would. */
static void peer_service(void)
{
    while (tx_len) {
        struct frame *fr = &txq[tx_head];
        tx_head = (tx_head + 1) % TXQ;
        tx_len--;
        tx_seen++;
        const uint8_t *f = fr->b;
        size_t len = fr->len;
        if (!tx_well_formed(f, len)) {
            if (bad_tx++ < 5) {
                fprintf(stderr, "malformed frame from the guest (%zu bytes):", len);
                for (size_t i = 0; i < len && i < 64; i++)
                    fprintf(stderr, " %02x", f[i]);
                fprintf(stderr, "\n");
            }
            continue;
        }
        if (get16(f + 12) == 0x0806) {
            const uint8_t *a = f + ETH;
            if (get16(a + 6) == 1)
                arp_requests++;
            if (get16(a + 6) == 1 && get32(a + 24) == PEER_IP &&
                memcmp(a + 8, GUEST_MAC, 6) == 0) {
                static uint8_t r[64];
                size_t n = arp_frame(r, GUEST_MAC, 2, PEER_MAC, PEER_IP, a + 8, get32(a + 14));
                inject(r, n);
                arp_answered++;
            }
            continue;
        }
        const uint8_t *ip = f + ETH;
        size_t ihl = (size_t)(ip[0] & 15) * 4, tot = get16(ip + 2);
        if (get16(ip + 6) & 0x3fff)
            continue;
        if (ip[9] == 6 && get32(ip + 16) == PEER_IP)
            peer_tcp(ip, ip + ihl, tot - ihl);
        else if (ip[9] == 17 && dhcp_server && tot - ihl >= 8 && get16(ip + ihl + 2) == 67)
            dhcp_serve(ip + ihl + 8, tot - ihl - 8);
    }
}

/* Frames both ways until the wire is quiet. */
static void settle(void)
{
    for (int i = 0; i < 64; i++) {
        xp_net_pump();
        if (!tx_len && !rx_len)
            break;
        peer_service();
    }
    idles = 0;
}

/* Time passes: the stack's timers run, the peer keeps answering. */
static void advance_ms(uint64_t ms)
{
    while (ms) {
        uint64_t step = ms < 100 ? ms : 100;
        now_ns += step * 1000000ULL;
        ms -= step;
        settle();
    }
}

/* --- the guest's state ---------------------------------------------------------------------- */

static int count_pcbs(struct tcp_pcb *p)
{
    int n = 0;
    for (; p; p = p->next)
        n++;
    return n;
}

static int count_udp(void)
{
    int n = 0;
    for (struct udp_pcb *p = udp_pcbs; p; p = p->next)
        n++;
    return n;
}

static long baseline_blocks;

/* Sockets, lwIP's control blocks and memory back where they were at the start. */
static void check_clean(const char *when)
{
    int active = count_pcbs(tcp_active_pcbs), tw = count_pcbs(tcp_tw_pcbs);
    int bound = count_pcbs(tcp_bound_pcbs);
    int listen = count_pcbs((struct tcp_pcb *)tcp_listen_pcbs.listen_pcbs), udp = count_udp();
    printf("%s sockets %d\n", when, xp_socket_count());
    printf("%s pcbs active %d time-wait %d bound %d listen %d udp %d\n", when, active, tw,
           bound, listen, udp);
    printf("%s lwip-blocks %ld baseline %ld\n", when, lwip_blocks, baseline_blocks);
    CHECK(xp_socket_count() == 0, "%s: %d sockets in use", when, xp_socket_count());
    CHECK(active + tw + bound + listen == 0, "%s: TCP control blocks left", when);
    CHECK(udp == 0, "%s: %d UDP control blocks left", when, udp);
    CHECK(lwip_blocks == baseline_blocks, "%s: lwIP holds %ld blocks, %ld at the start",
          when, lwip_blocks, baseline_blocks);
}

static void report_wire(void)
{
    printf("tx-frames %lu\nbad-tx %lu\ntx-oversize %lu\nrx-overflow %lu\narp-requests %lu\n",
           tx_seen, bad_tx, tx_oversize, rx_overflow, arp_requests);
    printf("dev rx %llu dropped %llu tx %llu dropped %llu\n",
           (unsigned long long)fake_dev.rx_frames, (unsigned long long)fake_dev.rx_dropped,
           (unsigned long long)fake_dev.tx_frames, (unsigned long long)fake_dev.tx_dropped);
    CHECK(bad_tx == 0, "the guest sent %lu malformed frames", bad_tx);
    CHECK(tx_oversize == 0, "the guest sent %lu frames over 1514 bytes", tx_oversize);
}

static void start_static(void)
{
    CHECK(xp_net_configure("10.0.0.2/24,10.0.0.1") == 0, "configure");
    memcpy(fake_dev.mac, GUEST_MAC, 6);
    xp_net_start();
    CHECK(xp_net_up(), "the interface is not up");
    settle();
    baseline_blocks = lwip_blocks;
}

static struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = xpt_htons(port);
    a.sin_addr.s_addr = xpt_htonl(ip);
    return a;
}

static int tcp_listener(uint16_t port, int backlog)
{
    int fd = xpt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(fd >= XP_SOCKET_FD_BASE, "socket: %d errno %d", fd, errno);
    int one = 1;
    CHECK(xpt_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "SO_REUSEADDR");
    struct sockaddr_in a = sin_of(0, port);
    CHECK(xpt_bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind: errno %d", errno);
    CHECK(xpt_listen(fd, backlog) == 0, "listen: errno %d", errno);
    return fd;
}

/* The peer connects to port; the listener accepts: the server's descriptor. */
static int handshake(int listener, uint16_t port, struct peer **pp)
{
    struct peer *p = peer_open(port);
    settle();
    *pp = p;
    CHECK(p && p->state == P_EST, "no SYN-ACK from the guest (peer state %d)", p ? p->state : -1);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int fd = xpt_accept4(listener, (struct sockaddr *)&a, &alen, SOCK_NONBLOCK);
    CHECK(fd >= XP_SOCKET_FD_BASE, "accept4: %d errno %d", fd, errno);
    CHECK(fd < 0 || (alen == sizeof a && a.sin_family == AF_INET &&
                     xpt_ntohl(a.sin_addr.s_addr) == PEER_IP &&
                     xpt_ntohs(a.sin_port) == p->pport), "accept4's address");
    return fd;
}

/* A request and its answer on a fresh connection, then the server closes. */
static void serve_once(int listener, uint16_t port, const char *req, const char *resp)
{
    struct peer *p;
    int fd = handshake(listener, port, &p);
    if (fd < 0)
        return;
    peer_send(p, req, strlen(req));
    settle();
    char buf[256];
    ssize_t n = xpt_recv(fd, buf, sizeof buf, 0);
    CHECK(n == (ssize_t)strlen(req) && memcmp(buf, req, (size_t)n) == 0,
          "recv: %zd errno %d", n, errno);
    n = xpt_send(fd, resp, strlen(resp), 0);
    CHECK(n == (ssize_t)strlen(resp), "send: %zd errno %d", n, errno);
    CHECK(xp_socket_close(fd) == 0, "close");
    settle();
    CHECK(p->nin == strlen(resp) && memcmp(p->in, resp, p->nin) == 0,
          "the peer got %zu bytes", p->nin);
    CHECK(p->got_fin, "no FIN after the answer");
    peer_fin(p);
    settle();
}

/* --- serve ----------------------------------------------------------------------------------- */

static int serve(void)
{
    start_static();
    ok("up");

    /* Calls that must fail cleanly. */
    char buf[256];
    errno = 0;
    CHECK(xpt_recv(XP_SOCKET_FD_BASE + 5, buf, 1, 0) == -1 && errno == EBADF, "recv EBADF");
    CHECK(xp_socket_close(XP_SOCKET_FD_BASE) == -1 && errno == EBADF, "close EBADF");
    CHECK(xpt_socket(AF_INET6, SOCK_STREAM, 0) == -1 && errno == EAFNOSUPPORT, "AF_INET6");
    CHECK(xpt_socket(AF_INET, SOCK_RAW, 0) == -1 && errno == EPROTONOSUPPORT, "SOCK_RAW");

    int l = tcp_listener(80, 8);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    CHECK(xpt_getsockname(l, (struct sockaddr *)&a, &alen) == 0 && xpt_ntohs(a.sin_port) == 80,
          "getsockname");
    CHECK(xpt_accept4(l, 0, 0, 0) == -1 && errno == EAGAIN, "accept4 with nothing pending");
    struct pollfd pf = { .fd = l, .events = POLLIN };
    CHECK(xpt_poll(&pf, 1, 0) == 0, "poll: a pending connection out of nowhere");
    ok("listen");

    /* The handshake: lwIP asks for the peer's MAC first. */
    struct peer *p = peer_open(80);
    settle();
    CHECK(arp_answered >= 1, "no ARP request for 10.0.0.1");
    CHECK(p->state == P_EST, "no SYN-ACK (peer state %d)", p->state);
    CHECK(xpt_poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN), "poll: no POLLIN on the listener");
    int c = xpt_accept4(l, (struct sockaddr *)&a, &alen, SOCK_NONBLOCK);
    CHECK(c >= XP_SOCKET_FD_BASE, "accept4: %d errno %d", c, errno);
    CHECK(xpt_ntohl(a.sin_addr.s_addr) == PEER_IP && xpt_ntohs(a.sin_port) == p->pport,
          "accept4's address");
    CHECK(xp_socket_count() == 2, "%d sockets", xp_socket_count());
    ok("handshake");

    CHECK(xpt_recv(c, buf, sizeof buf, 0) == -1 && errno == EAGAIN, "recv before data");
    peer_send(p, "hello", 5);
    settle();
    pf.fd = c;
    pf.events = POLLIN | POLLOUT;
    CHECK(xpt_poll(&pf, 1, 0) == 1 && pf.revents == (POLLIN | POLLOUT), "poll: %x", pf.revents);
    int avail = -1;
    CHECK(xpt_ioctl(c, FIONREAD, &avail) == 0 && avail == 5, "FIONREAD %d", avail);
    CHECK(xpt_recv(c, buf, 2, MSG_PEEK) == 2 && memcmp(buf, "he", 2) == 0, "MSG_PEEK");
    ssize_t n = xpt_recv(c, buf, sizeof buf, 0);
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0, "recv: %zd", n);
    CHECK(xpt_recv(c, buf, sizeof buf, 0) == -1 && errno == EAGAIN, "recv after the data");
    n = xpt_send(c, "hello", 5, 0);
    CHECK(n == 5, "send: %zd errno %d", n, errno);
    settle();
    CHECK(p->nin == 5 && memcmp(p->in, "hello", 5) == 0, "the peer got %zu bytes", p->nin);
    CHECK(xp_socket_close(c) == 0, "close");
    settle();
    CHECK(p->got_fin && !p->got_rst, "the close: FIN %d RST %d", p->got_fin, p->got_rst);
    peer_fin(p);
    settle();
    CHECK(xp_socket_count() == 1, "%d sockets after the close", xp_socket_count());
    ok("echo");

    /* The peer closes first: recv ends (0), the server's close finishes it. */
    c = handshake(l, 80, &p);
    peer_send(p, "bye", 3);
    peer_fin(p);
    settle();
    pf.fd = c;
    pf.events = POLLIN;
    CHECK(xpt_poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN), "poll after FIN");
    CHECK(xpt_recv(c, buf, sizeof buf, 0) == 3, "recv before FIN");
    CHECK(xpt_recv(c, buf, sizeof buf, 0) == 0, "recv at FIN");
    CHECK(xpt_send(c, "ok", 2, 0) == 2, "send after the peer's FIN: errno %d", errno);
    CHECK(xp_socket_close(c) == 0, "close");
    settle();
    CHECK(p->nin == 2 && p->got_fin && !p->got_rst, "the peer: %zu bytes, FIN %d RST %d",
          p->nin, p->got_fin, p->got_rst);
    ok("peer-fin");

    /* A reset mid-connection: the data before it, then ECONNRESET (or the end). */
    c = handshake(l, 80, &p);
    peer_send(p, "abc", 3);
    settle();
    peer_rst(p);
    settle();
    n = xpt_recv(c, buf, sizeof buf, 0);
    CHECK(n == 3 || (n == -1 && errno == ECONNRESET), "recv after RST: %zd errno %d", n, errno);
    if (n == 3)
        n = xpt_recv(c, buf, sizeof buf, 0);
    CHECK(n == 0 || (n == -1 && errno == ECONNRESET), "recv after RST: %zd errno %d", n, errno);
    CHECK(xpt_send(c, "x", 1, 0) == -1 && (errno == EPIPE || errno == ECONNRESET),
          "send after RST: errno %d", errno);
    CHECK(xp_socket_close(c) == 0, "close after RST");
    CHECK(xp_socket_count() == 1, "%d sockets after the reset", xp_socket_count());
    ok("reset");

    /* A reset before accept: accept still hands it over, reads say so. */
    p = peer_open(80);
    settle();
    peer_rst(p);
    settle();
    c = xpt_accept4(l, 0, 0, SOCK_NONBLOCK);
    if (c >= 0) {
        n = xpt_recv(c, buf, sizeof buf, 0);
        CHECK(n == 0 || (n == -1 && errno == ECONNRESET), "recv: %zd errno %d", n, errno);
        CHECK(xp_socket_close(c) == 0, "close");
    } else {
        CHECK(errno == EAGAIN || errno == ECONNABORTED, "accept4: errno %d", errno);
    }
    CHECK(xp_socket_count() == 1, "%d sockets", xp_socket_count());
    ok("reset-before-accept");

    /* Blocking calls: accept waits while the peer's handshake goes on, recv waits
       for the data; closing with unread data resets. */
    p = peer_open(80);
    CHECK(xp_socket_fcntl(l, F_SETFL, 0) == 0, "F_SETFL");
    c = xpt_accept4(l, 0, 0, 0);
    CHECK(c >= XP_SOCKET_FD_BASE, "blocking accept4: errno %d", errno);
    CHECK(xp_socket_fcntl(l, F_SETFL, O_NONBLOCK) == 0, "F_SETFL");
    if (c >= 0) {
        peer_send(p, "12345678", 8);
        CHECK(xpt_recv(c, buf, 4, 0) == 4, "blocking recv");
        CHECK(xp_socket_close(c) == 0, "close");
        settle();
        CHECK(p->got_rst, "closing with unread data did not reset");
    }
    ok("blocking");

    /* Half-closes.  The server shuts down its side and the peer answers FIN: the
       connection is over and lwIP's TIME-WAIT ends on its own (freeing the
       control block without telling anyone); the socket, not yet closed, must
       not hold on to it.  Then the peer first and a shutdown: reads end (0). */
    c = handshake(l, 80, &p);
    CHECK(xpt_shutdown(c, SHUT_WR) == 0, "shutdown: errno %d", errno);
    settle();
    CHECK(p->got_fin && p->sent_fin, "FINs: the guest's %d, the peer's %d", p->got_fin,
          p->sent_fin);
    CHECK(xpt_recv(c, buf, sizeof buf, 0) == 0, "recv after both FINs: errno %d", errno);
    CHECK(xpt_send(c, "x", 1, 0) == -1 && errno == EPIPE, "send after shutdown: errno %d",
          errno);
    advance_ms(3 * 60 * 1000);                /* past TIME-WAIT (2 MSL) */
    pf.fd = c;
    pf.events = POLLIN | POLLOUT;
    CHECK(xpt_poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN) && !(pf.revents & POLLOUT),
          "poll after both FINs: %x", pf.revents);
    CHECK(xpt_recv(c, buf, sizeof buf, 0) == 0, "recv after TIME-WAIT: errno %d", errno);
    CHECK(xp_socket_close(c) == 0, "close after TIME-WAIT");
    c = handshake(l, 80, &p);
    peer_send(p, "last", 4);
    peer_fin(p);
    settle();
    CHECK(xpt_shutdown(c, SHUT_WR) == 0, "shutdown after the peer's FIN: errno %d", errno);
    settle();
    CHECK(p->got_fin, "no FIN after the shutdown");
    CHECK(xpt_recv(c, buf, sizeof buf, 0) == 4, "recv of the data before the FIN");
    n = xpt_recv(c, buf, sizeof buf, 0);
    CHECK(n == 0, "recv at the end after shutdown: %zd errno %d", n, errno);
    CHECK(xp_socket_close(c) == 0, "close");
    settle();
    CHECK(!p->got_rst, "a reset after an orderly close");
    ok("shutdown");

    /* A full backlog: lwIP leaves further SYNs unanswered until accept takes one. */
    int l3 = tcp_listener(82, 2);
    struct peer *q[4];
    for (int i = 0; i < 4; i++)
        q[i] = peer_open(82);
    settle();
    int established = 0, taken = 0;
    for (int i = 0; i < 4; i++)
        established += q[i]->state == P_EST;
    CHECK(established == 2, "%d connections past a backlog of 2", established);
    for (int i = 0; i < 4; i++) {
        int fd = xpt_accept4(l3, 0, 0, 0);
        if (fd < 0)
            break;
        taken++;
        CHECK(xp_socket_close(fd) == 0, "close");
    }
    CHECK(taken == 2 && errno == EAGAIN, "accepted %d: errno %d", taken, errno);
    CHECK(xp_socket_close(l3) == 0, "close");
    settle();
    for (int i = 0; i < 4; i++)
        q[i]->state = P_DEAD;
    ok("backlog");

    /* Closing a listener with a connection not yet accepted: that one is reset. */
    int l2 = tcp_listener(81, 4);
    p = peer_open(81);
    settle();
    CHECK(p->state == P_EST, "handshake on 81");
    CHECK(xp_socket_close(l2) == 0, "close of a listener");
    settle();
    CHECK(p->got_rst, "the pending connection was not reset");
    p->state = P_DEAD;
    ok("listener-close");

    /* Outgoing: a connection to the peer's port 7, refused on 9. */
    int o = xpt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    struct sockaddr_in to = sin_of(PEER_IP, 7);
    CHECK(xpt_connect(o, (struct sockaddr *)&to, sizeof to) == -1 && errno == EINPROGRESS,
          "connect: errno %d", errno);
    pf.fd = o;
    pf.events = POLLOUT;
    CHECK(xpt_poll(&pf, 1, 1000) == 1 && (pf.revents & POLLOUT), "poll for connect");
    int err = -1;
    socklen_t elen = sizeof err;
    CHECK(xpt_getsockopt(o, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0, "SO_ERROR %d",
          err);
    CHECK(xpt_send(o, "out", 3, 0) == 3, "send on the outgoing connection");
    settle();
    p = 0;
    for (int i = 0; i < PEERS && !p; i++)
        if (peers[i].state == P_EST && peers[i].pport == 7)
            p = &peers[i];
    CHECK(p && p->nin == 3 && memcmp(p->in, "out", 3) == 0, "the peer's port 7 got it");
    CHECK(xp_socket_close(o) == 0, "close");
    settle();
    if (p)
        peer_fin(p);
    settle();
    o = xpt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    to = sin_of(PEER_IP, 9);
    CHECK(xpt_connect(o, (struct sockaddr *)&to, sizeof to) == -1 && errno == EINPROGRESS,
          "connect: errno %d", errno);
    settle();
    err = 0;
    CHECK(xpt_getsockopt(o, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == ECONNREFUSED,
          "SO_ERROR %d after a refusal", err);
    CHECK(xp_socket_close(o) == 0, "close");
    ok("connect");

    /* UDP both ways. */
    int u = xpt_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in ua = sin_of(0, 5353);
    CHECK(xpt_bind(u, (struct sockaddr *)&ua, sizeof ua) == 0, "bind UDP");
    static uint8_t f[FRAME_CAP];
    inject(f, udp_frame(f, PEER_IP, GUEST_IP, 1234, 5353, "ping", 4));
    settle();
    alen = sizeof a;
    n = xpt_recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&a, &alen);
    CHECK(n == 4 && memcmp(buf, "ping", 4) == 0 && xpt_ntohs(a.sin_port) == 1234 &&
          xpt_ntohl(a.sin_addr.s_addr) == PEER_IP, "recvfrom: %zd", n);
    unsigned long before = tx_seen;
    CHECK(xpt_sendto(u, "pong", 4, 0, (struct sockaddr *)&a, alen) == 4, "sendto");
    settle();
    CHECK(tx_seen == before + 1, "sendto sent %lu frames", tx_seen - before);
    CHECK(xpt_recvfrom(u, buf, sizeof buf, 0, 0, 0) == -1 && errno == EAGAIN, "recvfrom empty");
    CHECK(xp_socket_close(u) == 0, "close UDP");
    ok("udp");

    struct addrinfo *ai = 0;
    CHECK(xpt_getaddrinfo("10.0.0.1", "80", 0, &ai) == 0 && ai &&
          ((struct sockaddr_in *)ai->ai_addr)->sin_port == xpt_htons(80), "getaddrinfo");
    xpt_freeaddrinfo(ai);

    CHECK(xp_socket_close(l) == 0, "close of the listener");
    advance_ms(15 * 60 * 1000);
    check_clean("end");
    report_wire();
    ok("serve");
    return 0;
}

/* --- fuzz --------------------------------------------------------------------------------- */

static void random_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd(256);
}

static uint32_t some_ip(void)
{
    switch (rnd(6)) {
    case 0: return GUEST_IP;
    case 1: return 0x0a000000u | rnd(256);
    case 2: return 0xffffffffu;
    case 3: return 0x0a0000ffu;
    case 4: return (uint32_t)rnd(0xffffffffu);
    default: return PEER_IP;
    }
}

static uint16_t some_port(void)
{
    static const uint16_t ports[] = { 80, 5353, 53, 67, 68, 7, 0, 65535, 81 };
    return chance(70) ? ports[rnd(sizeof ports / sizeof ports[0])] : (uint16_t)rnd(65536);
}

/* TCP options: well-formed ones (MSS, window scale, SACK permitted, timestamps,
   NOP, EOL) and junk kinds and lengths, up to the 40 bytes there is room for. */
static size_t some_options(uint8_t *o)
{
    size_t n = 0, want = rnd(41);
    while (n < want) {
        uint8_t opt[10];
        size_t k;
        switch (rnd(8)) {
        case 0: opt[0] = 0; k = 1; break;
        case 1: opt[0] = 1; k = 1; break;
        case 2: opt[0] = 2; opt[1] = 4; put16(opt + 2, (uint16_t)rnd(65536)); k = 4; break;
        case 3: opt[0] = 3; opt[1] = 3; opt[2] = (uint8_t)rnd(32); k = 3; break;
        case 4: opt[0] = 4; opt[1] = 2; k = 2; break;
        case 5: opt[0] = 8; opt[1] = 10; random_bytes(opt + 2, 8); k = 10; break;
        default: opt[0] = (uint8_t)rnd(256); k = 1; break;
        }
        if (n + k > 40)
            break;
        memcpy(o + n, opt, k);
        n += k;
    }
    return n;
}

static struct peer *some_live_peer(void)
{
    int start = (int)rnd(PEERS);
    for (int i = 0; i < PEERS; i++) {
        struct peer *p = &peers[(start + i) % PEERS];
        if (p->state == P_EST)
            return p;
    }
    return 0;
}

/* IPv4 fragments of a UDP or ICMP datagram (or TCP), all injected: in order or not,
   some lost, some twice, overlapping. */
static void inject_fragments(void)
{
    static uint8_t d[4000], f[FRAME_CAP];
    size_t plen = 8 + rnd(3000);
    uint8_t proto = chance(50) ? 17 : chance(50) ? 1 : 6;
    uint32_t src = chance(80) ? PEER_IP : some_ip();
    /* The whole datagram first, for its L4 checksum. */
    size_t at = ip_header(d, proto, src, GUEST_IP, plen);
    uint8_t *l4 = d + at;
    random_bytes(l4, plen);
    if (proto == 17) {
        put16(l4, 1234);
        put16(l4 + 2, chance(50) ? 5353 : some_port());
        put16(l4 + 4, (uint16_t)plen);
    } else if (proto == 1) {
        l4[0] = 8;
        l4[1] = 0;
    } else if (plen >= 20) {
        l4[12] = 0x50;
        put16(l4 + 2, 80);
    }
    put16(d + ETH + 6, 0);
    if (chance(90))
        fix_checksums(d, at + plen);
    uint16_t id = ip_id++;
    size_t chunk = 8 * (1 + rnd(185));
    size_t nfrag = (plen + chunk - 1) / chunk;
    for (size_t k = 0; k < nfrag + rnd(3); k++) {
        size_t i = chance(80) ? k % nfrag : rnd((uint32_t)nfrag);
        if (chance(5))
            continue;                        /* lost */
        size_t off = i * chunk;
        if (chance(10) && off >= 8)
            off -= 8 * (1 + rnd((uint32_t)(off / 8)));   /* overlapping */
        size_t n = plen - off < chunk ? plen - off : chunk;
        int more = off + n < plen;
        memcpy(f, d, ETH + 20);
        memcpy(f + ETH + 20, l4 + off, n);
        put16(f + ETH + 2, (uint16_t)(20 + n));
        put16(f + ETH + 4, id);
        put16(f + ETH + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
        if (chance(3))
            put16(f + ETH + 6, (uint16_t)rnd(65536));
        fix_checksums(f, ETH + 20 + n);
        inject(f, ETH + 20 + n);
    }
}

/* A valid frame of some kind, to be broken. */
static size_t template_frame(uint8_t *f)
{
    static uint8_t data[1600], opts[40];
    size_t olen = 0, dlen;
    struct peer *p;
    switch (rnd(12)) {
    case 0:
    case 1:
    case 2:                                  /* a segment on a live connection */
        p = some_live_peer();
        if (!p)
            return 0;
        dlen = chance(50) ? 0 : rnd(1461);
        random_bytes(data, dlen);
        if (chance(20))
            olen = some_options(opts);
        {
            static const uint8_t flag_sets[] = {
                ACK, PSH | ACK, FIN | ACK, RST, RST | ACK, SYN, SYN | ACK, 0, URG | ACK,
                FIN | SYN | RST | PSH | ACK | URG };
            uint8_t flags = chance(80) ? flag_sets[rnd(sizeof flag_sets)] : (uint8_t)rnd(256);
            int32_t dseq = chance(50) ? 0 : (int32_t)rnd(200000) - 100000;
            int32_t dack = chance(50) ? 0 : (int32_t)rnd(200000) - 100000;
            return tcp_frame(f, PEER_IP, GUEST_IP, p->pport, p->gport, p->snd_nxt + (uint32_t)dseq,
                             p->rcv_nxt + (uint32_t)dack, flags, (uint16_t)rnd(65536), opts, olen,
                             data, dlen);
        }
    case 3:                                  /* a SYN, to the listener or elsewhere */
        olen = some_options(opts);
        dlen = chance(80) ? 0 : rnd(100);
        random_bytes(data, dlen);
        return tcp_frame(f, chance(70) ? PEER_IP : some_ip(), GUEST_IP,
                         (uint16_t)(1024 + rnd(60000)), chance(70) ? 80 : some_port(),
                         (uint32_t)rnd(0xffffffffu), 0, chance(90) ? SYN : (uint8_t)rnd(256),
                         (uint16_t)rnd(65536), opts, olen, data, dlen);
    case 4:                                  /* TCP to anything */
        dlen = rnd(200);
        random_bytes(data, dlen);
        return tcp_frame(f, some_ip(), chance(80) ? GUEST_IP : some_ip(), some_port(),
                         some_port(), (uint32_t)rnd(0xffffffffu), (uint32_t)rnd(0xffffffffu),
                         (uint8_t)rnd(256), (uint16_t)rnd(65536), opts, some_options(opts),
                         data, dlen);
    case 5:                                  /* UDP: the bound socket, DNS, DHCP, others */
        dlen = rnd(chance(90) ? 600 : 1473);
        random_bytes(data, dlen);
        if (dlen >= 240 && chance(30))
            put32(data + 236, 0x63825363);
        return udp_frame(f, chance(80) ? PEER_IP : some_ip(), chance(80) ? GUEST_IP : some_ip(),
                         chance(50) ? 53 : some_port(), some_port(), data, dlen);
    case 6: {                                /* ICMP */
        dlen = rnd(600);
        random_bytes(data, dlen);
        static const uint8_t types[] = { 8, 0, 3, 11, 5, 4, 12, 13, 17 };
        size_t at = ip_header(f, 1, PEER_IP, chance(80) ? GUEST_IP : some_ip(), 8 + dlen);
        f[at] = chance(80) ? types[rnd(sizeof types)] : (uint8_t)rnd(256);
        f[at + 1] = (uint8_t)rnd(16);
        random_bytes(f + at + 2, 6);
        if (f[at] == 3 && dlen >= 28) {
            /* The start of a datagram the guest sent: IPv4 + a TCP or UDP header. */
            p = some_live_peer();
            data[0] = 0x45;
            data[9] = chance(50) ? 6 : 17;
            put32(data + 12, GUEST_IP);
            put32(data + 16, PEER_IP);
            put16(data + 20, p ? p->gport : 80);
            put16(data + 22, p ? p->pport : 1234);
        }
        memcpy(f + at + 8, data, dlen);
        fix_checksums(f, at + 8 + dlen);
        return at + 8 + dlen;
    }
    case 7: {                                /* ARP */
        static uint8_t mac[6];
        random_bytes(mac, 6);
        mac[0] &= 0xfe;
        switch (rnd(4)) {
        case 0: return arp_frame(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, BCAST_MAC, GUEST_IP);
        case 1: return arp_frame(f, GUEST_MAC, 2, mac, some_ip(), GUEST_MAC, GUEST_IP);
        case 2: return arp_frame(f, BCAST_MAC, 1, mac, some_ip(), BCAST_MAC, some_ip());
        default: return arp_frame(f, BCAST_MAC, (uint16_t)rnd(5), mac, GUEST_IP, mac, GUEST_IP);
        }
    }
    case 8:
        inject_fragments();
        return 0;
    case 9: {                                /* IPv4 options, other versions, other types */
        dlen = rnd(200);
        size_t ol = 4 * rnd(11);
        size_t at = ip_header(f, chance(50) ? 17 : (uint8_t)rnd(256), PEER_IP, GUEST_IP,
                              ol + dlen);
        f[ETH] = (uint8_t)(0x40 | (5 + ol / 4));
        random_bytes(f + at, ol + dlen);
        if (chance(20))
            put16(f + 12, chance(50) ? 0x86dd : (uint16_t)rnd(65536));
        fix_checksums(f, at + ol + dlen);
        return at + ol + dlen;
    }
    default: {                               /* bytes */
        size_t n = rnd(1601);
        random_bytes(f, n);
        if (n >= ETH && chance(70)) {
            memcpy(f, chance(80) ? GUEST_MAC : BCAST_MAC, 6);
            put16(f + 12, chance(70) ? 0x0800 : 0x0806);
            if (n >= ETH + 20 && chance(50))
                f[ETH] = 0x45;
        }
        return n;
    }
    }
}

/* Break a frame: bits, bytes, lengths, header fields; checksums fixed half the
   time so that the breakage gets past them. */
static size_t mutate(uint8_t *f, size_t len)
{
    int rounds = 1 + (int)rnd(3);
    for (int r = 0; r < rounds; r++) {
        switch (rnd(9)) {
        case 0:
            for (int i = (int)rnd(8); i >= 0 && len; i--)
                f[rnd((uint32_t)len)] ^= (uint8_t)(1u << rnd(8));
            break;
        case 1:
            if (len)
                f[rnd((uint32_t)len)] = (uint8_t)rnd(256);
            break;
        case 2:
            len = rnd((uint32_t)len + 1);             /* truncated */
            break;
        case 3: {                                    /* longer */
            size_t more = rnd(200);
            if (len + more > 1600)
                more = 1600 - len;
            random_bytes(f + len, more);
            len += more;
            break;
        }
        case 4:                                      /* IPv4 header fields */
            if (len >= ETH + 20) {
                uint8_t *ip = f + ETH;
                switch (rnd(6)) {
                case 0: ip[0] = (uint8_t)((ip[0] & 0xf0) | rnd(16)); break;
                case 1:                              /* the total length */
                    put16(ip + 2, (uint16_t)(chance(50) ? rnd(65536)
                                                        : get16(ip + 2) + rnd(64) - 32));
                    break;
                case 2: put16(ip + 6, (uint16_t)rnd(65536)); break;
                case 3: ip[8] = (uint8_t)rnd(2); break;
                case 4: ip[9] = (uint8_t)rnd(256); break;
                default: ip[0] = (uint8_t)rnd(256); break;
                }
            }
            break;
        case 5:                                      /* TCP or UDP header fields */
            if (len >= ETH + 20 + 20) {
                size_t ihl = (size_t)(f[ETH] & 15) * 4;
                if (ihl < 20 || ETH + ihl + 20 > len)
                    break;
                uint8_t *t = f + ETH + ihl;
                switch (rnd(6)) {
                case 0: t[12] = (uint8_t)((rnd(16) << 4) | (t[12] & 15)); break;
                case 1: t[13] = (uint8_t)rnd(256); break;
                case 2: put16(t + 18, (uint16_t)rnd(65536)); t[13] |= URG; break;
                case 3: put16(t + 4, (uint16_t)rnd(65536)); break;   /* UDP: length */
                case 4: put16(t + 14, (uint16_t)rnd(3)); break;
                default: put32(t + 8, (uint32_t)rnd(0xffffffffu)); break;
                }
            }
            break;
        case 6:                                      /* the Ethernet type */
            if (len >= ETH)
                put16(f + 12, chance(50) ? 0x0806 : 0x0800);
            break;
        case 7:
            if (len >= ETH + 20)
                put16(f + ETH + 10, (uint16_t)rnd(65536));   /* a wrong IPv4 checksum */
            break;
        default:
            len = rnd(1601);                          /* any length, what was there */
            break;
        }
    }
    if (chance(50))
        fix_checksums(f, len);
    return len;
}

#define MAX_CONNS 96

struct fuzz_state {
    int listener, udp;
    int conns[MAX_CONNS];
    int nconns;
    unsigned long accepted, closed, recv_bytes, sent_bytes, errors[200], udp_in, peer_opens;
};

static void note_errno(struct fuzz_state *st, const char *call, int e)
{
    if (e == EBADF || e == EINVAL || e == EFAULT || e <= 0 || e >= 200) {
        printf("FAIL %s: errno %d\n", call, e);
        failures++;
        return;
    }
    st->errors[e]++;
}

static void close_conn(struct fuzz_state *st, int i)
{
    CHECK(xp_socket_close(st->conns[i]) == 0, "close: errno %d", errno);
    st->conns[i] = st->conns[--st->nconns];
    st->closed++;
}

/* The server's side: what a program using the socket calls would do. */
static void server_step(struct fuzz_state *st)
{
    static struct pollfd pf[MAX_CONNS + 2];
    static char buf[8192];
    int n = 0;
    pf[n++] = (struct pollfd){ .fd = st->listener, .events = POLLIN };
    pf[n++] = (struct pollfd){ .fd = st->udp, .events = POLLIN };
    for (int i = 0; i < st->nconns; i++)
        pf[n++] = (struct pollfd){ .fd = st->conns[i], .events = POLLIN | POLLOUT };
    int ready = xpt_poll(pf, (nfds_t)n, chance(5) ? (int)rnd(20) : 0);
    CHECK(ready >= 0, "poll: errno %d", errno);
    for (int i = 0; i < n; i++)
        CHECK(!(pf[i].revents & POLLNVAL), "POLLNVAL on a descriptor in use");
    if (pf[0].revents & POLLIN) {
        for (;;) {
            int c = xpt_accept4(st->listener, 0, 0, SOCK_NONBLOCK);
            if (c < 0) {
                if (errno != EAGAIN)
                    note_errno(st, "accept4", errno);
                break;
            }
            st->accepted++;
            if (st->nconns == MAX_CONNS || chance(5))
                CHECK(xp_socket_close(c) == 0, "close: errno %d", errno);
            else
                st->conns[st->nconns++] = c;
        }
    }
    if (pf[1].revents & POLLIN) {
        for (;;) {
            struct sockaddr_in a;
            socklen_t alen = sizeof a;
            ssize_t r = xpt_recvfrom(st->udp, buf, chance(10) ? rnd(16) : sizeof buf,
                                     chance(10) ? MSG_PEEK : 0, (struct sockaddr *)&a, &alen);
            if (r < 0) {
                if (errno != EAGAIN)
                    note_errno(st, "recvfrom", errno);
                break;
            }
            CHECK(alen == sizeof a && a.sin_family == AF_INET, "recvfrom's address");
            st->udp_in++;
            if (chance(20)) {
                r = xpt_sendto(st->udp, buf, (size_t)r, 0, (struct sockaddr *)&a, alen);
                if (r < 0)
                    note_errno(st, "sendto", errno);
            }
            if (chance(30))
                break;
        }
    }
    /* Connections, from the end (closing moves the last one into the hole). */
    for (int i = st->nconns - 1; i >= 0; i--) {
        short re = pf[2 + i].revents;
        int fd = st->conns[i];
        if (re & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = xpt_recv(fd, buf, chance(20) ? 1 + rnd(64) : sizeof buf, 0);
            if (r > 0) {
                st->recv_bytes += (size_t)r;
                ssize_t w = xpt_send(fd, buf, (size_t)r, 0);
                if (w > 0)
                    st->sent_bytes += (size_t)w;
                else if (w < 0 && errno != EAGAIN)
                    note_errno(st, "send", errno);
            } else if (r == 0) {
                close_conn(st, i);
                continue;
            } else if (errno != EAGAIN) {
                note_errno(st, "recv", errno);
                close_conn(st, i);
                continue;
            }
        }
        if (chance(2))
            close_conn(st, i);
        else if (chance(1) && xpt_shutdown(fd, SHUT_WR) < 0)
            note_errno(st, "shutdown", errno);
    }
}

/* The peer's side of the live connections: new ones, data, FINs. */
static void peer_step(struct fuzz_state *st)
{
    if (chance(25) && peer_open(80))
        st->peer_opens++;
    for (int k = 0; k < 3; k++) {
        struct peer *p = some_live_peer();
        if (!p)
            break;
        if (chance(3)) {
            peer_fin(p);
        } else if (!p->sent_fin) {
            static uint8_t d[1400];
            size_t n = 1 + rnd(1400);
            random_bytes(d, n);
            peer_send(p, d, n);
        }
    }
}

static void final_cleanup(struct fuzz_state *st)
{
    while (st->nconns)
        close_conn(st, st->nconns - 1);
    CHECK(xp_socket_close(st->listener) == 0, "close of the listener");
    CHECK(xp_socket_close(st->udp) == 0, "close of the UDP socket");
    /* The peer finishes its side of every connection it still has. */
    advance_ms(2000);
    for (int i = 0; i < PEERS; i++)
        if (peers[i].state == P_EST)
            peer_fin(&peers[i]);
    advance_ms(15 * 60 * 1000);
    memset(peers, 0, sizeof peers);          /* the guest has none of them left (checked) */
}

static int fuzz(uint64_t s, long frames)
{
    seed(s);
    start_static();
    quiet = 1;
    struct fuzz_state st;
    memset(&st, 0, sizeof st);
    st.listener = tcp_listener(80, 16);
    st.udp = xpt_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in ua = sin_of(0, 5353);
    CHECK(xpt_bind(st.udp, (struct sockaddr *)&ua, sizeof ua) == 0, "bind UDP");
    for (int i = 0; i < 4; i++) {
        struct peer *p;
        int c = handshake(st.listener, 80, &p);
        if (c >= 0)
            st.conns[st.nconns++] = c;
    }
    CHECK(st.nconns == 4, "%d connections at the start", st.nconns);
    ok("connections");

    fail_permille = 5;
    static uint8_t f[FRAME_CAP];
    long until_ops = 0;
    for (long i = 0; i < frames; i++) {
        size_t len = template_frame(f);
        if (len || chance(10)) {
            if (chance(85))
                len = mutate(f, len);
            inject(f, len);
        }
        if (rx_len > RXQ - 64 || --until_ops <= 0) {
            settle();
            server_step(&st);
            peer_step(&st);
            settle();
            if (chance(25))
                now_ns += rnd(300) * 1000000ULL;
            if (chance(1))                  /* retransmissions give up, TIME-WAIT ends */
                advance_ms(rnd(chance(30) ? 200000 : 30000));
            until_ops = 4 + rnd(28);
        }
    }
    fail_permille = 0;
    settle();
    printf("frames %ld\naccepted %lu\nclosed %lu\nrecv-bytes %lu\nsent-bytes %lu\nudp-in %lu\n"
           "peer-opens %lu\nfailed-allocs %lu\n", frames, st.accepted, st.closed, st.recv_bytes,
           st.sent_bytes, st.udp_in, st.peer_opens, failed_allocs);
    printf("errnos");
    for (int e = 0; e < 200; e++)
        if (st.errors[e])
            printf(" %d:%lu", e, st.errors[e]);
    printf("\n");
    CHECK(st.accepted > 4 && st.recv_bytes > 0 && st.sent_bytes > 0,
          "the server did not serve during the fuzzing");
    final_cleanup(&st);
    check_clean("after");
    report_wire();

    /* Still serving: a fresh listener, a request, its answer. */
    quiet = 0;
    int l = tcp_listener(80, 4);
    serve_once(l, 80, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\nhi");
    CHECK(xp_socket_close(l) == 0, "close");
    advance_ms(5 * 60 * 1000);
    check_clean("final");
    ok("fuzz");
    return 0;
}

/* --- dhcp --------------------------------------------------------------------------------- */

static int dhcp(uint64_t s, long frames)
{
    seed(s);
    dhcp_server = 1;
    memcpy(fake_dev.mac, GUEST_MAC, 6);
    CHECK(xp_net_configure("dhcp") == 0, "configure");
    xp_net_start();
    settle();
    struct netif *nif = netif_default;
    CHECK(nif && ip4_addr_get_u32(netif_ip4_addr(nif)) == xpt_htonl(GUEST_IP),
          "no lease for 10.0.0.2");
    CHECK(dhcp_served >= 2 && dhcp_have_xid, "DHCP served %lu", dhcp_served);
    ok("lease");
    quiet = 1;
    static uint8_t f[FRAME_CAP], body[600];
    long until_time = 0;
    fail_permille = 2;
    for (long i = 0; i < frames; i++) {
        /* A reply of the server's, with the client's xid, retyped and broken. */
        size_t n = dhcp_reply_len;
        memcpy(body, dhcp_reply, n);
        put32(body + 4, chance(90) ? dhcp_xid : (uint32_t)rnd(0xffffffffu));
        if (chance(50)) {
            static const uint8_t types[] = { 2, 5, 6, 1, 3, 4, 7, 8, 0, 255 };
            for (size_t k = 240; k + 2 < n; k++)
                if (body[k] == 53 && body[k + 1] == 1) {
                    body[k + 2] = types[rnd(sizeof types)];
                    break;
                }
        }
        for (int k = (int)rnd(6); k > 0; k--) {
            size_t at = 236 + rnd((uint32_t)(n - 236));
            switch (rnd(4)) {
            case 0: body[at] ^= (uint8_t)(1u << rnd(8)); break;
            case 1: body[at] = (uint8_t)rnd(256); break;
            case 2: body[at] = chance(50) ? 255 : 0; break;
            default: if (n < sizeof body - 8) { random_bytes(body + n, 8); n += 8; } break;
            }
        }
        if (chance(20))
            n = rnd((uint32_t)n + 1);
        size_t len = udp_frame(f, PEER_IP, chance(50) ? 0xffffffffu : GUEST_IP, 67, 68, body, n);
        if (chance(30))
            len = mutate(f, len);
        inject(f, len);
        if (--until_time <= 0) {
            settle();
            now_ns += rnd(chance(10) ? 60000 : 600) * 1000000ULL;
            settle();
            until_time = 1 + rnd(16);
        }
    }
    fail_permille = 0;
    /* A link flap makes the client ask again; the server gives 10.0.0.2. */
    netif_set_link_down(nif);
    netif_set_link_up(nif);
    advance_ms(60 * 1000);
    char a[16];
    ip4addr_ntoa_r(netif_ip4_addr(nif), a, sizeof a);
    printf("address %s\ndhcp-served %lu\nfailed-allocs %lu\n", a, dhcp_served, failed_allocs);
    CHECK(ip4_addr_get_u32(netif_ip4_addr(nif)) == xpt_htonl(GUEST_IP), "address %s", a);
    report_wire();
    quiet = 0;
    int l = tcp_listener(80, 4);
    serve_once(l, 80, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\nhi");
    CHECK(xp_socket_close(l) == 0, "close");
    advance_ms(5 * 60 * 1000);
    CHECK(xp_socket_count() == 0, "%d sockets", xp_socket_count());
    ok("dhcp");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    int rc = 2;
    if (argc == 2 && strcmp(argv[1], "serve") == 0)
        rc = serve();
    else if (argc == 4 && strcmp(argv[1], "fuzz") == 0)
        rc = fuzz(strtoull(argv[2], 0, 10), strtol(argv[3], 0, 10));
    else if (argc == 4 && strcmp(argv[1], "dhcp") == 0)
        rc = dhcp(strtoull(argv[2], 0, 10), strtol(argv[3], 0, 10));
    else
        fprintf(stderr, "usage: %s serve | fuzz SEED N | dhcp SEED N\n", argv[0]);
    if (rc == 2)
        return 2;
    printf("done %d\n", failures);
    return failures ? 1 : 0;
}
