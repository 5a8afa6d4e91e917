/* xenport: the local APIC's timer and spurious-interrupt vectors (lapic.c).
 * The timer only fires while pc_idle() halts with interrupts on: the stub
 * acknowledges it (EOI) and returns into the halt's caller. */
    .text
    .balign 16
    .globl xp_lapic_timer_stub
xp_lapic_timer_stub:
    pushq %rax
    movq xp_lapic_eoi(%rip), %rax
    movl $0, (%rax)
    incq xp_lapic_ticks(%rip)
    popq %rax
    iretq

    /* Spurious interrupts need no EOI. */
    .balign 16
    .globl xp_lapic_spurious_stub
xp_lapic_spurious_stub:
    iretq
