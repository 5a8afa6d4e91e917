/* xenport: PVH on a PC (QEMU -kernel): the platform description.
 *
 *   console  16550 UART at 0x3f8 (stdout, stdin); stderr on QEMU's debug
 *            console (port 0xe9) when one is present, else the UART;
 *   clock    the TSC, calibrated against the PIT (clock.c); the CMOS date;
 *   idle     hlt until the local APIC's one-shot timer (lapic.c);
 *   exit     isa-debug-exit at port 0xf4 (QEMU exits with (status << 1) | 1);
 *   net      virtio-net on microvm's virtio-mmio transports, polled
 *            (virtio_mmio.c, virtio_net.c: xp_virtio_net_probe());
 *   report   the idle counters and the network device (--xen-info, at exit);
 *   selftest the network device against QEMU's user networking (selftest.c).
 */
#include "pc/pc.h"
#include "xenport/netdev.h"
#include "xenport/platform.h"

static void report(void)
{
    pc_idle_report();
    pc_virtio_net_report();
}

const struct xp_platform xp_pvh_pc_platform = {
    .name = "pvh",
    .out = &pc_uart_console,
    .err = &pc_err_console,
    .in = &pc_uart_console,
    .clock = &pc_tsc_clock,
    .exit = pc_debug_exit,
    .idle = pc_idle,
    .report = report,
    .selftest = pc_selftest,
    .net_probe = xp_virtio_net_probe,
};
