/* lwIP's configuration for xenport: one thread, no operating system (NO_SYS), the
 * raw callback API under xenport's own socket calls (net/socket.c), IPv4 with
 * ARP, ICMP, UDP, TCP, DHCP and DNS.  Memory comes from xenport's malloc, so the
 * only limits on connections are the memory and the counts below.
 */
#ifndef XENPORT_LWIPOPTS_H
#define XENPORT_LWIPOPTS_H

#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_NETIF_API              0

/* musl's <arpa/inet.h> and xenport's libc provide htons & co. */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

#define MEM_LIBC_MALLOC             1
#define MEMP_MEM_MALLOC             1
#define MEM_ALIGNMENT               8

#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_DHCP                   1
#define LWIP_DNS                    1
#define LWIP_AUTOIP                 0
#define LWIP_IGMP                   0
#define IP_REASSEMBLY               1
#define IP_FRAG                     1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define ARP_TABLE_SIZE              32
#define ARP_QUEUEING                1
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_NETIF_LINK_CALLBACK    1
#define LWIP_NETIF_HOSTNAME         1
#define DNS_TABLE_SIZE              8
#define DNS_MAX_SERVERS             2
#define LWIP_DHCP_GET_NTP_SRV       0
/* No ARP probe of the offered address: it holds the boot up for a second. */
#define DHCP_DOES_ARP_CHECK         0

/* TCP: a server for many short connections (backlogs, TIME-WAIT recycling) with
   windows large enough for a loopback-fast host on the other side. */
#define TCP_MSS                     1460
#define TCP_WND                     (24 * TCP_MSS)
#define TCP_SND_BUF                 (24 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_LISTEN_BACKLOG          1
#define TCP_DEFAULT_LISTEN_BACKLOG  0xff
#define LWIP_TCP_KEEPALIVE          1
#define TCP_QUEUE_OOSEQ             1
#define SO_REUSE                    1
#define LWIP_SO_LINGER              0
#define MEMP_NUM_TCP_PCB            1024
#define MEMP_NUM_TCP_PCB_LISTEN     64
#define MEMP_NUM_UDP_PCB            64
#define MEMP_NUM_TCP_SEG            1024
#define MEMP_NUM_PBUF               512
#define PBUF_POOL_SIZE              512
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
#define LWIP_TCP_TIMESTAMPS         0
#define LWIP_WND_SCALE              0

#define LWIP_CHECKSUM_ON_COPY       0
#define CHECKSUM_CHECK_IP           1
#define CHECKSUM_CHECK_TCP          1
#define CHECKSUM_CHECK_UDP          1

#define LWIP_STATS                  0
#define LWIP_STATS_DISPLAY          0
#define LWIP_PROVIDE_ERRNO          0
#define LWIP_TIMERS                 1

/* The rand() of the stack (ports, ISNs, DHCP xid): xenport's, seeded from the TSC. */
#include <stdint.h>
uint32_t xp_net_random(void);
#define LWIP_RAND()                 xp_net_random()

#endif
