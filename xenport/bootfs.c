/* xenport: the boot file system (see include/xenport/files.h) and the POSIX
   file calls on it: open, read, write, close, lseek, fstat, stat, access, ... */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "xenport/files.h"
#include "xenport/mm.h"
#include "xenport/platform.h"
#include "net/socket.h"

#define MAX_FILES 256
#define MAX_FDS   64
_Static_assert(MAX_FDS <= XP_SOCKET_FD_BASE, "files and sockets share descriptors");

static struct xp_file files[MAX_FILES];
static int nfiles;

struct fd {
    int used;
    const struct xp_file *file;     /* NULL: a console stream */
    size_t pos;
    int stream;                     /* a console stream's: 0 stdin, 1 stdout, 2 stderr */
};
static struct fd fds[MAX_FDS] = {
    [0] = { 1, 0, 0, 0 }, [1] = { 1, 0, 0, 1 }, [2] = { 1, 0, 0, 2 },
};

/* /dev/stdin, /dev/stdout, /dev/stderr: the console streams, as on Linux, so
   that an image opens its standard input as a file (FilePlugin) the same way
   hosted and here.  The stream's number, or -1. */
static int console_path(const char *path)
{
    static const char *const names[3] = { "/dev/stdin", "/dev/stdout", "/dev/stderr" };
    for (int i = 0; i < 3; i++)
        if (strcmp(path, names[i]) == 0)
            return i;
    return -1;
}


void xp_files_add(const char *path, const char *data, size_t size)
{
    if (nfiles == MAX_FILES) {
        xp_printk("xenport: too many boot files, dropping %s\n", path);
        return;
    }
    files[nfiles].path = path;
    files[nfiles].data = data;
    files[nfiles].size = size;
    nfiles++;
}

int xp_files_count(void)
{
    return nfiles;
}

const struct xp_file *xp_files_at(int i)
{
    return i >= 0 && i < nfiles ? &files[i] : 0;
}

/* "a/./b//c" and "/a/b/c" and "a/b/c" all name /a/b/c (the working directory
   is /); ".." is resolved.  out has room for PATH_MAX bytes. */
static int normalize(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    out[n++] = '/';
    while (*in) {
        while (*in == '/')
            in++;
        if (!*in)
            break;
        const char *seg = in;
        while (*in && *in != '/')
            in++;
        size_t len = (size_t)(in - seg);
        if (len == 1 && seg[0] == '.')
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (n > 1) {
                n--;
                while (n > 1 && out[n - 1] != '/')
                    n--;
            }
            continue;
        }
        if (n > 1 && out[n - 1] != '/')
            out[n++] = '/';
        if (n + len + 1 > cap)
            return -1;
        memcpy(out + n, seg, len);
        n += len;
    }
    if (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = 0;
    return 0;
}

const struct xp_file *xp_files_lookup(const char *path)
{
    char norm[1024];
    if (!path || normalize(path, norm, sizeof(norm)) < 0)
        return 0;
    for (int i = 0; i < nfiles; i++)
        if (strcmp(files[i].path, norm) == 0)
            return &files[i];
    return 0;
}

/* A directory: "/" or a prefix of some file's path. */
static int is_directory(const char *path)
{
    char norm[1024];
    if (!path || normalize(path, norm, sizeof(norm)) < 0)
        return 0;
    size_t n = strlen(norm);
    if (n == 1)
        return 1;
    for (int i = 0; i < nfiles; i++)
        if (strncmp(files[i].path, norm, n) == 0 && files[i].path[n] == '/')
            return 1;
    return 0;
}

/* --- cpio "newc" archives ---------------------------------------------------- */

static uint32_t hex8(const char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
    }
    return v;
}

static int is_cpio(const char *data, size_t size)
{
    return size >= 110 && (memcmp(data, "070701", 6) == 0 || memcmp(data, "070702", 6) == 0);
}

static const char *ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0 ? s : 0;
}

static const char *load_cpio(const char *data, size_t size)
{
    const char *image = 0;
    size_t off = 0;
    while (off + 110 <= size) {
        const char *h = data + off;
        if (!is_cpio(h, 110)) {
            xp_printk("xenport: initrd: bad cpio header at offset %lu, ignoring the rest\n",
                      (unsigned long)off);
            break;
        }
        uint32_t mode = hex8(h + 14);
        uint32_t filesize = hex8(h + 54);
        uint32_t namesize = hex8(h + 94);
        size_t name_off = off + 110;
        size_t data_off = (name_off + namesize + 3) & ~(size_t)3;
        if (namesize == 0 || name_off + namesize > size || data_off + filesize > size) {
            xp_printk("xenport: initrd: truncated cpio archive\n");
            break;
        }
        const char *name = data + name_off;
        if (strcmp(name, "TRAILER!!!") == 0)
            break;
        if ((mode & 0170000) == 0100000) {
            size_t len = strlen(name);
            char *path = malloc(len + 2);
            char *norm = malloc(len + 2);
            if (!path || !norm)
                xp_panic("out of memory reading the initrd");
            path[0] = '/';
            memcpy(path + 1, name, len + 1);
            int bad = normalize(path, norm, len + 2) < 0;
            free(path);
            if (bad) {
                free(norm);
                off = (data_off + filesize + 3) & ~(size_t)3;
                continue;
            }
            xp_files_add(norm, data + data_off, filesize);
            if (!image && ends_with(norm, ".image"))
                image = norm;
        }
        off = (data_off + filesize + 3) & ~(size_t)3;
    }
    return image;
}

