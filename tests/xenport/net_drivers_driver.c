/* Hosted driver for xenport's network drivers (test_net_drivers_host.py): the
 * real pc/virtio_net.c + pc/virtio_mmio.c and xen/netfront.c, compiled for the
 * host, against a device and a back end that this file plays, badly on purpose.
 *
 *   virtio VERSION NUM_MAX SEED ITERATIONS
 *   virtio-setup KIND                (a device that fails or limits the set-up)
 *   netfront SEED ITERATIONS
 *   netfront-broken KIND             (a back end that breaks the ring indexes)
 *
 * The virtio-mmio registers are a PROT_NONE window: each access faults, the
 * SIGSEGV handler answers it (a read: the register's value is put there; a
 * write: seen after the instruction, single-stepped with the trap flag), so
 * that the driver's own volatile accesses meet a device with behaviour (the
 * status handshake, per-queue registers).  Netfront's xenstore, grant table,
 * event channels and its one hypercall are fakes here.
 *
 * Every operation is checked against a model of what the driver must do (a
 * frame delivered intact, or counted as malformed or dropped, exactly); the
 * first disagreement prints "FAIL ..." and exits 1.  Output: "ok NAME" and
 * "NAME VALUE" lines, then "done 0".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "pc/pc.h"
#include "xenport/mm.h"
#include "xenport/netdev.h"

/* Built without netfront when Xen's public headers are missing. */
#ifndef XPT_NO_NETFRONT
#include "xen/guest.h"
#include "xen/xenbus.h"

#include <xen/io/netif.h>
#endif

/* --- checks, random numbers ----------------------------------------------------- */

#define CHECK(cond, ...) do { if (!(cond)) fail(__LINE__, #cond, __VA_ARGS__); } while (0)

