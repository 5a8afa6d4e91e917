/* xenport: the virtio-mmio transport of QEMU's microvm machine (virtio_mmio.c),
   for its drivers (virtio_net.c): finding a device, the status and feature
   handshake, split virtqueues, notifications.  Polled: no interrupts. */
#ifndef XENPORT_PC_VIRTIO_MMIO_H
#define XENPORT_PC_VIRTIO_MMIO_H

#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

/* One transport slot with a device behind it. */
struct vmmio_dev {
    volatile uint8_t *regs;     /* identity mapped: the physical address too */
    uint32_t version;           /* 1: legacy (page size, PFN), 2: modern */
    uint32_t device_id;         /* VIRTIO_ID_* */
    int slot;
};

/* A split virtqueue in one zeroed run of pages (the legacy layout, which modern
   devices accept as well: descriptors, then the available ring, then the used
   ring on the next page boundary). */
struct vmmio_queue {
    uint16_t index;             /* the queue's number on the device */
    uint16_t num;               /* descriptors (a power of two) */
    volatile struct vring_desc *desc;
    volatile struct vring_avail *avail;
    volatile struct vring_used *used;
    uint16_t avail_idx;         /* the driver's copy of avail->idx */
    uint16_t used_seen;         /* used entries consumed so far */
    void *mem;
    size_t pages;
};

/* The first device with this id on the transports (at most 24 slots of 512 bytes
   from 0xfeb00000), probing without touching its state: 0 and *d, or -1.
   Only on the PC platform (QEMU); -1 elsewhere. */
int vmmio_find(uint32_t device_id, struct vmmio_dev *d);

/* Reset the device, then ACKNOWLEDGE and DRIVER: 0, or -1 (the device did not
   reset). */
int vmmio_begin(struct vmmio_dev *d);
/* The device's features (64 bits on a modern device, 32 on a legacy one). */
uint64_t vmmio_device_features(struct vmmio_dev *d);
/* Accept the features `wanted & offered`; a modern device also gets FEATURES_OK
   and must keep it.  The accepted set, or -1 when the device refused (or a modern
   device does not offer VIRTIO_F_VERSION_1). */
int64_t vmmio_accept_features(struct vmmio_dev *d, uint64_t wanted);
/* Set up queue index with min(max_num, the device's maximum) descriptors rounded
   down to a power of two: 0, or -1 (no such queue, no memory). */
int vmmio_queue_setup(struct vmmio_dev *d, struct vmmio_queue *q, uint16_t index,
                      uint16_t max_num);
/* DRIVER_OK: the device may use the queues. */
void vmmio_driver_ok(struct vmmio_dev *d);
/* FAILED, and the queues' memory back (after a failed set-up). */
void vmmio_fail(struct vmmio_dev *d, struct vmmio_queue *qs, int nqueues);
/* A byte of the device's configuration space. */
uint8_t vmmio_config8(struct vmmio_dev *d, unsigned offset);
void vmmio_config_write8(struct vmmio_dev *d, unsigned offset, uint8_t v);
/* Modern devices: the configuration generation (0 on legacy ones). */
uint32_t vmmio_config_generation(struct vmmio_dev *d);
uint32_t vmmio_status(struct vmmio_dev *d);

/* Make descriptor chain `head` available to the device (its descriptors are
   written already); then vmmio_kick() tells the device unless it asked not to be
   told (VRING_USED_F_NO_NOTIFY). */
void vmmio_queue_push(struct vmmio_queue *q, uint16_t head);
void vmmio_kick(struct vmmio_dev *d, struct vmmio_queue *q);
/* The next used entry (its id and length as the device wrote them, to be
   checked by the caller): 1, or 0 when there is none; -1 when the device's
   used index moved by more than the ring holds (forward or back), which no
   device may do: the entries it claims are skipped, not read. */
int vmmio_queue_pop(struct vmmio_queue *q, uint32_t *id, uint32_t *len);

/* Ordering: the compiler must not move memory accesses across these.  x86 is
   TSO, so stores are seen in order and loads are not reordered with loads; only
   a store followed by a load of another location needs the fence. */
#define vmmio_barrier() __asm__ volatile("" ::: "memory")
#define vmmio_mb() __asm__ volatile("mfence" ::: "memory")

#endif
