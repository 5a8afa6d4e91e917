/* xenport: the classic x86-64 PV guest (`xl create`, type="pv").
 *
 * The domain builder loads the ELF at its link addresses (VIRT_BASE 0, so a
 * virtual address is the pseudo-physical one), fills the hypercall page from
 * the HYPERCALL_PAGE note and enters xp_pv_start (pv_entry.S) in 64-bit mode
 * on its own page tables, %rsi = start_info.  The kernel runs in ring 3:
 * page tables are Xen's to check (read-only to us, changed with mmu_update
 * and update_va_mapping, holding machine frames), exceptions come through a
 * trap table, events through a registered callback, %fs through
 * set_segment_base.
 *
 * Here: start_info to struct xp_boot_info, shared_info, the console ring and
 * xenstore from start_info, and the identity map extended from the boot
 * region to all of the domain's pages (4 KiB pages, as a PV guest must; the
 * page-table pages come from the first free frames, behind what is mapped).
 * Then the same set-up as PVH on Xen (platform.c) and the shared kernel.
 */
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "xen/guest.h"
#include "xen/hypercall.h"
#include "xen/start_info.h"
#include "xenport/boot.h"
#include "xenport/platform.h"

#define PTE_P   0x001ULL
#define PTE_W   0x002ULL
#define PTE_U   0x004ULL
#define PTE_A   0x020ULL
#define PTE_D   0x040ULL
#define PTE_FRAME 0x000ffffffffff000ULL
#define PTE_TABLE (PTE_P | PTE_W | PTE_U | PTE_A | PTE_D)
#define PTE_PAGE  (PTE_P | PTE_W | PTE_U | PTE_A | PTE_D)
#define PTE_RO    (PTE_P | PTE_U | PTE_A)

#define BATCH 256

int xen_pv;
const struct start_info *xen_pv_start_info;

static struct xp_boot_info boot_info;
static const xen_pfn_t *p2m;            /* pfn -> mfn (start_info.mfn_list) */
static unsigned long nr_pages;
static unsigned long next_table_pfn;    /* where page-table pages come from */
static unsigned long nr_table_pages;

static uint64_t mfn_to_pfn(uint64_t mfn)
{
    return ((const unsigned long *)MACH2PHYS_VIRT_START)[mfn];
}

void *xen_pv_page_of_mfn(uint64_t mfn)
{
    uint64_t pfn = mfn_to_pfn(mfn);
    if (pfn >= nr_pages || p2m[pfn] != mfn)
        return 0;
    return (void *)(uintptr_t)(pfn << 12);
}

uint64_t xen_frame_of(const void *va)
{
    uint64_t pfn = (uint64_t)(uintptr_t)va >> 12;
    return xen_pv ? p2m[pfn] : pfn;
}

int xen_pv_map_frame(void *va, uint64_t mfn)
{
    return (int)HYPERVISOR_update_va_mapping((unsigned long)(uintptr_t)va,
                                             (mfn << 12) | PTE_PAGE, UVMF_INVLPG);
}

/* --- page tables -------------------------------------------------------- */

static uint64_t root_mfn(void)
{
    return p2m[((uintptr_t)xen_pv_start_info->pt_base) >> 12];
}

static struct mmu_update pending[BATCH];
static unsigned nr_pending;

static void flush_updates(void)
{
    if (!nr_pending)
        return;
    unsigned done = 0;
    long rc = HYPERVISOR_mmu_update(pending, nr_pending, &done);
    if (rc != 0)
        xp_panic("PV: mmu_update failed (%ld) after %u of %u updates", rc, done, nr_pending);
    nr_pending = 0;
}

static void queue_update(uint64_t table_mfn, unsigned index, uint64_t value)
{
    pending[nr_pending].ptr = (table_mfn << 12) + index * 8 + MMU_NORMAL_PT_UPDATE;
    pending[nr_pending].val = value;
    if (++nr_pending == BATCH)
        flush_updates();
}

