/* xenport: PC devices under QEMU/PVH (uart.c, clock.c, pc_exit.c). */
#ifndef XENPORT_PC_H
#define XENPORT_PC_H

#include <stdint.h>

void pc_console_init(void);
void pc_clock_init(void);
/* The local APIC timer for pc_idle (lapic.c); after pc_clock_init. */
void pc_timer_init(void);
void pc_idle(uint64_t until_ns);
void pc_idle_report(void);
__attribute__((noreturn)) void pc_debug_exit(int status);

#endif
