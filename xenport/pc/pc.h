/* xenport: PC devices under QEMU/PVH (uart.c, clock.c, lapic.c, pc_exit.c),
   gathered into one platform description by platform.c. */
#ifndef XENPORT_PC_H
#define XENPORT_PC_H

#include <stdint.h>

#include "xenport/platform.h"

/* The 16550 UART (stdout, stdin) and QEMU's debug console (stderr when
   present, else the UART too). */
void pc_console_init(void);
extern const struct xp_console_ops pc_uart_console, pc_err_console;

/* The TSC calibrated against the PIT; the date from the CMOS clock. */
void pc_clock_init(void);
extern const struct xp_clock_ops pc_tsc_clock;

/* The local APIC timer for pc_idle (lapic.c); after pc_clock_init. */
void pc_timer_init(void);
void pc_idle(uint64_t until_ns);
void pc_idle_report(void);
/* Defined by lapic_stubs.S; the stubs read and count these. */
extern char xp_lapic_timer_stub[], xp_lapic_spurious_stub[];
extern uint64_t xp_lapic_eoi, xp_lapic_ticks;

__attribute__((noreturn)) void pc_debug_exit(int status);

#endif
