/* xenport: the services a boot protocol provides to the shared code.
 *
 * Consoles and clocks are ops structs so that a classic PV entry can plug in
 * the Xen console ring and Xen's time info beside the PVH serial port and the
 * PIT-calibrated TSC without the shared code changing.
 */
#ifndef XENPORT_PLATFORM_H
#define XENPORT_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

struct xp_console_ops {
    const char *name;
    /* Write all of buf (blocking). */
    void (*write)(const char *buf, size_t len);
    /* Read up to len bytes; 0 bytes only when nothing is pending and !block.
       NULL: the console has no input. */
    size_t (*read)(char *buf, size_t len, int block);
    /* Optional: where the bytes go now, for a console that picks its device
       at boot (QEMU's debug console or the UART; port 0xe9 until Xen's ring is
       up); answering NULL means the console is absent (input: end of file).
       No where op: name says it. */
    const char *(*where)(void);
};

struct xp_netdev;

struct xp_clock_ops {
    const char *name;
    /* Nanoseconds since an arbitrary point at boot; never goes backwards. */
    uint64_t (*monotonic_ns)(void);
    /* realtime = monotonic + this (0 when the platform has no date). */
    int64_t (*wall_clock_offset_ns)(void);
};

/* One constant description per environment (PVH on a PC, PVH on Xen, PV on
   Xen), chosen by the boot entry before anything else runs. */
struct xp_platform {
    const char *name;                      /* "pvh", "pvh-xen", "pv-xen" */
    /* Optional: the name with details ("pvh-xen-4.17"). */
    const char *(*describe)(void);
    const struct xp_console_ops *out;      /* stdout */
    const struct xp_console_ops *err;      /* stderr (may equal out) */
    const struct xp_console_ops *in;       /* stdin, or NULL */
    const struct xp_clock_ops *clock;
    /* Leave the guest with an exit status: never returns. */
    __attribute__((noreturn)) void (*exit)(int status);
    /* Wait until until_ns (monotonic; 0: until something happens) or an event;
       may return early. */
    void (*idle)(uint64_t until_ns);
    /* Optional: print the platform's own counters (--xen-info, at exit). */
    void (*report)(void);
    /* Optional: check the platform's drivers against the machine
       (--xen-selftest); the number of failures. */
    int (*selftest)(void);
    /* Optional: the platform's network device, set up (netdev.h), or NULL when
       it has none; net/netif.c asks at boot. */
    struct xp_netdev *(*net_probe)(void);
};

/* The environment's description; until the entry chooses one, a platform
   with no console (messages are dropped) that halts on exit. */
extern const struct xp_platform *xp_platform;
void xp_platform_select(const struct xp_platform *p);
const char *xp_platform_name(void);
const char *xp_console_name(const struct xp_console_ops *c);

/* The descriptions (pc/platform.c, xen/platform.c). */
extern const struct xp_platform xp_pvh_pc_platform;
extern const struct xp_platform xp_pvh_xen_platform;
extern const struct xp_platform xp_pv_xen_platform;

/* The TSC as the clock code found it (--xen-info): its rate and where the
   rate came from ("cpuid", "pit", "guess", "xen"). */
extern uint64_t xp_tsc_hz;
extern const char *xp_tsc_source;

/* Console helpers on top of xp_platform (console.c). */
void xp_write_out(const char *buf, size_t len);
void xp_write_err(const char *buf, size_t len);
void xp_puts_err(const char *s);
/* printf to stderr, for the kernel's own messages; does not allocate. */
void xp_printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The exit status of a crash (CPU exception, abort, panic): QEMU's isa-debug-exit
   then exits with (127 << 1) | 1 = 255. */
#define XP_EXIT_CRASH 127

__attribute__((noreturn)) void xp_exit(int status);
__attribute__((noreturn, format(printf, 1, 2))) void xp_panic(const char *fmt, ...);

uint64_t xp_monotonic_ns(void);
/* Seconds since the epoch at monotonic time 0 (file times). */
int64_t xp_boot_epoch_seconds(void);
/* Nanoseconds since the epoch. */
uint64_t xp_realtime_ns(void);

/* The toolstack's request to stop the guest (xl shutdown, xl reboot), for a
   program that wants to run its own shutdown first: XP_SHUTDOWN_NONE, or the
   request, which is then taken (answered once).  Until a program calls
   xp_shutdown_take_over(), xenport stops the guest by itself (exit(0), then
   poweroff or reboot) as soon as a request comes.  Outside Xen: always NONE. */
#define XP_SHUTDOWN_NONE     0
#define XP_SHUTDOWN_POWEROFF 1
#define XP_SHUTDOWN_REBOOT   2
int xp_shutdown_request(void);
void xp_shutdown_take_over(void);

/* Run the handler a program installed for sig (sigaction, signal): answer 1, or
   0 if it has none (SIG_DFL, SIG_IGN).  A program that handles SIGTERM takes the
   toolstack's stop requests over: it gets SIGTERM instead of being stopped.
   xp_signals_delivered() counts deliveries, so that a sleep can end at one
   (EINTR), as on Unix. */
int xp_signal_deliver(int sig);
unsigned long xp_signals_delivered(void);

/* Standard input with one byte of look-ahead (console.c): whether a read
   would not block, and a read (blocking until a line or EOF). */
int xp_stdin_ready(void);
size_t xp_stdin_read(char *buf, size_t len);

#endif
