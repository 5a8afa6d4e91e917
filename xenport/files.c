/* xenport: the file system (see include/xenport/files.h) and the POSIX file
   calls on it: open, read, write, close, lseek, fstat, stat, mkdir, rename,
   unlink, opendir, ...  Everything lives in RAM and is lost at shutdown. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "xenport/files.h"
#include "xenport/mm.h"
#include "xenport/platform.h"
#include "net/socket.h"

#define MAX_FDS   64
_Static_assert(MAX_FDS <= XP_SOCKET_FD_BASE, "files and sockets share descriptors");

#define PATH_CAP 1024

/* Every file and folder but the root, by path; a pointer per entry, so that an
   entry stays where it is while the table grows.  An entry unlinked while open
   leaves the table and lives on until its last descriptor closes. */
static struct xp_file **files;
static int nfiles, cap_files;
static char root_path[] = "/";
static struct xp_file root = {
    .path = root_path, .is_dir = 1, .mode = 0755, .linked = 1, .opens = 1, .ino = 1,
};
static unsigned long next_ino = 2;

struct fd {
    int used;
    struct xp_file *file;           /* NULL: a console stream */
    size_t pos;
    int stream;                     /* a console stream's: 0 stdin, 1 stdout, 2 stderr */
    int readable, writable, append;
};
static struct fd fds[MAX_FDS] = {
    [0] = { 1, 0, 0, 0, 1, 0, 0 }, [1] = { 1, 0, 0, 1, 0, 1, 0 },
    [2] = { 1, 0, 0, 2, 0, 1, 0 },
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

/* "a/./b//c" and "/a/b/c" and "a/b/c" all name /a/b/c (the working directory
   is /); ".." is resolved by the name alone.  out has room for cap bytes. */
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

/* path normalized into norm; ENAMETOOLONG (and -1) when it does not fit. */
static int normal_path(const char *path, char *norm)
{
    if (!path) {
        errno = EFAULT;
        return -1;
    }
    if (!*path) {
        errno = ENOENT;
        return -1;
    }
    if (normalize(path, norm, PATH_CAP) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static struct xp_file *find(const char *norm)
{
    if (strcmp(norm, "/") == 0)
        return &root;
    for (int i = 0; i < nfiles; i++)
        if (strcmp(files[i]->path, norm) == 0)
            return files[i];
    return 0;
}

/* The folder that holds norm (norm is not the root). */
static struct xp_file *parent_of(const char *norm)
{
    char parent[PATH_CAP];
    const char *slash = strrchr(norm, '/');
    size_t n = slash == norm ? 1 : (size_t)(slash - norm);
    memcpy(parent, norm, n);
    parent[n] = 0;
    return find(parent);
}

static struct xp_file *add_entry(const char *norm, const char *data, size_t size,
                                 int is_dir, int read_only);

/* The folders on the way to norm: 0 when each is there (made as needed when
   make is set: a boot archive may list files only), else why not: ENOTDIR (a
   file on the way), ENOENT (one missing) or ENOMEM. */
static int walk_folders(const char *norm, int make)
{
    char prefix[PATH_CAP];
    for (const char *p = strchr(norm + 1, '/'); p; p = strchr(p + 1, '/')) {
        size_t n = (size_t)(p - norm);
        memcpy(prefix, norm, n);
        prefix[n] = 0;
        struct xp_file *f = find(prefix);
        if (f && !f->is_dir)
            return ENOTDIR;
        if (!f && !make)
            return ENOENT;
        if (!f && !add_entry(prefix, 0, 0, 1, 0))
            return ENOMEM;
    }
    return 0;
}

/* Why norm is not there: a file where a folder should be on the way
   (ENOTDIR), or nothing (ENOENT). */
static int missing_errno(const char *norm)
{
    int e = walk_folders(norm, 0);
    return e ? e : ENOENT;
}

/* Whether a new entry may be made at norm: its folder exists (errno set if not). */
static int can_create(const char *norm)
{
    if (strcmp(norm, "/") == 0) {
        errno = EEXIST;
        return 0;
    }
    struct xp_file *parent = parent_of(norm);
    if (!parent || !parent->is_dir) {
        errno = parent ? ENOTDIR : missing_errno(norm);
        return 0;
    }
    return 1;
}

static struct xp_file *add_entry(const char *norm, const char *data, size_t size,
                                 int is_dir, int read_only)
{
    if (nfiles == cap_files) {
        int cap = cap_files ? cap_files * 2 : 64;
        struct xp_file **grown = realloc(files, (size_t)cap * sizeof(*files));
        if (!grown)
            return 0;
        files = grown;
        cap_files = cap;
    }
    struct xp_file *f = calloc(1, sizeof(*f));
    char *path = f ? strdup(norm) : 0;
    if (!path) {
        free(f);
        return 0;
    }
    f->path = path;
    f->data = data;
    f->size = size;
    f->is_dir = is_dir;
    f->read_only = read_only;
    f->mode = is_dir ? 0755 : read_only ? 0444 : 0644;
    f->linked = 1;
    f->ino = next_ino++;
    f->mtime = root.mtime;
    files[nfiles++] = f;
    return f;
}

static void release(struct xp_file *f)
{
    if (f != &root && !f->linked && f->opens == 0) {
        free(f->path);
        free(f->own);
        free(f);
    }
}

/* Take f out of the table (its name is gone); freed when no descriptor holds it. */
static void unlink_entry(struct xp_file *f)
{
    for (int i = 0; i < nfiles; i++) {
        if (files[i] == f) {
            files[i] = files[--nfiles];
            break;
        }
    }
    f->linked = 0;
    release(f);
}

static int64_t now_seconds(void)
{
    return (int64_t)time(0);
}

static void add_boot_file(const char *path, const char *data, size_t size, int read_only)
{
    char norm[PATH_CAP];
    if (normalize(path, norm, sizeof(norm)) < 0 || strcmp(norm, "/") == 0) {
        xp_printk("xenport: boot file name too long or empty, dropping %s\n", path);
        return;
    }
    struct xp_file *f = find(norm);
    if (f && !f->is_dir && !f->own) {     /* a later archive entry replaces an earlier one */
        f->data = data;
        f->size = size;
        return;
    }
    if (f || walk_folders(norm, 1) != 0 || !add_entry(norm, data, size, 0, read_only))
        xp_printk("xenport: cannot add boot file %s (a folder, or out of memory)\n", path);
}

void xp_files_add(const char *path, const char *data, size_t size)
{
    add_boot_file(path, data, size, 0);
}

const struct xp_file *xp_files_lookup(const char *path)
{
    char norm[PATH_CAP];
    if (!path || normalize(path, norm, sizeof(norm)) < 0)
        return 0;
    struct xp_file *f = find(norm);
    return f && !f->is_dir ? f : 0;
}

/* The files (not folders), in the order they were added until one is removed. */
int xp_files_count(void)
{
    int n = 0;
    for (int i = 0; i < nfiles; i++)
        n += !files[i]->is_dir;
    return n;
}

const struct xp_file *xp_files_at(int i)
{
    for (int k = 0; k < nfiles; k++)
        if (!files[k]->is_dir && i-- == 0)
            return files[k];
    return 0;
}

/* Room for size bytes of contents in f's own buffer (the boot module's bytes
   are copied on the first change); ENOSPC when memory is short. */
static int reserve(struct xp_file *f, size_t size)
{
    if (f->own && size <= f->cap)
        return 0;
    size_t cap = f->cap ? f->cap : 256;
    while (cap < size) {
        if (cap > SIZE_MAX / 2) {
            errno = EFBIG;
            return -1;
        }
        cap *= 2;
    }
    if (cap < f->size)
        cap = f->size;
    char *own = f->own ? realloc(f->own, cap) : malloc(cap);
    if (!own) {
        errno = ENOSPC;
        return -1;
    }
    if (!f->own && f->size)
        memcpy(own, f->data, f->size);
    f->own = own;
    f->cap = cap;
    f->data = own;
    return 0;
}

static int resize(struct xp_file *f, size_t size)
{
    if (size > f->size) {
        if (reserve(f, size) < 0)
            return -1;
        memset(f->own + f->size, 0, size - f->size);
    }
    f->size = size;
    f->mtime = now_seconds();
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

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The archive's regular files and folders; answers the first *.image file's path. */
static const char *load_cpio(const char *data, size_t size)
{
    static char image[PATH_CAP];
    int found = 0;
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
        if (namesize == 0 || name_off + namesize > size || data_off + filesize > size ||
            data[name_off + namesize - 1] != 0) {
            xp_printk("xenport: initrd: truncated cpio archive\n");
            break;
        }
        const char *name = data + name_off;
        if (strcmp(name, "TRAILER!!!") == 0)
            break;
        char norm[PATH_CAP];
        if (normalize(name, norm, sizeof(norm)) == 0 && strcmp(norm, "/") != 0) {
            if ((mode & 0170000) == 0100000) {
                xp_files_add(norm, data + data_off, filesize);
                if (!found && ends_with(norm, ".image") && xp_files_lookup(norm)) {
                    strcpy(image, norm);
                    found = 1;
                }
            } else if ((mode & 0170000) == 0040000 && !find(norm)) {
                if (walk_folders(norm, 1) != 0 || !add_entry(norm, 0, 0, 1, 0))
                    xp_printk("xenport: initrd: cannot make folder %s\n", norm);
            }
        }
        off = (data_off + filesize + 3) & ~(size_t)3;
    }
    return found ? image : 0;
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
        add_boot_file("/proc/meminfo", meminfo, (size_t)n, 1);
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
            add_boot_file("/proc/cpuinfo", cpuinfo, (size_t)n, 1);
        }
    }
}

const char *xp_files_init(struct xp_boot_info *bi)
{
    const char *image = 0;
    root.mtime = xp_boot_epoch_seconds();
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

static int new_fd(struct xp_file *f, int readable, int writable, int append)
{
    for (int i = 3; i < MAX_FDS; i++) {
        if (!fds[i].used) {
            fds[i] = (struct fd){ 1, f, 0, 0, readable, writable, append };
            f->opens++;
            return i;
        }
    }
    errno = EMFILE;
    return -1;
}

int open(const char *path, int flags, ...)
{
    int stream = path ? console_path(path) : -1;
    if (stream >= 0) {
        if ((flags & O_ACCMODE) != (stream == 0 ? O_RDONLY : O_WRONLY)) {
            errno = EACCES;
            return -1;
        }
        return dup(stream);
    }
    char norm[PATH_CAP];
    if (normal_path(path, norm) < 0)
        return -1;
    int access_mode = flags & O_ACCMODE;
    int writable = access_mode == O_WRONLY || access_mode == O_RDWR;
    struct xp_file *f = find(norm);
    if (f && (flags & O_CREAT) && (flags & O_EXCL)) {
        errno = EEXIST;
        return -1;
    }
    if (f && f->is_dir) {
        if (writable || (flags & (O_TRUNC | O_CREAT))) {
            errno = EISDIR;
            return -1;
        }
        return new_fd(f, 1, 0, 0);
    }
    if (!f) {
        if (!(flags & O_CREAT)) {
            errno = missing_errno(norm);
            return -1;
        }
        if (!can_create(norm))
            return -1;
        f = add_entry(norm, 0, 0, 0, 0);
        if (!f) {
            errno = ENOSPC;
            return -1;
        }
        f->mtime = now_seconds();
    } else if (f->read_only && (writable || (flags & O_TRUNC))) {
        errno = EACCES;
        return -1;
    }
    if ((flags & O_TRUNC) && writable && f->size && resize(f, 0) < 0)
        return -1;
    return new_fd(f, access_mode != O_WRONLY, writable, (flags & O_APPEND) != 0);
}

int open64(const char *path, int flags, ...)
{
    return open(path, flags);
}

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
    if (fd > 2 || f->file) {
        struct xp_file *file = f->file;
        f->used = 0;
        f->file = 0;
        if (file) {
            file->opens--;
            release(file);
        }
    }
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
    if (f->file->is_dir) {
        errno = EISDIR;
        return -1;
    }
    if (!f->readable) {
        errno = EBADF;
        return -1;
    }
    if (f->pos >= f->file->size)
        return 0;
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
    if (!f->file) {
        if (f->stream == 0) {
            errno = EBADF;
            return -1;
        }
        if (f->stream == 1)
            xp_write_out(buf, n);
        else
            xp_write_err(buf, n);
        return (ssize_t)n;
    }
    if (!f->writable) {
        errno = EBADF;
        return -1;
    }
    struct xp_file *file = f->file;
    if (n == 0)
        return 0;                   /* not even an append's move to the end (Linux) */
    if (f->append)
        f->pos = file->size;
    if (f->pos > SIZE_MAX - n) {
        errno = EFBIG;
        return -1;
    }
    size_t end = f->pos + n;
    if (end > file->size) {
        if (resize(file, end) < 0)
            return -1;
    } else if (reserve(file, file->size) < 0) {
        return -1;
    }
    memcpy(file->own + f->pos, buf, n);
    file->mtime = now_seconds();
    f->pos = end;
    return (ssize_t)n;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    if (off < 0) {
        errno = EINVAL;
        return -1;
    }
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (!f->file || f->file->is_dir || !f->readable) {
        errno = !f->file ? ESPIPE : !f->readable ? EBADF : EISDIR;
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
    if (base < 0 || off > INT64_MAX - base || base + off < 0) {
        errno = EINVAL;
        return -1;
    }
    f->pos = (size_t)(base + off);
    return (off_t)f->pos;
}

static void fill_stat(struct stat *st, const struct xp_file *file)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = 1;
    st->st_nlink = 1;
    st->st_blksize = 4096;
    int64_t t = root.mtime;
    if (!file) {
        st->st_mode = S_IFCHR | 0620;
    } else if (file->is_dir) {
        st->st_mode = S_IFDIR | file->mode;
        st->st_nlink = 2;
        st->st_ino = (ino_t)file->ino;
        t = file->mtime;
    } else {
        st->st_mode = S_IFREG | file->mode;
        st->st_nlink = file->linked;
        st->st_size = (off_t)file->size;
        st->st_blocks = (blkcnt_t)((file->size + 511) / 512);
        st->st_ino = (ino_t)file->ino;
        t = file->mtime;
    }
    st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = (time_t)t;
}

int fstat(int fd, struct stat *st)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    fill_stat(st, f->file);
    return 0;
}

