/* xenport: leaving QEMU with a status through isa-debug-exit (port 0xf4). */
#include <stdint.h>

#include "pc.h"
#include "xenport/platform.h"
#include "xenport/x86.h"

#define DEBUG_EXIT_PORT 0xf4

void pc_debug_exit(int status)
{
    /* QEMU exits at once with (status << 1) | 1; only the low 7 bits survive. */
    outl(DEBUG_EXIT_PORT, (uint32_t)(status & 0x7f));
    /* Still here: no isa-debug-exit device.  Say so, then reset the machine by a
       triple fault (QEMU with -no-reboot then quits, with status 0). */
    xp_printk("xenport: exit status %d; no isa-debug-exit device at 0x%x, resetting\n",
              status, DEBUG_EXIT_PORT);
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) empty = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(empty));
    for (;;)
        __asm__ volatile("cli; hlt");
}