static void fail(int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    printf("FAIL line %d (%s): ", line, cond);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    exit(1);
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic for a seed, here and on any host. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t below(uint32_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

static int chance(unsigned percent)
{
    return below(100) < percent;
}

static void seed_rng(uint64_t seed)
{
    rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
}

/* Frame number seq's bytes: an Ethernet header, then a pattern of seq. */
static void make_frame(uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seq * 131u + i * 7u + (i >> 8) + 1);
    if (len >= 14) {
        memset(p, 0xff, 6);
        p[12] = 0x08;
        p[13] = 0x00;
    }
}

/* A frame length: mostly anywhere in 14..1514, often the edges. */
static size_t frame_len(void)
{
    switch (below(8)) {
    case 0: return 14;
    case 1: return 1514;
    case 2: return 60;
    default: return 14 + below(1501);
    }
}

/* --- what the drivers call --------------------------------------------------------- */

const struct xp_platform xp_pvh_pc_platform = { .name = "pvh" };
const struct xp_platform *xp_platform = &xp_pvh_pc_platform;

void xp_printk(const char *fmt, ...)
{
    va_list ap;
    printf("log ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* Pages from a pool low in the address space: a legacy virtio queue's page
   frame number has 32 bits, which the sanitizers' heap is far above.  Free
   pages are poisoned, so that a driver using one is caught. */
#define POOL_PAGES 1024
#define POOL_ADDR 0x40000000UL
static uint8_t *pool;
static uint8_t pool_used[POOL_PAGES];
static long live_pages;

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

static void pool_init(void)
{
    void *p = mmap((void *)POOL_ADDR, POOL_PAGES * XP_PAGE_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(p != MAP_FAILED, "mmap of the page pool at 0x%lx: %s", POOL_ADDR, strerror(errno));
    pool = p;
    ASAN_POISON_MEMORY_REGION(pool, POOL_PAGES * XP_PAGE_SIZE);
}

void *xp_page_alloc(size_t npages, size_t align_pages)
{
    size_t align = align_pages ? align_pages : 1;
    for (size_t i = 0; i + npages <= POOL_PAGES; i += align) {
        size_t n = 0;
        while (n < npages && !pool_used[i + n])
            n++;
        if (n < npages)
            continue;
        memset(pool_used + i, 1, npages);
        uint8_t *p = pool + i * XP_PAGE_SIZE;
        ASAN_UNPOISON_MEMORY_REGION(p, npages * XP_PAGE_SIZE);
        /* Not zeroed: the drivers must clear what they rely on. */
        memset(p, 0xa5, npages * XP_PAGE_SIZE);
        live_pages += (long)npages;
        return p;
    }
    return 0;
}

void xp_page_free(void *p, size_t npages)
{
    size_t i = (size_t)((uint8_t *)p - pool) / XP_PAGE_SIZE;
    CHECK((uint8_t *)p >= pool && i + npages <= POOL_PAGES &&
          (uint8_t *)p == pool + i * XP_PAGE_SIZE, "freeing %p", p);
    for (size_t j = 0; j < npages; j++) {
        CHECK(pool_used[i + j], "page %zu freed twice", i + j);
        pool_used[i + j] = 0;
    }
    ASAN_POISON_MEMORY_REGION(p, npages * XP_PAGE_SIZE);
    live_pages -= (long)npages;
}

/* ============================== virtio-mmio ===================================== */

#define WINDOW_SLOTS 24
#define SLOT_STRIDE 0x200u
#define WINDOW_SIZE (WINDOW_SLOTS * SLOT_STRIDE)
#define NET_SLOT 2                      /* slot 0: no device, slot 1: a block device */
#define VSLOT_SIZE 2048                 /* virtio_net.c's receive/transmit buffers */

unsigned long xpt_vmmio_base;           /* virtio_mmio.c's VMMIO_BASE, for this test */

struct fake_queue {
    uint32_t num_max, num, pfn, ready;
    uint64_t desc, avail, used;
};

static struct {
    uint32_t version, status, dfsel, drfsel, qsel, page_size, align;
    uint64_t features, driver_features;
    struct fake_queue q[2];
    uint8_t config[32];
    uint32_t generation;
    uint64_t notifies[2];
    /* set-up failures on demand */
    int refuse_features_ok, keep_pfn;
} dev;

static uint32_t reg_read(unsigned slot, unsigned off)
{
    if (off == VIRTIO_MMIO_MAGIC_VALUE)
        return slot <= NET_SLOT ? 0x74726976u : 0;     /* past the last: nothing */
    if (slot != NET_SLOT) {
        if (off == VIRTIO_MMIO_VERSION)
            return slot == 0 ? 1 : dev.version;
        return off == VIRTIO_MMIO_DEVICE_ID && slot == 1 ? 2 : 0;
    }
    struct fake_queue *q = dev.qsel < 2 ? &dev.q[dev.qsel] : 0;
    if (off >= VIRTIO_MMIO_CONFIG) {
        uint32_t v = 0;
        for (unsigned i = 0; i < 4; i++) {
            unsigned c = off - VIRTIO_MMIO_CONFIG + i;
            v |= (uint32_t)(c < sizeof(dev.config) ? dev.config[c] : 0) << (8 * i);
        }
        return v;
    }
    switch (off) {
    case VIRTIO_MMIO_VERSION: return dev.version;
    case VIRTIO_MMIO_DEVICE_ID: return 1;
    case VIRTIO_MMIO_VENDOR_ID: return 0x554d4551;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return dev.dfsel == 0 ? (uint32_t)dev.features :
               dev.dfsel == 1 && dev.version >= 2 ? (uint32_t)(dev.features >> 32) : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? q->num_max : 0;
    case VIRTIO_MMIO_QUEUE_PFN: return q && dev.version == 1 ? q->pfn : 0;
    case VIRTIO_MMIO_QUEUE_READY: return q && dev.version >= 2 ? q->ready : 0;
    case VIRTIO_MMIO_STATUS: return dev.status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return dev.generation;
    }
    return 0;
}

static void reg_write(unsigned slot, unsigned off, uint32_t v, unsigned byte_off)
{
    CHECK(slot == NET_SLOT, "write to slot %u offset 0x%x", slot, off);
    struct fake_queue *q = dev.qsel < 2 ? &dev.q[dev.qsel] : 0;
    if (off >= VIRTIO_MMIO_CONFIG) {
        unsigned c = byte_off - VIRTIO_MMIO_CONFIG;
        CHECK(c < 6, "config write at %u", c);          /* only the MAC is writable */
        dev.config[c] = (uint8_t)v;
        return;
    }
    switch (off) {
    case VIRTIO_MMIO_STATUS:
        if (v == 0) {                                   /* reset */
            dev.status = 0;
            dev.driver_features = 0;
            for (int i = 0; i < 2; i++) {
                uint32_t pfn = dev.q[i].pfn, max = dev.q[i].num_max;
                memset(&dev.q[i], 0, sizeof(dev.q[i]));
                dev.q[i].num_max = max;
                if (dev.keep_pfn)
                    dev.q[i].pfn = pfn, dev.q[i].ready = pfn != 0;
            }
            return;
        }
        CHECK((v & dev.status) == dev.status, "status bits cleared: 0x%x -> 0x%x",
              dev.status, v);
        if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && dev.refuse_features_ok)
            v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
        dev.status = v;
        return;
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: dev.dfsel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: dev.drfsel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        CHECK(dev.drfsel < 2, "driver features select %u", dev.drfsel);
        if (dev.drfsel == 0)
            dev.driver_features = (dev.driver_features & ~0xffffffffULL) | v;
        else
            dev.driver_features = (dev.driver_features & 0xffffffffULL) | (uint64_t)v << 32;
        return;
    case VIRTIO_MMIO_GUEST_PAGE_SIZE: dev.page_size = v; return;
    case VIRTIO_MMIO_QUEUE_SEL: dev.qsel = v; return;
    case VIRTIO_MMIO_QUEUE_ALIGN: dev.align = v; return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        CHECK(v < 2, "notify for queue %u", v);
        dev.notifies[v]++;
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK: return;
    }
    CHECK(q != 0, "queue register 0x%x with queue %u selected", off, dev.qsel);
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM:
        CHECK(v <= q->num_max && v && !(v & (v - 1)), "queue size %u (max %u)", v, q->num_max);
        q->num = v;
        return;
    case VIRTIO_MMIO_QUEUE_PFN: q->pfn = v; return;
    case VIRTIO_MMIO_QUEUE_READY: q->ready = v; return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: q->desc = (q->desc & ~0xffffffffULL) | v; return;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: q->desc = (q->desc & 0xffffffffULL) | (uint64_t)v << 32; return;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW: q->avail = (q->avail & ~0xffffffffULL) | v; return;
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: q->avail = (q->avail & 0xffffffffULL) | (uint64_t)v << 32; return;
    case VIRTIO_MMIO_QUEUE_USED_LOW: q->used = (q->used & ~0xffffffffULL) | v; return;
    case VIRTIO_MMIO_QUEUE_USED_HIGH: q->used = (q->used & 0xffffffffULL) | (uint64_t)v << 32; return;
    }
    CHECK(0, "write to register 0x%x", off);
}

/* The register window: PROT_NONE, every access trapped and answered. */
static struct {
    uintptr_t addr;
    int write, active;
} trap;
static uint64_t traps;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    uintptr_t a = (uintptr_t)si->si_addr;
    if (a < xpt_vmmio_base || a >= xpt_vmmio_base + WINDOW_SIZE || trap.active) {
        signal(SIGSEGV, SIG_DFL);       /* a real crash: let it happen again, fatally */
        return;
    }
    unsigned off = (unsigned)(a - xpt_vmmio_base);
    mprotect((void *)xpt_vmmio_base, WINDOW_SIZE, PROT_READ | PROT_WRITE);
    uint32_t v = reg_read(off / SLOT_STRIDE, (off % SLOT_STRIDE) & ~3u);
    memcpy((void *)(xpt_vmmio_base + (off & ~3u)), &v, 4);
    trap.addr = a;
    trap.write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    trap.active = 1;
    traps++;
    uc->uc_mcontext.gregs[REG_EFL] |= 0x100;           /* one instruction, then SIGTRAP */
}

static void on_trap(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    uc->uc_mcontext.gregs[REG_EFL] &= ~0x100;
    if (!trap.active)
        return;
    unsigned off = (unsigned)(trap.addr - xpt_vmmio_base);
    trap.active = 0;
    if (trap.write) {
        unsigned reg = (off % SLOT_STRIDE) & ~3u;
        uint32_t v;
        if (reg >= VIRTIO_MMIO_CONFIG)
            v = *(uint8_t *)trap.addr;
        else
            memcpy(&v, (void *)(xpt_vmmio_base + (off & ~3u)), 4);
        reg_write(off / SLOT_STRIDE, reg, v, off % SLOT_STRIDE);
    }
    mprotect((void *)xpt_vmmio_base, WINDOW_SIZE, PROT_NONE);
}

static void window_init(void)
{
    void *w = mmap(0, WINDOW_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(w != MAP_FAILED, "mmap: %s", strerror(errno));
    xpt_vmmio_base = (unsigned long)w;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = on_segv;
    sigaction(SIGSEGV, &sa, 0);
    sa.sa_sigaction = on_trap;
    sigaction(SIGTRAP, &sa, 0);
}

static void device_init(unsigned version, unsigned num_max)
{
    memset(&dev, 0, sizeof(dev));
    dev.version = version;
    /* Offered beyond what the driver takes: offloads, merged buffers, events. */
    dev.features = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_CSUM |
                   1ULL << VIRTIO_NET_F_GUEST_CSUM | 1ULL << VIRTIO_NET_F_MRG_RXBUF |
                   1ULL << VIRTIO_NET_F_STATUS | 1ULL << VIRTIO_RING_F_EVENT_IDX;
    if (version >= 2)
        dev.features |= 1ULL << VIRTIO_F_VERSION_1;
    dev.q[0].num_max = dev.q[1].num_max = num_max;
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    memcpy(dev.config, mac, 6);
}

/* The device's side of one queue. */
struct dq {
    int tx;
    unsigned num, slots;
    struct vring vr;
    uint16_t last_avail, used_idx;
    uint8_t held[1024];                 /* by head: the device has the buffer */
    unsigned nheld;
    uint64_t taken;                     /* heads taken from the available ring */
};

static struct dq rxq, txq;
static size_t vhdr;                     /* the virtio-net header's length */
static uint8_t vshadow[512][VSLOT_SIZE]; /* what the device wrote into each RX slot */

/* TX frames as transmitted, in order, until the device takes them. */
static struct { uint32_t seq; size_t len; } txfifo[4096];
static unsigned txfifo_head, txfifo_tail;

static void dq_init(struct dq *q, int qi)
{
    struct fake_queue *f = &dev.q[qi];
    memset(q, 0, sizeof(*q));
    q->tx = qi == 1;
    q->num = f->num;
    q->slots = f->num / 2;
    if (dev.version == 1) {
        CHECK(dev.page_size == 4096 && dev.align == 4096, "page size %u align %u",
              dev.page_size, dev.align);
        CHECK(f->pfn != 0, "queue %d has no pfn", qi);
        vring_init(&q->vr, f->num, (void *)((uintptr_t)f->pfn * dev.page_size), dev.align);
    } else {
        CHECK(f->ready == 1, "queue %d not ready", qi);
        q->vr.num = f->num;
        q->vr.desc = (void *)(uintptr_t)f->desc;
        q->vr.avail = (void *)(uintptr_t)f->avail;
        q->vr.used = (void *)(uintptr_t)f->used;
    }
    CHECK(q->vr.avail->flags == VRING_AVAIL_F_NO_INTERRUPT, "avail flags %u",
          q->vr.avail->flags);
}

static uint8_t *slot_buf(struct dq *q, unsigned head)
{
    return (uint8_t *)(uintptr_t)q->vr.desc[head].addr;
}

/* Take what the driver made available, checking every head and its descriptors. */
static void take_avail(struct dq *q)
{
    uint16_t idx = q->vr.avail->idx;
    CHECK((uint16_t)(idx - q->last_avail) <= q->num,
          "the driver made %u buffers available on a ring of %u",
          (uint16_t)(idx - q->last_avail), q->num);
    for (; q->last_avail != idx; q->last_avail++) {
        unsigned head = q->vr.avail->ring[q->last_avail % q->num];
        CHECK(head < q->num && !(head & 1), "available head %u", head);
        struct vring_desc *d = &q->vr.desc[head], *d2 = &q->vr.desc[head + 1];
        uint16_t w = q->tx ? 0 : VRING_DESC_F_WRITE;
        CHECK(d->flags == (VRING_DESC_F_NEXT | w) && d->next == head + 1 && d->len == vhdr &&
              d2->flags == w && d2->addr == d->addr + vhdr && !(d->addr % VSLOT_SIZE),
              "descriptors of head %u", head);
        q->taken++;
        if (!q->tx) {
            CHECK(d2->len == VSLOT_SIZE - vhdr, "receive buffer of %u bytes", d2->len);
            if (!q->held[head])
                q->held[head] = 1, q->nheld++;
            continue;
        }
        CHECK(!q->held[head], "transmit slot %u offered while the device has it", head);
        q->held[head] = 1;
        q->nheld++;
        CHECK(txfifo_head != txfifo_tail, "a transmit nobody asked for");
        uint32_t seq = txfifo[txfifo_tail % 4096].seq;
        size_t len = txfifo[txfifo_tail % 4096].len;
        txfifo_tail++;
        CHECK(d2->len == len, "transmit of %u bytes, %zu sent", d2->len, len);
        static uint8_t want[VSLOT_SIZE], zero[16];
        make_frame(want, len, seq);
        const uint8_t *b = slot_buf(q, head);
        CHECK(!memcmp(b, zero, vhdr) && !memcmp(b + vhdr, want, len),
              "transmit %u: the frame in slot %u is not the one sent", seq, head / 2);
    }
}

static void publish_used(struct dq *q)
{
    __asm__ volatile("" ::: "memory");
    q->vr.used->idx = q->used_idx;
}

static void put_used(struct dq *q, uint32_t id, uint32_t len)
{
    q->vr.used->ring[q->used_idx % q->num].id = id;
    q->vr.used->ring[q->used_idx % q->num].len = len;
    q->used_idx++;
}

static unsigned pick_held(struct dq *q)
{
    unsigned n = below(q->nheld);
    for (unsigned h = 0; h < q->num; h += 2)
        if (q->held[h] && n-- == 0)
            return h;
    CHECK(0, "no held buffer");
    return 0;
}

static unsigned pick_free(struct dq *q)
{
    unsigned n = below(q->slots - q->nheld);
    for (unsigned h = 0; h < q->num; h += 2)
        if (!q->held[h] && n-- == 0)
            return h;
    CHECK(0, "no free slot");
    return 0;
}

/* The driver's counters, as the model expects them. */
static struct {
    uint64_t rx_frames, rx_bytes, rx_dropped, tx_frames, tx_bytes, tx_dropped, malformed;
} want;
static struct {
    uint64_t rx_entries, rx_bad_id, rx_bad_len, rx_dups, tx_entries, tx_bad, jumps,
             transmits, tx_full, receives;
} vstat;
static uint32_t seq_counter;
static int full_caps;                   /* the last rounds: every frame fits */
static struct xp_netdev *vnd;

static void check_counters(const char *where)
{
    struct pc_virtio_net_info in;
    CHECK(pc_virtio_net_info(&in) == 0, "no info");
    CHECK(in.malformed == want.malformed, "%s: malformed %lu, expected %lu", where,
          (unsigned long)in.malformed, (unsigned long)want.malformed);
    CHECK(vnd->rx_frames == want.rx_frames && vnd->rx_bytes == want.rx_bytes &&
          vnd->rx_dropped == want.rx_dropped && vnd->tx_frames == want.tx_frames &&
          vnd->tx_bytes == want.tx_bytes && vnd->tx_dropped == want.tx_dropped,
          "%s: counters rx %lu/%lu/%lu tx %lu/%lu/%lu", where,
          (unsigned long)vnd->rx_frames, (unsigned long)vnd->rx_bytes,
          (unsigned long)vnd->rx_dropped, (unsigned long)vnd->tx_frames,
          (unsigned long)vnd->tx_bytes, (unsigned long)vnd->tx_dropped);
    CHECK(in.tx_in_flight == txq.nheld + (txfifo_head - txfifo_tail),
          "%s: %u transmits in flight, the device has %u", where, in.tx_in_flight,
          txq.nheld + (txfifo_head - txfifo_tail));
}

/* The RX entries published and not yet consumed, in order. */
static struct { uint32_t id, len; } rxexp[1024];
static unsigned rxexp_n, rxexp_at;

/* Call receive until it has nothing, each call's result predicted from the
   entries: an id that is not a slot's head is malformed; a slot with a length
   outside it is malformed, one longer than cap dropped, the rest delivered from
   the slot as the device last wrote it; every slot comes back to the ring. */
static uint64_t drain_rx(void)
{
    static uint8_t buf[VSLOT_SIZE + 64];
    uint64_t reoffered = 0;
    for (;;) {
        size_t cap = chance(85) || full_caps ? 1514 : below(1600);
        void *b = chance(2) && !full_caps ? 0 : buf;
        size_t expect = 0;
        const uint8_t *src = 0;
        while (rxexp_at < rxexp_n && !expect) {
            uint32_t id = rxexp[rxexp_at].id, len = rxexp[rxexp_at].len;
            rxexp_at++;
            if (id >= rxq.num || (id & 1)) {
                want.malformed++;
                continue;
            }
            reoffered++;
            if (rxq.held[id])
                rxq.held[id] = 0, rxq.nheld--;         /* returned: back in the ring soon */
            if (len < vhdr + 14 || len > VSLOT_SIZE) {
                want.malformed++;
            } else if (len - vhdr > cap || !b) {
                want.rx_dropped++;
            } else {
                expect = len - vhdr;
                src = vshadow[id / 2] + vhdr;
            }
        }
        memset(buf, 0x5c, sizeof(buf));
        size_t got = vnd->receive(vnd, b, cap);
        vstat.receives++;
        CHECK(got == expect, "receive gave %zu bytes, expected %zu", got, expect);
        if (got) {
            CHECK(!memcmp(buf, src, got) && buf[got] == 0x5c,
                  "received frame of %zu bytes differs from the device's", got);
            want.rx_frames++;
            want.rx_bytes += got;
        } else if (rxexp_at == rxexp_n) {
            break;
        }
    }
    rxexp_n = rxexp_at = 0;
    return reoffered;
}

static void rx_batch(unsigned k)
{
    take_avail(&rxq);
    for (unsigned j = 0; j < k; j++) {
        unsigned kind = below(100);
        uint32_t id, len;
        if (kind < 50 && rxq.nheld) {
            /* A frame, as a device writes it (the header's bytes are the device's). */
            id = pick_held(&rxq);
            rxq.held[id] = 0;
            rxq.nheld--;
            size_t flen = frame_len();
            for (size_t i = 0; i < vhdr; i++)
                vshadow[id / 2][i] = (uint8_t)rnd();
            make_frame(vshadow[id / 2] + vhdr, flen, seq_counter++);
            len = (uint32_t)(vhdr + flen);
            if (chance(5))
                len = VSLOT_SIZE;               /* the whole buffer: still inside */
            memcpy(slot_buf(&rxq, id), vshadow[id / 2], VSLOT_SIZE);
        } else if (kind < 58) {
            /* A slot used again, maybe rewritten first: the driver cannot tell. */
            id = 2 * below(rxq.slots);
            if (chance(50)) {
                make_frame(vshadow[id / 2] + vhdr, 14 + below(1501), seq_counter++);
                memcpy(slot_buf(&rxq, id), vshadow[id / 2], VSLOT_SIZE);
            }
            len = (uint32_t)(vhdr + 14 + below(VSLOT_SIZE - vhdr - 13));
            vstat.rx_dups++;
        } else if (kind < 66) {
            id = 2 * below(rxq.slots) + 1;      /* the frame's descriptor, not the head */
            len = (uint32_t)(vhdr + 60);
            vstat.rx_bad_id++;
        } else if (kind < 74) {
            id = chance(50) ? rxq.num + below(64) : (uint32_t)rnd();
            if (id < rxq.num)
                id += rxq.num;
            len = (uint32_t)(vhdr + 60);
            vstat.rx_bad_id++;
        } else if (kind < 82) {
            id = 2 * below(rxq.slots);
            len = below((uint32_t)vhdr + 14);    /* shorter than a header and a frame */
            vstat.rx_bad_len++;
        } else if (kind < 90) {
            id = 2 * below(rxq.slots);
            len = chance(50) ? VSLOT_SIZE + 1 + below(4096) : 0xffffffffu - below(16);
            vstat.rx_bad_len++;
        } else if (kind < 95) {
            /* Whatever the ring holds at that place: an old entry. */
            id = rxq.vr.used->ring[rxq.used_idx % rxq.num].id;
            len = rxq.vr.used->ring[rxq.used_idx % rxq.num].len;
        } else {
            id = (uint32_t)rnd() & (chance(50) ? 0xff : 0xffffffffu);
            len = (uint32_t)rnd() & (chance(50) ? 0xfff : 0xffffffffu);
        }
        put_used(&rxq, id, len);
        rxexp[rxexp_n].id = id;
        rxexp[rxexp_n].len = len;
        rxexp_n++;
        vstat.rx_entries++;
    }
    publish_used(&rxq);
    uint64_t before = rxq.taken;
    uint64_t reoffered = drain_rx();
    take_avail(&rxq);
    CHECK(rxq.taken - before == reoffered, "%lu slots offered again, %lu came back",
          (unsigned long)(rxq.taken - before), (unsigned long)reoffered);
}

static void tx_batch(unsigned k)
{
    take_avail(&txq);
    for (unsigned j = 0; j < k; j++) {
        unsigned kind = below(100);
        uint32_t id;
        if (kind < 70 && txq.nheld) {
            id = pick_held(&txq);
            txq.held[id] = 0;
            txq.nheld--;
        } else {
            if (kind < 80 && txq.nheld < txq.slots)
                id = pick_free(&txq);           /* done already (or never sent) */
            else if (kind < 90)
                id = 2 * below(txq.slots) + 1;
            else
                id = txq.num + below(0xffffff);
            want.malformed++;
            vstat.tx_bad++;
        }
        put_used(&txq, id, (uint32_t)rnd() & 0xfff);     /* the length is not looked at */
        vstat.tx_entries++;
    }
    publish_used(&txq);
    check_counters("after transmit completions");
}

static void transmit_one(void)
{
    static uint8_t frame[4096];
    size_t len = frame_len();
    int bad = chance(3), null = chance(1);
    if (bad)
        len = chance(50) ? below(14) : 1515 + below(600);
    uint32_t seq = seq_counter++;
    make_frame(frame, len, seq);
    bad |= null;
    unsigned in_flight = txq.nheld + (txfifo_head - txfifo_tail);
    uint64_t notifies = dev.notifies[1];
    int quiet = (txq.vr.used->flags & VRING_USED_F_NO_NOTIFY) != 0;
    int rc = vnd->transmit(vnd, null ? 0 : frame, len);
    vstat.transmits++;
    if (bad || in_flight == txq.slots || rc != 0) {
        CHECK(rc == -1 && (bad || in_flight == txq.slots),
              "transmit of %zu bytes with %u in flight: %d", len, in_flight, rc);
        want.tx_dropped++;
        if (!bad)
            vstat.tx_full++;
        return;
    }
    CHECK(dev.notifies[1] == notifies + !quiet, "notifies %lu -> %lu (no-notify %d)",
          (unsigned long)notifies, (unsigned long)dev.notifies[1], quiet);
    txfifo[txfifo_head % 4096].seq = seq;
    txfifo[txfifo_head % 4096].len = len;
    txfifo_head++;
    want.tx_frames++;
    want.tx_bytes += len;
}

/* The used index moved by more than a ring: forward, or backward. */
static void used_jump(struct dq *q)
{
    take_avail(q);
    uint16_t by = (uint16_t)(q->num + 1 + below(65535 - q->num));
    q->used_idx += by;
    publish_used(q);
    want.malformed++;
    vstat.jumps++;
    if (q->tx)
        check_counters("after a jump of the transmit used index");
    else
        CHECK(vnd->receive(vnd, 0, 0) == 0, "a frame after a jump");
    check_counters("after a jump");
}

static void virtio_probe_checks(unsigned version)
{
    CHECK(vnd != 0, "no device found");
    CHECK(!strcmp(vnd->name, "virtio-net") && vnd->mtu == 1500, "name %s", vnd->name);
    CHECK(!memcmp(vnd->mac, dev.config, 6), "mac not the device's");
    uint32_t ok = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                  VIRTIO_CONFIG_S_DRIVER_OK | (version >= 2 ? VIRTIO_CONFIG_S_FEATURES_OK : 0);
    CHECK(dev.status == ok, "status 0x%x", dev.status);
    uint64_t accepted = 1ULL << VIRTIO_NET_F_MAC | (version >= 2 ? 1ULL << VIRTIO_F_VERSION_1 : 0);
    CHECK(dev.driver_features == accepted, "driver features 0x%llx",
          (unsigned long long)dev.driver_features);
    vhdr = version >= 2 ? sizeof(struct virtio_net_hdr_v1) : sizeof(struct virtio_net_hdr);
    dq_init(&rxq, 0);
    dq_init(&txq, 1);
    take_avail(&rxq);
    take_avail(&txq);
    CHECK(rxq.nheld == rxq.slots && txq.nheld == 0, "after set-up: %u receive buffers, "
          "%u transmits", rxq.nheld, txq.nheld);
    CHECK(dev.notifies[0] >= 1, "the receive queue was never notified");
}

static void virtio_fuzz(unsigned version, unsigned num_max, uint64_t seed, long iterations)
{
    window_init();
    device_init(version, num_max);
    seed_rng(seed);
    vnd = xp_virtio_net_probe();
    virtio_probe_checks(version);
    CHECK(xp_virtio_net_probe() == vnd, "probe is not idempotent");
    long pages = live_pages;
    printf("slots %u\n", rxq.slots);

    int stalled = 0;
    for (long it = 0; it < iterations; it++) {
        unsigned what = below(100);
        if (chance(1))
            stalled = !stalled;         /* the device leaves transmits alone a while */
        if (what < 30)
            transmit_one();
        else if (what < 45 && !stalled)
            tx_batch(1 + below(chance(80) ? 4 : txq.num));
        else if (what < 85)
            rx_batch(1 + below(chance(80) ? 6 : rxq.num));
        else if (what < 87)
            used_jump(chance(50) ? &rxq : &txq);
        else if (what < 92) {
            /* The device asks not to be notified, or to be again. */
            rxq.vr.used->flags ^= VRING_USED_F_NO_NOTIFY;
            txq.vr.used->flags ^= (uint16_t)(chance(50) ? VRING_USED_F_NO_NOTIFY : 0);
        } else {
            /* Receive with nothing pending. */
            CHECK(vnd->receive(vnd, chance(50) ? 0 : (void *)&it, chance(50) ? 0 : 8) == 0,
                  "a frame from nowhere");
        }
        if (it % 256 == 0)
            check_counters("fuzzing");
    }
    check_counters("after fuzzing");

    /* Every transmit slot back: all free, all usable, none twice. */
    take_avail(&txq);
    for (unsigned h = 0; h < txq.num; h++)
        if (txq.held[h])
            put_used(&txq, h, 0), txq.held[h] = 0;
    txq.nheld = 0;
    publish_used(&txq);
    check_counters("all transmits done");
    txq.vr.used->flags = 0;
    for (unsigned i = 0; i < txq.slots; i++) {
        static uint8_t frame[100];
        make_frame(frame, 100, seq_counter);
        CHECK(vnd->transmit(vnd, frame, 100) == 0, "transmit %u of %u failed", i, txq.slots);
        txfifo[txfifo_head % 4096].seq = seq_counter++;
        txfifo[txfifo_head % 4096].len = 100;
        txfifo_head++;
        want.tx_frames++;
        want.tx_bytes += 100;
    }
    CHECK(vnd->transmit(vnd, vshadow[0], 100) == -1, "more transmits than slots");
    want.tx_dropped++;
    take_avail(&txq);
    CHECK(txq.nheld == txq.slots, "%u of %u transmit slots", txq.nheld, txq.slots);
    check_counters("all slots sent");

    /* Every receive buffer with the device, each delivering a frame intact. */
    take_avail(&rxq);
    CHECK(rxq.nheld == rxq.slots, "%u of %u receive buffers in the ring", rxq.nheld, rxq.slots);
    for (unsigned h = 0; h < rxq.num; h += 2) {
        make_frame(vshadow[h / 2] + vhdr, 1514, seq_counter++);
        memcpy(slot_buf(&rxq, h), vshadow[h / 2], VSLOT_SIZE);
        put_used(&rxq, h, (uint32_t)(vhdr + 1514));
        rxexp[rxexp_n].id = h;
        rxexp[rxexp_n].len = (uint32_t)(vhdr + 1514);
        rxexp_n++;
    }
    publish_used(&rxq);
    uint64_t frames = want.rx_frames;
    full_caps = 1;
    drain_rx();
    CHECK(want.rx_frames == frames + rxq.slots, "%lu of %u frames",
          (unsigned long)(want.rx_frames - frames), rxq.slots);
    take_avail(&rxq);
    CHECK(rxq.nheld == rxq.slots, "%u of %u receive buffers back", rxq.nheld, rxq.slots);
    check_counters("at the end");
    CHECK(live_pages == pages, "pages %ld -> %ld", pages, live_pages);

    printf("rx-entries %lu\nrx-bad-id %lu\nrx-bad-len %lu\nrx-dups %lu\n"
           "tx-entries %lu\ntx-bad %lu\njumps %lu\ntransmits %lu\ntx-full %lu\n"
           "receives %lu\nmalformed %lu\nrx-frames %lu\nrx-dropped %lu\ntraps %lu\n",
           (unsigned long)vstat.rx_entries, (unsigned long)vstat.rx_bad_id,
           (unsigned long)vstat.rx_bad_len, (unsigned long)vstat.rx_dups,
           (unsigned long)vstat.tx_entries, (unsigned long)vstat.tx_bad,
           (unsigned long)vstat.jumps, (unsigned long)vstat.transmits,
           (unsigned long)vstat.tx_full, (unsigned long)vstat.receives,
           (unsigned long)want.malformed, (unsigned long)want.rx_frames,
           (unsigned long)want.rx_dropped, (unsigned long)traps);
    printf("ok virtio\n");
}

/* A device that makes the set-up fail, or makes the driver improvise. */
static void virtio_setup(const char *kind)
{
    window_init();
    unsigned version = 2, num_max = 256;
    int should_fail = 1;
    if (!strcmp(kind, "no-version-1")) {
        device_init(2, num_max);
        dev.features &= ~(1ULL << VIRTIO_F_VERSION_1);
    } else if (!strcmp(kind, "features-ok-refused")) {
        device_init(2, num_max);
        dev.refuse_features_ok = 1;
    } else if (!strcmp(kind, "queue-in-use")) {
        device_init(1, num_max);
        dev.q[1].pfn = 1234;
        dev.keep_pfn = 1;
    } else if (!strcmp(kind, "tiny-queue")) {
        device_init(2, 1);
    } else if (!strcmp(kind, "no-mac-legacy") || !strcmp(kind, "no-mac-modern")) {
        version = kind[7] == 'l' ? 1 : 2;
        device_init(version, 16);
        dev.features &= ~(1ULL << VIRTIO_NET_F_MAC);
        memset(dev.config, 0, sizeof(dev.config));
        should_fail = 0;
    } else {
        CHECK(0, "unknown kind %s", kind);
    }
    vnd = xp_virtio_net_probe();
    if (should_fail) {
        CHECK(vnd == 0, "%s: the probe succeeded", kind);
        CHECK(dev.status == 0, "%s: status 0x%x after the failure (a reset)", kind, dev.status);
        CHECK(live_pages == 0, "%s: %ld pages not given back", kind, live_pages);
    } else {
        CHECK(vnd != 0, "%s: no device", kind);
        CHECK((vnd->mac[0] & 3) == 2, "%s: made-up MAC not local unicast", kind);
        if (version == 1)
            CHECK(!memcmp(dev.config, vnd->mac, 6), "%s: MAC not told to the device", kind);
        else
            CHECK(dev.config[0] == 0, "%s: config written on a modern device", kind);
        struct pc_virtio_net_info in;
        CHECK(pc_virtio_net_info(&in) == 0 && in.mac_made_up && in.rx_slots == 8,
              "%s: info", kind);
    }
    CHECK(xp_virtio_net_probe() == vnd, "probe is not idempotent");
    printf("ok virtio-setup %s\n", kind);
}

/* ================================= netfront ===================================== */
#ifndef XPT_NO_NETFRONT

#define NF_PAGE 4096
#define NF_RX_BUFS 64
#define NF_TX_SLOTS 64
#define NF_PORT 9
#define NF_MAX_GRANTS 256

int xen_hypercalls_ready = 1;
int xs_ready(void) { return 1; }
int xen_gnttab_ready(void) { return 1; }
const char *xs_strerror(int err) { return "E?"; }

uint64_t xen_frame_of(const void *va)
{
    CHECK(((uintptr_t)va & (NF_PAGE - 1)) == 0, "frame of an unaligned address %p", va);
    return (uintptr_t)va / NF_PAGE;
}

static struct {
    uint64_t frame;
    int readonly;
} grants[NF_MAX_GRANTS];
static unsigned ngrants, grant_limit = NF_MAX_GRANTS;

int xen_gnttab_grant(domid_t domid, uint64_t frame, int readonly, grant_ref_t *ref)
{
    CHECK(domid == 0, "grant to domain %u", domid);
    if (ngrants >= grant_limit)
        return -1;
    grants[ngrants].frame = frame;
    grants[ngrants].readonly = readonly;
    *ref = 8 + ngrants++;               /* refs 0-7 are reserved */
    return 0;
}

/* The back end maps a grant. */
static uint8_t *map_grant(grant_ref_t ref, int write)
{
    CHECK(ref >= 8 && ref - 8 < ngrants, "grant ref %u was never given", ref);
    CHECK(!write || !grants[ref - 8].readonly, "grant %u is read-only", ref);
    return (uint8_t *)(uintptr_t)(grants[ref - 8].frame * NF_PAGE);
}

static struct {
    char tx_ring_ref[16], rx_ring_ref[16], event_channel[16];
    int rx_copy, commits, state;
    evtchn_port_t bound;
    xen_evtchn_handler handler;
    void *arg;
    uint64_t notifies;
} xs;

int xs_read(xs_transaction_t tx, const char *path, char *buf, size_t size)
{
    const char *v = 0;
    if (!strcmp(path, "device/vif/0/backend"))
        v = "backend/vif/1/0";
    else if (!strcmp(path, "device/vif/0/mac"))
        v = "00:16:3e:0a:bc:de";
    if (!v)
        return -ENOENT;
    snprintf(buf, size, "%s", v);
    return (int)strlen(v);
}

int xs_transaction_start(xs_transaction_t *tx)
{
    *tx = 5;
    return 0;
}

int xs_transaction_end(xs_transaction_t tx, int abort)
{
    CHECK(tx == 5 && !abort, "transaction %u end %d", tx, abort);
    /* The first commit conflicts, as xenstore may answer. */
    return xs.commits++ == 0 ? -EAGAIN : 0;
}

int xs_write(xs_transaction_t tx, const char *path, const char *value)
{
    CHECK(tx == 5, "write outside the transaction: %s", path);
    CHECK(!strncmp(path, "device/vif/0/", 13), "write to %s", path);
    const char *key = path + 13;
    if (!strcmp(key, "tx-ring-ref"))
        snprintf(xs.tx_ring_ref, sizeof(xs.tx_ring_ref), "%s", value);
    else if (!strcmp(key, "rx-ring-ref"))
        snprintf(xs.rx_ring_ref, sizeof(xs.rx_ring_ref), "%s", value);
    else if (!strcmp(key, "event-channel"))
        snprintf(xs.event_channel, sizeof(xs.event_channel), "%s", value);
    else if (!strcmp(key, "request-rx-copy"))
        xs.rx_copy = !strcmp(value, "1");
    return 0;
}

int xenbus_front_init(struct xenbus_front *f, const char *nodename)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->nodename, sizeof(f->nodename), "%s", nodename);
    snprintf(f->backend, sizeof(f->backend), "backend/vif/1/0");
    f->backend_id = 0;
    f->state = XenbusStateInitialising;
    return 0;
}

