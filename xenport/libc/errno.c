/* xenport: errno (one thread) and the error strings. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int errno_value;

int *__errno_location(void)
{
    return &errno_value;
}

static const struct {
    int code;
    const char *text;
} messages[] = {
    { 0, "No error information" },
    { EPERM, "Operation not permitted" },
    { ENOENT, "No such file or directory" },
    { EINTR, "Interrupted system call" },
    { EIO, "I/O error" },
    { EBADF, "Bad file descriptor" },
    { EAGAIN, "Resource temporarily unavailable" },
    { ENOMEM, "Out of memory" },
    { EACCES, "Permission denied" },
    { EFAULT, "Bad address" },
    { EEXIST, "File exists" },
    { ENOTDIR, "Not a directory" },
    { EISDIR, "Is a directory" },
    { EINVAL, "Invalid argument" },
    { EMFILE, "No file descriptors available" },
    { ENOTTY, "Not a tty" },
    { ENOSPC, "No space left on device" },
    { ESPIPE, "Invalid seek" },
    { EROFS, "Read-only file system" },
    { ERANGE, "Result not representable" },
    { EDEADLK, "Resource deadlock would occur" },
    { ENOSYS, "Function not implemented" },
    { ENODEV, "No such device" },
    { ETIMEDOUT, "Operation timed out" },
    { ENOTSUP, "Not supported" },
};

char *strerror(int e)
{
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
        if (messages[i].code == e)
            return (char *)messages[i].text;
    static char buf[32];
    snprintf(buf, sizeof(buf), "Unknown error %d", e);
    return buf;
}

int strerror_r(int e, char *buf, size_t n)
{
    const char *s = strerror(e);
    if (n) {
        strncpy(buf, s, n - 1);
        buf[n - 1] = 0;
    }
    return 0;
}

void perror(const char *s)
{
    const char *msg = strerror(errno);
    if (s && *s)
        fprintf(stderr, "%s: %s\n", s, msg);
    else
        fprintf(stderr, "%s\n", msg);
}
