/* xenport: the shared start of day, whatever the boot protocol.
 *
 *   memory -> TLS -> the program's stack (with a guard page) -> files from the
 *   boot module -> argv and environment from the command line -> main()
 *   -> exit(status).
 *
 * xenport's own options (leading --xen-* words on the command line):
 *   --xen-info          print what xenport found (memory, clock, files) on stderr
 *   --xen-fault[=KIND]  crash on purpose just before main() to show the crash
 *                       report: unmapped (default), null, stack, ud, div
 *   --xen-no-image      do not insert the boot image's path into argv
 *   --xen-selftest      check the platform's drivers (under Xen: the grant
 *                       table, xenstore, xenbus) instead of running main();
 *                       the exit status is the number of failures
 *   --xen-net=CONFIG    the network interface, when there is a network device:
 *                       dhcp (the default), off, or ADDR/PREFIX[,GATEWAY[,DNS]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "xenport/boot.h"
#include "xenport/cmdline.h"
#include "xenport/files.h"
#include "xenport/kernel.h"
#include "xenport/mm.h"
#include "xenport/net.h"
#include "xenport/platform.h"

#define MAIN_STACK_SIZE (8UL * 1024 * 1024)
/* Below this much free memory once the stack is set, the VM's heap, JIT and
   GC tables do not fit (at 26 MB of RAM RPython aborts in malloc, at 28 MB
   tinyBenchmarks runs): say so instead of aborting somewhere inside. */
#define MIN_FREE_FOR_MAIN (10UL * 1024 * 1024)


static struct xp_boot_info *boot;
static uint64_t boot_ns_at_main;
static int show_info;

/* With --xen-info, the timeline at exit (stdio's exit() calls this). */
void xp_kernel_exit_report(int status)
{
    if (show_info && xp_platform->report)
        xp_platform->report();
    if (show_info)
        xp_printk("xenport: exit status %d at %lu us (main() at %lu us)\n", status,
                  (unsigned long)(xp_monotonic_ns() / 1000),
                  (unsigned long)(boot_ns_at_main / 1000));
}

uint64_t xp_ns_at_main(void)
{
    return boot_ns_at_main;
}

static void info(const char *image, int argc, char **argv)
{
    struct xp_mm_stats st;
    xp_mm_stats(&st);
    xp_printk("xenport: boot protocol %s, platform %s\n", boot->protocol, xp_platform_name());
    xp_printk("xenport: console out=%s err=%s in=%s\n", xp_console_name(xp_platform->out),
              xp_console_name(xp_platform->err), xp_console_name(xp_platform->in));
    xp_printk("xenport: clock %s, TSC %lu kHz (%s)\n", xp_platform->clock->name,
              (unsigned long)(xp_tsc_hz / 1000), xp_tsc_source);
    for (int i = 0; i < boot->nr_ram; i++)
        xp_printk("xenport: RAM 0x%09lx-0x%09lx (%lu KiB)\n",
                  (unsigned long)boot->ram[i].base,
                  (unsigned long)(boot->ram[i].base + boot->ram[i].size),
                  (unsigned long)(boot->ram[i].size >> 10));
    xp_printk("xenport: kernel 0x%lx-0x%lx, TLS %lu bytes, free %lu KiB of %lu KiB\n",
              (unsigned long)(uintptr_t)__kernel_start, (unsigned long)(uintptr_t)__kernel_end,
              (unsigned long)xp_tls_size, (unsigned long)(st.free_pages * 4),
              (unsigned long)(st.total_pages * 4));
    for (int i = 0; i < xp_files_count(); i++)
        xp_printk("xenport: file %s (%lu bytes)\n", xp_files_at(i)->path,
                  (unsigned long)xp_files_at(i)->size);
    xp_printk("xenport: image %s\n", image ? image : "(none)");
    for (int i = 0; i < argc; i++)
        xp_printk("xenport: argv[%d] = \"%s\"\n", i, argv[i]);
    xp_printk("xenport: %lu us since boot\n", (unsigned long)(xp_monotonic_ns() / 1000));
}

static volatile int fault_sink;

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int n)
{
    volatile char pad[256];
    pad[0] = (char)n;
    return recurse(n + 1) + pad[0];
}

static const char *const fault_kinds[] = { "unmapped", "null", "stack", "ud", "div", 0 };

static int known_fault(const char *kind)
{
    for (int i = 0; fault_kinds[i]; i++)
        if (strcmp(kind, fault_kinds[i]) == 0)
            return 1;
    return 0;
}

static void fault(const char *kind)
{
    xp_printk("xenport: --xen-fault=%s: crashing on purpose\n", kind);
    if (strcmp(kind, "null") == 0)
        fault_sink = *(volatile int *)0;
    else if (strcmp(kind, "stack") == 0)
        fault_sink = recurse(0);
    else if (strcmp(kind, "ud") == 0)
        __asm__ volatile("ud2");
    else if (strcmp(kind, "div") == 0)
        __asm__ volatile("xor %%ecx, %%ecx; mov $1, %%eax; xor %%edx, %%edx; div %%ecx"
                         ::: "eax", "ecx", "edx");
    else
        fault_sink = *(volatile int *)(uintptr_t)0x00007f0000000000ULL;
    xp_panic("--xen-fault=%s did not fault", kind);
}

