/* xenport: <stdio.h>: the three standard streams on the console, read-only
   files from the file system in RAM, and the printf family.  Unbuffered: the
   console takes each piece as it comes. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"

struct _IO_FILE {
    int fd;
    int eof;
    int error;
    int unget;          /* ungetc'd character, or EOF */
};

static FILE files_std[3] = {
    { 0, 0, 0, EOF }, { 1, 0, 0, EOF }, { 2, 0, 0, EOF },
};
FILE *const stdin = &files_std[0];
FILE *const stdout = &files_std[1];
FILE *const stderr = &files_std[2];

FILE *fdopen(int fd, const char *mode)
{
    (void)mode;
    FILE *f = malloc(sizeof(FILE));
    if (!f) {
        errno = ENOMEM;
        return 0;
    }
    f->fd = fd;
    f->eof = f->error = 0;
    f->unget = EOF;
    return f;
}

FILE *fopen(const char *path, const char *mode)
{
    int flags = O_RDONLY;
    if (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+'))
        flags = O_WRONLY | O_CREAT;
    int fd = open(path, flags, 0666);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, mode);
    if (!f)
        close(fd);
    return f;
}

FILE *fopen64(const char *path, const char *mode) __attribute__((alias("fopen")));

int fclose(FILE *f)
{
    int r = close(f->fd);
    if (f < files_std || f > files_std + 2)
        free(f);
    return r < 0 ? EOF : 0;
}

int fileno(FILE *f)
{
    return f->fd;
}

int fflush(FILE *f)
{
    (void)f;
    return 0;
}

size_t fwrite(const void *restrict buf, size_t size, size_t n, FILE *restrict f)
{
    size_t total = size * n;
    if (!total)
        return 0;
    if (write(f->fd, buf, total) < 0) {
        f->error = 1;
        return 0;
    }
    return n;
}

size_t fread(void *restrict buf, size_t size, size_t n, FILE *restrict f)
{
    size_t total = size * n, got = 0;
    char *p = buf;
    if (!total)
        return 0;
    if (f->unget != EOF) {
        p[got++] = (char)f->unget;
        f->unget = EOF;
    }
    while (got < total) {
        ssize_t r = read(f->fd, p + got, total - got);
        if (r < 0) {
            f->error = 1;
            break;
        }
        if (r == 0) {
            f->eof = 1;
            break;
        }
        got += (size_t)r;
    }
    return got / size;
}

int fgetc(FILE *f)
{
    unsigned char c;
    return fread(&c, 1, 1, f) == 1 ? c : EOF;
}

int getc(FILE *f) __attribute__((alias("fgetc")));

int getchar(void)
{
    return fgetc(stdin);
}

int ungetc(int c, FILE *f)
{
    if (c == EOF)
        return EOF;
    f->unget = (unsigned char)c;
    f->eof = 0;
    return c;
}

char *fgets(char *restrict s, int n, FILE *restrict f)
{
    int i = 0;
    while (i < n - 1) {
        int c = fgetc(f);
        if (c == EOF)
            break;
        s[i++] = (char)c;
        if (c == '\n')
            break;
    }
    if (i == 0)
        return 0;
    s[i] = 0;
    return s;
}

int fputc(int c, FILE *f)
{
    unsigned char ch = (unsigned char)c;
    return fwrite(&ch, 1, 1, f) == 1 ? ch : EOF;
}

int putc(int c, FILE *f) __attribute__((alias("fputc")));

int putchar(int c)
{
    return fputc(c, stdout);
}

int fputs(const char *restrict s, FILE *restrict f)
{
    size_t n = strlen(s);
    return fwrite(s, 1, n, f) == n || n == 0 ? 0 : EOF;
}

int puts(const char *s)
{
    if (fputs(s, stdout) == EOF)
        return EOF;
    return fputc('\n', stdout) == EOF ? EOF : 0;
}

long ftell(FILE *f)
{
    off_t pos = lseek(f->fd, 0, SEEK_CUR);
    if (pos >= 0 && f->unget != EOF)
        pos--;
    return (long)pos;
}

off_t ftello(FILE *f)
{
    return ftell(f);
}

int fseek(FILE *f, long off, int whence)
{
    f->unget = EOF;
    f->eof = 0;
    return lseek(f->fd, off, whence) < 0 ? -1 : 0;
}

int fseeko(FILE *f, off_t off, int whence)
{
    return fseek(f, (long)off, whence);
}

void rewind(FILE *f)
{
    fseek(f, 0, SEEK_SET);
    f->error = 0;
}

int feof(FILE *f)
{
    return f->eof;
}

int ferror(FILE *f)
{
    return f->error;
}

void clearerr(FILE *f)
{
    f->eof = f->error = 0;
}

int setvbuf(FILE *restrict f, char *restrict buf, int mode, size_t size)
{
    (void)f;
    (void)buf;
    (void)mode;
    (void)size;
    return 0;
}

void setbuf(FILE *restrict f, char *restrict buf)
{
    (void)f;
    (void)buf;
}

/* --- the printf family -------------------------------------------------------- */

struct file_sink {
    FILE *f;
    char buf[512];
    size_t n;
};

static void file_flush(struct file_sink *s)
{
    if (s->n)
        fwrite(s->buf, 1, s->n, s->f);
    s->n = 0;
}

static void file_put(void *ctx, const char *p, size_t n)
{
    struct file_sink *s = ctx;
    while (n) {
        if (s->n == sizeof(s->buf))
            file_flush(s);
        size_t m = sizeof(s->buf) - s->n;
        if (m > n)
            m = n;
        memcpy(s->buf + s->n, p, m);
        s->n += m;
        p += m;
        n -= m;
    }
}

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
    struct file_sink s;
    s.f = f;
    s.n = 0;
    size_t n = xp_vformat(file_put, &s, fmt, ap);
    file_flush(&s);
    return (int)n;
}

int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *restrict fmt, va_list ap)
{
    return vfprintf(stdout, fmt, ap);
}

int printf(const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}

int vdprintf(int fd, const char *restrict fmt, va_list ap)
{
    FILE f = { fd, 0, 0, EOF };
    return vfprintf(&f, fmt, ap);
}

int dprintf(int fd, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vdprintf(fd, fmt, ap);
    va_end(ap);
    return n;
}

struct string_sink {
    char *buf;
    size_t cap;     /* room including the terminating NUL */
    size_t n;
};

static void string_put(void *ctx, const char *p, size_t n)
{
    struct string_sink *s = ctx;
    if (s->cap && s->n < s->cap - 1) {
        size_t m = s->cap - 1 - s->n;
        if (m > n)
            m = n;
        memcpy(s->buf + s->n, p, m);
    }
    s->n += n;
}

int vsnprintf(char *restrict buf, size_t cap, const char *restrict fmt, va_list ap)
{
    struct string_sink s = { buf, cap, 0 };
    size_t n = xp_vformat(string_put, &s, fmt, ap);
    if (cap)
        buf[n < cap ? n : cap - 1] = 0;
    return (int)n;
}

int snprintf(char *restrict buf, size_t cap, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
{
    return vsnprintf(buf, (size_t)-1 >> 1, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsprintf(buf, fmt, ap);
    va_end(ap);
    return n;
}

int vasprintf(char **out, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(0, 0, fmt, ap2);
    va_end(ap2);
    *out = malloc((size_t)n + 1);
    if (!*out)
        return -1;
    return vsnprintf(*out, (size_t)n + 1, fmt, ap);
}

int asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(out, fmt, ap);
    va_end(ap);
    return n;
}
