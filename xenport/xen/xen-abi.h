/* xenport: Xen's public headers (Debian's libxen-dev), with the interface
   version xenport is written against; every xen/ file includes them here. */
#ifndef XENPORT_XEN_ABI_H
#define XENPORT_XEN_ABI_H

#define __XEN_INTERFACE_VERSION__ 0x00040e00     /* 4.14+: the current ABI */

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>

#define xen_barrier() __asm__ volatile("" ::: "memory")
#define xen_mb()      __asm__ volatile("mfence" ::: "memory")
/* x86 keeps loads with loads and stores with stores in order. */
#define xen_rmb()     xen_barrier()
#define xen_wmb()     xen_barrier()

#endif
