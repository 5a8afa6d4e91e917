/* xenport: virtio-net over virtio-mmio (QEMU microvm), polled.
 *
 * Queue 0 receives, queue 1 transmits; no control queue, no interrupts.  The
 * features accepted: VIRTIO_NET_F_MAC (the MAC from the configuration space;
 * without it a locally administered one is made up) and, on a modern device,
 * VIRTIO_F_VERSION_1.  No checksum offload, no segmentation offload, no
 * merged receive buffers: every frame is one buffer, and the header in front
 * of it is struct virtio_net_hdr_v1 (12 bytes, num_buffers included) with
 * VERSION_1, struct virtio_net_hdr (10 bytes) on a legacy device.
 *
 * Each queue is cut into slots of two descriptors, 2i (the header) and 2i+1
 * (the frame), pointing into a 2 KiB buffer of the slot: a legacy device
 * without VIRTIO_F_ANY_LAYOUT wants the header in a descriptor of its own, and
 * a modern one takes any layout.  The descriptors are written once at set-up;
 * only a transmit slot's frame length changes.  The receive slots are all
 * offered to the device and each is offered again as soon as its frame is
 * copied out (or dropped); transmit slots come back when the device has used
 * them, which transmit() looks for first.
 *
 * Whatever the device hands back is checked: a used id that is not the head of
 * a slot the device holds, or a length outside the slot, counts as malformed
 * (the slot, if it is one, is offered again) and never reaches the caller; so
 * does a used index that moved by more than the ring holds (its entries are
 * skipped).
 */
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "pc/pc.h"
#include "pc/virtio_mmio.h"
#include "xenport/mm.h"
#include "xenport/netdev.h"
#include "xenport/platform.h"
#include "xenport/x86.h"

#define RXQ 0
#define TXQ 1
#define MAX_DESC 128                    /* per queue: 64 slots */
#define MAX_SLOTS (MAX_DESC / 2)
#define SLOT_SIZE 2048                  /* header + the largest frame (+ a VLAN tag) */
#define ETH_HEADER 14
#define ETH_MAX_FRAME 1514

struct vnet {
    struct xp_netdev nd;                /* first: the stack's pointer is ours */
    struct vmmio_dev dev;
    struct vmmio_queue q[2];
    uint64_t features;
    size_t hdr_len;
    unsigned rx_slots, tx_slots;
    uint8_t *rx_mem, *tx_mem;
    uint8_t rx_held[MAX_SLOTS];         /* 1: the device holds this receive slot */
    uint8_t tx_held[MAX_SLOTS];         /* 1: the device holds this transmit slot */
    uint16_t tx_free[MAX_SLOTS];        /* a stack of free transmit slots */
    unsigned tx_nfree;
    uint64_t malformed;
    int mac_made_up;
};

static struct vnet vn;
static int probed;
static struct xp_netdev *probe_result;

static void rx_offer(struct vnet *v, unsigned slot)
{
    v->rx_held[slot] = 1;
    vmmio_queue_push(&v->q[RXQ], (uint16_t)(2 * slot));
}

static void tx_reclaim(struct vnet *v)
{
    uint32_t id, len;
    int r;
    while ((r = vmmio_queue_pop(&v->q[TXQ], &id, &len)) != 0) {
        unsigned slot = id / 2;
        if (r < 0) {
            v->malformed++;                         /* an unbelievable used index */
            continue;
        }
        if (id >= v->q[TXQ].num || (id & 1) || slot >= v->tx_slots || !v->tx_held[slot]) {
            v->malformed++;
            continue;
        }
        v->tx_held[slot] = 0;
        v->tx_free[v->tx_nfree++] = (uint16_t)slot;
    }
}

static int vnet_transmit(struct xp_netdev *dev, const void *frame, size_t len)
{
    struct vnet *v = (struct vnet *)dev;
    if (!frame || len < ETH_HEADER || len > ETH_MAX_FRAME) {
        dev->tx_dropped++;
        return -1;
    }
    tx_reclaim(v);
    if (v->tx_nfree == 0) {
        dev->tx_dropped++;
        return -1;
    }
    unsigned slot = v->tx_free[--v->tx_nfree];
    uint8_t *buf = v->tx_mem + (size_t)slot * SLOT_SIZE;
    memset(buf, 0, v->hdr_len);                     /* no offloads: all zero */
    memcpy(buf + v->hdr_len, frame, len);
    v->q[TXQ].desc[2 * slot + 1].len = (uint32_t)len;
    v->tx_held[slot] = 1;
    vmmio_queue_push(&v->q[TXQ], (uint16_t)(2 * slot));
    vmmio_kick(&v->dev, &v->q[TXQ]);
    dev->tx_frames++;
    dev->tx_bytes += len;
    return 0;
}

