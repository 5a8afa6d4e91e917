/* xenport: entry stubs for the 32 CPU exception vectors.
 *
 * Each stub makes the frame uniform (a zero error code where the CPU pushes
 * none), pushes its vector and jumps to the common path, which saves the
 * general registers into a struct xp_trap_frame (cpu.h) and calls
 * xp_trap(frame).  xp_trap reports and shuts down; should it return, the
 * registers are restored and iretq resumes the faulting code.
 */
    .text

.macro TRAP_NOERR vec
    .balign 16
    pushq $0
    pushq $\vec
    jmp xp_trap_common
.endm

.macro TRAP_ERR vec
    .balign 16
    pushq $\vec
    jmp xp_trap_common
.endm

    .balign 16
    .globl xp_trap_stubs
xp_trap_stubs:
    TRAP_NOERR 0
    TRAP_NOERR 1
    TRAP_NOERR 2
    TRAP_NOERR 3
    TRAP_NOERR 4
    TRAP_NOERR 5
    TRAP_NOERR 6
    TRAP_NOERR 7
    TRAP_ERR   8
    TRAP_NOERR 9
    TRAP_ERR   10
    TRAP_ERR   11
    TRAP_ERR   12
    TRAP_ERR   13
    TRAP_ERR   14
    TRAP_NOERR 15
    TRAP_NOERR 16
    TRAP_ERR   17
    TRAP_NOERR 18
    TRAP_NOERR 19
    TRAP_NOERR 20
    TRAP_ERR   21
    TRAP_NOERR 22
    TRAP_NOERR 23
    TRAP_NOERR 24
    TRAP_NOERR 25
    TRAP_NOERR 26
    TRAP_NOERR 27
    TRAP_NOERR 28
    TRAP_ERR   29
    TRAP_ERR   30
    TRAP_NOERR 31
    /* Any other vector (a stray interrupt): vector 255 marks "not an exception". */
    .balign 16
    .globl xp_trap_stub_other
xp_trap_stub_other:
    pushq $0
    pushq $255
    jmp xp_trap_common

xp_trap_common:
    /* The frame, from the top: ss rsp rflags cs rip error vector, then these. */
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp                      /* the ABI's stack alignment for the call */
    call xp_trap
    mov %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp                       /* vector, error code */
    iretq

/* The same vectors for Xen's PV trap table: Xen enters with %rcx and %r11
 * pushed on top of the CPU's frame; restore them and go on as above. */
.macro PV_TRAP vec
    .balign 32
    movq (%rsp), %rcx
    movq 8(%rsp), %r11
    addq $16, %rsp
    jmp xp_trap_stubs + 16 * \vec
.endm

    .balign 32
    .globl xp_pv_trap_stubs
xp_pv_trap_stubs:
    .irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    PV_TRAP \vec
    .endr
