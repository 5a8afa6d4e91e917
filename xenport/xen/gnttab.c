/* xenport: grant tables (v1), for the front ends to share pages with their
 * back ends.
 *
 * An HVM/PVH guest chooses where the table's frames appear: each is placed
 * over a page of the kernel's .bss with XENMEM_add_to_physmap
 * (XENMAPSPACE_grant_table), up to what GNTTABOP_query_size allows; a PV
 * guest asks for the frames (GNTTABOP_setup_table) and maps them there.  The
 * first GNTTAB_NR_RESERVED_ENTRIES references belong to the toolstack
 * (console, xenstore); the rest form a free list.
 */
#include <stdint.h>
#include <string.h>

#include "xen/guest.h"
#include "xen/hypercall.h"

#define MAX_FRAMES 4
#define ENTRIES_PER_FRAME (4096 / sizeof(struct grant_entry_v1))
#define MAX_ENTRIES (MAX_FRAMES * ENTRIES_PER_FRAME)

static uint8_t table_pages[MAX_FRAMES][4096] __attribute__((aligned(4096)));
static volatile struct grant_entry_v1 *table;
static unsigned nr_entries;
/* The free list: next_free[ref] is the next free reference; 0 ends it (ref 0
   is reserved, never free). */
static grant_ref_t next_free[MAX_ENTRIES];
static grant_ref_t free_head;
static unsigned nr_free;

static int pv_map_frames(unsigned *frames)
{
    xen_pfn_t list[MAX_FRAMES];
    struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = *frames };
    set_xen_guest_handle(s.frame_list, list);
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &s, 1);
    if (rc != 0 || s.status != GNTST_okay) {
        xp_printk("xenport: GNTTABOP_setup_table failed: %ld/%d\n", rc, s.status);
        return -1;
    }
    for (unsigned i = 0; i < *frames; i++)
        if (xen_pv_map_frame(table_pages[i], list[i]) != 0) {
            xp_printk("xenport: cannot map grant table frame %u\n", i);
            if (i == 0)
                return -1;
            *frames = i;
            break;
        }
    return 0;
}

int xen_gnttab_init(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
    if (rc != 0 || q.status != GNTST_okay) {
        xp_printk("xenport: GNTTABOP_query_size failed: %ld/%d\n", rc, q.status);
        return -1;
    }
    unsigned frames = q.max_nr_frames < MAX_FRAMES ? q.max_nr_frames : MAX_FRAMES;
    if (frames == 0) {
        xp_printk("xenport: the grant table has no frames (max_nr_frames 0)\n");
        return -1;
    }
    if (xen_pv && pv_map_frames(&frames) != 0)
        return -1;
    for (unsigned i = 0; i < frames && !xen_pv; i++) {
        struct xen_add_to_physmap xatp = {
            .domid = DOMID_SELF,
            .space = XENMAPSPACE_grant_table,
            .idx = i,
            .gpfn = (xen_pfn_t)((uintptr_t)table_pages[i] >> 12),
        };
        rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
        if (rc != 0) {
            xp_printk("xenport: XENMEM_add_to_physmap(grant table frame %u) failed: %ld\n",
                      i, rc);
            if (i == 0)
                return -1;
            frames = i;
            break;
        }
    }
    table = (volatile struct grant_entry_v1 *)table_pages;
    nr_entries = frames * ENTRIES_PER_FRAME;
    free_head = 0;
    nr_free = 0;
    for (grant_ref_t ref = nr_entries - 1; ref >= GNTTAB_NR_RESERVED_ENTRIES; ref--) {
        next_free[ref] = free_head;
        free_head = ref;
        nr_free++;
    }
    return 0;
}

int xen_gnttab_ready(void)
{
    return table != 0;
}

unsigned xen_gnttab_nr_free(void)
{
    return nr_free;
}

int xen_gnttab_grant(domid_t domid, uint64_t frame, int readonly, grant_ref_t *ref)
{
    if (!table || !nr_free)
        return -1;
    grant_ref_t r = free_head;
    free_head = next_free[r];
    nr_free--;
    table[r].domid = domid;
    table[r].frame = (uint32_t)frame;
    /* The back end may use the entry as soon as the flags say so. */
    xen_wmb();
    table[r].flags = (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0));
    *ref = r;
    return 0;
}

int xen_gnttab_end(grant_ref_t ref)
{
    if (!table || ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= nr_entries)
        return -1;
    volatile uint16_t *flags = &table[ref].flags;
    uint16_t old = *flags;
    do {
        if (old & (GTF_reading | GTF_writing))
            return -1;                  /* still mapped by the back end */
    } while (!__atomic_compare_exchange_n(flags, &old, 0, 0, __ATOMIC_SEQ_CST,
                                          __ATOMIC_SEQ_CST));
    next_free[ref] = free_head;
    free_head = ref;
    nr_free++;
    return 0;
}

/* Copy len bytes out of a page granted by domid (GNTTABOP_copy). */
int xen_gnttab_copy_from(domid_t domid, grant_ref_t ref, void *dest, uint16_t len)
{
    uintptr_t d = (uintptr_t)dest;
    struct gnttab_copy c;
    memset(&c, 0, sizeof(c));
    c.source.u.ref = ref;
    c.source.domid = domid;
    c.dest.u.gmfn = (xen_pfn_t)xen_frame_of(dest);
    c.dest.domid = DOMID_SELF;
    c.dest.offset = (uint16_t)(d & 4095);
    c.len = len;
    c.flags = GNTCOPY_source_gref;
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, &c, 1);
    return rc == 0 && c.status == GNTST_okay ? 0 : (rc ? (int)rc : c.status);
}
