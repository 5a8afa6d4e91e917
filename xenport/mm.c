/* xenport: the page allocator.
 *
 * Free memory is a list of runs sorted by address; each run's first bytes hold
 * its list node, so the allocator needs no memory of its own.  Allocation is
 * first fit (with alignment), freeing inserts and merges with the neighbours.
 * Any page-aligned range can be freed, so munmap of part of a mapping works.
 */
#include <stdint.h>
#include <string.h>

#include "xenport/mm.h"
#include "xenport/platform.h"

struct run {
    uint64_t npages;
    struct run *next;
};

static struct run *free_list;
static struct xp_mm_stats stats;

#define PAGE XP_PAGE_SIZE

void xp_mm_stats(struct xp_mm_stats *st)
{
    uint64_t runs = 0, largest = 0;
    for (struct run *r = free_list; r; r = r->next) {
        runs++;
        if (r->npages > largest)
            largest = r->npages;
    }
    *st = stats;
    st->free_runs = runs;
    st->largest_free_run = largest;
}

static void note_free_change(void)
{
    if (stats.free_pages < stats.min_free_pages)
        stats.min_free_pages = stats.free_pages;
}

void xp_page_free(void *p, size_t npages)
{
    if (!npages)
        return;
    uint64_t a = (uint64_t)(uintptr_t)p;
    if (a & (PAGE - 1))
        xp_panic("xp_page_free: unaligned address %p", p);
    struct run *prev = 0, *cur = free_list;
    while (cur && (uint64_t)(uintptr_t)cur < a) {
        prev = cur;
        cur = cur->next;
    }
    uint64_t end = a + npages * PAGE;
    if (cur && end > (uint64_t)(uintptr_t)cur)
        xp_panic("xp_page_free: %p (+%lu pages) overlaps free memory", p,
                 (unsigned long)npages);
    if (prev && (uint64_t)(uintptr_t)prev + prev->npages * PAGE > a)
        xp_panic("xp_page_free: %p overlaps free memory", p);
    stats.free_pages += npages;
    struct run *r = (struct run *)p;
    r->npages = npages;
    r->next = cur;
    if (cur && end == (uint64_t)(uintptr_t)cur) {          /* merge with the next */
        r->npages += cur->npages;
        r->next = cur->next;
    }
    if (prev && (uint64_t)(uintptr_t)prev + prev->npages * PAGE == a) {   /* and the previous */
        prev->npages += r->npages;
        prev->next = r->next;
    } else if (prev) {
        prev->next = r;
    } else {
        free_list = r;
    }
}

void *xp_page_alloc(size_t npages, size_t align_pages)
{
    if (!npages)
        npages = 1;
    if (!align_pages)
        align_pages = 1;
    uint64_t align = align_pages * PAGE;
    struct run *prev = 0;
    for (struct run *r = free_list; r; prev = r, r = r->next) {
        uint64_t start = (uint64_t)(uintptr_t)r;
        uint64_t aligned = (start + align - 1) & ~(align - 1);
        uint64_t lead = (aligned - start) / PAGE;
        if (lead + npages > r->npages)
            continue;
        uint64_t tail = r->npages - lead - npages;
        struct run *next = r->next;
        /* Unlink r, then give back the lead and the tail. */
        if (prev)
            prev->next = next;
        else
            free_list = next;
        stats.free_pages -= r->npages;
        if (tail)
            xp_page_free((void *)(uintptr_t)(aligned + npages * PAGE), tail);
        if (lead)
            xp_page_free((void *)(uintptr_t)start, lead);
        note_free_change();
        return (void *)(uintptr_t)aligned;
    }
    return 0;
}

void *xp_page_alloc_zeroed(void)
{
    void *p = xp_page_alloc(1, 1);
    if (p)
        memset(p, 0, PAGE);
    return p;
}

/* Add [base, base+size) minus the reserved regions, page-aligned inwards. */
static void add_range(struct xp_boot_info *bi, uint64_t base, uint64_t end, int from)
{
    for (int i = from; i < bi->nr_reserved; i++) {
        uint64_t rb = bi->reserved[i].base;
        uint64_t re = rb + bi->reserved[i].size;
        if (re <= base || rb >= end)
            continue;
        if (rb > base)
            add_range(bi, base, rb, i + 1);
        if (re < end)
            add_range(bi, re, end, i + 1);
        return;
    }
    base = (base + PAGE - 1) & ~(PAGE - 1);
    end &= ~(PAGE - 1);
    if (end > base) {
        uint64_t n = (end - base) / PAGE;
        stats.total_pages += n;
        xp_page_free((void *)(uintptr_t)base, n);
    }
}

void xp_mm_add_region(struct xp_boot_info *bi, uint64_t base, uint64_t size)
{
    add_range(bi, base, base + size, 0);
    stats.min_free_pages = stats.free_pages;
}

void xp_mm_init(struct xp_boot_info *bi, uint64_t limit)
{
    for (int i = 0; i < bi->nr_ram; i++) {
        uint64_t b = bi->ram[i].base, e = b + bi->ram[i].size;
        if (b >= limit)
            continue;
        if (e > limit)
            e = limit;
        add_range(bi, b, e, 0);
    }
    stats.min_free_pages = stats.free_pages;
}
