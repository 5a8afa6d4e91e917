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

/* virtio-net over virtio-mmio (virtio_net.c; the device itself is
   xp_virtio_net_probe() of xenport/netdev.h): what the report and the
   self-test show. */
struct pc_virtio_net_info {
    uintptr_t regs;             /* the transport's registers */
    unsigned version;           /* virtio-mmio version: 1 legacy, 2 modern */
    unsigned hdr_len;           /* the virtio_net_hdr in front of each frame */
    uint64_t features;          /* accepted */
    unsigned rx_slots, tx_slots, tx_in_flight;
    uint64_t malformed;         /* used entries with a bad id or length */
    int mac_made_up;
    uint32_t status;            /* the device status register */
};
/* 0 and *info once the device is set up, else -1. */
int pc_virtio_net_info(struct pc_virtio_net_info *info);
/* --xen-info at exit: the device and its counters, if there is one. */
void pc_virtio_net_report(void);

/* --xen-selftest on a PC (selftest.c): the number of failures. */
int pc_selftest(void);

#endif
