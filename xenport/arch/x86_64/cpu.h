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

/* GDT + TSS (with an IST stack for faults that find no usable stack), IDT,
   FPU/SSE state.  Call once, early, on the boot stack. */
void xp_cpu_init(void);
void xp_trap(struct xp_trap_frame *f);
/* Route an interrupt vector (32-255) to handler (an iretq stub). */
void xp_cpu_set_gate(int vector, void *handler);

/* Paging: the boot code identity-maps 0-4 GiB with 2 MiB pages. */
void xp_paging_init(void);
/* Identity-map [base, base+size) (2 MiB granules), e.g. RAM above 4 GiB.
   Page-table pages come from alloc_page (4 KiB, zeroed); 0 on success. */
int xp_paging_map(uint64_t base, uint64_t size, void *(*alloc_page)(void));
/* Make one 4 KiB page not present (guard pages, page 0); 0 on success. */
int xp_paging_unmap_4k(uint64_t va, void *(*alloc_page)(void));
/* True when va is mapped (present). */
int xp_paging_is_mapped(uint64_t va);

/* Defined by the assembly (pvh_entry.S, traps.S): the boot GDT, page-table
   root and stack; the exception entry stubs (one per vector 0-31, 16 bytes
   apart) and the one for any other vector. */
extern uint64_t xp_gdt[];
extern uint64_t xp_pml4[512];
extern char xp_boot_stack[];
extern char xp_trap_stubs[], xp_trap_stub_other[];

/* Where the stack of the running program lies, for the crash report. */
extern uint64_t xp_stack_low, xp_stack_high, xp_stack_guard;

/* Reset the machine by a triple fault (an empty IDT, then int3): QEMU with
   -no-reboot quits with status 0, Xen reports a reboot. */
__attribute__((noreturn)) void xp_cpu_reset(void);

/* Switch to a new stack and call fn(arg) there; never returns. */
__attribute__((noreturn)) void xp_switch_stack(void *stack_top, void (*fn)(void *), void *arg);

#endif
