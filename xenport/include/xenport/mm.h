/* xenport: physical memory (identity mapped): a page allocator over the RAM the
   boot protocol reported, and the malloc family on top of it. */
#ifndef XENPORT_MM_H
#define XENPORT_MM_H

#include <stddef.h>
#include <stdint.h>

#include "xenport/boot.h"

#define XP_PAGE_SIZE 4096UL

/* Hand the free RAM of bi (RAM minus reserved regions) to the page allocator.
   Only memory below limit is added (the boot map covers it); the rest comes
   later through xp_mm_add_region once the arch code has mapped it. */
void xp_mm_init(struct xp_boot_info *bi, uint64_t limit);
void xp_mm_add_region(struct xp_boot_info *bi, uint64_t base, uint64_t size);

/* npages contiguous pages aligned to align_pages pages (a power of two);
   NULL when there is no such run.  Not zeroed. */
void *xp_page_alloc(size_t npages, size_t align_pages);
/* Give back any page-aligned run (it need not be one allocation). */
void xp_page_free(void *p, size_t npages);
/* One zeroed page (page tables). */
void *xp_page_alloc_zeroed(void);

struct xp_mm_stats {
    uint64_t total_pages;       /* all pages ever added */
    uint64_t free_pages;
    uint64_t min_free_pages;    /* low-water mark */
    uint64_t free_runs;
    uint64_t largest_free_run;  /* pages */
};
void xp_mm_stats(struct xp_mm_stats *st);

#endif
