/* xenport: the guest's network interface: a polled network device under lwIP.
 *
 * lwIP runs with NO_SYS: there are no threads, so everything happens when the
 * program calls in: the socket calls, poll() and the waits of sleeping pump
 * the device's received frames into lwIP and run its timers.  The devices have
 * no interrupts here, so a waiting guest halts for at most NET_POLL_NS at a
 * time while the interface is up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "xenport/net.h"
#include "xenport/netdev.h"
#include "xenport/platform.h"

#define NET_POLL_NS      1000000ULL          /* 1 ms */
#define DHCP_WAIT_NS     3000000000ULL       /* at boot, for the first lease */
#define FRAMES_PER_PUMP  256
#define FRAME_MAX        1536

enum { NET_DHCP, NET_STATIC, NET_OFF };

static int mode = NET_DHCP;
static ip4_addr_t cfg_addr, cfg_mask, cfg_gw, cfg_dns;
static struct xp_netdev *dev;
static struct netif netif;
static int up;
static uint8_t frame[FRAME_MAX];

/* --- configuration --------------------------------------------------------- */

static int parse_ip(const char *s, size_t n, ip4_addr_t *out)
{
    char text[16];
    if (n == 0 || n >= sizeof text)
        return -1;
    memcpy(text, s, n);
    text[n] = 0;
    return ip4addr_aton(text, out) ? 0 : -1;
}

int xp_net_configure(const char *value)
{
    if (strcmp(value, "dhcp") == 0) {
        mode = NET_DHCP;
        return 0;
    }
    if (strcmp(value, "off") == 0) {
        mode = NET_OFF;
        return 0;
    }
    /* ADDR/PREFIX[,GATEWAY[,DNS]] */
    const char *slash = strchr(value, '/');
    const char *comma = strchr(value, ',');
    if (!slash || (comma && comma < slash) || parse_ip(value, (size_t)(slash - value), &cfg_addr))
        goto bad;
    char *end;
    long prefix = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || prefix < 1 || prefix > 32 || (*end && *end != ','))
        goto bad;
    ip4_addr_set_u32(&cfg_mask, lwip_htonl(prefix == 32 ? 0xffffffffUL
                                                       : ~(0xffffffffUL >> prefix)));
    ip4_addr_set_zero(&cfg_gw);
    ip4_addr_set_zero(&cfg_dns);
    if (*end == ',') {
        const char *gw = end + 1;
        const char *next = strchr(gw, ',');
        if (parse_ip(gw, next ? (size_t)(next - gw) : strlen(gw), &cfg_gw))
            goto bad;
        if (next && parse_ip(next + 1, strlen(next + 1), &cfg_dns))
            goto bad;
    }
    mode = NET_STATIC;
    return 0;
bad:
    xp_printk("xenport: bad --xen-net=%s (known: dhcp, off, ADDR/PREFIX[,GATEWAY[,DNS]], "
              "e.g. 10.0.2.15/24,10.0.2.2)\n", value);
    return -1;
}

/* --- lwIP's side of the device ------------------------------------------------ */

static err_t link_output(struct netif *nif, struct pbuf *p)
{
    if (p->tot_len > sizeof frame) {
        dev->tx_dropped++;
        return ERR_OK;
    }
    /* Received frames are copied out of `frame` before lwIP sees them, so the
       buffer is free here even when lwIP answers from inside input. */
    static uint8_t out[FRAME_MAX];
    u16_t n = pbuf_copy_partial(p, out, p->tot_len, 0);
    dev->transmit(dev, out, n);
    return ERR_OK;
}

static err_t netif_setup(struct netif *nif)
{
    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(nif->hwaddr, dev->mac, ETH_HWADDR_LEN);
    nif->mtu = dev->mtu ? dev->mtu : 1500;
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    nif->output = etharp_output;
    nif->linkoutput = link_output;
#if LWIP_NETIF_HOSTNAME
    nif->hostname = "cogxen";
#endif
    return ERR_OK;
}

static void describe(const char *how)
{
    char a[16], m[16], g[16];
    ip4addr_ntoa_r(netif_ip4_addr(&netif), a, sizeof a);
    ip4addr_ntoa_r(netif_ip4_netmask(&netif), m, sizeof m);
    ip4addr_ntoa_r(netif_ip4_gw(&netif), g, sizeof g);
    const uint8_t *mac = dev->mac;
    xp_printk("xenport: net: %s %02x:%02x:%02x:%02x:%02x:%02x, address %s netmask %s "
              "gateway %s (%s)\n", dev->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
              a, m, g, how);
}

