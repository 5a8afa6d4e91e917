/* xenport: Xen's event upcall (the PVH callback vector) and blocking.
 *
 * Interrupts are only ever on inside xen_block(): `sti`, SCHEDOP_block, `cli`.
 * The upcall stub saves the caller-saved registers (struct
 * xen_upcall_frame, guest.h) and calls xen_upcall(frame).  Xen raises the
 * vector while vcpu_info's evtchn_upcall_pending is set; nothing to
 * acknowledge at the local APIC.
 */
    .text
    .balign 16
    .globl xen_upcall_stub
xen_upcall_stub:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    /* 9 pushes on the CPU's 5 words: %rsp is 16-byte aligned for the call. */
    movq %rsp, %rdi
    call xen_upcall
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    iretq

/* The PV event callback (CALLBACKTYPE_event): Xen pushes %rcx and %r11 on
 * top of an iretq frame and masks events.  Restore them, give the frame's
 * selectors the RPL of our ring (3: a PV kernel runs there) so that iretq
 * returns to it, and go on as the PVH stub.  Events stay masked afterwards:
 * only SCHEDOP_block unmasks them (sched.c), as interrupts under PVH. */
    .balign 16
    .globl xen_pv_upcall_stub
xen_pv_upcall_stub:
    movq (%rsp), %rcx
    movq 8(%rsp), %r11
    addq $16, %rsp
    orb $3, 8(%rsp)
    orb $3, 32(%rsp)
    jmp xen_upcall_stub

/* The failsafe callback: Xen could not load a segment register on return
 * to us; nothing to resume. */
    .balign 16
    .globl xen_pv_failsafe_stub
xen_pv_failsafe_stub:
    andq $-16, %rsp
    call xen_pv_failsafe
    ud2

/* void xen_block(entry, SCHEDOP_block): the sched_op hypercall at entry with
 * interrupts on.  An upcall taken
 * after the `sti` but before Xen blocks the vCPU would leave it blocked with
 * its event handled: xen_upcall sees a return address in
 * [xen_block_call, the end of the sched_op stub) and turns the pending
 * SCHEDOP_block into SCHEDOP_yield, which returns at once. */
    .balign 16
    .globl xen_block, xen_block_call
xen_block:
    movq %rdi, %rax
    movl %esi, %edi
    xorl %esi, %esi
    xorl %edx, %edx
    sti
xen_block_call:
    call *%rax
    cli
    ret
