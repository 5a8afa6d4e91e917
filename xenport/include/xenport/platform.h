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
};

struct xp_clock_ops {
    const char *name;
    /* Nanoseconds since an arbitrary point at boot; never goes backwards. */
    uint64_t (*monotonic_ns)(void);
};

struct xp_platform {
    const char *name;                      /* "pvh-qemu", later "pv-xen", ... */
    const struct xp_console_ops *out;      /* stdout */
    const struct xp_console_ops *err;      /* stderr (may equal out) */
    const struct xp_console_ops *in;       /* stdin */
    const struct xp_clock_ops *clock;
    int64_t wall_clock_offset_ns;          /* realtime = monotonic + offset */
    /* Leave the guest with an exit status: never returns. */
    __attribute__((noreturn)) void (*exit)(int status);
    /* Wait a little (idle); may return early. */
    void (*idle)(uint64_t until_ns);
    /* Optional: print the platform's own counters (--xen-info, at exit). */
    void (*report)(void);
};

extern struct xp_platform xp_platform;

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

#endif