/* --- synthetic /proc files ------------------------------------------------------- */

static void add_proc_files(void)
{
    struct xp_mm_stats st;
    xp_mm_stats(&st);
    char *meminfo = malloc(128);
    if (meminfo) {
        unsigned long kb = (unsigned long)(st.total_pages * (XP_PAGE_SIZE / 1024));
        unsigned long free_kb = (unsigned long)(st.free_pages * (XP_PAGE_SIZE / 1024));
        int n = snprintf(meminfo, 128, "MemTotal:       %lu kB\nMemFree:        %lu kB\n",
                         kb, free_kb);
        xp_files_add("/proc/meminfo", meminfo, (size_t)n);
    }
    /* The L2 cache size, as CPUID leaf 0x80000006 reports it (RPython sizes its
       nursery from it). */
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
    unsigned cache_kb = 0;
    if (a >= 0x80000006u) {
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000006u), "c"(0));
        cache_kb = c >> 16;
    }
    if (cache_kb) {
        char *cpuinfo = malloc(128);
        if (cpuinfo) {
            int n = snprintf(cpuinfo, 128, "processor\t: 0\ncache size\t: %u KB\n\n", cache_kb);
            xp_files_add("/proc/cpuinfo", cpuinfo, (size_t)n);
        }
    }
}

const char *xp_files_init(struct xp_boot_info *bi)
{
    const char *image = 0;
    if (bi->nr_modules > 0) {
        const char *data = (const char *)(uintptr_t)bi->modules[0].paddr;
        size_t size = (size_t)bi->modules[0].size;
        if (is_cpio(data, size)) {
            image = load_cpio(data, size);
        } else {
            xp_files_add(XP_INITRD_PATH, data, size);
            image = XP_INITRD_PATH;
        }
        for (int i = 1; i < bi->nr_modules; i++)
            xp_printk("xenport: ignoring boot module %d (only module 0 is read)\n", i);
    }
    add_proc_files();
    return image;
}

/* --- the POSIX calls ------------------------------------------------------------- */

static struct fd *get_fd(int fd)
{
    if (fd < 0 || fd >= MAX_FDS || !fds[fd].used) {
        errno = EBADF;
        return 0;
    }
    return &fds[fd];
}

int open(const char *path, int flags, ...)
{
    int stream = console_path(path);
    if (stream >= 0) {
        if ((flags & O_ACCMODE) != (stream == 0 ? O_RDONLY : O_WRONLY)) {
            errno = EACCES;
            return -1;
        }
        return dup(stream);
    }
    const struct xp_file *f = xp_files_lookup(path);
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND))) {
        if (!f && !(flags & O_CREAT) && !is_directory(path))
            errno = ENOENT;
        else
            errno = EROFS;
        return -1;
    }
    if (!f) {
        errno = is_directory(path) ? EISDIR : ENOENT;
        return -1;
    }
    for (int i = 3; i < MAX_FDS; i++) {
        if (!fds[i].used) {
            fds[i].used = 1;
            fds[i].file = f;
            fds[i].pos = 0;
            return i;
        }
    }
    errno = EMFILE;
    return -1;
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...)
{
    (void)dirfd;
    return open(path, flags);
}

int creat(const char *path, mode_t mode)
{
    (void)mode;
    return open(path, O_WRONLY | O_CREAT | O_TRUNC);
}

int close(int fd)
{
    if (xp_socket_fd(fd))
        return xp_socket_close(fd);
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (fd > 2)
        f->used = 0;
    return 0;
}

ssize_t read(int fd, void *buf, size_t n)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (!f->file) {
        if (f->stream != 0 || !xp_platform->in || !xp_platform->in->read) {
            if (f->stream == 0)
                return 0;           /* no input: end of file */
            errno = EBADF;
            return -1;
        }
        return (ssize_t)xp_stdin_read(buf, n);
    }
    size_t left = f->file->size - f->pos;
    if (n > left)
        n = left;
    memcpy(buf, f->file->data + f->pos, n);
    f->pos += n;
    return (ssize_t)n;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (f->file || f->stream == 0) {
        errno = EBADF;
        return -1;
    }
    if (f->stream == 1)
        xp_write_out(buf, n);
    else
        xp_write_err(buf, n);
    return (ssize_t)n;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (!f->file || off < 0) {
        errno = f->file ? EINVAL : ESPIPE;
        return -1;
    }
    if ((size_t)off >= f->file->size)
        return 0;
    size_t left = f->file->size - (size_t)off;
    if (n > left)
        n = left;
    memcpy(buf, f->file->data + off, n);
    return (ssize_t)n;
}

