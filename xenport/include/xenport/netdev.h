/* xenport: network devices for a TCP/IP stack (the lwIP glue), polled.
 *
 * A driver fills one struct xp_netdev and hands it out from its probe; the
 * stack calls transmit and receive from its own loop (no interrupts, no
 * callbacks), one thread.  Frames are whole Ethernet frames without the FCS.
 * The drivers: pc/virtio_net.c (QEMU's virtio-net over virtio-mmio) and
 * xen/netfront.c (a Xen guest's vif); each platform names its own
 * (struct xp_platform's net_probe).
 */
#ifndef XENPORT_NETDEV_H
#define XENPORT_NETDEV_H

#include <stddef.h>
#include <stdint.h>

/* A network device as the TCP/IP stack sees it: Ethernet frames in and out, polled. */
struct xp_netdev {
    const char *name;          /* "virtio-net", "netfront" */
    uint8_t mac[6];
    uint16_t mtu;              /* 1500 */
    /* Queue one Ethernet frame (no FCS, <= 1514 bytes) for sending: 0, or -1 when
       the transmit ring is full (the caller drops the frame, as a NIC would). */
    int (*transmit)(struct xp_netdev *dev, const void *frame, size_t len);
    /* Copy the next received frame into buf: its length, or 0 when none is pending.
       Frames longer than cap are dropped and counted, never truncated. */
    size_t (*receive)(struct xp_netdev *dev, void *buf, size_t cap);
    /* Counters for --xen-info: frames and bytes each way, drops, malformed. */
    uint64_t tx_frames, rx_frames, tx_bytes, rx_bytes, rx_dropped, tx_dropped;
};
/* The first virtio-net device found on the virtio-mmio transports, set up and
   ready; NULL (and no message) when there is none. Idempotent. */
struct xp_netdev *xp_virtio_net_probe(void);
/* Under Xen, the front end of device/vif/0, connected to its back end (MAC
   from xenstore, no offloads); NULL when not on Xen, when the guest has no
   vif, or (with a console message) when the back end does not connect.
   Idempotent. */
struct xp_netdev *xp_netfront_probe(void);

#endif