int xenbus_switch_state(struct xenbus_front *f, XenbusState state)
{
    f->state = state;
    xs.state = state;
    return 0;
}

int xenbus_wait_backend(struct xenbus_front *f, XenbusState want, uint64_t timeout_ns)
{
    return want;
}

XenbusState xenbus_backend_state(struct xenbus_front *f)
{
    return XenbusStateConnected;
}

int xen_evtchn_bind(evtchn_port_t port, xen_evtchn_handler handler, void *arg)
{
    xs.bound = port;
    xs.handler = handler;
    xs.arg = arg;
    return 0;
}

void xen_evtchn_notify(evtchn_port_t port)
{
    CHECK(port == NF_PORT, "notify on port %u", port);
    xs.notifies++;
}

/* The hypercall page: one stub per hypercall, each calling xpt_hypercall(a1, a2,
   a3, nr) on a 16-byte aligned stack. */
long xpt_hypercall(unsigned long a1, unsigned long a2, unsigned long a3, unsigned long nr);
__asm__(".pushsection .text\n"
        ".globl xp_hypercall_page\n"
        ".p2align 12\n"
        "xp_hypercall_page:\n"
        ".set xpt_nr, 0\n"
        ".rept 64\n"
        ".p2align 5\n"
        "push %rbp\n"
        "mov %rsp, %rbp\n"
        "and $-16, %rsp\n"
        "mov $xpt_nr, %ecx\n"
        "call xpt_hypercall\n"
        "leave\n"
        "ret\n"
        ".set xpt_nr, xpt_nr + 1\n"
        ".endr\n"
        ".popsection\n");

