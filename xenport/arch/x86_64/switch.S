/* xp_switch_stack(stack_top, fn, arg): run fn(arg) on a new stack; never returns. */
    .text
    .globl xp_switch_stack
xp_switch_stack:
    mov %rdi, %rsp
    and $-16, %rsp
    xor %ebp, %ebp
    mov %rdx, %rdi
    call *%rsi
1:  cli
    hlt
    jmp 1b
