/* xenport: helpers for filling struct xp_boot_info. */
#include "xenport/boot.h"
#include "xenport/platform.h"

void xp_boot_add_ram(struct xp_boot_info *bi, uint64_t base, uint64_t size)
{
    if (!size)
        return;
    if (bi->nr_ram == XP_MAX_RAM) {
        xp_printk("xenport: memory map too long, ignoring RAM at 0x%lx\n",
                  (unsigned long)base);
        return;
    }
    bi->ram[bi->nr_ram].base = base;
    bi->ram[bi->nr_ram].size = size;
    bi->nr_ram++;
}

void xp_boot_reserve(struct xp_boot_info *bi, uint64_t base, uint64_t size)
{
    if (!size)
        return;
    if (bi->nr_reserved == XP_MAX_RESERVED)
        xp_panic("too many reserved regions");
    bi->reserved[bi->nr_reserved].base = base;
    bi->reserved[bi->nr_reserved].size = size;
    bi->nr_reserved++;
}