long xpt_hypercall(unsigned long a1, unsigned long a2, unsigned long a3, unsigned long nr)
{
    CHECK(nr == __HYPERVISOR_event_channel_op && a1 == EVTCHNOP_alloc_unbound,
          "hypercall %lu (%lu)", nr, a1);
    struct evtchn_alloc_unbound *a = (void *)a2;
    CHECK(a->dom == DOMID_SELF && a->remote_dom == 0, "alloc_unbound for %u", a->remote_dom);
    a->port = NF_PORT;
    return 0;
}

/* The back end. */
static struct {
    netif_tx_back_ring_t tx;
    netif_rx_back_ring_t rx;
    uint8_t *rx_page[NF_RX_BUFS];       /* the buffer of each id, as granted */
    grant_ref_t rx_gref[NF_RX_BUFS];
    uint16_t rx_at[NF_RX_BUFS * 4];     /* the id of the request at each ring place */
    uint8_t shadow[NF_RX_BUFS][NF_PAGE];
    /* TX: the slots the front end has in flight, as the back end knows them */
    uint8_t tx_pending[NF_TX_SLOTS];    /* requests read, not answered */
    uint8_t tx_lost[NF_TX_SLOTS];       /* their answer's place went to a bad one */
    unsigned npending, nlost;
    uint8_t *tx_page[NF_TX_SLOTS / 2];
} be;