/* The entry at path, or NULL with errno set. */
static struct xp_file *lookup(const char *path)
{
    char norm[PATH_CAP];
    if (normal_path(path, norm) < 0)
        return 0;
    struct xp_file *f = find(norm);
    if (!f)
        errno = missing_errno(norm);
    return f;
}

/* The folder at path, or NULL with errno set (ENOTDIR: a file). */
static struct xp_file *lookup_folder(const char *path)
{
    struct xp_file *f = lookup(path);
    if (f && !f->is_dir) {
        errno = ENOTDIR;
        return 0;
    }
    return f;
}

int stat(const char *path, struct stat *st)
{
    if (path && console_path(path) >= 0) {
        fill_stat(st, 0);
        return 0;
    }
    struct xp_file *f = lookup(path);
    if (!f)
        return -1;
    fill_stat(st, f);
    return 0;
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
    if ((mode & W_OK) && !(st.st_mode & 0200)) {
        errno = EACCES;
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

/* Nothing here outlives the guest: a file cannot be made durable, so fsync
   fails (EINVAL, as Linux answers for what cannot be synchronized).  Code
   that needs its data kept learns it cannot be (a snapshot fails), while
   code that only writes (a log, the changes file) works. */
int fsync(int fd)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (f->file) {
        errno = EINVAL;
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
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    if (!f->file || f->file->is_dir || !f->writable || len < 0) {
        errno = EINVAL;
        return -1;
    }
    if ((uint64_t)len > SIZE_MAX) {
        errno = EFBIG;
        return -1;
    }
    return resize(f->file, (size_t)len);
}

int unlink(const char *path)
{
    struct xp_file *f = lookup(path);
    if (!f)
        return -1;
    if (f->is_dir) {
        errno = EISDIR;
        return -1;
    }
    if (f->read_only) {
        errno = EACCES;
        return -1;
    }
    unlink_entry(f);
    return 0;
}

static int has_children(const struct xp_file *dir)
{
    size_t n = strlen(dir->path);
    for (int i = 0; i < nfiles; i++)
        if (strncmp(files[i]->path, dir->path, n) == 0 && files[i]->path[n] == '/')
            return 1;
    return 0;
}

int rmdir(const char *path)
{
    struct xp_file *f = lookup_folder(path);
    if (!f)
        return -1;
    if (f == &root) {
        errno = EBUSY;
        return -1;
    }
    if (has_children(f)) {
        errno = ENOTEMPTY;
        return -1;
    }
    unlink_entry(f);
    return 0;
}

/* Give f (and, for a folder, everything under it) the name to. */
static int move_entry(struct xp_file *f, const char *to)
{
    size_t old_len = strlen(f->path), new_len = strlen(to);
    for (int i = 0; i < nfiles; i++) {
        struct xp_file *e = files[i];
        if (e != f && !(f->is_dir && strncmp(e->path, f->path, old_len) == 0 &&
                        e->path[old_len] == '/'))
            continue;
        size_t rest = strlen(e->path) - old_len;
        if (new_len + rest + 1 > PATH_CAP) {
            errno = ENAMETOOLONG;
            return -1;
        }
    }
    char *old = strdup(f->path);
    if (!old) {
        errno = ENOMEM;
        return -1;
    }
    for (int i = 0; i < nfiles; i++) {
        struct xp_file *e = files[i];
        if (e != f && !(f->is_dir && strncmp(e->path, old, old_len) == 0 &&
                        e->path[old_len] == '/'))
            continue;
        size_t rest = strlen(e->path) - old_len;
        char *path = malloc(new_len + rest + 1);
        if (!path) {
            free(old);
            errno = ENOMEM;         /* a folder half moved: only when memory is gone */
            return -1;
        }
        memcpy(path, to, new_len);
        memcpy(path + new_len, e->path + old_len, rest + 1);
        free(e->path);
        e->path = path;
    }
    free(old);
    return 0;
}

static int is_under(const char *path, const char *folder)
{
    size_t n = strlen(folder);
    return strncmp(path, folder, n) == 0 && path[n] == '/';
}

/* Checked in Linux's order, so that a program sees the same errno: both paths'
   folders, the source, a folder into itself, the kinds of the two, emptiness. */
int rename(const char *from, const char *to)
{
    char src[PATH_CAP], dst[PATH_CAP];
    if (normal_path(from, src) < 0 || normal_path(to, dst) < 0)
        return -1;
    if (strcmp(src, "/") == 0 || strcmp(dst, "/") == 0) {
        errno = EBUSY;
        return -1;
    }
    if (!can_create(src) || !can_create(dst))
        return -1;
    struct xp_file *f = find(src);
    if (!f) {
        errno = ENOENT;
        return -1;
    }
    struct xp_file *t = find(dst);
    if (t == f)
        return 0;
    if (f->is_dir && is_under(dst, src)) {
        errno = EINVAL;
        return -1;
    }
    if (t && is_under(src, dst)) {
        errno = ENOTEMPTY;
        return -1;
    }
    if (t && f->is_dir != t->is_dir) {
        errno = f->is_dir ? ENOTDIR : EISDIR;
        return -1;
    }
    if (f->read_only || (t && t->read_only)) {
        errno = EACCES;
        return -1;
    }
    if (t && t->is_dir && has_children(t)) {
        errno = ENOTEMPTY;
        return -1;
    }
    if (move_entry(f, dst) < 0)
        return -1;
    if (t)
        unlink_entry(t);
    return 0;
}

int mkdir(const char *path, mode_t mode)
{
    char norm[PATH_CAP];
    if (normal_path(path, norm) < 0)
        return -1;
    if (find(norm)) {
        errno = EEXIST;
        return -1;
    }
    if (!can_create(norm))
        return -1;
    struct xp_file *f = add_entry(norm, 0, 0, 1, 0);
    if (!f) {
        errno = ENOSPC;
        return -1;
    }
    f->mode = mode & 07777;
    f->mtime = now_seconds();
    return 0;
}

int chmod(const char *path, mode_t mode)
{
    struct xp_file *f = lookup(path);
    if (!f)
        return -1;
    if (f->read_only) {
        errno = EPERM;
        return -1;
    }
    f->mode = mode & 07777;
    return 0;
}

/* One owner: root. */
int chown(const char *path, uid_t owner, gid_t group)
{
    struct xp_file *f = lookup(path);
    if (!f)
        return -1;
    if ((owner != (uid_t)-1 && owner != 0) || (group != (gid_t)-1 && group != 0)) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

/* There are no symbolic links. */
ssize_t readlink(const char *path, char *buf, size_t size)
{
    (void)buf;
    (void)size;
    if (!lookup(path))
        return -1;
    errno = EINVAL;
    return -1;
}

/* A folder's listing is taken when it is opened. */
struct __dirstream {
    char **names;
    unsigned char *types;
    int count, next;
    struct dirent entry;
};

static int add_name(DIR *d, const char *name, size_t len, unsigned char type)
{
    for (int i = 0; i < d->count; i++)
        if (strlen(d->names[i]) == len && memcmp(d->names[i], name, len) == 0)
            return 0;
    char **names = realloc(d->names, (size_t)(d->count + 1) * sizeof(*names));
    if (!names)
        return -1;
    d->names = names;
    unsigned char *types = realloc(d->types, (size_t)(d->count + 1));
    if (!types)
        return -1;
    d->types = types;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, name, len);
    copy[len] = 0;
    d->names[d->count] = copy;
    d->types[d->count] = type;
    d->count++;
    return 0;
}

int closedir(DIR *d)
{
    if (!d) {
        errno = EBADF;
        return -1;
    }
    for (int i = 0; i < d->count; i++)
        free(d->names[i]);
    free(d->names);
    free(d->types);
    free(d);
    return 0;
}

DIR *opendir(const char *path)
{
    struct xp_file *dir = lookup_folder(path);
    if (!dir)
        return 0;
    DIR *d = calloc(1, sizeof(*d));
    if (!d) {
        errno = ENOMEM;
        return 0;
    }
    size_t n = dir == &root ? 0 : strlen(dir->path);
    int failed = add_name(d, ".", 1, DT_DIR) < 0 || add_name(d, "..", 2, DT_DIR) < 0;
    for (int i = 0; i < nfiles && !failed; i++) {
        const char *p = files[i]->path;
        if (strncmp(p, dir->path, n) != 0 || p[n] != '/' || strchr(p + n + 1, '/'))
            continue;
        failed = add_name(d, p + n + 1, strlen(p + n + 1),
                          files[i]->is_dir ? DT_DIR : DT_REG) < 0;
    }
    if (failed) {
        closedir(d);
        errno = ENOMEM;
        return 0;
    }
    return d;
}

struct dirent *readdir(DIR *d)
{
    if (!d) {
        errno = EBADF;
        return 0;
    }
    if (d->next >= d->count)
        return 0;
    struct dirent *e = &d->entry;
    memset(e, 0, sizeof(*e));
    e->d_ino = (ino_t)(d->next + 1);
    e->d_type = d->types[d->next];
    e->d_reclen = sizeof(*e);
    size_t len = strlen(d->names[d->next]);
    if (len >= sizeof(e->d_name))
        len = sizeof(e->d_name) - 1;
    memcpy(e->d_name, d->names[d->next], len);
    d->next++;
    return e;
}

int dup(int fd)
{
    struct fd *f = get_fd(fd);
    if (!f)
        return -1;
    for (int i = 0; i < MAX_FDS; i++) {
        if (!fds[i].used) {
            fds[i] = *f;
            if (f->file)
                f->file->opens++;
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
    if (to == fd)
        return to;
    if (fds[to].used && fds[to].file)
        close(to);
    fds[to] = *f;
    if (f->file)
        f->file->opens++;
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

/* The working folder stays /: relative paths are taken from the root. */
int chdir(const char *path)
{
    struct xp_file *f = lookup_folder(path);
    if (!f)
        return -1;
    if (f != &root) {
        errno = ENOSYS;
        return -1;
    }
    return 0;
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
        return (f->readable && f->writable ? O_RDWR : f->writable ? O_WRONLY : O_RDONLY) |
               (f->append ? O_APPEND : 0);
    return 0;
}
