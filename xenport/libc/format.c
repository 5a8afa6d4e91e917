/* xenport: the printf engine (vsnprintf and the stdio printers use it).
 *
 * Conversions: d i u o x X c s p n % and the floating ones f F e E g G a A
 * (floats: correct to the precision printed for ordinary magnitudes; RPython
 * formats its own floats with dtoa and only prints debugging numbers here).
 * Flags - + space # 0, width and precision (also *), length hh h l ll z j t L.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format.h"

struct out {
    xp_format_sink sink;
    void *ctx;
    size_t count;
};

static void emit(struct out *o, const char *s, size_t n)
{
    if (n) {
        o->sink(o->ctx, s, n);
        o->count += n;
    }
}

static void pad(struct out *o, char c, int n)
{
    char buf[32];
    memset(buf, c, sizeof(buf));
    while (n > 0) {
        int k = n > (int)sizeof(buf) ? (int)sizeof(buf) : n;
        emit(o, buf, (size_t)k);
        n -= k;
    }
}

enum { F_MINUS = 1, F_PLUS = 2, F_SPACE = 4, F_HASH = 8, F_ZERO = 16 };

/* Emit prefix + zeros + digits, padded to width. */
static void emit_number(struct out *o, int flags, int width, const char *prefix,
                        int zeros, const char *digits, int ndigits)
{
    int plen = (int)strlen(prefix);
    int len = plen + zeros + ndigits;
    if (!(flags & F_MINUS) && !(flags & F_ZERO))
        pad(o, ' ', width - len);
    emit(o, prefix, (size_t)plen);
    if (!(flags & F_MINUS) && (flags & F_ZERO))
        pad(o, '0', width - len);
    pad(o, '0', zeros);
    emit(o, digits, (size_t)ndigits);
    if (flags & F_MINUS)
        pad(o, ' ', width - len);
}

static void format_int(struct out *o, uintmax_t v, int neg, int base, int upper,
                       int flags, int width, int prec, int is_signed)
{
    char buf[72];
    int n = 0;
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    while (v) {
        buf[sizeof(buf) - 1 - n++] = dig[v % (unsigned)base];
        v /= (unsigned)base;
    }
    char prefix[4] = "";
    if (is_signed) {
        if (neg)
            strcpy(prefix, "-");
        else if (flags & F_PLUS)
            strcpy(prefix, "+");
        else if (flags & F_SPACE)
            strcpy(prefix, " ");
    }
    if ((flags & F_HASH) && n) {
        if (base == 16)
            strcpy(prefix, upper ? "0X" : "0x");
    }
    int zeros = 0;
    if (prec >= 0) {
        flags &= ~F_ZERO;
        if (prec > n)
            zeros = prec - n;
    } else if (n == 0) {
        zeros = 1;                       /* "0" */
    }
    if ((flags & F_HASH) && base == 8 && zeros == 0 && (n == 0 || buf[sizeof(buf) - n] != '0'))
        zeros = 1;
    emit_number(o, flags, width, prefix, zeros, buf + sizeof(buf) - n, n);
}

/* --- floating point ---------------------------------------------------------- */

static int is_nan(double d)
{
    return d != d;
}

static int is_inf(double d)
{
    return !is_nan(d) && (d - d) != 0.0;
}

/* Decimal digits of |d| as an integer part and prec fraction digits, rounded.
   Works on long double with 64-bit mantissa; exact enough for printing. */
static int digits_fixed(long double d, int prec, char *buf, int cap)
{
    /* Scale: split into integer and fraction parts. */
    long double ip;
    long double scale = 1.0L;
    for (int i = 0; i < prec; i++)
        scale *= 10.0L;
    long double x = d * scale + 0.5L;
    /* x may be huge: produce digits by repeated division. */
    int n = 0;
    char tmp[400];
    if (x < 1.0L) {
        tmp[n++] = '0';
    } else {
        while (x >= 1.0L && n < (int)sizeof(tmp)) {
            ip = x / 10.0L;
            long double fl = (long double)(uint64_t)0;
            /* floor(ip) via truncation where it fits, else repeated halving */
            if (ip < 1.8e19L) {
                fl = (long double)(uint64_t)ip;
            } else {
                long double p = 1.0L;
                while (p * 2.0L <= ip)
                    p *= 2.0L;
                fl = 0.0L;
                for (; p >= 1.0L; p /= 2.0L)
                    if (fl + p <= ip)
                        fl += p;
            }
            int digit = (int)(x - fl * 10.0L);
            if (digit < 0)
                digit = 0;
            if (digit > 9)
                digit = 9;
            tmp[n++] = (char)('0' + digit);
            x = fl;
        }
    }
    /* tmp holds digits least significant first: at least prec+1 of them. */
    while (n < prec + 1)
        tmp[n++] = '0';
    int len = 0;
    for (int i = n - 1; i >= 0 && len < cap - 2; i--) {
        buf[len++] = tmp[i];
        if (i == prec && prec > 0)
            buf[len++] = '.';
    }
    buf[len] = 0;
    return len;
}