static struct xp_netdev *nnd;
static struct {
    uint64_t rx_frames, rx_bytes, rx_dropped, tx_frames, tx_bytes, tx_dropped, malformed,
             tx_errors;
} nwant;
static struct {
    uint64_t rx_responses, rx_bad_id, rx_bad_status, rx_bad_offset, rx_more, rx_extra,
             tx_responses, tx_bad, transmits, tx_full, receives;
} nstat;

/* RX model: the response at each place, as the back end wrote it. */
static netif_rx_response_t nexp[1024];
static unsigned nexp_n, nexp_at;
static RING_IDX nexp_first;
static int m_extras, m_skipping;

static void nf_check(const char *where)
{
    struct xen_netfront_info in;
    CHECK(xen_netfront_info(&in) == 0, "no info");
    CHECK(in.malformed == nwant.malformed, "%s: malformed %lu, expected %lu", where,
          (unsigned long)in.malformed, (unsigned long)nwant.malformed);
    CHECK(in.tx_errors == nwant.tx_errors, "%s: tx errors %lu, expected %lu", where,
          (unsigned long)in.tx_errors, (unsigned long)nwant.tx_errors);
    CHECK(nnd->rx_frames == nwant.rx_frames && nnd->rx_bytes == nwant.rx_bytes &&
          nnd->rx_dropped == nwant.rx_dropped && nnd->tx_frames == nwant.tx_frames &&
          nnd->tx_bytes == nwant.tx_bytes && nnd->tx_dropped == nwant.tx_dropped,
          "%s: counters rx %lu/%lu/%lu tx %lu/%lu/%lu", where,
          (unsigned long)nnd->rx_frames, (unsigned long)nnd->rx_bytes,
          (unsigned long)nnd->rx_dropped, (unsigned long)nnd->tx_frames,
          (unsigned long)nnd->tx_bytes, (unsigned long)nnd->tx_dropped);
}

