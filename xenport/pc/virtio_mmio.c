/* xenport: the virtio-mmio transport of QEMU's microvm machine.
 *
 * microvm creates its virtio-mmio transports at boot, 512 bytes apart from
 * 0xfeb00000: 8 of them, or 24 when it has its second IOAPIC (ACPI on, the
 * default of QEMU 6.0 and later).  A transport without a device answers device
 * id 0; past the last one the addresses are unassigned and read 0, so the magic
 * ends the scan.  Each transport speaks version 1 (legacy: the guest's page size
 * and the queue's page frame number) unless QEMU is told otherwise
 * (-global virtio-mmio.force-legacy=false: version 2, modern, where the driver
 * must accept VIRTIO_F_VERSION_1 and confirm with FEATURES_OK).  Both are
 * supported; the queues have the same split-ring layout in either.
 *
 * Polled: every queue's available ring says VRING_AVAIL_F_NO_INTERRUPT and no
 * interrupt is ever routed (the IOAPIC's entries stay masked).
 *
 * The register offsets and constants are Linux's UAPI headers (<linux/virtio_*.h>).
 */
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "pc/virtio_mmio.h"
#include "xenport/mm.h"
#include "xenport/platform.h"

/* The host test (tests/xenport/test_net_drivers_host.py) puts a fake device's
   registers elsewhere: QEMU's address is in AddressSanitizer's shadow gap. */
#ifndef VMMIO_BASE
#define VMMIO_BASE      0xfeb00000UL
#endif
#define VMMIO_STRIDE    0x200UL
#define VMMIO_MAX_SLOTS 24
#define VMMIO_MAGIC     0x74726976u     /* "virt" */
#define VMMIO_ALIGN     4096u           /* the used ring's alignment (legacy) */

static inline uint32_t rd32(struct vmmio_dev *d, unsigned off)
{
    return *(volatile uint32_t *)(d->regs + off);
}

static inline void wr32(struct vmmio_dev *d, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(d->regs + off) = v;
}

int vmmio_find(uint32_t device_id, struct vmmio_dev *d)
{
    /* Only QEMU's PC (microvm) has them; under Xen these addresses are nothing. */
    if (xp_platform != &xp_pvh_pc_platform)
        return -1;
    for (int slot = 0; slot < VMMIO_MAX_SLOTS; slot++) {
        struct vmmio_dev t;
        t.regs = (volatile uint8_t *)(uintptr_t)(VMMIO_BASE + slot * VMMIO_STRIDE);
        t.slot = slot;
        if (rd32(&t, VIRTIO_MMIO_MAGIC_VALUE) != VMMIO_MAGIC)
            break;
        t.version = rd32(&t, VIRTIO_MMIO_VERSION);
        t.device_id = rd32(&t, VIRTIO_MMIO_DEVICE_ID);
        if ((t.version == 1 || t.version == 2) && t.device_id == device_id) {
            *d = t;
            return 0;
        }
    }
    return -1;
}

uint32_t vmmio_status(struct vmmio_dev *d)
{
    return rd32(d, VIRTIO_MMIO_STATUS);
}

