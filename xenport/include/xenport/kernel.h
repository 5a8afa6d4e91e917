/* xenport: the shared kernel's symbols used across files (kernel.c, tls.c,
   libc/misc.c) and the program it runs. */
#ifndef XENPORT_KERNEL_H
#define XENPORT_KERNEL_H

#include <stdint.h>

/* The translated VM's (or the self-test's) entry. */
int main(int argc, char **argv);

/* The TLS block from the PT_TLS segment, for the one thread (tls.c). */
void xp_tls_init(void);
extern uint64_t xp_tls_size, xp_tls_align;

/* With --xen-info, the timeline at exit (exit() calls it; kernel.c). */
void xp_kernel_exit_report(int status);
/* Monotonic time when main() was called (kernel.c). */
uint64_t xp_ns_at_main(void);

/* The frames of the current stack, for abort and assertion failures (libc/misc.c). */
void xp_backtrace_here(void);

#endif