static void format_float(struct out *o, double d, char conv, int flags, int width, int prec)
{
    int upper = conv >= 'A' && conv <= 'Z';
    char lc = (char)(upper ? conv + 32 : conv);
    char prefix[2] = "";
    int neg = (d < 0) || (d == 0 && 1 / d < 0);
    if (neg)
        strcpy(prefix, "-");
    else if (flags & F_PLUS)
        strcpy(prefix, "+");
    else if (flags & F_SPACE)
        strcpy(prefix, " ");
    if (is_nan(d) || is_inf(d)) {
        const char *s = is_nan(d) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
        emit_number(o, flags & ~F_ZERO, width, prefix, 0, s, 3);
        return;
    }
    long double a = neg ? -(long double)d : (long double)d;
    if (prec < 0)
        prec = 6;
    char buf[420];
    int len;
    if (lc == 'a') {
        lc = 'e';                        /* hex floats: printed as %e */
    }
    if (lc == 'g') {
        int p = prec == 0 ? 1 : prec;
        int exp10 = 0;
        if (a != 0) {
            long double t = a;
            while (t >= 10.0L) { t /= 10.0L; exp10++; }
            while (t < 1.0L) { t *= 10.0L; exp10--; }
            /* rounding may carry into the next power */
            long double r = 0.5L;
            for (int i = 0; i < p - 1; i++)
                r /= 10.0L;
            if (t + r >= 10.0L)
                exp10++;
        }
        if (exp10 < -4 || exp10 >= p) {
            lc = 'e';
            prec = p - 1;
        } else {
            lc = 'f';
            prec = p - 1 - exp10;
        }
        if (!(flags & F_HASH)) {
            /* format then strip trailing zeros */
            char tmp[440];
            int n;
            if (lc == 'f') {
                n = digits_fixed(a, prec, tmp, sizeof(tmp));
            } else {
                int e = 0;
                long double m = a;
                if (m != 0) {
                    while (m >= 10.0L) { m /= 10.0L; e++; }
                    while (m < 1.0L) { m *= 10.0L; e--; }
                }
                n = digits_fixed(m, prec, tmp, 400);
                if (tmp[0] == '1' && tmp[1] == '0') {   /* 9.99 -> 10.0 */
                    m /= 10.0L;
                    e++;
                    n = digits_fixed(m, prec, tmp, 400);
                }
                char *dot = strchr(tmp, '.');
                if (dot) {
                    while (n > 0 && tmp[n - 1] == '0')
                        n--;
                    if (tmp[n - 1] == '.')
                        n--;
                }
                tmp[n++] = upper ? 'E' : 'e';
                tmp[n++] = e < 0 ? '-' : '+';
                int ae = e < 0 ? -e : e;
                if (ae >= 100)
                    tmp[n++] = (char)('0' + ae / 100);
                tmp[n++] = (char)('0' + (ae / 10) % 10);
                tmp[n++] = (char)('0' + ae % 10);
                emit_number(o, flags, width, prefix, 0, tmp, n);
                return;
            }
            if (strchr(tmp, '.')) {
                while (n > 0 && tmp[n - 1] == '0')
                    n--;
                if (tmp[n - 1] == '.')
                    n--;
            }
            emit_number(o, flags, width, prefix, 0, tmp, n);
            return;
        }
    }
    if (lc == 'f') {
        len = digits_fixed(a, prec, buf, sizeof(buf));
        if ((flags & F_HASH) && prec == 0)
            buf[len++] = '.';
        emit_number(o, flags, width, prefix, 0, buf, len);
        return;
    }
    /* 'e' */
    int e = 0;
    long double m = a;
    if (m != 0) {
        while (m >= 10.0L) { m /= 10.0L; e++; }
        while (m < 1.0L) { m *= 10.0L; e--; }
    }
    len = digits_fixed(m, prec, buf, 400);
    if (buf[0] == '1' && buf[1] == '0') {
        m /= 10.0L;
        e++;
        len = digits_fixed(m, prec, buf, 400);
    }
    if ((flags & F_HASH) && prec == 0)
        buf[len++] = '.';
    buf[len++] = upper ? 'E' : 'e';
    buf[len++] = e < 0 ? '-' : '+';
    int ae = e < 0 ? -e : e;
    if (ae >= 100)
        buf[len++] = (char)('0' + ae / 100);
    buf[len++] = (char)('0' + (ae / 10) % 10);
    buf[len++] = (char)('0' + ae % 10);
    emit_number(o, flags, width, prefix, 0, buf, len);
}

