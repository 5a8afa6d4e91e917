/* xenport: thread-local storage for the one thread.
 *
 * RPython's generated C keeps per-thread state in __thread variables, compiled
 * for the x86-64 local-exec model: %fs points at the thread pointer (TP), the
 * TLS block lies just below it (variant II), and the word at %fs:0 holds TP
 * itself.  The template is the PT_TLS segment: .tdata (initialised) followed by
 * .tbss (zeroed); the linker script names its bounds.
 */
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "xenport/boot.h"
#include "xenport/kernel.h"
#include "xenport/mm.h"
#include "xenport/platform.h"
#include "xenport/x86.h"

#define TCB_SIZE 256            /* the TCB: self pointer at 0, stack guard at 0x28 */

uint64_t xp_tls_size, xp_tls_align;
void *xp_thread_pointer;

void xp_tls_init(void)
{
    uint64_t filesz = (uint64_t)(__tdata_end - __tdata_start);
    uint64_t memsz = (uint64_t)(__tbss_end - __tdata_start);
    /* The linker placed the variables at TP - round_up(memsz, p_align) + offset:
       round with exactly the segment's alignment. */
    uint64_t align = (uint64_t)(uintptr_t)__tls_align;
    if (align == 0)
        align = 1;
    if (memsz < filesz)
        memsz = filesz;
    uint64_t block = (memsz + align - 1) & ~(align - 1);
    size_t total = block + TCB_SIZE;
    /* TP must itself be p_align-aligned: start the block on such a boundary
       (block is a multiple of align, so TP = mem + block is too). */
    size_t align_pages = align > XP_PAGE_SIZE ? align / XP_PAGE_SIZE : 1;
    char *mem = xp_page_alloc((total + XP_PAGE_SIZE - 1) / XP_PAGE_SIZE, align_pages);
    if (!mem)
        xp_panic("no memory for the TLS block (%lu bytes)", (unsigned long)total);
    memset(mem, 0, total);
    char *tp = mem + block;
    memcpy(tp - block, __tdata_start, filesz);
    *(uint64_t *)tp = (uint64_t)(uintptr_t)tp;
    *(uint64_t *)(tp + 0x28) = 0x2f8a6c1de35b9047ULL;   /* a stack-protector guard */
    xp_cpu_set_fs_base((uint64_t)(uintptr_t)tp);
    xp_tls_size = memsz;
    xp_tls_align = align;
    xp_thread_pointer = tp;
}
