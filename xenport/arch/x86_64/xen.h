/* xenport: the platform under the Xen hypervisor (PVH guest today; the PV
   entry will reuse the hypercalls, the console ring and the clock). */
#ifndef XENPORT_XEN_H
#define XENPORT_XEN_H

#include <stdint.h>

/* The base CPUID leaf of Xen's leaves (0x40000000, 0x40000100, ...), or 0 when
   not running under Xen. */
uint32_t xen_cpuid_base(void);

/* First thing at boot: port 0xe9 as the console, the hypercall page, the
   exit op (SCHEDOP_shutdown).  Needs nothing else. */
void xen_platform_init_early(uint32_t cpuid_base);
/* After the CPU set-up: shared_info, Xen's clock, the console ring, the idle
   hook.  0 on success; otherwise the message is out and the caller panics. */
int xen_platform_init(void);
/* The platform's name: "pvh-xen-4.17". */
const char *xen_describe(void);

#endif
