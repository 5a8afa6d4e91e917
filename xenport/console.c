/* xenport: the shared console and shutdown helpers over xp_platform. */
#include <stdarg.h>
#include <string.h>

#include "libc/format.h"
#include "xenport/platform.h"

static __attribute__((noreturn)) void no_exit(int status)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

static const struct xp_platform no_platform = {
    .name = "none",
    .exit = no_exit,
};

const struct xp_platform *xp_platform = &no_platform;
uint64_t xp_tsc_hz;
const char *xp_tsc_source = "none";

void xp_platform_select(const struct xp_platform *p)
{
    xp_platform = p;
}

const char *xp_platform_name(void)
{
    return xp_platform->describe ? xp_platform->describe() : xp_platform->name;
}

const char *xp_console_name(const struct xp_console_ops *c)
{
    const char *where = c ? (c->where ? c->where() : c->name) : 0;
    return where ? where : "none";
}

/* Standard input's console, or NULL when there is none (now). */
static const struct xp_console_ops *input(void)
{
    const struct xp_console_ops *c = xp_platform->in;
    if (!c || !c->read || (c->where && !c->where()))
        return 0;
    return c;
}

void xp_write_out(const char *buf, size_t len)
{
    if (xp_platform->out)
        xp_platform->out->write(buf, len);
}

void xp_write_err(const char *buf, size_t len)
{
    if (xp_platform->err)
        xp_platform->err->write(buf, len);
}

void xp_puts_err(const char *s)
{
    xp_write_err(s, strlen(s));
}

/* Kernel messages go out in pieces of up to a line: no allocation. */
struct kbuf {
    char buf[256];
    size_t n;
};

static void kbuf_flush(struct kbuf *k)
{
    xp_write_err(k->buf, k->n);
    k->n = 0;
}

static void kbuf_sink(void *ctx, const char *s, size_t n)
{
    struct kbuf *k = ctx;
    while (n) {
        if (k->n == sizeof(k->buf))
            kbuf_flush(k);
        size_t m = sizeof(k->buf) - k->n;
        if (m > n)
            m = n;
        memcpy(k->buf + k->n, s, m);
        k->n += m;
        s += m;
        n -= m;
    }
}

void xp_vprintk(const char *fmt, va_list ap)
{
    struct kbuf k;
    k.n = 0;
    xp_vformat(kbuf_sink, &k, fmt, ap);
    kbuf_flush(&k);
}

void xp_printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xp_vprintk(fmt, ap);
    va_end(ap);
}

void xp_exit(int status)
{
    if (xp_platform->exit)
        xp_platform->exit(status);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void xp_panic(const char *fmt, ...)
{
    static int panicking;
    if (!panicking++) {
        va_list ap;
        xp_puts_err("\nxenport: panic: ");
        va_start(ap, fmt);
        xp_vprintk(fmt, ap);
        va_end(ap);
        xp_puts_err("\n");
    }
    xp_exit(XP_EXIT_CRASH);
}

uint64_t xp_monotonic_ns(void)
{
    if (xp_platform->clock)
        return xp_platform->clock->monotonic_ns();
    return 0;
}

static int64_t wall_clock_offset_ns(void)
{
    const struct xp_clock_ops *c = xp_platform->clock;
    return c && c->wall_clock_offset_ns ? c->wall_clock_offset_ns() : 0;
}

int64_t xp_boot_epoch_seconds(void)
{
    return wall_clock_offset_ns() / 1000000000LL;
}

uint64_t xp_realtime_ns(void)
{
    return (uint64_t)((int64_t)xp_monotonic_ns() + wall_clock_offset_ns());
}

/* Standard input, with one byte of look-ahead so that select() can ask
   whether input is waiting without losing it. */
static char stdin_peek;
static int stdin_has_peek;

int xp_stdin_ready(void)
{
    if (stdin_has_peek)
        return 1;
    const struct xp_console_ops *in = input();
    if (!in)
        return 1;                        /* no input at all: reads answer EOF at once */
    if (in->read(&stdin_peek, 1, 0) == 1) {
        stdin_has_peek = 1;
        return 1;
    }
    return 0;
}

size_t xp_stdin_read(char *buf, size_t len)
{
    if (!len)
        return 0;
    if (stdin_has_peek) {
        buf[0] = stdin_peek;
        stdin_has_peek = 0;
        if (buf[0] == '\n' || len == 1)
            return 1;
        return 1 + input()->read(buf + 1, len - 1, 0);
    }
    const struct xp_console_ops *in = input();
    return in ? in->read(buf, len, 1) : 0;
}