static size_t vnet_receive(struct xp_netdev *dev, void *buf, size_t cap)
{
    struct vnet *v = (struct vnet *)dev;
    size_t got = 0;
    int offered = 0;
    uint32_t id, len;
    int r;
    while (!got && (r = vmmio_queue_pop(&v->q[RXQ], &id, &len)) != 0) {
        unsigned slot = id / 2;
        if (r < 0) {
            v->malformed++;                         /* an unbelievable used index */
            continue;
        }
        if (id >= v->q[RXQ].num || (id & 1) || slot >= v->rx_slots || !v->rx_held[slot]) {
            v->malformed++;                         /* not a slot the device holds */
            continue;
        }
        v->rx_held[slot] = 0;
        uint8_t *sbuf = v->rx_mem + (size_t)slot * SLOT_SIZE;
        if (len < v->hdr_len + ETH_HEADER || len > SLOT_SIZE) {
            v->malformed++;
        } else if (len - v->hdr_len > cap || !buf) {
            dev->rx_dropped++;
        } else {
            got = len - v->hdr_len;
            memcpy(buf, sbuf + v->hdr_len, got);
            dev->rx_frames++;
            dev->rx_bytes += got;
        }
        rx_offer(v, slot);
        offered = 1;
    }
    if (offered)
        vmmio_kick(&v->dev, &v->q[RXQ]);
    return got;
}

/* The slots' descriptors, once: 2i the header, 2i+1 the frame. */
static void describe_slots(struct vnet *v, int qi, uint8_t *mem, unsigned slots, int writable)
{
    volatile struct vring_desc *d = v->q[qi].desc;
    uint16_t w = writable ? VRING_DESC_F_WRITE : 0;
    for (unsigned i = 0; i < slots; i++) {
        uint64_t base = (uintptr_t)(mem + (size_t)i * SLOT_SIZE);     /* identity mapped */
        d[2 * i].addr = base;
        d[2 * i].len = (uint32_t)v->hdr_len;
        d[2 * i].flags = w | VRING_DESC_F_NEXT;
        d[2 * i].next = (uint16_t)(2 * i + 1);
        d[2 * i + 1].addr = base + v->hdr_len;
        d[2 * i + 1].len = (uint32_t)(SLOT_SIZE - v->hdr_len);
        d[2 * i + 1].flags = w;
        d[2 * i + 1].next = 0;
    }
}

static void read_mac(struct vnet *v)
{
    if (v->features & (1ULL << VIRTIO_NET_F_MAC)) {
        /* A modern device's configuration may change under us: read until the
           generation is the same before and after (bounded). */
        for (int tries = 0; tries < 16; tries++) {
            uint32_t gen = vmmio_config_generation(&v->dev);
            for (unsigned i = 0; i < 6; i++)
                v->nd.mac[i] = vmmio_config8(&v->dev,
                                             offsetof(struct virtio_net_config, mac) + i);
            if (vmmio_config_generation(&v->dev) == gen)
                break;
        }
        return;
    }
    /* QEMU always offers a MAC; another device may not.  Make one up: locally
       administered, unicast; a legacy device takes it in its configuration. */
    uint64_t r = rdtsc() ^ ((uint64_t)v->dev.slot << 40);
    v->nd.mac[0] = 0x02;
    for (unsigned i = 1; i < 6; i++)
        v->nd.mac[i] = (uint8_t)(r >> (8 * i));
    v->mac_made_up = 1;
    if (v->dev.version < 2)
        for (unsigned i = 0; i < 6; i++)
            vmmio_config_write8(&v->dev, offsetof(struct virtio_net_config, mac) + i,
                                v->nd.mac[i]);
}

