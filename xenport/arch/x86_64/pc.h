/* xenport: PC devices under QEMU/PVH (uart.c, clock.c, pc_exit.c). */
#ifndef XENPORT_PC_H
#define XENPORT_PC_H

#include <stdint.h>

void pc_console_init(void);
void pc_clock_init(void);
__attribute__((noreturn)) void pc_debug_exit(int status);

#endif
