/* xenport: mmap and friends, for anonymous memory.
 *
 * Everything is identity mapped read/write/execute, so protections are
 * accepted and not enforced: the JIT's PROT_EXEC code memory simply works.
 * MAP_FIXED over memory we already own (RPython clears big arenas that way)
 * zeroes it in place.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xenport/mm.h"

#define PAGE XP_PAGE_SIZE

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    (void)prot;
    (void)fd;
    (void)off;
    if (!len || (flags & (MAP_SHARED | MAP_PRIVATE)) == 0) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    if (!(flags & MAP_ANONYMOUS)) {
        errno = ENODEV;                 /* no mappable files here */
        return MAP_FAILED;
    }
    size_t npages = (len + PAGE - 1) / PAGE;
    if (flags & MAP_FIXED) {
        if ((uintptr_t)addr & (PAGE - 1)) {
            errno = EINVAL;
            return MAP_FAILED;
        }
        memset(addr, 0, npages * PAGE);
        return addr;
    }
    void *p = xp_page_alloc(npages, 1);
    if (!p) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    memset(p, 0, npages * PAGE);
    return p;
}

int munmap(void *addr, size_t len)
{
    if (((uintptr_t)addr & (PAGE - 1)) || !len) {
        errno = EINVAL;
        return -1;
    }
    xp_page_free(addr, (len + PAGE - 1) / PAGE);
    return 0;
}

int mprotect(void *addr, size_t len, int prot)
{
    (void)len;
    (void)prot;
    if ((uintptr_t)addr & (PAGE - 1)) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int madvise(void *addr, size_t len, int advice)
{
    (void)addr;
    (void)len;
    (void)advice;
    return 0;
}

int posix_madvise(void *addr, size_t len, int advice)
{
    (void)addr;
    (void)len;
    (void)advice;
    return 0;
}

int mlock(const void *addr, size_t len)
{
    (void)addr;
    (void)len;
    return 0;
}

int munlock(const void *addr, size_t len)
{
    (void)addr;
    (void)len;
    return 0;
}

int getpagesize(void)
{
    return (int)PAGE;
}
