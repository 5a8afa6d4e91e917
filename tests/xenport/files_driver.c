/* Host driver for xenport/files.c, the guest's file system (see
 * test_files_host.py): the same random sequence of file calls goes to the
 * guest's implementation (xpt_*, files.c compiled with files_rename.h) and to
 * the host's own, in a fresh folder; every answer (value, errno, bytes read,
 * listings, sizes) must agree, and at the end the two trees must hold the same
 * folders and files with the same contents.
 *
 *   files_driver diff SEED ROUNDS HOSTDIR   the differential run
 *   files_driver boot                       a cpio archive loaded as at boot
 *
 * Each ends with "done 0" when all went well; a line starting "FAIL" says what
 * did not.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xenport/boot.h"
#include "xenport/files.h"
#include "xenport/mm.h"
#include "xenport/platform.h"

int xpt_open(const char *path, int flags, ...);
int xpt_close(int fd);
ssize_t xpt_read(int fd, void *buf, size_t n);
ssize_t xpt_write(int fd, const void *buf, size_t n);
ssize_t xpt_pread(int fd, void *buf, size_t n, off_t off);
off_t xpt_lseek(int fd, off_t off, int whence);
int xpt_fstat(int fd, struct stat *st);
int xpt_stat(const char *path, struct stat *st);
int xpt_access(const char *path, int mode);
int xpt_fsync(int fd);
int xpt_ftruncate(int fd, off_t len);
int xpt_unlink(const char *path);
int xpt_rmdir(const char *path);
int xpt_rename(const char *from, const char *to);
int xpt_mkdir(const char *path, mode_t mode);
DIR *xpt_opendir(const char *path);
struct dirent *xpt_readdir(DIR *d);
int xpt_closedir(DIR *d);
int xpt_dup(int fd);

/* --- what files.c needs from the rest of xenport ------------------------------- */

static const struct xp_platform test_platform = { .name = "host-test" };
const struct xp_platform *xp_platform = &test_platform;

void xp_printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
}

void xp_write_out(const char *buf, size_t len) { fwrite(buf, 1, len, stdout); }
void xp_write_err(const char *buf, size_t len) { fwrite(buf, 1, len, stdout); }
size_t xp_stdin_read(char *buf, size_t len) { (void)buf; (void)len; return 0; }
int64_t xp_boot_epoch_seconds(void) { return 1700000000; }
int xp_socket_fd(int fd) { return fd >= 64; }
int xp_socket_close(int fd) { (void)fd; errno = EBADF; return -1; }
int xp_socket_fcntl(int fd, int cmd, long arg) { (void)fd; (void)cmd; (void)arg; return -1; }

void xp_mm_stats(struct xp_mm_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->total_pages = 1024;
    st->free_pages = 512;
}

/* --- the differential run --------------------------------------------------------- */

static uint64_t rng;

static unsigned next(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *const PATHS[] = {
    "a", "b", "c.image", "d", "d/a", "d/e", "d/e/f", "d/e/g", "x/y", "a/z", "b/c/d",
};
#define NPATHS ((int)(sizeof(PATHS) / sizeof(PATHS[0])))

static const int OPEN_FLAGS[] = {
    O_RDONLY, O_WRONLY | O_CREAT, O_RDWR | O_CREAT, O_RDWR | O_CREAT | O_EXCL,
    O_WRONLY | O_CREAT | O_TRUNC, O_WRONLY | O_APPEND | O_CREAT, O_RDWR, O_RDWR | O_APPEND,
    O_RDONLY | O_CREAT, O_WRONLY,
};
#define NFLAGS ((int)(sizeof(OPEN_FLAGS) / sizeof(OPEN_FLAGS[0])))

#define SLOTS 8
static int host_fd[SLOTS], guest_fd[SLOTS];
static char hostdir[512];
static long round_no;
static long counts[20];

static const char *host_path(const char *p)
{
    static char buf[2][1024];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof(buf[which]), "%s/%s", hostdir, p);
    return buf[which];
}

static const char *guest_path(const char *p)
{
    static char buf[2][1024];
    static int which;
    which ^= 1;
    /* The guest normalizes: "./x", "//x" and "/x" are one name. */
    static const char *const prefixes[] = { "/", "//", "./", "" };
    snprintf(buf[which], sizeof(buf[which]), "%s%s", prefixes[next(4)], p);
    return buf[which];
}

static char doing[256];        /* the call under way, for a mismatch's report */

static void fail(const char *what, long h, int herr, long g, int gerr)
{
    printf("FAIL at round %ld: %s (%s): host %ld (errno %d %s), guest %ld (errno %d %s)\n",
           round_no, what, doing, h, h < 0 ? herr : 0, h < 0 ? strerror(herr) : "",
           g, g < 0 ? gerr : 0, g < 0 ? strerror(gerr) : "");
    exit(1);
}