size_t xp_vformat(xp_format_sink sink, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { sink, ctx, 0 };
    while (*fmt) {
        if (*fmt != '%') {
            const char *s = fmt;
            while (*fmt && *fmt != '%')
                fmt++;
            emit(&o, s, (size_t)(fmt - s));
            continue;
        }
        const char *start = fmt++;
        int flags = 0, width = 0, prec = -1;
        for (;; fmt++) {
            if (*fmt == '-') flags |= F_MINUS;
            else if (*fmt == '+') flags |= F_PLUS;
            else if (*fmt == ' ') flags |= F_SPACE;
            else if (*fmt == '#') flags |= F_HASH;
            else if (*fmt == '0') flags |= F_ZERO;
            else break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                flags |= F_MINUS;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                if (prec < 0)
                    prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        int lng = 0;                     /* -2 hh, -1 h, 1 l, 2 ll, 3 z/j/t, 4 L */
        for (;;) {
            if (*fmt == 'h') { lng = lng == -1 ? -2 : -1; fmt++; }
            else if (*fmt == 'l') { lng = lng == 1 ? 2 : 1; fmt++; }
            else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't' || *fmt == 'q') { lng = 3; fmt++; }
            else if (*fmt == 'L') { lng = 4; fmt++; }
            else break;
        }
        if (flags & F_MINUS)
            flags &= ~F_ZERO;
        char c = *fmt++;
        switch (c) {
        case 'd':
        case 'i': {
            intmax_t v;
            if (lng >= 1) v = lng == 1 ? va_arg(ap, long) : va_arg(ap, long long);
            else v = va_arg(ap, int);
            if (lng == -1) v = (short)v;
            if (lng == -2) v = (signed char)v;
            uintmax_t u = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;
            format_int(&o, u, v < 0, 10, 0, flags, width, prec, 1);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uintmax_t v;
            if (lng >= 1) v = lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned long long);
            else v = va_arg(ap, unsigned int);
            if (lng == -1) v = (unsigned short)v;
            if (lng == -2) v = (unsigned char)v;
            int base = c == 'o' ? 8 : c == 'u' ? 10 : 16;
            format_int(&o, v, 0, base, c == 'X', flags, width, prec, 0);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            format_int(&o, v, 0, 16, 0, flags | F_HASH, width, prec, 0);
            break;
        }
        case 'c': {
            char ch = (char)va_arg(ap, int);
            if (!(flags & F_MINUS)) pad(&o, ' ', width - 1);
            emit(&o, &ch, 1);
            if (flags & F_MINUS) pad(&o, ' ', width - 1);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            size_t n = 0;
            while (s[n] && (prec < 0 || n < (size_t)prec))
                n++;
            if (!(flags & F_MINUS)) pad(&o, ' ', width - (int)n);
            emit(&o, s, n);
            if (flags & F_MINUS) pad(&o, ' ', width - (int)n);
            break;
        }
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A': {
            double d = lng == 4 ? (double)va_arg(ap, long double) : va_arg(ap, double);
            format_float(&o, d, c, flags, width, prec);
            break;
        }
        case 'n': {
            if (lng == 1 || lng == 2 || lng == 3) *va_arg(ap, long *) = (long)o.count;
            else *va_arg(ap, int *) = (int)o.count;
            break;
        }
        case '%':
            emit(&o, "%", 1);
            break;
        default:
            /* Unknown: print it as it stands. */
            emit(&o, start, (size_t)(fmt - start));
            if (!c)
                return o.count;
            break;
        }
    }
    return o.count;
}
