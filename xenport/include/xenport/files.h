/* xenport: the read-only boot file system.
 *
 * Boot module 0 (QEMU's -initrd, Xen's ramdisk) is either one file, exposed as
 * /initrd, or a cpio archive ("newc" format, `cpio -H newc`), whose regular
 * files appear under / with their archive names.  Synthetic /proc/meminfo and
 * /proc/cpuinfo tell RPython's GC the machine's memory and cache size, as Linux
 * does.  Nothing can be written: creating or changing a file fails with EROFS.
 */
#ifndef XENPORT_FILES_H
#define XENPORT_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "xenport/boot.h"

#define XP_INITRD_PATH "/initrd"

struct xp_file {
    const char *path;
    const char *data;
    size_t size;
};

/* Build the file table from the boot modules; answers the path of the image to
   insert into argv (the raw module, or the first *.image file of an archive),
   or NULL when there is none. */
const char *xp_files_init(struct xp_boot_info *bi);
void xp_files_add(const char *path, const char *data, size_t size);
const struct xp_file *xp_files_lookup(const char *path);
int xp_files_count(void);
const struct xp_file *xp_files_at(int i);

#endif
