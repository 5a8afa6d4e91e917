/* xenport: the file system, in RAM.
 *
 * Boot module 0 (QEMU's -initrd, Xen's ramdisk) is either one file, exposed as
 * /initrd, or a cpio archive ("newc" format, `cpio -H newc`), whose regular
 * files and folders appear under / with their archive names.  Synthetic
 * /proc/meminfo and /proc/cpuinfo (read-only) tell RPython's GC the machine's
 * memory and cache size, as Linux does.  Everything else can be written,
 * created, renamed and removed, as in a tmpfs: a boot file's bytes are copied
 * on its first change.  Nothing is persistent: it all goes at shutdown, and
 * fsync says so by failing.
 */
#ifndef XENPORT_FILES_H
#define XENPORT_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "xenport/boot.h"

#define XP_INITRD_PATH "/initrd"

struct xp_file {
    char *path;             /* normalized: "/a/b" */
    const char *data;       /* the contents: the boot module's bytes, or own */
    size_t size;
    char *own;              /* the contents once changed (NULL before), cap bytes */
    size_t cap;
    int is_dir;
    int read_only;          /* the synthetic /proc files */
    unsigned mode;          /* permission bits, as chmod set them */
    int linked;             /* still has its name (0: unlinked, open somewhere) */
    int opens;              /* descriptors on it */
    unsigned long ino;
    int64_t mtime;
};

/* Build the file table from the boot modules; answers the path of the image to
   insert into argv (the raw module, or the first *.image file of an archive),
   or NULL when there is none. */
const char *xp_files_init(struct xp_boot_info *bi);
void xp_files_add(const char *path, const char *data, size_t size);
/* A file (not a folder) by path, or NULL. */
const struct xp_file *xp_files_lookup(const char *path);
/* The files, for the boot report. */
int xp_files_count(void);
const struct xp_file *xp_files_at(int i);

#endif