static void status_changed(struct netif *nif)
{
    /* A lease that comes after the boot-time wait, or a new one. */
    static ip4_addr_t last;
    if (up && mode == NET_DHCP && !ip4_addr_isany(netif_ip4_addr(nif)) &&
        !ip4_addr_cmp(&last, netif_ip4_addr(nif))) {
        ip4_addr_copy(last, *netif_ip4_addr(nif));
        describe("dhcp");
    }
}

/* --- running ----------------------------------------------------------------- */

uint32_t xp_net_random(void)
{
    /* xorshift64*, seeded from the TSC: ports, sequence numbers and DHCP's xid
       differ from boot to boot. */
    static uint64_t s;
    if (!s) {
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        s = (((uint64_t)hi << 32) | lo) ^ 0x9e3779b97f4a7c15ULL;
        if (!s)
            s = 1;
    }
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (uint32_t)((s * 0x2545f4914f6cdd1dULL) >> 32);
}

u32_t sys_now(void)
{
    return (u32_t)(xp_monotonic_ns() / 1000000ULL);
}

void xp_net_pump(void)
{
    if (!up)
        return;
    for (int i = 0; i < FRAMES_PER_PUMP; i++) {
        size_t n = dev->receive(dev, frame, sizeof frame);
        if (n == 0)
            break;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_POOL);
        if (!p) {
            dev->rx_dropped++;          /* no memory: dropped, as a full ring would */
            continue;
        }
        pbuf_take(p, frame, (u16_t)n);
        if (netif.input(p, &netif) != ERR_OK)
            pbuf_free(p);
    }
    sys_check_timeouts();
}

int xp_net_up(void)
{
    return up;
}

uint64_t xp_net_wake_by(uint64_t until_ns)
{
    if (!up)
        return until_ns;
    uint64_t soon = xp_monotonic_ns() + NET_POLL_NS;
    return until_ns && until_ns < soon ? until_ns : soon;
}

void xp_wait_step(uint64_t until_ns)
{
    xp_net_pump();
    if (xp_platform->idle)
        xp_platform->idle(xp_net_wake_by(until_ns));
}

void xp_net_start(void)
{
    if (mode == NET_OFF)
        return;
    dev = xp_platform->net_probe ? xp_platform->net_probe() : 0;
    if (!dev) {
        if (mode == NET_STATIC)
            xp_printk("xenport: net: --xen-net given but there is no network device\n");
        return;
    }
    lwip_init();
    ip4_addr_t zero;
    ip4_addr_set_zero(&zero);
    const ip4_addr_t *a = mode == NET_STATIC ? &cfg_addr : &zero;
    const ip4_addr_t *m = mode == NET_STATIC ? &cfg_mask : &zero;
    const ip4_addr_t *g = mode == NET_STATIC ? &cfg_gw : &zero;
    if (!netif_add(&netif, a, m, g, 0, netif_setup, ethernet_input)) {
        xp_printk("xenport: net: lwIP refused the interface\n");
        return;
    }
    netif_set_default(&netif);
    netif_set_status_callback(&netif, status_changed);
    netif_set_up(&netif);
    netif_set_link_up(&netif);
    up = 1;
    if (mode == NET_STATIC) {
        if (!ip4_addr_isany(&cfg_dns)) {
            ip_addr_t d;
            ip_addr_copy_from_ip4(d, cfg_dns);
            dns_setserver(0, &d);
        }
        describe("static");
        return;
    }
    if (dhcp_start(&netif) != ERR_OK) {
        xp_printk("xenport: net: DHCP could not start\n");
        return;
    }
    uint64_t deadline = xp_monotonic_ns() + DHCP_WAIT_NS;
    while (!dhcp_supplied_address(&netif) && xp_monotonic_ns() < deadline)
        xp_wait_step(deadline);
    if (dhcp_supplied_address(&netif))
        status_changed(&netif);
    else
        xp_printk("xenport: net: %s up, no DHCP lease after %llu s (still asking)\n",
                  dev->name, DHCP_WAIT_NS / 1000000000ULL);
}
