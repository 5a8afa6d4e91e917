/* xenport: --xen-selftest on a PC (QEMU microvm): the drivers against the real
 * devices (tests/xenport/test_virtio_net_qemu.py boots it).
 *
 * virtio-net, when there is one: an ARP request from 10.0.2.15 for 10.0.2.2
 * (QEMU's user networking answers for its gateway), a frame too large for the
 * caller's buffer (dropped and counted, never cut), 300 frames through the
 * transmit ring (its slots come back), the counters.  Without a device the
 * check says so and passes.  A line per check on stderr; the result is the
 * number of failures.
 */
#include <stdio.h>
#include <string.h>

#include "pc/pc.h"
#include "xenport/netdev.h"
#include "xenport/platform.h"

#define WAIT_NS 2000000000ULL

static int failures;

static void check(int ok, const char *what)
{
    xp_printk("selftest: %s ... %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failures++;
}

/* Wait a little for the device (QEMU's other thread) without spinning hard. */
static void pause_briefly(void)
{
    xp_platform->idle(xp_monotonic_ns() + 200000);
}

static const uint8_t guest_ip[4] = { 10, 0, 2, 15 }, gateway_ip[4] = { 10, 0, 2, 2 };

static size_t arp_request(uint8_t *f, const uint8_t mac[6])
{
    static const uint8_t head[] = { 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 };
    memset(f, 0xff, 6);                            /* broadcast */
    memcpy(f + 6, mac, 6);
    memcpy(f + 12, head, sizeof(head));            /* ARP, Ethernet/IPv4, request */
    memcpy(f + 22, mac, 6);                        /* sender */
    memcpy(f + 28, guest_ip, 4);
    memset(f + 32, 0, 6);                          /* target: asked for */
    memcpy(f + 38, gateway_ip, 4);
    return 42;
}

/* An ARP reply from the gateway to us: its MAC into mac. */
static int is_gateway_reply(const uint8_t *f, size_t len, uint8_t mac[6])
{
    if (len < 42 || f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 2)
        return 0;
    if (memcmp(f + 28, gateway_ip, 4) != 0 || memcmp(f + 38, guest_ip, 4) != 0)
        return 0;
    memcpy(mac, f + 22, 6);
    return 1;
}

static void format_mac(char *out, size_t n, const uint8_t m[6])
{
    snprintf(out, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void virtio_net_checks(struct xp_netdev *nd)
{
    char line[200], mac[20], gw[20];
    static uint8_t frame[2048];
    struct pc_virtio_net_info in;

    pc_virtio_net_info(&in);
    snprintf(line, sizeof(line), "virtio-net: virtio-mmio v%u (%s) at 0x%lx, %u-byte header, "
             "%u receive and %u transmit buffers", in.version,
             in.version >= 2 ? "modern" : "legacy", (unsigned long)in.regs, in.hdr_len,
             in.rx_slots, in.tx_slots);
    check((in.status & 0x4) && !(in.status & 0xc0) &&
          in.hdr_len == (in.version >= 2 ? 12u : 10u) && in.rx_slots > 0 && in.tx_slots > 0,
          line);
    check(xp_virtio_net_probe() == nd && strcmp(nd->name, "virtio-net") == 0 && nd->mtu == 1500,
          "virtio-net: probing again answers the same device");

    /* ARP for the gateway. */
    format_mac(mac, sizeof(mac), nd->mac);
    size_t n = arp_request(frame, nd->mac);
    int sent = nd->transmit(nd, frame, n) == 0;
    uint8_t gw_mac[6];
    int answered = 0;
    uint64_t deadline = xp_monotonic_ns() + WAIT_NS;
    while (sent && !answered && xp_monotonic_ns() < deadline) {
        size_t got = nd->receive(nd, frame, sizeof(frame));
        if (got)
            answered = is_gateway_reply(frame, got, gw_mac) &&
                       memcmp(frame, nd->mac, 6) == 0;
        else
            pause_briefly();
    }
    if (answered) {
        format_mac(gw, sizeof(gw), gw_mac);
        snprintf(line, sizeof(line), "virtio-net: mac %s, ARP 10.0.2.2 is at %s", mac, gw);
    } else {
        snprintf(line, sizeof(line), "virtio-net: mac %s, %s", mac,
                 sent ? "no ARP reply from 10.0.2.2 within 2 s" : "the ARP request not sent");
    }
    check(answered, line);

    /* The answer again, into a buffer too small for it: dropped, counted. */
    uint64_t dropped = nd->rx_dropped, frames = nd->rx_frames;
    n = arp_request(frame, nd->mac);
    int cut = 0;
    sent = nd->transmit(nd, frame, n) == 0;
    deadline = xp_monotonic_ns() + WAIT_NS;
    while (sent && nd->rx_dropped == dropped && xp_monotonic_ns() < deadline) {
        if (nd->receive(nd, frame, 20) != 0)
            cut = 1;
        else
            pause_briefly();
    }
    check(sent && !cut && nd->rx_dropped > dropped && nd->rx_frames == frames,
          "virtio-net: a frame longer than the buffer (20 bytes) is dropped and counted");

    /* 300 frames of a local experimental EtherType (nobody answers), through
       the transmit ring several times over. */
    uint64_t tx0 = nd->tx_frames, bytes0 = nd->tx_bytes;
    unsigned full = 0, done = 0;
    memset(frame, 0xff, 6);
    memcpy(frame + 6, nd->mac, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    deadline = xp_monotonic_ns() + 2 * WAIT_NS;
    while (done < 300 && xp_monotonic_ns() < deadline) {
        memset(frame + 14, (int)(done & 0xff), 46);
        if (nd->transmit(nd, frame, 60) == 0) {
            done++;
        } else {
            full++;
            pause_briefly();
        }
        while (nd->receive(nd, frame + 100, 1600))     /* whatever comes meanwhile */
            ;
    }
    while (pc_virtio_net_info(&in) == 0 && in.tx_in_flight && xp_monotonic_ns() < deadline)
        pause_briefly();
    snprintf(line, sizeof(line), "virtio-net: %u of 300 frames sent through %u transmit "
             "buffers (ring full %u times), %u still held by the device", done, in.tx_slots,
             full, in.tx_in_flight);
    check(done == 300 && in.tx_in_flight == 0 && nd->tx_frames - tx0 == 300 &&
          nd->tx_bytes - bytes0 == 300 * 60, line);

    /* Bad input is refused and counted. */
    uint64_t tx_dropped = nd->tx_dropped;
    check(nd->transmit(nd, frame, 1515) == -1 && nd->transmit(nd, frame, 13) == -1 &&
          nd->tx_dropped == tx_dropped + 2,
          "virtio-net: frames longer than 1514 bytes or shorter than a header are refused");

    pc_virtio_net_info(&in);
    snprintf(line, sizeof(line), "virtio-net: counters tx %lu frames %lu bytes, rx %lu frames "
             "%lu bytes, dropped tx %lu rx %lu, malformed %lu",
             (unsigned long)nd->tx_frames, (unsigned long)nd->tx_bytes,
             (unsigned long)nd->rx_frames, (unsigned long)nd->rx_bytes,
             (unsigned long)nd->tx_dropped, (unsigned long)nd->rx_dropped,
             (unsigned long)in.malformed);
    check(nd->tx_frames == tx0 + 300 && nd->rx_frames >= 1 && in.malformed == 0, line);
}

int pc_selftest(void)
{
    failures = 0;
    struct xp_netdev *nd = xp_virtio_net_probe();
    if (nd)
        virtio_net_checks(nd);
    else
        check(1, "virtio-net: no virtio-net device on the virtio-mmio transports");
    xp_printk("selftest: %s: %d failures\n", xp_platform_name(), failures);
    return failures;
}
