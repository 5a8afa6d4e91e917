/* xenport: the PVH boot path (QEMU direct kernel boot, Xen type="pvh").
 *
 * Reads struct hvm_start_info (Xen's public header), fills the protocol-neutral
 * struct xp_boot_info and chooses the platform: PVH on a PC (pc/platform.c:
 * UART, TSC, isa-debug-exit) or, when CPUID says Xen, PVH on Xen
 * (xen/platform.c: the PV console ring, pvclock, SCHEDOP_shutdown).
 */
#include <stdint.h>
#include <string.h>

#include <xen/arch-x86/hvm/start_info.h>

#include "cpu.h"
#include "pc/pc.h"
#include "xen/guest.h"
#include "xenport/boot.h"
#include "xenport/platform.h"
#include "xenport/x86.h"

static struct xp_boot_info boot_info;

static const char *phys_string(uint64_t paddr)
{
    if (!paddr)
        return "";
    return (const char *)(uintptr_t)paddr;
}

void xp_pvh_main(uint32_t start_info_paddr)
{
    /* Console first, so that everything after can complain.  Under Xen there
       is no UART and no isa-debug-exit: port 0xe9 until the console ring is up. */
    uint32_t xen_base = xen_cpuid_base();
    if (xen_base) {
        xp_platform_select(&xp_pvh_xen_platform);
        xen_hypercall_init(xen_base);
    } else {
        pc_console_init();
        xp_platform_select(&xp_pvh_pc_platform);
    }
    xp_cpu_init();
    if (xen_base && xen_platform_init() != 0)
        xp_panic("Xen: cannot set up hypercalls, shared info and the clock");

    const struct hvm_start_info *si = (const void *)(uintptr_t)start_info_paddr;
    if (!si || si->magic != XEN_HVM_START_MAGIC_VALUE)
        xp_panic("PVH: no hvm_start_info at %%ebx (0x%x): not booted through the PVH entry?",
                 start_info_paddr);

    struct xp_boot_info *bi = &boot_info;
    bi->protocol = "pvh";
    bi->mapped_limit = 4ULL << 30;          /* pvh_entry.S's identity map */
    bi->cmdline = phys_string(si->cmdline_paddr);

    /* The memory map: version 1 has one; without it, assume the classic PC
       layout from what we know is there (the kernel and the modules). */
    if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
        const struct hvm_memmap_table_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
        for (uint32_t i = 0; i < si->memmap_entries; i++)
            if (e[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
                xp_boot_add_ram(bi, e[i].addr, e[i].size);
        xp_boot_reserve(bi, si->memmap_paddr,
                        si->memmap_entries * sizeof(struct hvm_memmap_table_entry));
    } else {
        xp_panic("PVH: hvm_start_info version %u has no memory map", si->version);
    }

    /* Never allocate what the loader handed us: the start info, the command
       line, the module list, the modules, and the kernel image itself. */
    xp_boot_reserve(bi, start_info_paddr, sizeof(*si));
    if (si->cmdline_paddr)
        xp_boot_reserve(bi, si->cmdline_paddr, strlen(bi->cmdline) + 1);
    if (si->nr_modules && si->modlist_paddr) {
        const struct hvm_modlist_entry *m = (const void *)(uintptr_t)si->modlist_paddr;
        xp_boot_reserve(bi, si->modlist_paddr, si->nr_modules * sizeof(*m));
        for (uint32_t i = 0; i < si->nr_modules && i < XP_MAX_MODULES; i++) {
            struct xp_module *mod = &bi->modules[bi->nr_modules++];
            mod->paddr = m[i].paddr;
            mod->size = m[i].size;
            mod->cmdline = phys_string(m[i].cmdline_paddr);
            xp_boot_reserve(bi, m[i].paddr, m[i].size);
            if (m[i].cmdline_paddr)
                xp_boot_reserve(bi, m[i].cmdline_paddr, strlen(mod->cmdline) + 1);
        }
    }
    /* Low memory (real-mode structures, the start info's usual home). */
    xp_boot_reserve(bi, 0, 0x100000);
    xp_boot_reserve(bi, (uint64_t)(uintptr_t)__kernel_start,
                    (uint64_t)(uintptr_t)(__kernel_end - __kernel_start));

    if (!xen_base) {
        pc_clock_init();
        pc_timer_init();
    }
    xp_kernel_main(bi);
}
