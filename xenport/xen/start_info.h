/* xenport: checking a PV guest's start_info (xen/start_info.c).
 *
 * Pure: no hypercalls, no memory outside the struct, so that the host can
 * compile it and feed it any struct (tests/xenport/test_start_info.py).
 */
#ifndef XENPORT_XEN_START_INFO_H
#define XENPORT_XEN_START_INFO_H

#include <stdint.h>

#include "xen/xen-abi.h"

/* The least free memory (bytes) after the boot region for the VM to start. */
#define XEN_PV_MIN_FREE (16ULL << 20)

/* What the PV entry needs from start_info, in pseudo-physical terms. */
struct xen_pv_layout {
    uint64_t nr_pages;          /* the domain's pages */
    uint64_t first_free;        /* the first frame after the boot region */
    uint64_t module_start;      /* the ramdisk (bytes), 0 when there is none */
    uint64_t module_size;
};

/* Check si (at virtual address si_va; the kernel ends at kernel_end; Xen
   entered with %rsp = boot_rsp) and fill *out: NULL, or why it cannot be
   used.  Forces cmd_line to end with a NUL. */
const char *xen_pv_check_start_info(struct start_info *si, uint64_t si_va,
                                    uint64_t kernel_end, uint64_t boot_rsp,
                                    struct xen_pv_layout *out);

#endif
