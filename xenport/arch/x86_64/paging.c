/* xenport: the identity map of a guest that owns its page tables (PVH;
   a PV guest asks Xen: xen/pv.c).  The PVH entry maps 0-4 GiB with 2 MiB pages; this
   extends it above 4 GiB and splits 2 MiB pages to unmap single 4 KiB pages
   (page 0, stack guards). */
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "xenport/x86.h"

#define PTE_P    0x1ULL
#define PTE_W    0x2ULL
#define PTE_PS   0x80ULL
#define ADDR_MASK 0x000ffffffffff000ULL

static uint64_t *table_of(uint64_t entry)
{
    return (uint64_t *)(uintptr_t)(entry & ADDR_MASK);
}

/* The page directory entry slot for va, creating the PDPT/PD on the way. */
static uint64_t *pde_slot(uint64_t va, void *(*alloc_page)(void))
{
    uint64_t *pml4e = &xp_pml4[(va >> 39) & 511];
    if (!(*pml4e & PTE_P)) {
        if (!alloc_page)
            return 0;
        void *p = alloc_page();
        if (!p)
            return 0;
        *pml4e = (uint64_t)(uintptr_t)p | PTE_P | PTE_W;
    }
    uint64_t *pdpte = &table_of(*pml4e)[(va >> 30) & 511];
    if (!(*pdpte & PTE_P)) {
        if (!alloc_page)
            return 0;
        void *p = alloc_page();
        if (!p)
            return 0;
        *pdpte = (uint64_t)(uintptr_t)p | PTE_P | PTE_W;
    }
    if (*pdpte & PTE_PS)
        return 0;                           /* a 1 GiB page: not ours */
    return &table_of(*pdpte)[(va >> 21) & 511];
}

int xp_native_map(uint64_t base, uint64_t size, void *(*alloc_page)(void))
{
    uint64_t va = base & ~0x1fffffULL;
    uint64_t end = base + size;
    for (; va < end; va += 0x200000) {
        uint64_t *pde = pde_slot(va, alloc_page);
        if (!pde)
            return -1;
        if (!(*pde & PTE_P))
            *pde = va | PTE_P | PTE_W | PTE_PS;
    }
    return 0;
}

int xp_native_unmap_4k(uint64_t va, void *(*alloc_page)(void))
{
    va &= ~0xfffULL;
    uint64_t *pde = pde_slot(va, alloc_page);
    if (!pde || !(*pde & PTE_P))
        return -1;
    if (*pde & PTE_PS) {
        /* Split the 2 MiB page into 512 x 4 KiB with the same mapping. */
        uint64_t *pt = alloc_page();
        if (!pt)
            return -1;
        uint64_t big = *pde & ~0x1fffffULL & ADDR_MASK;
        for (int i = 0; i < 512; i++)
            pt[i] = (big + (uint64_t)i * 4096) | PTE_P | PTE_W;
        *pde = (uint64_t)(uintptr_t)pt | PTE_P | PTE_W;
        /* The whole 2 MiB range changed its page size: flush it all. */
        __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
    }
    uint64_t *pt = table_of(*pde);
    pt[(va >> 12) & 511] = 0;
    invlpg(va);
    return 0;
}

int xp_native_is_mapped(uint64_t va)
{
    uint64_t *pml4e = &xp_pml4[(va >> 39) & 511];
    if (!(*pml4e & PTE_P))
        return 0;
    uint64_t *pdpte = &table_of(*pml4e)[(va >> 30) & 511];
    if (!(*pdpte & PTE_P))
        return 0;
    if (*pdpte & PTE_PS)
        return 1;
    uint64_t *pde = &table_of(*pdpte)[(va >> 21) & 511];
    if (!(*pde & PTE_P))
        return 0;
    if (*pde & PTE_PS)
        return 1;
    return (table_of(*pde)[(va >> 12) & 511] & PTE_P) != 0;
}

int xp_paging_map(uint64_t base, uint64_t size, void *(*alloc_page)(void))
{
    return xp_cpu_ops->map(base, size, alloc_page);
}

int xp_paging_unmap_4k(uint64_t va, void *(*alloc_page)(void))
{
    return xp_cpu_ops->unmap_4k(va, alloc_page);
}

int xp_paging_is_mapped(uint64_t va)
{
    return xp_cpu_ops->is_mapped(va);
}
