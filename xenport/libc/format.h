/* xenport: the printf engine. */
#ifndef XENPORT_FORMAT_H
#define XENPORT_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*xp_format_sink)(void *ctx, const char *s, size_t n);
size_t xp_vformat(xp_format_sink sink, void *ctx, const char *fmt, va_list ap);

#endif