/* Both succeeded, or both failed with the same errno. */
static void agree(const char *what, long h, int herr, long g, int gerr)
{
    if ((h < 0) != (g < 0) || (h < 0 && herr != gerr))
        fail(what, h, herr, g, gerr);
}

static long trace_from = -1;    /* XPT_TRACE=N: print each call from round N */

#define BOTH(what, hcall, gcall) do {                                   \
        errno = 0; long h_ = (long)(hcall); int he_ = errno;            \
        errno = 0; long g_ = (long)(gcall); int ge_ = errno;            \
        if (trace_from >= 0 && round_no >= trace_from)                  \
            printf("round %ld: %s %s: %ld %ld\n", round_no, what, doing, h_, g_); \
        agree(what, h_, he_, g_, ge_);                                  \
        hres = h_; gres = g_;                                           \
    } while (0)

static long hres, gres;

static int is_dir_fd(int slot)
{
    struct stat st;
    return fstat(host_fd[slot], &st) == 0 && S_ISDIR(st.st_mode);
}

struct listing {
    char names[64][64];
    unsigned char types[64];
    int n;
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void list(DIR *d, struct dirent *(*next_entry)(DIR *), struct listing *out)
{
    struct dirent *e;
    out->n = 0;
    while ((e = next_entry(d)) != 0) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (out->n == 64)
            break;
        size_t len = strnlen(e->d_name, 60);
        memcpy(out->names[out->n], e->d_name, len);
        strcpy(out->names[out->n] + len, e->d_type == DT_DIR ? "/" : "");
        out->n++;
    }
    qsort(out->names, (size_t)out->n, 64, cmp_names);
}

static void compare_listing(const char *p)
{
    errno = 0;
    DIR *hd = opendir(host_path(p));
    int he = errno;
    errno = 0;
    DIR *gd = xpt_opendir(guest_path(p));
    int ge = errno;
    agree("opendir", hd ? 0 : -1, he, gd ? 0 : -1, ge);
    if (!hd)
        return;
    struct listing hl, gl;
    memset(&hl, 0, sizeof(hl));
    memset(&gl, 0, sizeof(gl));
    list(hd, readdir, &hl);
    list(gd, xpt_readdir, &gl);
    closedir(hd);
    xpt_closedir(gd);
    if (hl.n != gl.n || memcmp(hl.names, gl.names, sizeof(hl.names[0]) * (size_t)hl.n) != 0) {
        printf("FAIL at round %ld: listing of %s:", round_no, p);
        for (int i = 0; i < hl.n; i++)
            printf(" host:%s", hl.names[i]);
        for (int i = 0; i < gl.n; i++)
            printf(" guest:%s", gl.names[i]);
        printf("\n");
        exit(1);
    }
    counts[12]++;
}

static void compare_stat(const char *what, int hr, struct stat *hs, int gr, struct stat *gs)
{
    if (hr < 0)
        return;
    if ((hs->st_mode & S_IFMT) != (gs->st_mode & S_IFMT) ||
        (S_ISREG(hs->st_mode) && hs->st_size != gs->st_size))
        fail(what, (long)hs->st_size, 0, (long)gs->st_size, 0);
}

