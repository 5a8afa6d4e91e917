/* xenport: the guest's TCP/IP network (lwIP over a polled network device).
 *
 * net/netif.c brings the interface up at boot from the command line's
 * --xen-net= option and keeps lwIP running: xp_net_pump() takes the frames the
 * device received and runs lwIP's timers; the waits of poll(), sleeps and the
 * idle loop call it.  net/socket.c offers the socket calls of the C library on
 * top of it.
 */
#ifndef XENPORT_NET_H
#define XENPORT_NET_H

#include <stdint.h>

/* Parse a --xen-net= value ("dhcp", "off", "ADDR/PREFIX[,GATEWAY[,DNS]]"):
   0, or -1 with a message on the console. */
int xp_net_configure(const char *value);
/* Find the device and bring the interface up as configured (DHCP by default),
   waiting a little for a lease; prints one line on the console.  Nothing
   happens without a device. */
void xp_net_start(void);
/* Whether an interface is up (a device was found and configured). */
int xp_net_up(void);
/* Feed received frames to lwIP and run its timers; cheap when idle. */
void xp_net_pump(void);
/* The latest time (monotonic ns) by which a waiting caller should pump again. */
uint64_t xp_net_wake_by(uint64_t until_ns);

/* One step of waiting until until_ns (0: until something happens): pumps the
   network when it is up, then idles the CPU (the platform's idle), for at most
   the network's polling interval. */
void xp_wait_step(uint64_t until_ns);

#endif
