/* Forced include (-include) of lwIP's core/mem.c in the hosted network test
 * (tests/xenport/test_net_host.py): lwIP's heap (MEM_LIBC_MALLOC, as xenport
 * configures it) goes through net_driver.c, which counts the blocks lwIP holds
 * and makes some allocations fail.
 */
#ifndef XENPORT_TEST_NET_LWIP_MEM_H
#define XENPORT_TEST_NET_LWIP_MEM_H

#include <stddef.h>

void *xpt_lwip_malloc(size_t n);
void *xpt_lwip_calloc(size_t count, size_t n);
void xpt_lwip_free(void *p);

#define mem_clib_malloc xpt_lwip_malloc
#define mem_clib_calloc xpt_lwip_calloc
#define mem_clib_free   xpt_lwip_free

#endif
