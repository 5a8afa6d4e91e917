/* xenport: the PVH entry point.
 *
 * The Xen PVH ABI (also what QEMU's direct kernel boot does for an ELF carrying
 * XEN_ELFNOTE_PHYS32_ENTRY): 32-bit protected mode, flat segments, paging off,
 * interrupts off, %ebx = physical address of struct hvm_start_info.
 *
 * Here: clear .bss, load our GDT, build an identity map of the first 4 GiB with
 * 2 MiB pages, enable PAE + long mode + SSE, and continue in 64-bit code at
 * xp_pvh_start64, which calls xp_pvh_main(start_info) (pvh.c) on the boot stack.
 * Memory above 4 GiB is mapped later, in C (paging.c), from the memory map.
 */
#include <xen/elfnote.h>
#include "segments.h"

/* The note: name "Xen", type PHYS32_ENTRY, descriptor the 32-bit entry.  The
   descriptor is a quad: QEMU reads 8 bytes from a 64-bit ELF.  Alignment 4:
   see xenport.ld. */
    .section .note.xen, "a"
    .balign 4
    .long 4                     /* namesz: "Xen\0" */
    .long 8                     /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad xp_pvh_start32
    .balign 4

    .section .text.boot, "ax"
    .code32
    .globl xp_pvh_start32
xp_pvh_start32:
    cli
    cld
    mov %ebx, %esi                      /* keep the start info pointer */

    lgdt xp_gdt_ptr32
    mov $SEG_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs
    ljmp $SEG_CODE32, $1f
1:
    /* .bss: the boot loader zeroes it, but we do not rely on it. */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    mov $(xp_boot_stack + XP_BOOT_STACK_SIZE), %esp

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; PDn: 512 x 2 MiB each. */
    mov $xp_pml4, %edi
    mov $xp_pdpt, %eax
    or $0x3, %eax                       /* present, writable */
    mov %eax, (%edi)

    mov $xp_pdpt, %edi
    mov $xp_pd, %eax
    or $0x3, %eax
    mov $4, %ecx
2:  mov %eax, (%edi)
    add $4096, %eax
    add $8, %edi
    loop 2b

    mov $xp_pd, %edi
    mov $0x83, %eax                     /* present, writable, 2 MiB page */
    mov $2048, %ecx
3:  mov %eax, (%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 3b

    /* CR4: PAE, OSFXSR, OSXMMEXCPT. */
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4

    mov $xp_pml4, %eax
    mov %eax, %cr3

    /* EFER.LME (and NXE when CPUID says so: harmless, lets us mark pages NX later). */
    mov $0x80000001, %eax
    cpuid
    xor %edi, %edi
    test $(1 << 20), %edx
    jz 4f
    mov $(1 << 11), %edi
4:  mov $0xc0000080, %ecx
    rdmsr
    or $(1 << 8), %eax
    or %edi, %eax
    wrmsr

    /* CR0: PG, PE, MP, NE; clear EM and TS so that SSE works. */
    mov %cr0, %eax
    and $~((1 << 2) | (1 << 3)), %eax
    or $((1 << 31) | (1 << 0) | (1 << 1) | (1 << 5)), %eax
    mov %eax, %cr0

    ljmp $SEG_CODE64, $xp_pvh_start64

    .code64
xp_pvh_start64:
    mov $SEG_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov $(xp_boot_stack + XP_BOOT_STACK_SIZE), %rsp
    xor %ebp, %ebp                      /* ends the frame chain for backtraces */
    mov %esi, %edi                      /* zero-extended start info address */
    call xp_pvh_main
5:  cli
    hlt
    jmp 5b

/* The GDT, shared with the 64-bit code (cpu.c adds the TSS). */
    .section .data
    .balign 16
    .globl xp_gdt
xp_gdt:
    .quad 0                             /* null */
    .quad 0x00af9a000000ffff            /* SEG_CODE64: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff            /* SEG_DATA: flat data */
    .quad 0x00cf9a000000ffff            /* SEG_CODE32: flat 32-bit code */
    .quad 0, 0                          /* SEG_TSS: a 16-byte TSS descriptor */
xp_gdt_end:

    .balign 8
    .globl xp_gdt_ptr32
xp_gdt_ptr32:
    .word xp_gdt_end - xp_gdt - 1
    .long xp_gdt

    .section .bss.pagetables, "aw", @nobits
    .balign 4096
    .globl xp_pml4, xp_pdpt, xp_pd
xp_pml4: .skip 4096
xp_pdpt: .skip 4096
xp_pd:   .skip 4 * 4096

    .section .bss
    .balign 16
    .globl xp_boot_stack
xp_boot_stack: .skip XP_BOOT_STACK_SIZE