/* A new table page hooked into entry `index` of the table at table_mfn: a
   free, mapped frame, zeroed, then made read-only (Xen refuses a page table
   that is writable anywhere) before it is linked in. */
static uint64_t new_table(uint64_t parent_mfn, unsigned index)
{
    unsigned long pfn = next_table_pfn++;
    nr_table_pages++;
    void *va = (void *)(uintptr_t)(pfn << 12);
    memset(va, 0, 4096);
    uint64_t mfn = p2m[pfn];
    if (HYPERVISOR_update_va_mapping((unsigned long)(uintptr_t)va, (mfn << 12) | PTE_RO,
                                     UVMF_INVLPG) != 0)
        xp_panic("PV: cannot make page-table page 0x%lx read-only", pfn);
    flush_updates();                       /* the parent's entries in order */
    queue_update(parent_mfn, index, (mfn << 12) | PTE_TABLE);
    flush_updates();
    return mfn;
}

static const uint64_t *table_of_mfn(uint64_t mfn)
{
    return (const uint64_t *)(uintptr_t)(mfn_to_pfn(mfn) << 12);
}

/* The machine frame of the table one level down from entry `index` of the
   table at mfn, creating it when absent. */
static uint64_t down(uint64_t mfn, unsigned index)
{
    uint64_t e = table_of_mfn(mfn)[index];
    if (e & PTE_P)
        return (e & PTE_FRAME) >> 12;
    return new_table(mfn, index);
}

/* Map pfn first..last-1 at their identity addresses where not mapped yet. */
static void map_all(unsigned long first, unsigned long last)
{
    uint64_t l4_mfn = root_mfn();
    for (unsigned long pfn = first; pfn < last;) {
        uint64_t va = (uint64_t)pfn << 12;
        uint64_t l3_mfn = down(l4_mfn, (va >> 39) & 511);
        uint64_t l2_mfn = down(l3_mfn, (va >> 30) & 511);
        uint64_t l1_mfn = down(l2_mfn, (va >> 21) & 511);
        const uint64_t *l1 = table_of_mfn(l1_mfn);
        /* The rest of this L1's 2 MiB. */
        unsigned long end = (pfn | 511) + 1;
        if (end > last)
            end = last;
        for (; pfn < end; pfn++) {
            unsigned i = pfn & 511;
            if (!(l1[i] & PTE_P))
                queue_update(l1_mfn, i, (p2m[pfn] << 12) | PTE_PAGE);
        }
        flush_updates();
    }
}

/* --- the CPU under PV ------------------------------------------------------ */

static uint64_t pv_fault_address(void)
{
    return xen_shared_info ? xen_shared_info->vcpu_info[0].arch.cr2 : 0;
}

static uint64_t pv_page_table_root(void)
{
    return root_mfn() << 12;
}

static void pv_set_fs_base(uint64_t base)
{
    if (HYPERVISOR_set_segment_base(SEGBASE_FS, base) != 0)
        xp_panic("PV: set_segment_base(FS) failed");
}

static struct trap_info traps[33];

static void pv_cpu_init(void)
{
    int n = 0;
    for (int v = 0; v < 32; v++) {
        if (v == 2 || v == 15 || v > 19)    /* NMI: a callback; reserved ones */
            continue;
        traps[n].vector = (uint8_t)v;
        /* int3 and into may be used from code (DPL 3); no other vector */
        traps[n].flags = (v == 3 || v == 4) ? 3 : 0;
        traps[n].cs = FLAT_KERNEL_CS;
        traps[n].address = (unsigned long)(xp_pv_trap_stubs + 32 * v);
        n++;
    }
    traps[n].address = 0;
    if (HYPERVISOR_set_trap_table(traps) != 0)
        xp_panic("PV: set_trap_table failed");
    xp_cpu_init_fpu();
}

