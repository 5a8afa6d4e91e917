/* lwIP's compiler and platform glue for xenport: musl's headers, xenport's
   console for diagnostics and its panic for failed assertions. */
#ifndef XENPORT_LWIP_ARCH_CC_H
#define XENPORT_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>

#include "xenport/platform.h"

#define LWIP_PLATFORM_DIAG(x)   do { xp_printk x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) xp_panic("lwIP: assertion \"%s\" failed at %s:%d", \
                                         x, __FILE__, __LINE__)
#define LWIP_NO_CTYPE_H         0

#endif