/* TX frames as transmitted, until the back end reads their requests. */
static struct { uint32_t seq; size_t len; } nfifo[4096];
static unsigned nfifo_head, nfifo_tail;

static void be_take_tx(void)
{
    RING_IDX prod = be.tx.sring->req_prod;
    CHECK(prod - be.tx.req_cons <= NF_TX_SLOTS, "%u transmit requests at once",
          prod - be.tx.req_cons);
    for (; be.tx.req_cons != prod; be.tx.req_cons++) {
        netif_tx_request_t r = *RING_GET_REQUEST(&be.tx, be.tx.req_cons);
        CHECK(r.id < NF_TX_SLOTS && !be.tx_pending[r.id] && !be.tx_lost[r.id],
              "transmit request id %u", r.id);
        CHECK(r.flags == 0 && r.offset == (r.id % 2) * 2048, "request flags %u offset %u",
              r.flags, r.offset);
        uint8_t *page = map_grant(r.gref, 0);
        CHECK(grants[r.gref - 8].readonly, "transmit page granted writable");
        if (!be.tx_page[r.id / 2])
            be.tx_page[r.id / 2] = page;
        CHECK(be.tx_page[r.id / 2] == page, "slot %u on another page", r.id);
        CHECK(nfifo_head != nfifo_tail, "a transmit nobody asked for");
        uint32_t seq = nfifo[nfifo_tail % 4096].seq;
        size_t len = nfifo[nfifo_tail % 4096].len;
        nfifo_tail++;
        static uint8_t want[2048];
        make_frame(want, len, seq);
        CHECK(r.size == len && !memcmp(page + r.offset, want, len),
              "transmit %u: request of %u bytes, not the frame sent (%zu)", seq, r.size, len);
        be.tx_pending[r.id] = 1;
        be.npending++;
    }
}

static unsigned nf_in_flight(void)
{
    return be.npending + be.nlost + (nfifo_head - nfifo_tail);
}

/* Answers for the transmit requests read: most right, some with an id that is
   no transmit in flight (each wastes the place of a request, whose slot then
   stays in flight for good: the model says which). */
static void nf_tx_batch(unsigned k)
{
    be_take_tx();
    for (unsigned j = 0; j < k && be.tx.rsp_prod_pvt != be.tx.req_cons; j++) {
        netif_tx_response_t *r = RING_GET_RESPONSE(&be.tx, be.tx.rsp_prod_pvt);
        unsigned kind = below(100);
        if (kind < 97 || be.nlost >= 8) {
            unsigned n = below(be.npending), id = 0;
            for (id = 0; id < NF_TX_SLOTS; id++)
                if (be.tx_pending[id] && n-- == 0)
                    break;
            r->id = (uint16_t)id;
            r->status = chance(90) ? NETIF_RSP_OKAY : chance(50) ? NETIF_RSP_ERROR :
                        NETIF_RSP_DROPPED;
            if (r->status != NETIF_RSP_OKAY)
                nwant.tx_errors++;
            be.tx_pending[id] = 0;
            be.npending--;
        } else {
            unsigned id;
            if (kind < 98 || be.npending + be.nlost == NF_TX_SLOTS) {
                id = NF_TX_SLOTS + below(0x10000 - NF_TX_SLOTS);
            } else {
                for (id = below(NF_TX_SLOTS);; id = (id + 1) % NF_TX_SLOTS)
                    if (!be.tx_pending[id] && !be.tx_lost[id])
                        break;          /* free: never sent, or answered already */
            }
            r->id = (uint16_t)id;
            r->status = chance(50) ? NETIF_RSP_NULL : NETIF_RSP_OKAY;
            if (kind == 99 && be.npending)
                r->id = 0, r->status = NETIF_RSP_NULL;
            /* This answer takes a request's place: one in-flight slot is lost. */
            unsigned n = below(be.npending), lost;
            for (lost = 0; lost < NF_TX_SLOTS; lost++)
                if (be.tx_pending[lost] && n-- == 0)
                    break;
            if (r->id == lost && r->status != NETIF_RSP_NULL)
                CHECK(0, "model: a lost slot answered");
            be.tx_pending[lost] = 0;
            be.tx_lost[lost] = 1;
            be.npending--;
            be.nlost++;
            nwant.malformed++;
            nstat.tx_bad++;
        }
        be.tx.rsp_prod_pvt++;
        nstat.tx_responses++;
    }
    RING_PUSH_RESPONSES(&be.tx);
    nf_check("after transmit responses");
    struct xen_netfront_info in;
    xen_netfront_info(&in);
    CHECK(in.tx_in_flight == nf_in_flight(), "%u transmits in flight, expected %u",
          in.tx_in_flight, nf_in_flight());
}

static void nf_transmit_one(void)
{
    static uint8_t frame[4096];
    size_t len = frame_len();
    int bad = chance(3);
    if (bad)
        len = chance(50) ? below(14) : 1515 + below(600);
    uint32_t seq = seq_counter++;
    make_frame(frame, len, seq);
    unsigned in_flight = nf_in_flight();
    int rc = nnd->transmit(nnd, frame, len);
    nstat.transmits++;
    if (bad || in_flight == NF_TX_SLOTS) {
        CHECK(rc == -1, "transmit of %zu bytes with %u in flight: %d", len, in_flight, rc);
        nwant.tx_dropped++;
        if (!bad)
            nstat.tx_full++;
        return;
    }
    CHECK(rc == 0, "transmit of %zu bytes failed with %u in flight", len, in_flight);
    nfifo[nfifo_head % 4096].seq = seq;
    nfifo[nfifo_head % 4096].len = len;
    nfifo_head++;
    nwant.tx_frames++;
    nwant.tx_bytes += len;
}