static int pv_map(uint64_t base, uint64_t size, void *(*alloc_page)(void))
{
    (void)alloc_page;                       /* all RAM is mapped at boot */
    for (uint64_t va = base & ~0xfffULL; va < base + size; va += 4096)
        if (!xp_paging_is_mapped(va))
            return -1;
    return 0;
}

static int pv_unmap_4k(uint64_t va, void *(*alloc_page)(void))
{
    (void)alloc_page;
    return HYPERVISOR_update_va_mapping(va & ~0xfffULL, 0, UVMF_INVLPG) == 0 ? 0 : -1;
}

static int pv_is_mapped(uint64_t va)
{
    const uint64_t *t = table_of_mfn(root_mfn());
    for (int shift = 39; shift >= 12; shift -= 9) {
        uint64_t e = t[(va >> shift) & 511];
        if (!(e & PTE_P))
            return 0;
        if (shift == 12)
            return 1;
        t = table_of_mfn((e & PTE_FRAME) >> 12);
    }
    return 0;
}

static const struct xp_cpu_ops pv_cpu = {
    .name = "xen-pv",
    .init = pv_cpu_init,
    .fault_address = pv_fault_address,
    .page_table_root = pv_page_table_root,
    .set_fs_base = pv_set_fs_base,
    .map = pv_map,
    .unmap_4k = pv_unmap_4k,
    .is_mapped = pv_is_mapped,
};

/* --- the entry ------------------------------------------------------------- */

unsigned long xen_pv_table_pages(void)
{
    return nr_table_pages;
}

static void crash_now(void)
{
    struct sched_shutdown s = { .reason = SHUTDOWN_crash };
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
}

void xp_pv_main(struct start_info *si, uint64_t boot_rsp)
{
    /* Nothing can be said without the hypercall page or start_info's pages
       (shared_info, the console). */
    if (((volatile uint8_t *)xp_hypercall_page)[0] == 0xcc)
        for (;;)
            __asm__ volatile("ud2");
    if (!si || memcmp(si->magic, "xen-", 4) != 0)
        crash_now();
    xen_pv = 1;
    xen_pv_start_info = si;
    xen_hypercalls_ready = 1;
    p2m = (const xen_pfn_t *)(uintptr_t)si->mfn_list;
    nr_pages = si->nr_pages;
    xp_platform_select(&xp_pv_xen_platform);
    xp_cpu_select(&pv_cpu);
    /* shared_info first (it holds the event mask), then the console. */
    if (xen_shared_info_init() != 0)
        crash_now();
    xen_console_init();
    xp_cpu_init();
    if (xen_platform_init() != 0)
        xp_panic("Xen: cannot set up shared info, events and the clock");

    /* The boot region ends with the page tables, then the boot stack (we left
       it for our own); the frames after it are free, and mapped for at least
       512 KiB. */
    struct xen_pv_layout layout;
    const char *why = xen_pv_check_start_info(si, (uint64_t)(uintptr_t)si,
                                              (uint64_t)(uintptr_t)__kernel_end, boot_rsp,
                                              &layout);
    if (why)
        xp_panic("PV: unusable start_info: %s (a domain of %lu MiB; xenport needs %llu MiB "
                 "free after the kernel and the ramdisk: memory= in the xl config)", why,
                 nr_pages >> 8, XEN_PV_MIN_FREE >> 20);
    unsigned long first_free = layout.first_free;
    next_table_pfn = first_free;
    map_all(first_free, nr_pages);

    struct xp_boot_info *bi = &boot_info;
    bi->protocol = "pv";
    bi->cmdline = (const char *)si->cmd_line;
    bi->mapped_limit = (uint64_t)nr_pages << 12;
    xp_boot_add_ram(bi, (uint64_t)next_table_pfn << 12,
                    (uint64_t)(nr_pages - next_table_pfn) << 12);
    if (layout.module_size) {
        struct xp_module *mod = &bi->modules[bi->nr_modules++];
        mod->paddr = layout.module_start;
        mod->size = layout.module_size;
        mod->cmdline = "";
    }
    xp_kernel_main(bi);
}
