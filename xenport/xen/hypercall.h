/* xenport: typed hypercall wrappers (x86-64: the hypercall page).
 *
 * Xen fills xp_hypercall_page (hypercall_page.S) with one 32-byte stub per
 * hypercall (PVH: when the guest asks through the MSR; PV: the domain builder,
 * from the HYPERCALL_PAGE note); a call is `call page + nr * 32` with the arguments in rdi, rsi,
 * rdx, r10, r8 and the result in rax.  Every argument register counts as
 * clobbered: Xen may change them.
 */
#ifndef XENPORT_XEN_HYPERCALL_H
#define XENPORT_XEN_HYPERCALL_H

#include "xen/xen-abi.h"

extern char xp_hypercall_page[];

static inline long xp_hypercall4(unsigned nr, unsigned long a1, unsigned long a2,
                                 unsigned long a3, unsigned long a4)
{
    register unsigned long rdi __asm__("rdi") = a1;
    register unsigned long rsi __asm__("rsi") = a2;
    register unsigned long rdx __asm__("rdx") = a3;
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8");
    long ret;
    __asm__ volatile("call *%[entry]"
                     : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "=r"(r8)
                     : [entry] "r"(xp_hypercall_page + nr * 32)
                     : "memory", "rcx", "r9", "r11");
    return ret;
}

static inline long xp_hypercall3(unsigned nr, unsigned long a1, unsigned long a2,
                                 unsigned long a3)
{
    return xp_hypercall4(nr, a1, a2, a3, 0);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return xp_hypercall3(__HYPERVISOR_sched_op, (unsigned long)cmd, (unsigned long)arg, 0);
}

static inline long HYPERVISOR_memory_op(unsigned cmd, void *arg)
{
    return xp_hypercall3(__HYPERVISOR_memory_op, cmd, (unsigned long)arg, 0);
}

static inline long HYPERVISOR_hvm_op(int op, void *arg)
{
    return xp_hypercall3(__HYPERVISOR_hvm_op, (unsigned long)op, (unsigned long)arg, 0);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return xp_hypercall3(__HYPERVISOR_event_channel_op, (unsigned long)cmd,
                         (unsigned long)arg, 0);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned vcpu, void *arg)
{
    return xp_hypercall3(__HYPERVISOR_vcpu_op, (unsigned long)cmd, vcpu, (unsigned long)arg);
}

static inline long HYPERVISOR_grant_table_op(unsigned cmd, void *uop, unsigned count)
{
    return xp_hypercall3(__HYPERVISOR_grant_table_op, cmd, (unsigned long)uop, count);
}

/* Classic PV only: the guest's page tables, traps, callbacks and segments. */
static inline long HYPERVISOR_mmu_update(const struct mmu_update *req, unsigned count,
                                         unsigned *done)
{
    return xp_hypercall4(__HYPERVISOR_mmu_update, (unsigned long)req, count,
                         (unsigned long)done, DOMID_SELF);
}

static inline long HYPERVISOR_update_va_mapping(unsigned long va, uint64_t pte,
                                                unsigned long flags)
{
    return xp_hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

static inline long HYPERVISOR_set_trap_table(const struct trap_info *traps)
{
    return xp_hypercall3(__HYPERVISOR_set_trap_table, (unsigned long)traps, 0, 0);
}

static inline long HYPERVISOR_callback_op(int cmd, const void *arg)
{
    return xp_hypercall3(__HYPERVISOR_callback_op, (unsigned long)cmd, (unsigned long)arg, 0);
}

static inline long HYPERVISOR_set_segment_base(int which, unsigned long base)
{
    return xp_hypercall3(__HYPERVISOR_set_segment_base, (unsigned long)which, base, 0);
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return xp_hypercall3(__HYPERVISOR_xen_version, (unsigned long)cmd, (unsigned long)arg, 0);
}

/* HVMOP_get_param / _set_param on our own domain. */
static inline long xen_hvm_get_param(uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
    long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
    if (rc == 0)
        *value = p.value;
    return rc;
}

static inline long xen_hvm_set_param(uint32_t index, uint64_t value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index, .value = value };
    return HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}

#endif
