/* xenport: malloc, calloc, realloc, free, posix_memalign, aligned_alloc,
 * memalign, malloc_usable_size.
 *
 * Every block has a 16-byte header just before it.  Small blocks (up to
 * SMALL_MAX bytes) come from size classes carved out of 64 KiB slabs and are
 * recycled through per-class free lists; larger ones (RPython's GC arenas,
 * nurseries, big objects) are runs of pages straight from the page allocator
 * and go back to it when freed.  Single-threaded: there is one CPU and no
 * preemption.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xenport/mm.h"
#include "xenport/platform.h"

#define MAGIC_SMALL 0x5a4c4d53u      /* "SMLZ" */
#define MAGIC_LARGE 0x4c524745u      /* "EGRL" */
#define MAGIC_FREE  0x45455246u      /* a freed small block */

struct header {
    uint32_t magic;
    uint32_t npages;        /* large: pages in the run; small: the class */
    uint64_t base;          /* large: start of the page run */
};

#define HDR sizeof(struct header)
#define SMALL_MAX 16384
#define SLAB_SIZE (64 * 1024)

/* Classes: multiples of 16 up to 128, then 4 steps per doubling. */
#define NCLASSES 64
static size_t class_size[NCLASSES];
static int nclasses;
static void *free_lists[NCLASSES];
static char *slab_cur, *slab_end;

static void init_classes(void)
{
    size_t s = 16;
    nclasses = 0;
    while (s <= SMALL_MAX) {
        class_size[nclasses++] = s;
        if (s < 128) {
            s += 16;
        } else {
            size_t step = 1;
            while (step * 8 <= s)
                step <<= 1;
            s += step;       /* s/4 .. s/8: ~4 steps per doubling */
        }
    }
}

static int class_of(size_t n)
{
    if (!nclasses)
        init_classes();
    /* Binary search for the first class >= n. */
    int lo = 0, hi = nclasses - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (class_size[mid] >= n)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void *small_alloc(size_t n)
{
    int c = class_of(n);
    size_t bsize = class_size[c] + HDR;
    struct header *h;
    if (free_lists[c]) {
        h = (struct header *)((char *)free_lists[c] - HDR);
        free_lists[c] = *(void **)free_lists[c];
    } else {
        if (slab_cur + bsize > slab_end) {
            char *slab = xp_page_alloc(SLAB_SIZE / XP_PAGE_SIZE, 1);
            if (!slab)
                return 0;
            slab_cur = slab;
            slab_end = slab + SLAB_SIZE;
        }
        h = (struct header *)slab_cur;
        slab_cur += bsize;
    }
    h->magic = MAGIC_SMALL;
    h->npages = (uint32_t)c;
    h->base = 0;
    return h + 1;
}

/* n bytes whose address is a multiple of align (a power of two, >= 16). */
static void *large_alloc(size_t n, size_t align)
{
    if (n > ((size_t)1 << 46))
        return 0;
    size_t extra = align > HDR ? align : HDR;
    size_t npages = (n + extra + XP_PAGE_SIZE - 1) / XP_PAGE_SIZE;
    size_t align_pages = 1;
    if (align >= XP_PAGE_SIZE) {
        /* Put the block on the boundary one page in: header at its end. */
        align_pages = align / XP_PAGE_SIZE;
        npages = (n + XP_PAGE_SIZE - 1) / XP_PAGE_SIZE + align_pages;
    }
    char *run = xp_page_alloc(npages, align_pages);
    if (!run) {
        /* Say once why: the program's own message (if any) follows. */
        static int told;
        if (!told++) {
            struct xp_mm_stats st;
            xp_mm_stats(&st);
            xp_printk("xenport: malloc(%lu) failed: %lu KiB free in %lu runs, the largest "
                      "%lu KiB\n", (unsigned long)n, (unsigned long)(st.free_pages * 4),
                      (unsigned long)st.free_runs, (unsigned long)(st.largest_free_run * 4));
        }
        return 0;
    }
    uintptr_t p = ((uintptr_t)run + HDR + align - 1) & ~(uintptr_t)(align - 1);
    struct header *h = (struct header *)p - 1;
    h->magic = MAGIC_LARGE;
    h->npages = (uint32_t)npages;
    h->base = (uint64_t)(uintptr_t)run;
    return (void *)p;
}

static struct header *header_of(void *p, const char *who)
{
    struct header *h = (struct header *)p - 1;
    if (h->magic != MAGIC_SMALL && h->magic != MAGIC_LARGE) {
        if (h->magic == MAGIC_FREE)
            xp_panic("%s(%p): block already freed", who, p);
        xp_panic("%s(%p): not a block from malloc (header %08x)", who, p, h->magic);
    }
    return h;
}

static size_t capacity(struct header *h, void *p)
{
    if (h->magic == MAGIC_SMALL)
        return class_size[h->npages];
    return (size_t)(h->base + (uint64_t)h->npages * XP_PAGE_SIZE - (uint64_t)(uintptr_t)p);
}

static void *alloc_aligned(size_t n, size_t align)
{
    void *p;
    if (align <= 16 && n <= SMALL_MAX)
        p = small_alloc(n ? n : 1);
    else
        p = large_alloc(n, align < 16 ? 16 : align);
    if (!p)
        errno = ENOMEM;
    return p;
}

void *malloc(size_t n)
{
    return alloc_aligned(n, 16);
}

void free(void *p)
{
    if (!p)
        return;
    struct header *h = header_of(p, "free");
    if (h->magic == MAGIC_SMALL) {
        int c = (int)h->npages;
        h->magic = MAGIC_FREE;
        *(void **)p = free_lists[c];
        free_lists[c] = p;
    } else {
        h->magic = 0;
        xp_page_free((void *)(uintptr_t)h->base, h->npages);
    }
}

void *calloc(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size) {
        errno = ENOMEM;
        return 0;
    }
    size_t n = count * size;
    void *p = malloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (n == 0) {
        free(p);
        return 0;
    }
    struct header *h = header_of(p, "realloc");
    size_t cap = capacity(h, p);
    if (n <= cap) {
        /* Shrinking a large block a lot: give back the tail pages. */
        if (h->magic == MAGIC_LARGE) {
            uint64_t end = ((uint64_t)(uintptr_t)p + n + XP_PAGE_SIZE - 1) & ~(XP_PAGE_SIZE - 1);
            uint64_t run_end = h->base + (uint64_t)h->npages * XP_PAGE_SIZE;
            if (run_end - end >= 16 * XP_PAGE_SIZE) {
                xp_page_free((void *)(uintptr_t)end, (run_end - end) / XP_PAGE_SIZE);
                h->npages = (uint32_t)((end - h->base) / XP_PAGE_SIZE);
            }
        }
        return p;
    }
    void *q = malloc(n);
    if (!q)
        return 0;
    memcpy(q, p, cap);
    free(p);
    return q;
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = alloc_aligned(n, align);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
    if (!align || (align & (align - 1))) {
        errno = EINVAL;
        return 0;
    }
    return alloc_aligned(n, align);
}

void *memalign(size_t align, size_t n)
{
    return aligned_alloc(align, n);
}

size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    return capacity(header_of(p, "malloc_usable_size"), p);
}