static const char *setup(struct vnet *v)
{
    if (vmmio_begin(&v->dev))
        return "the device does not reset";
    uint64_t wanted = 1ULL << VIRTIO_NET_F_MAC;
    if (v->dev.version >= 2)
        wanted |= 1ULL << VIRTIO_F_VERSION_1;
    int64_t f = vmmio_accept_features(&v->dev, wanted);
    if (f < 0)
        return "feature negotiation failed (no VIRTIO_F_VERSION_1, or FEATURES_OK refused)";
    v->features = (uint64_t)f;
    /* The header: 12 bytes with VERSION_1 (num_buffers is always there) or with
       MRG_RXBUF; 10 without either.  MRG_RXBUF is never accepted here. */
    v->hdr_len = (v->features & (1ULL << VIRTIO_F_VERSION_1)) ?
                 sizeof(struct virtio_net_hdr_v1) : sizeof(struct virtio_net_hdr);
    read_mac(v);
    if (vmmio_queue_setup(&v->dev, &v->q[RXQ], RXQ, MAX_DESC) ||
        vmmio_queue_setup(&v->dev, &v->q[TXQ], TXQ, MAX_DESC))
        return "cannot set up the receive and transmit queues";
    v->rx_slots = v->q[RXQ].num / 2;
    v->tx_slots = v->q[TXQ].num / 2;
    size_t rx_pages = (v->rx_slots * SLOT_SIZE + XP_PAGE_SIZE - 1) / XP_PAGE_SIZE;
    size_t tx_pages = (v->tx_slots * SLOT_SIZE + XP_PAGE_SIZE - 1) / XP_PAGE_SIZE;
    v->rx_mem = xp_page_alloc(rx_pages, 1);
    v->tx_mem = xp_page_alloc(tx_pages, 1);
    if (!v->rx_mem || !v->tx_mem) {
        if (v->rx_mem)
            xp_page_free(v->rx_mem, rx_pages);
        if (v->tx_mem)
            xp_page_free(v->tx_mem, tx_pages);
        v->rx_mem = v->tx_mem = 0;
        return "no memory for the buffers";
    }
    memset(v->rx_mem, 0, rx_pages * XP_PAGE_SIZE);
    memset(v->tx_mem, 0, tx_pages * XP_PAGE_SIZE);
    describe_slots(v, RXQ, v->rx_mem, v->rx_slots, 1);
    describe_slots(v, TXQ, v->tx_mem, v->tx_slots, 0);
    for (unsigned i = 0; i < v->tx_slots; i++)
        v->tx_free[i] = (uint16_t)(v->tx_slots - 1 - i);
    v->tx_nfree = v->tx_slots;
    for (unsigned i = 0; i < v->rx_slots; i++)
        rx_offer(v, i);
    vmmio_driver_ok(&v->dev);
    if (vmmio_status(&v->dev) & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED))
        return "the device refused DRIVER_OK";
    vmmio_kick(&v->dev, &v->q[RXQ]);
    return 0;
}

struct xp_netdev *xp_virtio_net_probe(void)
{
    if (probed)
        return probe_result;
    probed = 1;
    struct vnet *v = &vn;
    memset(v, 0, sizeof(*v));
    if (vmmio_find(VIRTIO_ID_NET, &v->dev))
        return 0;
    const char *error = setup(v);
    if (error) {
        xp_printk("xenport: virtio-net at 0x%lx (virtio-mmio v%u): %s\n",
                  (unsigned long)(uintptr_t)v->dev.regs, v->dev.version, error);
        vmmio_fail(&v->dev, v->q, 2);
        return 0;
    }
    v->nd.name = "virtio-net";
    v->nd.mtu = 1500;
    v->nd.transmit = vnet_transmit;
    v->nd.receive = vnet_receive;
    probe_result = &v->nd;
    return probe_result;
}

int pc_virtio_net_info(struct pc_virtio_net_info *info)
{
    if (!probe_result)
        return -1;
    struct vnet *v = &vn;
    tx_reclaim(v);
    info->regs = (uintptr_t)v->dev.regs;
    info->version = v->dev.version;
    info->hdr_len = (unsigned)v->hdr_len;
    info->features = v->features;
    info->rx_slots = v->rx_slots;
    info->tx_slots = v->tx_slots;
    info->tx_in_flight = v->tx_slots - v->tx_nfree;
    info->malformed = v->malformed;
    info->mac_made_up = v->mac_made_up;
    info->status = vmmio_status(&v->dev);
    return 0;
}

void pc_virtio_net_report(void)
{
    struct pc_virtio_net_info in;
    if (pc_virtio_net_info(&in) != 0) {
        struct vmmio_dev d;
        if (vmmio_find(VIRTIO_ID_NET, &d) == 0)
            xp_printk("xenport: net virtio-net at 0x%lx (virtio-mmio v%u), not used\n",
                      (unsigned long)(uintptr_t)d.regs, d.version);
        return;
    }
    struct xp_netdev *n = probe_result;
    xp_printk("xenport: net %s mac %02x:%02x:%02x:%02x:%02x:%02x%s, virtio-mmio v%u (%s) "
              "at 0x%lx, %u-byte header, %u+%u buffers\n", n->name,
              n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
              in.mac_made_up ? " (made up)" : "", in.version,
              in.version >= 2 ? "modern" : "legacy", (unsigned long)in.regs,
              (unsigned)in.hdr_len, in.rx_slots, in.tx_slots);
    xp_printk("xenport: net %s: tx %lu frames %lu bytes, rx %lu frames %lu bytes, "
              "dropped tx %lu rx %lu, malformed %lu\n", n->name,
              (unsigned long)n->tx_frames, (unsigned long)n->tx_bytes,
              (unsigned long)n->rx_frames, (unsigned long)n->rx_bytes,
              (unsigned long)n->tx_dropped, (unsigned long)n->rx_dropped,
              (unsigned long)in.malformed);
}