off_t lseek(int fd, off_t off, int whence)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (!f->file) {
        errno = ESPIPE;
        return -1;
    }
    off_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (off_t)f->pos
               : whence == SEEK_END ? (off_t)f->file->size : -1;
    if (base < 0 || base + off < 0) {
        errno = EINVAL;
        return -1;
    }
    f->pos = (size_t)(base + off);
    if (f->pos > f->file->size)
        f->pos = f->file->size;
    return (off_t)f->pos;
}

static void fill_stat(struct stat *st, const struct xp_file *file, int is_dir, int is_console)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = 1;
    st->st_nlink = 1;
    st->st_blksize = 4096;
    if (is_console) {
        st->st_mode = S_IFCHR | 0620;
    } else if (is_dir) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
    } else {
        st->st_mode = S_IFREG | 0444;
        st->st_size = (off_t)file->size;
        st->st_blocks = (blkcnt_t)((file->size + 511) / 512);
        st->st_ino = (ino_t)(file - files) + 2;
    }
    int64_t t = xp_boot_epoch_seconds();
    st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = (time_t)t;
}

int fstat(int fd, struct stat *st)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    fill_stat(st, f->file, 0, f->file == 0);
    return 0;
}

int stat(const char *path, struct stat *st)
{
    if (console_path(path) >= 0) {
        fill_stat(st, 0, 0, 1);
        return 0;
    }
    const struct xp_file *f = xp_files_lookup(path);
    if (f) {
        fill_stat(st, f, 0, 0);
        return 0;
    }
    if (is_directory(path)) {
        fill_stat(st, 0, 1, 0);
        return 0;
    }
    errno = ENOENT;
    return -1;
}

int lstat(const char *path, struct stat *st)
{
    return stat(path, st);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    (void)dirfd;
    (void)flags;
    return stat(path, st);
}

int access(const char *path, int mode)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    if (mode & W_OK) {
        errno = EROFS;
        return -1;
    }
    if ((mode & X_OK) && !S_ISDIR(st.st_mode)) {
        errno = EACCES;
        return -1;
    }
    return 0;
}

int isatty(int fd)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return 0;
    if (f->file) {
        errno = ENOTTY;
        return 0;
    }
    return 1;
}

int fsync(int fd)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (f->file) {
        errno = EROFS;
        return -1;
    }
    return 0;
}

int fdatasync(int fd)
{
    return fsync(fd);
}

int ftruncate(int fd, off_t len)
{
    (void)len;
    if (!get_fd(fd))
        return -1;
    errno = EROFS;
    return -1;
}

static int read_only(const char *path)
{
    errno = (xp_files_lookup(path) || is_directory(path)) ? EROFS : ENOENT;
    return -1;
}

int unlink(const char *path)
{
    return read_only(path);
}

int rmdir(const char *path)
{
    return read_only(path);
}

int rename(const char *from, const char *to)
{
    (void)to;
    return read_only(from);
}

int mkdir(const char *path, mode_t mode)
{
    (void)mode;
    if (xp_files_lookup(path) || is_directory(path)) {
        errno = EEXIST;
        return -1;
    }
    errno = EROFS;
    return -1;
}

int chmod(const char *path, mode_t mode)
{
    (void)mode;
    return read_only(path);
}

int chown(const char *path, uid_t owner, gid_t group)
{
    (void)owner;
    (void)group;
    return read_only(path);
}

/* The boot file system has no symbolic links. */
ssize_t readlink(const char *path, char *buf, size_t size)
{
    (void)buf;
    (void)size;
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    errno = EINVAL;
    return -1;
}

/* Folders cannot be listed (the VM lists one only to clean up after a save, which
   fails here anyway). */
DIR *opendir(const char *path)
{
    (void)path;
    errno = ENOTSUP;
    return 0;
}

struct dirent *readdir(DIR *dir)
{
    (void)dir;
    errno = EBADF;
    return 0;
}

int closedir(DIR *dir)
{
    (void)dir;
    errno = EBADF;
    return -1;
}

int dup(int fd)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    for (int i = 0; i < MAX_FDS; i++) {
        if (!fds[i].used) {
            fds[i] = *f;
            return i;
        }
    }
    errno = EMFILE;
    return -1;
}

int dup2(int fd, int to)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (to < 0 || to >= MAX_FDS) {
        errno = EBADF;
        return -1;
    }
    fds[to] = *f;
    return to;
}

char *getcwd(char *buf, size_t size)
{
    if (!buf) {
        buf = malloc(size ? size : 2);
        if (!buf)
            return 0;
        if (!size)
            size = 2;
    }
    if (size < 2) {
        errno = ERANGE;
        return 0;
    }
    strcpy(buf, "/");
    return buf;
}

int chdir(const char *path)
{
    if (is_directory(path))
        return 0;
    errno = xp_files_lookup(path) ? ENOTDIR : ENOENT;
    return -1;
}

int fcntl(int fd, int cmd, ...)
{
    if (xp_socket_fd(fd)) {
        va_list ap;
        va_start(ap, cmd);
        long arg = va_arg(ap, long);
        va_end(ap);
        return xp_socket_fcntl(fd, cmd, arg);
    }
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (cmd == F_GETFL)
        return f->file || f->stream == 0 ? O_RDONLY : O_WRONLY;
    return 0;
}