/* Read the RX requests: each names a buffer by id and grant, the same pair always. */
static void be_take_rx(void)
{
    RING_IDX prod = be.rx.sring->req_prod;
    CHECK(prod - be.rx.rsp_prod_pvt <= NF_RX_BUFS, "%u receive requests outstanding",
          prod - be.rx.rsp_prod_pvt);
    for (; be.rx.req_cons != prod; be.rx.req_cons++) {
        netif_rx_request_t r = *RING_GET_REQUEST(&be.rx, be.rx.req_cons);
        CHECK(r.id < NF_RX_BUFS, "receive request id %u", r.id);
        uint8_t *page = map_grant(r.gref, 1);
        if (!be.rx_page[r.id])
            be.rx_page[r.id] = page, be.rx_gref[r.id] = r.gref;
        CHECK(be.rx_page[r.id] == page && be.rx_gref[r.id] == r.gref,
              "buffer %u with another grant", r.id);
        be.rx_at[be.rx.req_cons % (NF_RX_BUFS * 4)] = r.id;
    }
}

/* The buffers in the ring: every one of them exactly once. */
static void be_check_rx_full(const char *where)
{
    be_take_rx();
    RING_IDX n = be.rx.req_cons - be.rx.rsp_prod_pvt;
    CHECK(n == NF_RX_BUFS, "%s: %u receive buffers in the ring, not %u", where, n, NF_RX_BUFS);
    uint8_t seen[NF_RX_BUFS] = { 0 };
    for (RING_IDX i = be.rx.rsp_prod_pvt; i != be.rx.req_cons; i++) {
        unsigned id = be.rx_at[i % (NF_RX_BUFS * 4)];
        CHECK(!seen[id], "%s: buffer %u twice in the ring", where, id);
        seen[id] = 1;
    }
}

static void nf_drain_rx(void)
{
    static uint8_t buf[NF_PAGE + 64];
    for (;;) {
        size_t cap = chance(85) || full_caps ? 1514 : below(1600);
        void *b = chance(2) && !full_caps ? 0 : buf;
        size_t expect = 0;
        const uint8_t *src = 0;
        while (nexp_at < nexp_n && !expect) {
            netif_rx_response_t r = nexp[nexp_at];
            unsigned id = be.rx_at[(nexp_first + nexp_at) % (NF_RX_BUFS * 4)];
            nexp_at++;
            if (m_extras) {
                nwant.malformed++;
                if (!(((const struct netif_extra_info *)&r)->flags & XEN_NETIF_EXTRA_FLAG_MORE))
                    m_extras = 0;
                continue;
            }
            if (r.id != id) {
                nwant.malformed++;
                continue;
            }
            int more = (r.flags & NETRXF_more_data) != 0;
            if (r.flags & NETRXF_extra_info)
                m_extras = 1;
            if (m_skipping || more) {
                if (!m_skipping)
                    nwant.rx_dropped++;
                m_skipping = more;
            } else if (r.status < 0) {
                nwant.rx_dropped++;
            } else if (r.status < 14 || r.offset + r.status > NF_PAGE) {
                nwant.malformed++;
            } else if ((size_t)r.status > cap || !b) {
                nwant.rx_dropped++;
            } else {
                expect = (size_t)r.status;
                src = be.shadow[id] + r.offset;
            }
        }
        memset(buf, 0x5c, sizeof(buf));
        size_t got = nnd->receive(nnd, b, cap);
        nstat.receives++;
        CHECK(got == expect, "receive gave %zu bytes, expected %zu", got, expect);
        if (got) {
            CHECK(!memcmp(buf, src, got) && buf[got] == 0x5c,
                  "received frame of %zu bytes differs from the back end's", got);
            nwant.rx_frames++;
            nwant.rx_bytes += got;
        } else if (nexp_at == nexp_n) {
            break;
        }
    }
    nexp_n = nexp_at = 0;
}

/* Write a frame into the buffer of ring place i, as a grant copy would. */
static netif_rx_response_t be_frame(RING_IDX i, size_t len, int anywhere)
{
    unsigned id = be.rx_at[i % (NF_RX_BUFS * 4)];
    netif_rx_response_t r = { .id = (uint16_t)id, .offset = 0, .flags = 0,
                              .status = (int16_t)len };
    if (anywhere)
        r.offset = (uint16_t)below((uint32_t)(NF_PAGE - len + 1));
    make_frame(be.shadow[id] + r.offset, len, seq_counter++);
    memcpy(be.rx_page[id] + r.offset, be.shadow[id] + r.offset, len);
    if (chance(20))
        r.flags = NETRXF_data_validated | NETRXF_csum_blank;    /* ignorable */
    return r;
}

static void nf_rx_batch(unsigned k)
{
    be_take_rx();
    nexp_first = be.rx.rsp_prod_pvt;
    for (unsigned j = 0; j < k && be.rx.rsp_prod_pvt != be.rx.req_cons; j++) {
        RING_IDX i = be.rx.rsp_prod_pvt;
        unsigned id = be.rx_at[i % (NF_RX_BUFS * 4)];
        unsigned kind = below(100);
        netif_rx_response_t r;
        if (kind < 45) {
            r = be_frame(i, frame_len(), chance(30));
        } else if (kind < 53) {
            r = be_frame(i, frame_len(), 0);
            /* Another buffer's id (in the ring or not), or no buffer at all. */
            r.id = (uint16_t)(chance(50) ? (id + 1 + below(NF_RX_BUFS - 1)) % NF_RX_BUFS :
                              NF_RX_BUFS + below(0x10000 - NF_RX_BUFS));
            nstat.rx_bad_id++;
        } else if (kind < 60) {
            r = be_frame(i, 60, 0);
            r.status = (int16_t)(chance(50) ? NETIF_RSP_ERROR - below(2) :
                                 -(int)below(0x8000) - 1);
            if (chance(50))
                r.status = (int16_t)below(14);
            nstat.rx_bad_status++;
        } else if (kind < 68) {
            r = be_frame(i, 14 + below(1501), 0);
            r.offset = (uint16_t)(NF_PAGE - r.status + 1 + below(0x10000 - NF_PAGE + r.status - 1));
            nstat.rx_bad_offset++;
        } else if (kind < 76) {
            /* A frame in several slots, maybe left unfinished at the batch's end. */
            r = be_frame(i, 1514, 0);
            r.flags |= NETRXF_more_data;
            nstat.rx_more++;
        } else if (kind < 84) {
            r = be_frame(i, frame_len(), 0);
            r.flags |= NETRXF_extra_info;
            nstat.rx_extra++;
        } else if (kind < 92) {
            /* An extra-info slot's bytes, or a continuation's, in any place. */
            struct netif_extra_info x;
            memset(&x, 0, sizeof(x));
            x.type = (uint8_t)below(6);
            x.flags = chance(30) ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
            memcpy(&r, &x, sizeof(r));
        } else {
            uint64_t v = rnd();
            memcpy(&r, &v, sizeof(r));
            if (chance(50))
                r.id = (uint16_t)id;
        }
        *RING_GET_RESPONSE(&be.rx, i) = r;
        nexp[nexp_n++] = r;
        be.rx.rsp_prod_pvt++;
        nstat.rx_responses++;
    }
    RING_PUSH_RESPONSES(&be.rx);
    nf_drain_rx();
    be_check_rx_full("after a receive batch");
}

/* Bring the front end up; the back end's rings from the keys it wrote. */
static void nf_up(void)
{
    nnd = xp_netfront_probe();
    CHECK(nnd != 0, "no netfront");
    CHECK(xp_netfront_probe() == nnd, "probe is not idempotent");
    static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x0a, 0xbc, 0xde };
    CHECK(!memcmp(nnd->mac, mac, 6) && !strcmp(nnd->name, "netfront"), "mac or name");
    CHECK(xs.rx_copy && xs.state == XenbusStateConnected && xs.commits == 2,
          "keys: rx-copy %d state %d commits %d", xs.rx_copy, xs.state, xs.commits);
    CHECK(atoi(xs.event_channel) == NF_PORT && xs.bound == NF_PORT && xs.handler,
          "event channel %s", xs.event_channel);
    netif_tx_sring_t *txs = (void *)map_grant((grant_ref_t)atoi(xs.tx_ring_ref), 1);
    netif_rx_sring_t *rxs = (void *)map_grant((grant_ref_t)atoi(xs.rx_ring_ref), 1);
    BACK_RING_INIT(&be.tx, txs, NF_PAGE);
    BACK_RING_INIT(&be.rx, rxs, NF_PAGE);
    CHECK(xs.notifies >= 1, "the back end was never told about the receive buffers");
    be_check_rx_full("after set-up");
    for (unsigned i = 0; i < NF_RX_BUFS; i++)
        CHECK(be.rx_page[i] != 0, "buffer %u never offered", i);
}