int vmmio_begin(struct vmmio_dev *d)
{
    wr32(d, VIRTIO_MMIO_STATUS, 0);
    /* A modern device may take its time to reset (QEMU does it at once). */
    for (int i = 0; rd32(d, VIRTIO_MMIO_STATUS) != 0; i++)
        if (i == 100000)
            return -1;
    wr32(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    wr32(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    return 0;
}

uint64_t vmmio_device_features(struct vmmio_dev *d)
{
    wr32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t f = rd32(d, VIRTIO_MMIO_DEVICE_FEATURES);
    if (d->version >= 2) {
        wr32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
        f |= (uint64_t)rd32(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    }
    return f;
}

int64_t vmmio_accept_features(struct vmmio_dev *d, uint64_t wanted)
{
    uint64_t f = vmmio_device_features(d) & wanted;
    if (d->version < 2) {
        /* Legacy: 32 feature bits, no FEATURES_OK step. */
        f &= 0xffffffffu;
        wr32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
        wr32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
        return (int64_t)f;
    }
    if (!(f & (1ULL << VIRTIO_F_VERSION_1)))
        return -1;
    wr32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    wr32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
    uint32_t s = rd32(d, VIRTIO_MMIO_STATUS);
    wr32(d, VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK);
    if (!(rd32(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK))
        return -1;
    return (int64_t)f;
}

int vmmio_queue_setup(struct vmmio_dev *d, struct vmmio_queue *q, uint16_t index,
                      uint16_t max_num)
{
    memset(q, 0, sizeof(*q));
    wr32(d, VIRTIO_MMIO_QUEUE_SEL, index);
    if (rd32(d, d->version < 2 ? VIRTIO_MMIO_QUEUE_PFN : VIRTIO_MMIO_QUEUE_READY) != 0)
        return -1;                                  /* in use: not after a reset */
    uint32_t dev_max = rd32(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
    uint32_t num = dev_max < max_num ? dev_max : max_num;
    while (num & (num - 1))
        num &= num - 1;                             /* a power of two */
    if (num < 2)
        return -1;

    size_t pages = (vring_size(num, VMMIO_ALIGN) + XP_PAGE_SIZE - 1) / XP_PAGE_SIZE;
    void *mem = xp_page_alloc(pages, 1);
    if (!mem)
        return -1;
    memset(mem, 0, pages * XP_PAGE_SIZE);
    uintptr_t phys = (uintptr_t)mem;                /* identity mapped */
    struct vring vr;
    vring_init(&vr, num, mem, VMMIO_ALIGN);
    q->index = index;
    q->num = (uint16_t)num;
    q->desc = vr.desc;
    q->avail = vr.avail;
    q->used = vr.used;
    q->mem = mem;
    q->pages = pages;
    q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;

    wr32(d, VIRTIO_MMIO_QUEUE_NUM, num);
    if (d->version < 2) {
        if ((uint64_t)phys / VMMIO_ALIGN > 0xffffffffu) {
            xp_page_free(mem, pages);
            q->mem = 0;
            return -1;
        }
        wr32(d, VIRTIO_MMIO_GUEST_PAGE_SIZE, VMMIO_ALIGN);
        wr32(d, VIRTIO_MMIO_QUEUE_ALIGN, VMMIO_ALIGN);
        wr32(d, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(phys / VMMIO_ALIGN));
    } else {
        uint64_t desc = (uintptr_t)vr.desc, avail = (uintptr_t)vr.avail,
                 used = (uintptr_t)vr.used;
        wr32(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
        wr32(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
        wr32(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
        wr32(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
        wr32(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
        wr32(d, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
        wr32(d, VIRTIO_MMIO_QUEUE_READY, 1);
    }
    return 0;
}

void vmmio_driver_ok(struct vmmio_dev *d)
{
    vmmio_mb();                 /* the rings are written before the device looks */
    wr32(d, VIRTIO_MMIO_STATUS, rd32(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
}

void vmmio_fail(struct vmmio_dev *d, struct vmmio_queue *qs, int nqueues)
{
    wr32(d, VIRTIO_MMIO_STATUS, rd32(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_FAILED);
    /* Reset, so that the device forgets the rings before their pages go back. */
    wr32(d, VIRTIO_MMIO_STATUS, 0);
    for (int i = 0; i < nqueues; i++)
        if (qs[i].mem) {
            xp_page_free(qs[i].mem, qs[i].pages);
            qs[i].mem = 0;
        }
}

uint8_t vmmio_config8(struct vmmio_dev *d, unsigned offset)
{
    return *(volatile uint8_t *)(d->regs + VIRTIO_MMIO_CONFIG + offset);
}

void vmmio_config_write8(struct vmmio_dev *d, unsigned offset, uint8_t v)
{
    *(volatile uint8_t *)(d->regs + VIRTIO_MMIO_CONFIG + offset) = v;
}

uint32_t vmmio_config_generation(struct vmmio_dev *d)
{
    return d->version >= 2 ? rd32(d, VIRTIO_MMIO_CONFIG_GENERATION) : 0;
}

void vmmio_queue_push(struct vmmio_queue *q, uint16_t head)
{
    q->avail->ring[q->avail_idx & (q->num - 1)] = head;
    vmmio_barrier();            /* the entry before the index that publishes it */
    q->avail_idx++;
    q->avail->idx = q->avail_idx;
}

void vmmio_kick(struct vmmio_dev *d, struct vmmio_queue *q)
{
    vmmio_mb();                 /* our avail->idx store before reading the flags */
    if (!(q->used->flags & VRING_USED_F_NO_NOTIFY))
        wr32(d, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

int vmmio_queue_pop(struct vmmio_queue *q, uint32_t *id, uint32_t *len)
{
    uint16_t idx = q->used->idx;
    if (idx == q->used_seen)
        return 0;
    if ((uint16_t)(idx - q->used_seen) > q->num) {
        /* Stale entries, read again and again, would hand back buffers the
           device still holds and overfill the available ring. */
        q->used_seen = idx;
        return -1;
    }
    vmmio_barrier();            /* the index before the entry it covers */
    volatile struct vring_used_elem *e = &q->used->ring[q->used_seen & (q->num - 1)];
    *id = e->id;
    *len = e->len;
    q->used_seen++;
    return 1;
}
