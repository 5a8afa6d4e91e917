/* xenport: leaving QEMU with a status through isa-debug-exit (port 0xf4). */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "pc/pc.h"
#include "xenport/platform.h"
#include "xenport/x86.h"

#define DEBUG_EXIT_PORT 0xf4

void pc_debug_exit(int status)
{
    /* QEMU exits at once with (status << 1) | 1; only the low 7 bits survive. */
    outl(DEBUG_EXIT_PORT, (uint32_t)(status & 0x7f));
    /* Still here: no isa-debug-exit device.  Say so, then reset the machine. */
    xp_printk("xenport: exit status %d; no isa-debug-exit device at 0x%x, resetting\n",
              status, DEBUG_EXIT_PORT);
    xp_cpu_reset();
}
