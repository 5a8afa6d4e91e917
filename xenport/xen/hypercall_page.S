/* xenport: the hypercall page.  Under Xen it holds one 32-byte stub per
 * hypercall: a PVH guest asks Xen to fill it (platform.c writes its address
 * to the MSR that CPUID leaf base+2 names), for a PV guest the domain builder
 * fills it (the HYPERCALL_PAGE note, pv_entry.S).  A hypercall is then
 * `call page + nr * 32`, whatever the CPU vendor or guest type.  Under plain
 * QEMU it stays a page of int3 and is never called.
 */
    .section .text.hypercall_page, "ax"
    .balign 4096
    .globl xp_hypercall_page
xp_hypercall_page:
    .fill 4096, 1, 0xcc
    .size xp_hypercall_page, 4096
