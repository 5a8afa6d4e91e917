/* xenport: checking a PV guest's start_info (see start_info.h).
 *
 * The domain builder lays the boot region out in order (Xen's public
 * xen.h): the kernel, the ramdisk, the p2m list, start_info, the xenstore
 * and console pages, the page tables, the boot stack, then at least 512 KiB
 * mapped and free.  Everything start_info points at must lie in that order
 * inside the domain, or xenport would map or read the wrong pages.
 */
#include <string.h>

#include "xen/start_info.h"

#define PAGE 4096ULL

const char *xen_pv_check_start_info(struct start_info *si, uint64_t si_va,
                                    uint64_t kernel_end, uint64_t boot_rsp,
                                    struct xen_pv_layout *out)
{
    memset(out, 0, sizeof(*out));
    si->cmd_line[MAX_GUEST_CMDLINE - 1] = 0;
    if (memcmp(si->magic, "xen-3.0-x86_64", 14) != 0)
        return "not a 64-bit PV start_info (magic is not xen-3.0-x86_64)";
    /* Beyond 2^36 pages (256 TiB) the identity map leaves the lower half. */
    if (si->nr_pages == 0 || si->nr_pages > (1ULL << 36))
        return "nr_pages is 0 or impossibly large";
    uint64_t end = si->nr_pages * PAGE;
    if (si_va < kernel_end || si_va % PAGE || si_va >= end)
        return "start_info is not a page after the kernel";
    if (si->mfn_list < kernel_end || si->mfn_list % 8 ||
        si->mfn_list + si->nr_pages * 8 > si_va)
        return "the p2m list is not between the kernel and start_info";
    if (si->pt_base % PAGE || si->pt_base <= si_va || si->nr_pt_frames == 0 ||
        si->nr_pt_frames > 1024 || si->pt_base + si->nr_pt_frames * PAGE > end)
        return "the boot page tables are not after start_info";
    uint64_t first_free = si->pt_base / PAGE + si->nr_pt_frames;
    if (boot_rsp / PAGE > first_free + 1 || boot_rsp > end)
        return "the boot stack is not after the page tables";
    if (boot_rsp > first_free * PAGE)
        first_free = (boot_rsp + PAGE - 1) / PAGE;
    if (first_free >= si->nr_pages || (si->nr_pages - first_free) * PAGE < XEN_PV_MIN_FREE)
        return "too little memory";
    if (si->mod_len) {
        uint64_t start = si->mod_start;
        if (si->flags & SIF_MOD_START_PFN) {
            if (start > si->nr_pages)
                return "the ramdisk's frame is outside the domain";
            start *= PAGE;
        }
        if (start < kernel_end || si->mod_len > end || start + si->mod_len > si->mfn_list)
            return "the ramdisk is not between the kernel and the p2m list";
        out->module_start = start;
        out->module_size = si->mod_len;
    }
    out->nr_pages = si->nr_pages;
    out->first_free = first_free;
    return 0;
}