static void one_round(void)
{
    int slot = (int)next(SLOTS);
    const char *p = PATHS[next(NPATHS)];
    const char *q = PATHS[next(NPATHS)];
    char buf[512], gbuf[512];
    struct stat hs, gs;
    snprintf(doing, sizeof(doing), "slot %d (fd %d), paths %s %s", slot, host_fd[slot], p, q);
    switch (next(15)) {
    case 0: {                                     /* open into a free slot */
        if (host_fd[slot] >= 0)
            break;
        int flags = OPEN_FLAGS[next(NFLAGS)];
        BOTH("open", open(host_path(p), flags, 0644), xpt_open(guest_path(p), flags, 0644));
        if (hres >= 0) {
            host_fd[slot] = (int)hres;
            guest_fd[slot] = (int)gres;
        }
        counts[0]++;
        break;
    }
    case 1:
        if (host_fd[slot] < 0)
            break;
        BOTH("close", close(host_fd[slot]), xpt_close(guest_fd[slot]));
        host_fd[slot] = guest_fd[slot] = -1;
        counts[1]++;
        break;
    case 2: {
        if (host_fd[slot] < 0)
            break;
        size_t n = next(300);
        BOTH("read", read(host_fd[slot], buf, n), xpt_read(guest_fd[slot], gbuf, n));
        if (hres > 0 && (hres != gres || memcmp(buf, gbuf, (size_t)hres) != 0))
            fail("read bytes", hres, 0, gres, 0);
        counts[2]++;
        break;
    }
    case 3: {
        if (host_fd[slot] < 0)
            break;
        size_t n = next(300);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)next(256);
        BOTH("write", write(host_fd[slot], buf, n), xpt_write(guest_fd[slot], buf, n));
        if (hres != gres)
            fail("write count", hres, 0, gres, 0);
        counts[3]++;
        break;
    }
    case 4: {
        if (host_fd[slot] < 0 || is_dir_fd(slot))
            break;
        off_t off = (off_t)next(2000) - 50;
        int whence = (int)next(3);
        BOTH("lseek", lseek(host_fd[slot], off, whence), xpt_lseek(guest_fd[slot], off, whence));
        if (hres != gres)
            fail("lseek position", hres, 0, gres, 0);
        counts[4]++;
        break;
    }
    case 5: {
        if (host_fd[slot] < 0)
            break;
        off_t len = (off_t)next(3000) - 1;
        BOTH("ftruncate", ftruncate(host_fd[slot], len), xpt_ftruncate(guest_fd[slot], len));
        counts[5]++;
        break;
    }
    case 6:
        BOTH("unlink", unlink(host_path(p)), xpt_unlink(guest_path(p)));
        counts[6]++;
        break;
    case 7:
        BOTH("mkdir", mkdir(host_path(p), 0755), xpt_mkdir(guest_path(p), 0755));
        counts[7]++;
        break;
    case 8:
        BOTH("rmdir", rmdir(host_path(p)), xpt_rmdir(guest_path(p)));
        counts[8]++;
        break;
    case 9:
        BOTH("rename", rename(host_path(p), host_path(q)), xpt_rename(guest_path(p), guest_path(q)));
        counts[9]++;
        break;
    case 10:
        BOTH("stat", stat(host_path(p), &hs), xpt_stat(guest_path(p), &gs));
        compare_stat("stat", (int)hres, &hs, (int)gres, &gs);
        counts[10]++;
        break;
    case 11:
        if (host_fd[slot] < 0)
            break;
        BOTH("fstat", fstat(host_fd[slot], &hs), xpt_fstat(guest_fd[slot], &gs));
        compare_stat("fstat", (int)hres, &hs, (int)gres, &gs);
        counts[11]++;
        break;
    case 12:
        compare_listing(next(4) == 0 ? "." : p);
        break;
    case 13: {
        if (host_fd[slot] < 0)
            break;
        size_t n = next(300);
        off_t off = (off_t)next(2000) - 10;
        BOTH("pread", pread(host_fd[slot], buf, n, off), xpt_pread(guest_fd[slot], gbuf, n, off));
        if (hres > 0 && (hres != gres || memcmp(buf, gbuf, (size_t)hres) != 0))
            fail("pread bytes", hres, 0, gres, 0);
        counts[13]++;
        break;
    }
    case 14:
        BOTH("access", access(host_path(p), R_OK | W_OK), xpt_access(guest_path(p), R_OK | W_OK));
        counts[14]++;
        break;
    }
}

/* Every folder and file under p (relative; "" for the top) the same on both sides. */
static long compare_trees(const char *p)
{
    uint64_t saved = rng;           /* the random calls go on as without the check */
    long n = 0;
    compare_listing(*p ? p : ".");
    DIR *d = opendir(host_path(*p ? p : "."));
    struct dirent *e;
    while ((e = readdir(d)) != 0) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[512];
        snprintf(sub, sizeof(sub), "%s%s%s", p, *p ? "/" : "", e->d_name);
        if (e->d_type == DT_DIR) {
            n += compare_trees(sub);
            continue;
        }
        static char hb[1 << 16], gb[1 << 16];
        int hf = open(host_path(sub), O_RDONLY), gf = xpt_open(guest_path(sub), O_RDONLY);
        ssize_t hn = read(hf, hb, sizeof(hb)), gn = xpt_read(gf, gb, sizeof(gb));
        if (hn != gn || memcmp(hb, gb, (size_t)hn) != 0) {
            printf("FAIL at the end: contents of %s (%ld and %ld bytes)\n", sub,
                   (long)hn, (long)gn);
            exit(1);
        }
        close(hf);
        xpt_close(gf);
        n++;
    }
    closedir(d);
    rng = saved;
    return n;
}

