/* xenport: what a boot protocol hands to the shared kernel code.
 *
 * Each entry (arch/x86_64/pvh.c, xen/pv.c) fills one
 * struct xp_boot_info from its own start-of-day structure, installs its
 * platform services (console, clock, exit) and calls xp_kernel_main().  The
 * shared code (memory, files, C library, argv) only ever sees this struct.
 */
#ifndef XENPORT_BOOT_H
#define XENPORT_BOOT_H

#include <stdint.h>
#include <stddef.h>

#define XP_MAX_RAM       64
#define XP_MAX_RESERVED  32
#define XP_MAX_MODULES   8

struct xp_region {
    uint64_t base;
    uint64_t size;
};

struct xp_module {
    uint64_t paddr;          /* where the boot loader put it (identity mapped) */
    uint64_t size;
    const char *cmdline;     /* the module's own string, or "" */
};

struct xp_boot_info {
    const char *protocol;                 /* "pvh", "pv" */
    const char *cmdline;                  /* the kernel command line, or "" */
    struct xp_region ram[XP_MAX_RAM];     /* usable RAM, as the memory map says */
    uint64_t mapped_limit;                /* the entry mapped the RAM below this */
    int nr_ram;
    struct xp_region reserved[XP_MAX_RESERVED];   /* inside RAM, never to allocate */
    int nr_reserved;
    struct xp_module modules[XP_MAX_MODULES];
    int nr_modules;
};

void xp_boot_add_ram(struct xp_boot_info *bi, uint64_t base, uint64_t size);
void xp_boot_reserve(struct xp_boot_info *bi, uint64_t base, uint64_t size);

/* The shared kernel: memory, TLS, files, argv, then RPython's main(). */
__attribute__((noreturn)) void xp_kernel_main(struct xp_boot_info *bi);

/* Linker-script symbols. */
extern char __kernel_start[], __kernel_end[], __bss_start[], __bss_end[];
extern char __text_start[], __text_end[];
extern char __tdata_start[], __tdata_end[], __tbss_start[], __tbss_end[];
extern char __tls_align[];

#endif
