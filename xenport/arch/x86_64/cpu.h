/* xenport: x86-64 CPU setup shared by the boot entries (cpu.c, paging.c). */
#ifndef XENPORT_CPU_H
#define XENPORT_CPU_H

#include <stdint.h>
#include <stddef.h>

struct xp_trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* What differs between a guest that owns the CPU (PVH: ring 0, its own IDT
   and page tables) and a classic PV guest (ring 3 under Xen: a trap table,
   page tables that Xen checks, no control registers): one description each,
   chosen by the boot entry (xp_cpu_select) before xp_cpu_init. */
struct xp_cpu_ops {
    const char *name;
    void (*init)(void);
    /* The address of the last page fault, the page-table root (the report). */
    uint64_t (*fault_address)(void);
    uint64_t (*page_table_root)(void);
    void (*set_fs_base)(uint64_t base);
    int (*map)(uint64_t base, uint64_t size, void *(*alloc_page)(void));
    int (*unmap_4k)(uint64_t va, void *(*alloc_page)(void));
    int (*is_mapped)(uint64_t va);
};
extern const struct xp_cpu_ops xp_native_cpu;      /* cpu.c, paging.c */
extern const struct xp_cpu_ops *xp_cpu_ops;
void xp_cpu_select(const struct xp_cpu_ops *ops);

/* GDT + TSS (with an IST stack for faults that find no usable stack), IDT,
   FPU/SSE state; under PV the trap table.  Call once, early, on the boot stack. */
void xp_cpu_init(void);
/* The FPU/SSE part of it: default control words, as a hosted process starts. */
void xp_cpu_init_fpu(void);
/* The thread pointer (%fs base) for TLS. */
void xp_cpu_set_fs_base(uint64_t base);
void xp_trap(struct xp_trap_frame *f);
/* Route an interrupt vector (32-255) to handler (an iretq stub). */
void xp_cpu_set_gate(int vector, void *handler);

/* Paging (through the chosen xp_cpu_ops).  PVH: the boot code identity-maps
   0-4 GiB with 2 MiB pages; PV: the entry maps all RAM at boot.
   Identity-map [base, base+size) (2 MiB granules), e.g. RAM above 4 GiB.
   Page-table pages come from alloc_page (4 KiB, zeroed); 0 on success. */
int xp_paging_map(uint64_t base, uint64_t size, void *(*alloc_page)(void));
/* Make one 4 KiB page not present (guard pages, page 0); 0 on success. */
int xp_paging_unmap_4k(uint64_t va, void *(*alloc_page)(void));
/* True when va is mapped (present). */
int xp_paging_is_mapped(uint64_t va);

/* The native paging (paging.c), which xp_native_cpu uses. */
int xp_native_map(uint64_t base, uint64_t size, void *(*alloc_page)(void));
int xp_native_unmap_4k(uint64_t va, void *(*alloc_page)(void));
int xp_native_is_mapped(uint64_t va);

/* Defined by the assembly (pvh_entry.S, traps.S): the boot GDT, page-table
   root and stack; the exception entry stubs (one per vector 0-31, 16 bytes
   apart) and the one for any other vector. */
extern uint64_t xp_gdt[];
extern uint64_t xp_pml4[512];
extern char xp_boot_stack[];
extern char xp_trap_stubs[], xp_trap_stub_other[];
/* The same 32 entries for Xen's PV trap table (32 bytes apart): each drops
   the %rcx and %r11 that Xen pushes and goes on as the native stub. */
extern char xp_pv_trap_stubs[];

/* Where the stack of the running program lies, for the crash report. */
extern uint64_t xp_stack_low, xp_stack_high, xp_stack_guard;

/* Reset the machine by a triple fault (an empty IDT, then int3): QEMU with
   -no-reboot quits with status 0, Xen reports a reboot. */
__attribute__((noreturn)) void xp_cpu_reset(void);

/* Switch to a new stack and call fn(arg) there; never returns. */
__attribute__((noreturn)) void xp_switch_stack(void *stack_top, void (*fn)(void *), void *arg);

#endif