static int run_diff(unsigned long seed, long rounds, const char *dir)
{
    rng = seed * 2654435761u + 1;
    if (getenv("XPT_TRACE"))
        trace_from = atol(getenv("XPT_TRACE"));
    snprintf(hostdir, sizeof(hostdir), "%s", dir);
    for (int i = 0; i < SLOTS; i++)
        host_fd[i] = guest_fd[i] = -1;
    int check_each = getenv("XPT_CHECK_EACH") != 0;
    for (round_no = 0; round_no < rounds; round_no++) {
        one_round();
        if (check_each)
            compare_trees("");
    }
    for (int i = 0; i < SLOTS; i++) {
        if (host_fd[i] >= 0) {
            BOTH("close", close(host_fd[i]), xpt_close(guest_fd[i]));
        }
    }
    long files = compare_trees("");
    /* Nothing here is durable. */
    int fd = xpt_open("/durable", O_WRONLY | O_CREAT, 0644);
    errno = 0;
    if (fd < 0 || xpt_fsync(fd) != -1 || errno != EINVAL) {
        printf("FAIL: fsync of a RAM file did not fail with EINVAL\n");
        return 1;
    }
    xpt_close(fd);
    printf("rounds %ld: open %ld close %ld read %ld write %ld lseek %ld ftruncate %ld "
           "unlink %ld mkdir %ld rmdir %ld rename %ld stat %ld fstat %ld listings %ld "
           "pread %ld access %ld; %ld files at the end\n", rounds, counts[0], counts[1],
           counts[2], counts[3], counts[4], counts[5], counts[6], counts[7], counts[8],
           counts[9], counts[10], counts[11], counts[12], counts[13], counts[14], files);
    return 0;
}

/* --- boot: a cpio archive as the boot module ------------------------------------ */

static size_t last_data_at;

static size_t put_entry(char *out, size_t off, const char *name, unsigned mode,
                        const char *data, size_t size)
{
    size_t namesize = strlen(name) + 1;
    off += (size_t)sprintf(out + off, "070701%08x%08x%08x%08x%08x%08x%08lx%08x%08x%08x%08x%08lx%08x",
                           1u, mode, 0u, 0u, 1u, 0u, (unsigned long)size, 0u, 0u, 0u, 0u,
                           (unsigned long)namesize, 0u);
    memcpy(out + off, name, namesize);
    off = (off + namesize + 3) & ~(size_t)3;
    last_data_at = off;
    memcpy(out + off, data, size);
    return (off + size + 3) & ~(size_t)3;
}

static int run_boot(void)
{
    static char archive[4096];
    size_t off = 0;
    off = put_entry(archive, off, "work", 0040755, "", 0);
    off = put_entry(archive, off, "work/other.txt", 0100644, "x", 1);
    size_t other_at = last_data_at;
    off = put_entry(archive, off, "app/mini.image", 0100644, "IMAGE", 5);
    off = put_entry(archive, off, "TRAILER!!!", 0, "", 0);
    struct xp_boot_info bi;
    memset(&bi, 0, sizeof(bi));
    bi.nr_modules = 1;
    bi.modules[0].paddr = (uint64_t)(uintptr_t)archive;
    bi.modules[0].size = off;
    const char *image = xp_files_init(&bi);
    printf("image %s\n", image ? image : "(none)");
    for (int i = 0; i < xp_files_count(); i++)
        printf("file %s %lu\n", xp_files_at(i)->path, (unsigned long)xp_files_at(i)->size);
    struct stat st;
    int r = xpt_stat("/app", &st);
    printf("stat /app %d %s\n", r, S_ISDIR(st.st_mode) ? "folder" : "not a folder");
    /* A boot file changes in RAM; the boot module's bytes stay as they were. */
    int fd = xpt_open("/work/other.txt", O_WRONLY | O_APPEND);
    printf("append %ld\n", (long)xpt_write(fd, "yz", 2));
    xpt_close(fd);
    char buf[16] = { 0 };
    fd = xpt_open("/work/other.txt", O_RDONLY);
    printf("read %ld %s; archive still %c\n", (long)xpt_read(fd, buf, sizeof(buf) - 1), buf,
           archive[other_at]);
    xpt_close(fd);
    r = xpt_open("/proc/meminfo", O_WRONLY);
    printf("write meminfo %d %s\n", r, strerror(errno));
    r = xpt_unlink("/proc/meminfo");
    printf("unlink meminfo %d %s\n", r, strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IONBF, 0);
    int status = 2;
    if (argc == 5 && strcmp(argv[1], "diff") == 0)
        status = run_diff(strtoul(argv[2], 0, 10), strtol(argv[3], 0, 10), argv[4]);
    else if (argc == 2 && strcmp(argv[1], "boot") == 0)
        status = run_boot();
    if (status != 2) {
        printf("done %d\n", status);
        return status;
    }
    fprintf(stderr, "usage: files_driver diff SEED ROUNDS HOSTDIR | files_driver boot\n");
    return 2;
}