static void netfront_fuzz(uint64_t seed, long iterations)
{
    seed_rng(seed);
    nf_up();
    long pages = live_pages;
    int stalled = 0;
    for (long it = 0; it < iterations; it++) {
        unsigned what = below(100);
        if (chance(1))
            stalled = !stalled;         /* the back end leaves transmits alone a while */
        if (what < 30) {
            nf_transmit_one();
        } else if (what < 45 && !stalled) {
            nf_tx_batch(1 + below(chance(80) ? 4 : NF_TX_SLOTS));
        } else if (what < 90) {
            nf_rx_batch(1 + below(chance(80) ? 6 : NF_RX_BUFS));
        } else if (what < 95) {
            /* The back end asks for events whenever, or never. */
            be.rx.sring->req_event = (RING_IDX)rnd();
            be.tx.sring->req_event = (RING_IDX)rnd();
            if (chance(50))
                xs.handler(NF_PORT, xs.arg);
        } else {
            CHECK(nnd->receive(nnd, chance(50) ? 0 : (void *)&it, chance(50) ? 0 : 8) == 0,
                  "a frame from nowhere");
        }
        if (it % 256 == 0)
            nf_check("fuzzing");
    }
    /* An unfinished multi-slot frame or extra-info chain ends with good frames. */
    while (m_skipping || m_extras) {
        be_take_rx();
        nexp_first = be.rx.rsp_prod_pvt;
        netif_rx_response_t r = be_frame(be.rx.rsp_prod_pvt, 100, 0);
        *RING_GET_RESPONSE(&be.rx, be.rx.rsp_prod_pvt) = r;
        nexp[nexp_n++] = r;
        be.rx.rsp_prod_pvt++;
        RING_PUSH_RESPONSES(&be.rx);
        nf_drain_rx();
    }
    nf_check("after fuzzing");

    /* Every transmit answered; every slot not lost to a bad answer usable. */
    be_take_tx();
    while (be.npending)
        nf_tx_batch(NF_TX_SLOTS);
    unsigned usable = NF_TX_SLOTS - be.nlost;
    for (unsigned i = 0; i < usable; i++) {
        static uint8_t frame[100];
        make_frame(frame, 100, seq_counter);
        CHECK(nnd->transmit(nnd, frame, 100) == 0, "transmit %u of %u failed", i, usable);
        nfifo[nfifo_head % 4096].seq = seq_counter++;
        nfifo[nfifo_head % 4096].len = 100;
        nfifo_head++;
        nwant.tx_frames++;
        nwant.tx_bytes += 100;
    }
    CHECK(nnd->transmit(nnd, be.shadow[0], 100) == -1, "more transmits than slots");
    nwant.tx_dropped++;
    be_take_tx();
    CHECK(be.npending == usable, "%u transmits read, %u sent", be.npending, usable);
    while (be.npending)
        nf_tx_batch(NF_TX_SLOTS);

    /* Every receive buffer delivers a frame intact, and is back in the ring. */
    be_check_rx_full("before the last frames");
    full_caps = 1;
    for (int round = 0; round < 2; round++) {
        be_take_rx();
        nexp_first = be.rx.rsp_prod_pvt;
        while (be.rx.rsp_prod_pvt != be.rx.req_cons) {
            netif_rx_response_t r = be_frame(be.rx.rsp_prod_pvt, 1514, 0);
            *RING_GET_RESPONSE(&be.rx, be.rx.rsp_prod_pvt) = r;
            nexp[nexp_n++] = r;
            be.rx.rsp_prod_pvt++;
        }
        RING_PUSH_RESPONSES(&be.rx);
        uint64_t frames = nwant.rx_frames;
        nf_drain_rx();
        CHECK(nwant.rx_frames == frames + NF_RX_BUFS, "only %lu frames",
              (unsigned long)(nwant.rx_frames - frames));
        be_check_rx_full("at the end");
    }
    nf_check("at the end");
    CHECK(live_pages == pages, "pages %ld -> %ld", pages, live_pages);
    struct xen_netfront_info in;
    xen_netfront_info(&in);
    printf("rx-responses %lu\nrx-bad-id %lu\nrx-bad-status %lu\nrx-bad-offset %lu\n"
           "rx-more %lu\nrx-extra %lu\ntx-responses %lu\ntx-bad %lu\ntx-lost %u\n"
           "transmits %lu\ntx-full %lu\nreceives %lu\nmalformed %lu\nrx-frames %lu\n"
           "rx-dropped %lu\ntx-errors %lu\nnotifies %lu\n",
           (unsigned long)nstat.rx_responses, (unsigned long)nstat.rx_bad_id,
           (unsigned long)nstat.rx_bad_status, (unsigned long)nstat.rx_bad_offset,
           (unsigned long)nstat.rx_more, (unsigned long)nstat.rx_extra,
           (unsigned long)nstat.tx_responses, (unsigned long)nstat.tx_bad, be.nlost,
           (unsigned long)nstat.transmits, (unsigned long)nstat.tx_full,
           (unsigned long)nstat.receives, (unsigned long)nwant.malformed,
           (unsigned long)nwant.rx_frames, (unsigned long)nwant.rx_dropped,
           (unsigned long)nwant.tx_errors, (unsigned long)in.notifies);
    printf("ok netfront\n");
}

/* A back end whose response index leaves the ring, or answers more than was
   asked: the front end stops using the device, and says so once. */
static void netfront_broken(const char *kind)
{
    seed_rng(1);
    nf_up();
    for (int i = 0; i < 3; i++)
        nf_transmit_one();
    nf_rx_batch(4);
    be_take_tx();
    nf_check("before");
    if (!strcmp(kind, "rx-ahead") || !strcmp(kind, "rx-behind")) {
        be.rx.sring->rsp_prod = kind[3] == 'a' ? be.rx.rsp_prod_pvt + NF_RX_BUFS + 1 + below(1000)
                                               : be.rx.rsp_prod_pvt - 1 - below(1000);
        CHECK(nnd->receive(nnd, be.shadow[0], 2048) == 0, "a frame from a broken ring");
    } else if (!strcmp(kind, "tx-ahead")) {
        be.tx.sring->rsp_prod = be.tx.rsp_prod_pvt + 300;
        static uint8_t frame[60];
        CHECK(nnd->transmit(nnd, frame, 60) == -1, "a transmit on a broken ring");
        nwant.tx_dropped++;
    } else if (!strcmp(kind, "tx-more")) {
        /* Answers for the transmits in flight, and one more. */
        unsigned n = be.npending + 1;
        for (unsigned id = 0, j = 0; j < n; id++, j++) {
            netif_tx_response_t *r = RING_GET_RESPONSE(&be.tx, be.tx.rsp_prod_pvt++);
            r->id = (uint16_t)id;
            r->status = NETIF_RSP_OKAY;
        }
        RING_PUSH_RESPONSES(&be.tx);
        static uint8_t frame[60];
        CHECK(nnd->transmit(nnd, frame, 60) == -1, "a transmit on a broken ring");
        nwant.tx_dropped++;
    } else {
        CHECK(0, "unknown kind %s", kind);
    }
    nwant.malformed++;
    nf_check("broken");
    /* From now on nothing is read from the rings. */
    be.rx.sring->rsp_prod = be.rx.rsp_prod_pvt;
    CHECK(nnd->receive(nnd, be.shadow[0], 2048) == 0, "a frame after the break");
    static uint8_t frame[60];
    CHECK(nnd->transmit(nnd, frame, 60) == -1, "a transmit after the break");
    nwant.tx_dropped++;
    nf_check("after the break");
    printf("ok netfront-broken %s\n", kind);
}

#endif

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    pool_init();
    if (argc == 6 && !strcmp(argv[1], "virtio"))
        virtio_fuzz((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]),
                    strtoull(argv[4], 0, 0), atol(argv[5]));
    else if (argc == 3 && !strcmp(argv[1], "virtio-setup"))
        virtio_setup(argv[2]);
#ifndef XPT_NO_NETFRONT
    else if (argc == 4 && !strcmp(argv[1], "netfront"))
        netfront_fuzz(strtoull(argv[2], 0, 0), atol(argv[3]));
    else if (argc == 3 && !strcmp(argv[1], "netfront-broken"))
        netfront_broken(argv[2]);
#endif
    else {
        fprintf(stderr, "usage: see the comment at the top of net_drivers_driver.c\n");
        return 2;
    }
    printf("done 0\n");
    return 0;
}
