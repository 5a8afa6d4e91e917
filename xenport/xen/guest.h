/* xenport: the Xen guest's parts (the files of xen/) and what they share.
 *
 *   platform.c   detection (CPUID), the hypercall page, the platform
 *                description of PVH on Xen, set-up in order
 *   events.c     shared_info, event channels: pending bits, notify
 *   clock.c      Xen system time (pvclock) and the wall clock
 *   console.c    the PV console ring, port 0xe9
 *   sched.c      idle (sleeping in Xen) and shutdown
 *
 * hypercall.h has the typed hypercalls; xen-abi.h the public headers.
 */
#ifndef XENPORT_XEN_GUEST_H
#define XENPORT_XEN_GUEST_H

#include "xen/xen-abi.h"
#include "xenport/platform.h"

/* --- platform.c --- */
/* The base CPUID leaf of Xen's leaves (0x40000000, 0x40000100, ...), or 0 when
   not running under Xen. */
uint32_t xen_cpuid_base(void);
/* First thing at boot: the hypercall page (needs nothing else; port 0xe9 is
   the console meanwhile).  0 when Xen filled the page. */
int xen_hypercall_init(uint32_t cpuid_base);
/* After the CPU set-up: shared_info, Xen's clock, the console ring.  0 on
   success; otherwise the message is out and the caller panics. */
int xen_platform_init(void);
/* Hypercalls can be made (the page is filled). */
extern int xen_hypercalls_ready;

/* --- events.c --- */
/* Map shared_info over a page of the kernel's .bss (XENMEM_add_to_physmap). */
int xen_shared_info_init(void);
extern volatile struct shared_info *xen_shared_info;
void xen_evtchn_notify(evtchn_port_t port);
void xen_evtchn_clear(evtchn_port_t port);

/* --- clock.c --- */
void xen_clock_init(void);
uint64_t xen_monotonic_ns(void);
/* Xen system time of monotonic 0 (timeouts are in Xen system time). */
extern uint64_t xen_system_time_at_boot;
extern const struct xp_clock_ops xen_clock;

/* --- console.c --- */
/* The ring from HVM_PARAM_CONSOLE_PFN/_EVTCHN; 0 when there is one. */
int xen_console_init(void);
/* Wait (bounded) until the backend has read everything written. */
void xen_console_drain(void);
/* The ring's event channel and whether there is a ring (idle waits on it). */
int xen_console_port(evtchn_port_t *port);
void xen_console_report(void);
extern const struct xp_console_ops xen_out_console, xen_err_console, xen_in_console;

/* --- sched.c --- */
/* Sleep in Xen until the console's event channel fires or Xen's clock reaches
   deadline_ns (monotonic; 0: no deadline); may return early. */
void xen_wait(uint64_t deadline_ns);
void xen_idle(uint64_t until_ns);
void xen_sched_report(void);
__attribute__((noreturn)) void xen_exit(int status);

#endif
