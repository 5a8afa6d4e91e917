/* xenport: <stdlib.h> (the malloc family is in ../malloc.c, getenv in env.c). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenport/kernel.h"
#include "xenport/platform.h"


#define MAX_ATEXIT 32
static void (*atexit_fns[MAX_ATEXIT])(void);
static int atexit_count;

int atexit(void (*fn)(void))
{
    if (atexit_count == MAX_ATEXIT)
        return -1;
    atexit_fns[atexit_count++] = fn;
    return 0;
}

void exit(int status)
{
    while (atexit_count > 0)
        atexit_fns[--atexit_count]();
    fflush(0);
    xp_kernel_exit_report(status);
    xp_exit(status);
}

void _Exit(int status)
{
    xp_exit(status);
}

void _exit(int status)
{
    xp_exit(status);
}

void abort(void)
{
    xp_puts_err("\nxenport: abort() called\n");
    xp_backtrace_here();
    xp_exit(XP_EXIT_CRASH);
}

int abs(int v)
{
    return v < 0 ? -v : v;
}

long labs(long v)
{
    return v < 0 ? -v : v;
}

long long llabs(long long v)
{
    return v < 0 ? -v : v;
}

div_t div(int a, int b)
{
    div_t r = { a / b, a % b };
    return r;
}

ldiv_t ldiv(long a, long b)
{
    ldiv_t r = { a / b, a % b };
    return r;
}

static int digit_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

/* Parses an unsigned magnitude; *neg set for a leading '-'. */
static unsigned long long parse(const char *s, char **end, int base, int *neg, int *overflow)
{
    const char *p = s;
    unsigned long long v = 0;
    *neg = 0;
    *overflow = 0;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '+' || *p == '-')
        *neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
        digit_value((unsigned char)p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    const char *digits = p;
    for (;; p++) {
        int d = digit_value((unsigned char)*p);
        if (d >= base)
            break;
        if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
            *overflow = 1;
        else
            v = v * (unsigned)base + (unsigned)d;
    }
    if (end)
        *end = (char *)(p == digits ? s : p);
    return v;
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
    int neg, of;
    unsigned long long v = parse(s, end, base, &neg, &of);
    if (of || (!neg && v > (unsigned long long)LLONG_MAX) ||
        (neg && v > (unsigned long long)LLONG_MAX + 1)) {
        errno = ERANGE;
        return neg ? LLONG_MIN : LLONG_MAX;
    }
    return neg ? (long long)(0 - v) : (long long)v;
}

unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
    int neg, of;
    unsigned long long v = parse(s, end, base, &neg, &of);
    if (of) {
        errno = ERANGE;
        return ULLONG_MAX;
    }
    return neg ? 0 - v : v;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
    return (long)strtoll(s, end, base);
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
    return (unsigned long)strtoull(s, end, base);
}

intmax_t strtoimax(const char *restrict s, char **restrict end, int base)
{
    return strtoll(s, end, base);
}

uintmax_t strtoumax(const char *restrict s, char **restrict end, int base)
{
    return strtoull(s, end, base);
}

int atoi(const char *s)
{
    return (int)strtol(s, 0, 10);
}

long atol(const char *s)
{
    return strtol(s, 0, 10);
}

long long atoll(const char *s)
{
    return strtoll(s, 0, 10);
}

/* strtod: decimal and the special words; exact for integers and short
   fractions, close otherwise (RPython parses floats with its own dtoa). */
double strtod(const char *restrict s, char **restrict end)
{
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    int neg = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (strncasecmp(p, "inf", 3) == 0) {
        p += strncasecmp(p, "infinity", 8) == 0 ? 8 : 3;
        if (end) *end = (char *)p;
        return neg ? -__builtin_inf() : __builtin_inf();
    }
    if (strncasecmp(p, "nan", 3) == 0) {
        if (end) *end = (char *)p + 3;
        return __builtin_nan("");
    }
    long double v = 0;
    int digits = 0, exp10 = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        v = v * 10 + (*p - '0');
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++, digits++, exp10--)
            v = v * 10 + (*p - '0');
    }
    if (!digits) {
        if (end) *end = (char *)s;
        return 0;
    }
    if (*p == 'e' || *p == 'E') {
        char *e;
        long x = strtol(p + 1, &e, 10);
        if (e != p + 1) {
            exp10 += (int)x;
            p = e;
        }
    }
    long double scale = 1;
    int ae = exp10 < 0 ? -exp10 : exp10;
    long double b = 10;
    while (ae) {
        if (ae & 1)
            scale *= b;
        b *= b;
        ae >>= 1;
    }
    v = exp10 < 0 ? v / scale : v * scale;
    if (end) *end = (char *)p;
    return neg ? -(double)v : (double)v;
}

float strtof(const char *restrict s, char **restrict end)
{
    return (float)strtod(s, end);
}

double atof(const char *s)
{
    return strtod(s, 0);
}

static unsigned long long rand_state = 1;

void srand(unsigned seed)
{
    rand_state = seed;
}

int rand(void)
{
    rand_state = rand_state * 6364136223846793005ULL + 1;
    return (int)(rand_state >> 33);
}

int rand_r(unsigned *seed)
{
    unsigned long long s = *seed * 6364136223846793005ULL + 1;
    *seed = (unsigned)s;
    return (int)(s >> 33);
}

long random(void)
{
    return rand();
}

void srandom(unsigned seed)
{
    srand(seed);
}

static void swap(char *a, char *b, size_t n)
{
    while (n--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* qsort: heapsort (no recursion, O(n log n) always). */
static void sift(char *base, size_t root, size_t n, size_t size,
                 int (*cmp)(const void *, const void *))
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (cmp(base + root * size, base + child * size) >= 0)
            return;
        swap(base + root * size, base + child * size, size);
        root = child;
    }
}

void qsort(void *b, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *base = b;
    if (n < 2)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift(base, i, n, size, cmp);
    for (size_t end = n - 1; end > 0; end--) {
        swap(base, base + end * size, size);
        sift(base, 0, end, size, cmp);
    }
}

void *bsearch(const void *key, const void *b, size_t n, size_t size,
              int (*cmp)(const void *, const void *))
{
    const char *base = b;
    while (n) {
        size_t half = n / 2;
        const char *mid = base + half * size;
        int c = cmp(key, mid);
        if (c == 0)
            return (void *)mid;
        if (c > 0) {
            base = mid + size;
            n -= half + 1;
        } else {
            n = half;
        }
    }
    return 0;
}
