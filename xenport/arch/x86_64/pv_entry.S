/* xenport: the classic PV entry (`xl create`, type="pv").
 *
 * The notes tell Xen's domain builder that this ELF is a PV kernel too
 * (pvh_entry.S has the PVH one): load it at its link addresses (VIRT_BASE
 * and PADDR_OFFSET 0: virtual = pseudo-physical), fill xp_hypercall_page,
 * enter at xp_pv_start.  Xen starts us in 64-bit mode on page tables it
 * built for the boot region, %rsi = start_info, %rsp = the end of its boot
 * stack.  We move to our own boot stack and call xp_pv_main(start_info,
 * boot rsp) (xen/pv.c).
 */
#include <xen/elfnote.h>
#include "segments.h"

.macro NOTE_STRING type, text
    .balign 4
    .long 4
    .long 2f - 1f
    .long \type
    .asciz "Xen"
1:  .asciz "\text"
2:  .balign 4
.endm

.macro NOTE_ADDRESS type, value
    .balign 4
    .long 4
    .long 8
    .long \type
    .asciz "Xen"
    .quad \value
.endm

    .section .note.xen, "a"
    NOTE_STRING XEN_ELFNOTE_GUEST_OS, "CogXen"
    NOTE_STRING XEN_ELFNOTE_XEN_VERSION, "xen-3.0"
    NOTE_STRING XEN_ELFNOTE_LOADER, "generic"
    NOTE_ADDRESS XEN_ELFNOTE_VIRT_BASE, 0
    NOTE_ADDRESS XEN_ELFNOTE_PADDR_OFFSET, 0
    NOTE_ADDRESS XEN_ELFNOTE_ENTRY, xp_pv_start
    NOTE_ADDRESS XEN_ELFNOTE_HYPERCALL_PAGE, xp_hypercall_page
    .balign 4

    .section .text.boot, "ax"
    .code64
    .globl xp_pv_start
xp_pv_start:
    cld
    movq %rsp, %rbx
    leaq xp_boot_stack + XP_BOOT_STACK_SIZE(%rip), %rsp
    xorl %ebp, %ebp                     /* ends the frame chain for backtraces */
    movq %rsi, %rdi
    movq %rbx, %rsi
    call xp_pv_main
    ud2