static void run_main(void *unused)
{
    (void)unused;
    struct xp_boot_info *bi = boot;
    const char *image = xp_files_init(bi);

    const char *error;
    int nwords;
    char **words = xp_split_words(bi->cmdline, &nwords, &error);
    if (!words) {
        xp_printk("xenport: bad command line: %s\n", error);
        xp_exit(2);
    }
    int i = 0, no_image = 0, selftest = 0;
    const char *fault_kind = 0;
    for (; i < nwords; i++) {
        const char *w = words[i];
        if (xp_is_assignment(w)) {
            xp_env_put(w);
        } else if (strcmp(w, "--xen-info") == 0) {
            show_info = 1;
        } else if (strcmp(w, "--xen-fault") == 0) {
            fault_kind = "unmapped";
        } else if (strncmp(w, "--xen-fault=", 12) == 0) {
            fault_kind = w + 12;
            /* A typo must not crash some other way than the one asked for. */
            if (!known_fault(fault_kind)) {
                xp_printk("xenport: unknown fault kind in %s (known: unmapped, null, "
                          "stack, ud, div)\n", w);
                xp_exit(2);
            }
        } else if (strcmp(w, "--xen-no-image") == 0) {
            no_image = 1;
        } else if (strcmp(w, "--xen-selftest") == 0) {
            selftest = 1;
        } else if (strncmp(w, "--xen-net=", 10) == 0) {
            if (xp_net_configure(w + 10))
                xp_exit(2);
        } else if (strncmp(w, "--xen-", 6) == 0) {
            xp_printk("xenport: unknown option %s (known: --xen-info, --xen-fault[=unmapped|"
                      "null|stack|ud|div], --xen-net=dhcp|off|ADDR/PREFIX[,GW[,DNS]], "
                      "--xen-no-image, --xen-selftest)\n", w);
            xp_exit(2);
        } else {
            break;
        }
    }
    /* argv: cogxen [IMAGE] words...  (the image first: `cogxen IMAGE --eval x`
       parses as `cogxen --eval x IMAGE`). */
    int argc = 0;
    char **argv = malloc((size_t)(nwords - i + 3) * sizeof(char *));
    if (!argv)
        xp_panic("out of memory for argv");
    argv[argc++] = "cogxen";
    if (image && !no_image)
        argv[argc++] = (char *)image;
    for (; i < nwords; i++)
        argv[argc++] = words[i];
    argv[argc] = 0;
    if (show_info)
        info(image, argc, argv);
    if (fault_kind)
        fault(fault_kind);
    if (selftest) {
        if (!xp_platform->selftest) {
            xp_printk("xenport: --xen-selftest: platform %s has no self-test\n",
                      xp_platform_name());
            exit(2);
        }
        exit(xp_platform->selftest() ? 1 : 0);
    }
    struct xp_mm_stats st;
    xp_mm_stats(&st);
    if (st.free_pages * XP_PAGE_SIZE < MIN_FREE_FOR_MAIN) {
        xp_printk("xenport: only %lu KiB of memory left for the VM (it needs %lu MiB): "
                  "give the guest more memory (xl memory=, qemu -m)\n",
                  (unsigned long)(st.free_pages * (XP_PAGE_SIZE / 1024)),
                  MIN_FREE_FOR_MAIN >> 20);
        exit(2);
    }
    xp_net_start();
    boot_ns_at_main = xp_monotonic_ns();
    int status = main(argc, argv);
    /* Bad input without an image: say where the image should have come from. */
    if (status == 2 && !image && !no_image) {
        if (bi->nr_modules == 0)
            xp_printk("xenport: no boot module: give the image as the initrd "
                      "(qemu -initrd IMAGE)\n");
        else
            xp_printk("xenport: the initrd archive has no *.image file\n");
    }
    exit(status);
}

static void *alloc_table_page(void)
{
    return xp_page_alloc_zeroed();
}

void xp_kernel_main(struct xp_boot_info *bi)
{
    boot = bi;
    xp_stack_low = (uint64_t)(uintptr_t)xp_boot_stack;
    xp_stack_high = xp_stack_low + 64 * 1024;

    /* Memory: map whatever RAM lies above what the entry mapped (PVH: 4 GiB). */
    uint64_t limit = bi->mapped_limit;
    xp_mm_init(bi, limit);
    for (int i = 0; i < bi->nr_ram; i++) {
        uint64_t b = bi->ram[i].base, e = b + bi->ram[i].size;
        if (e <= limit)
            continue;
        if (b < limit)
            b = limit;
        if (xp_paging_map(b, e - b, alloc_table_page) == 0)
            xp_mm_add_region(bi, b, e - b);
        else
            xp_printk("xenport: cannot map RAM at 0x%lx\n", (unsigned long)b);
    }
    /* Page 0 unmapped: NULL dereferences fault. */
    xp_paging_unmap_4k(0, alloc_table_page);

    xp_tls_init();

    /* The program's stack, with an unmapped guard page below it. */
    char *stack = xp_page_alloc(MAIN_STACK_SIZE / XP_PAGE_SIZE + 1, 1);
    if (!stack)
        xp_panic("no memory for the %lu KiB stack", MAIN_STACK_SIZE / 1024);
    if (xp_paging_unmap_4k((uint64_t)(uintptr_t)stack, alloc_table_page) == 0)
        xp_stack_guard = (uint64_t)(uintptr_t)stack;
    xp_stack_low = (uint64_t)(uintptr_t)stack + XP_PAGE_SIZE;
    xp_stack_high = xp_stack_low + MAIN_STACK_SIZE;
    xp_switch_stack((void *)(uintptr_t)xp_stack_high, run_main, 0);
}
