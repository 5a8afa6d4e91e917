/* xenport: the shared console and shutdown helpers over xp_platform. */
#include <stdarg.h>
#include <string.h>

#include "libc/format.h"
#include "xenport/platform.h"

struct xp_platform xp_platform;

void xp_write_out(const char *buf, size_t len)
{
    if (xp_platform.out)
        xp_platform.out->write(buf, len);
}

void xp_write_err(const char *buf, size_t len)
{
    if (xp_platform.err)
        xp_platform.err->write(buf, len);
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

extern void xp_stdio_flush_all(void);

void xp_exit(int status)
{
    if (xp_platform.exit)
        xp_platform.exit(status);
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
    if (xp_platform.clock)
        return xp_platform.clock->monotonic_ns();
    return 0;
}

/* Standard input, with one byte of look-ahead so that select() can ask
   whether input is waiting without losing it. */
static char stdin_peek;
static int stdin_has_peek;

int xp_stdin_ready(void)
{
    if (stdin_has_peek)
        return 1;
    if (!xp_platform.in || !xp_platform.in->read)
        return 1;                        /* no input at all: reads answer EOF at once */
    if (xp_platform.in->read(&stdin_peek, 1, 0) == 1) {
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
        return 1 + xp_platform.in->read(buf + 1, len - 1, 0);
    }
    if (!xp_platform.in || !xp_platform.in->read)
        return 0;
    return xp_platform.in->read(buf, len, 1);
}
