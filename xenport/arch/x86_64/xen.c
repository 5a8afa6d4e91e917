/* xenport: the platform under Xen, for a PVH (HVM-container) guest.
 *
 *   detection  CPUID leaves 0x40000000 + 0x100 * i carrying "XenVMMXenVMM";
 *   hypercalls the hypercall page (hypercall_page.S), installed through the MSR
 *              that CPUID leaf base+2 names: `call page + nr * 32`;
 *   clock      Xen system time from vcpu_info[0].time (pvclock) in shared_info,
 *              which XENMEM_add_to_physmap maps over a page of our .bss; the
 *              date from shared_info's wall clock;
 *   console    the PV console ring (HVM_PARAM_CONSOLE_PFN, _EVTCHN): stdout,
 *              stdin and stderr; stderr is also copied to port 0xe9, which
 *              Xen prints on its own console (`xl dmesg`, guest_loglvl=all),
 *              and 0xe9 is the only console until the ring is up;
 *   exit       a last line "xenport: exit status N" (Xen only reports poweroff
 *              or crash), the ring drained (bounded), then SCHEDOP_shutdown:
 *              poweroff for status 0, crash otherwise;
 *   idle       SCHEDOP_poll on the console's event channel with a timeout (the
 *              vCPU sleeps in Xen until input or the deadline), SCHEDOP_yield
 *              if Xen refuses it.
 *
 * The ABI comes from Xen's public headers (Debian's libxen-dev).  A classic PV
 * entry reuses all of this but finds the console and shared_info through
 * start_info instead of HVM params and add_to_physmap.
 */
#define __XEN_INTERFACE_VERSION__ 0x00040e00     /* 4.14+: the current ABI */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/console.h>
#include <xen/memory.h>
#include <xen/sched.h>

#include "cpu.h"
#include "xen.h"
#include "xenport/platform.h"
#include "xenport/x86.h"

extern char xp_hypercall_page[];
extern uint64_t xp_tsc_hz;
extern const char *xp_tsc_source;

#define barrier() __asm__ volatile("" ::: "memory")
#define mb()      __asm__ volatile("mfence" ::: "memory")
/* x86 keeps loads with loads and stores with stores in order. */
#define rmb()     barrier()
#define wmb()     barrier()

/* --- detection and hypercalls ------------------------------------------------- */

uint32_t xen_cpuid_base(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 31)))                 /* no hypervisor at all */
        return 0;
    for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
        uint32_t sig[3];
        cpuid(base, 0, &a, &sig[0], &sig[1], &sig[2]);
        if (memcmp(sig, "XenVMMXenVMM", 12) == 0 && a - base >= 2)
            return base;
    }
    return 0;
}

/* Arguments in rdi, rsi (and rdx, r10, r8 for longer calls); the result in rax.
   All argument registers are treated as clobbered. */
static long hypercall2(unsigned nr, unsigned long a1, unsigned long a2)
{
    register unsigned long rdi __asm__("rdi") = a1;
    register unsigned long rsi __asm__("rsi") = a2;
    register unsigned long rdx __asm__("rdx");
    register unsigned long r10 __asm__("r10");
    register unsigned long r8 __asm__("r8");
    long ret;
    __asm__ volatile("call *%[entry]"
                     : "=a"(ret), "+r"(rdi), "+r"(rsi), "=r"(rdx), "=r"(r10), "=r"(r8)
                     : [entry] "r"(xp_hypercall_page + nr * 32)
                     : "memory", "rcx", "r9", "r11");
    return ret;
}

static long sched_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_sched_op, (unsigned long)cmd, (unsigned long)arg);
}

static long hvm_get_param(uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
    long rc = hypercall2(__HYPERVISOR_hvm_op, HVMOP_get_param, (unsigned long)&p);
    if (rc == 0)
        *value = p.value;
    return rc;
}

static void evtchn_notify(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };
    hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&s);
}

/* --- shared_info and the clock ------------------------------------------------ */

static uint8_t shared_info_page[4096] __attribute__((aligned(4096)));
static volatile struct shared_info *shinfo;
static uint64_t system_time_at_boot;
static uint64_t last_ns;

/* Xen system time (ns since Xen booted), from vcpu 0's time info. */
static uint64_t xen_system_time(void)
{
    volatile struct vcpu_time_info *t = &shinfo->vcpu_info[0].time;
    uint32_t version;
    uint64_t stamp, system, tsc;
    uint32_t mul;
    int8_t shift;
    do {
        version = t->version;
        rmb();
        stamp = t->tsc_timestamp;
        system = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        tsc = rdtsc();
        rmb();
    } while ((version & 1) || version != t->version);
    uint64_t delta = tsc - stamp;
    if (shift >= 0)
        delta <<= shift;
    else
        delta >>= -shift;
    return system + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

static uint64_t xen_monotonic_ns(void)
{
    uint64_t now = xen_system_time() - system_time_at_boot;
    if (now < last_ns)                      /* never backwards (one vCPU) */
        now = last_ns;
    last_ns = now;
    return now;
}

static const struct xp_clock_ops xen_clock = {
    .name = "xen-pvclock",
    .monotonic_ns = xen_monotonic_ns,
};

static int map_shared_info(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = (xen_pfn_t)((uintptr_t)shared_info_page >> 12),
    };
    long rc = hypercall2(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&xatp);
    if (rc != 0)
        return (int)rc;
    shinfo = (volatile struct shared_info *)shared_info_page;
    return 0;
}

static void clock_init(void)
{
    system_time_at_boot = xen_system_time();
    last_ns = 0;
    volatile struct vcpu_time_info *t = &shinfo->vcpu_info[0].time;
    /* TSC rate (for --xen-info): ((10^9 << 32) / mul) >> shift. */
    uint64_t hz = (uint64_t)(((unsigned __int128)1000000000ULL << 32) / (t->tsc_to_system_mul ?
                                                                       t->tsc_to_system_mul : 1));
    hz = t->tsc_shift >= 0 ? hz >> t->tsc_shift : hz << -t->tsc_shift;
    xp_tsc_hz = hz;
    xp_tsc_source = "xen";
    /* The date: Xen's wall clock is the epoch time at system time 0. */
    uint32_t v;
    uint64_t sec, nsec;
    do {
        v = shinfo->wc_version;
        rmb();
        sec = shinfo->wc_sec | ((uint64_t)shinfo->xen_wc_sec_hi << 32);
        nsec = shinfo->wc_nsec;
        rmb();
    } while ((v & 1) || v != shinfo->wc_version);
    xp_platform.wall_clock_offset_ns = (int64_t)(sec * 1000000000ULL + nsec + system_time_at_boot);
    xp_platform.clock = &xen_clock;
}

/* --- consoles ------------------------------------------------------------------ */

#define DEBUGCON 0xe9

static void e9_write(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        outb(DEBUGCON, (uint8_t)buf[i]);
}

static const struct xp_console_ops e9_console = {
    .name = "xen-0xe9",
    .write = e9_write,
    .read = 0,
};

static volatile struct xencons_interface *ring;
static evtchn_port_t ring_port;
static int ring_stalled;                 /* the backend stopped reading: drop output */
static int poll_refused;                 /* SCHEDOP_poll's error: yield instead */
static unsigned long nr_polls, nr_yields;

static void clear_pending(evtchn_port_t port)
{
    const unsigned bits = sizeof(xen_ulong_t) * 8;
    __atomic_fetch_and(&shinfo->evtchn_pending[port / bits], ~((xen_ulong_t)1 << (port % bits)),
                       __ATOMIC_SEQ_CST);
}

/* Sleep in Xen until the console's event channel fires or Xen's clock reaches
   deadline_ns (monotonic); at most 10 ms at a time. */
static void xen_wait(uint64_t deadline_ns)
{
    uint64_t now = xen_monotonic_ns();
    uint64_t cap = now + 10000000ULL;
    if (!deadline_ns || deadline_ns > cap)
        deadline_ns = cap;
    if (deadline_ns <= now)
        return;
    if (!poll_refused) {
        evtchn_port_t port = ring_port;
        struct sched_poll p;
        set_xen_guest_handle(p.ports, &port);
        p.nr_ports = ring ? 1 : 0;
        p.timeout = deadline_ns + system_time_at_boot;
        if (ring)
            clear_pending(port);
        long rc = sched_op(SCHEDOP_poll, &p);
        if (rc == 0) {
            nr_polls++;
            return;
        }
        poll_refused = (int)rc;
    }
    nr_yields++;
    sched_op(SCHEDOP_yield, 0);
}

static void xen_idle(uint64_t until_ns)
{
    xen_wait(until_ns);
}

/* Wait (bounded) until the backend has taken everything up to prod. */
static int ring_wait_consumed(XENCONS_RING_IDX upto_space_needed, uint64_t timeout_ns)
{
    uint64_t deadline = xen_monotonic_ns() + timeout_ns;
    for (;;) {
        XENCONS_RING_IDX used = ring->out_prod - ring->out_cons;
        if (sizeof(ring->out) - used >= upto_space_needed)
            return 1;
        if (xen_monotonic_ns() >= deadline)
            return 0;
        evtchn_notify(ring_port);
        xen_wait(deadline);
    }
}

static void ring_write(const char *buf, size_t len)
{
    while (len) {
        XENCONS_RING_IDX cons = ring->out_cons, prod = ring->out_prod;
        mb();
        size_t space = sizeof(ring->out) - (prod - cons);
        if (space == 0) {
            if (ring_stalled || !ring_wait_consumed(1, 2000000000ULL)) {
                ring_stalled = 1;
                return;
            }
            continue;
        }
        ring_stalled = 0;
        size_t n = len < space ? len : space;
        for (size_t i = 0; i < n; i++)
            ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = buf[i];
        wmb();
        ring->out_prod = prod;
        buf += n;
        len -= n;
        evtchn_notify(ring_port);
    }
}

static void ring_and_e9_write(const char *buf, size_t len)
{
    ring_write(buf, len);
    e9_write(buf, len);
}

/* Console input, as on the serial line: Ctrl-D at the start of a read is the
   end of input. */
static size_t ring_read(char *buf, size_t len, int block)
{
    if (!len)
        return 0;
    for (;;) {
        XENCONS_RING_IDX cons = ring->in_cons, prod = ring->in_prod;
        rmb();
        size_t n = 0;
        int eof = 0;
        while (cons != prod && n < len) {
            char c = ring->in[MASK_XENCONS_IDX(cons, ring->in)];
            if (c == 0x04) {
                if (n == 0) {
                    cons++;
                    eof = 1;
                }
                break;
            }
            cons++;
            buf[n++] = c;
            if (c == '\n')
                break;
        }
        if (cons != ring->in_cons) {
            mb();
            ring->in_cons = cons;
            evtchn_notify(ring_port);
        }
        if (n || eof || !block)
            return n;
        xen_wait(0);
    }
}

static const struct xp_console_ops ring_console = {
    .name = "xen-console-ring",
    .write = ring_write,
    .read = ring_read,
};

static const struct xp_console_ops ring_err_console = {
    .name = "xen-console-ring+0xe9",
    .write = ring_and_e9_write,
    .read = 0,
};

static int console_init(void)
{
    uint64_t pfn = 0, port = 0;
    if (hvm_get_param(HVM_PARAM_CONSOLE_PFN, &pfn) != 0 || !pfn)
        return -1;
    if (hvm_get_param(HVM_PARAM_CONSOLE_EVTCHN, &port) != 0)
        return -1;
    if (pfn >= (4ULL << 30) >> 12)          /* outside the boot identity map */
        return -1;
    ring = (volatile struct xencons_interface *)(uintptr_t)(pfn << 12);
    ring_port = (evtchn_port_t)port;
    return 0;
}

/* --- exit ---------------------------------------------------------------------- */

static int hypercalls_ready;

static __attribute__((noreturn)) void xen_exit(int status)
{
    /* Xen only tells poweroff from crash: the status goes on the console. */
    xp_printk("xenport: exit status %d\n", status);
    if (!hypercalls_ready) {
        /* No SCHEDOP_shutdown: a triple fault, which Xen reports as reboot (a
           halt with interrupts off would read as poweroff). */
        xp_cpu_reset();
    }
    if (ring && !ring_stalled)
        ring_wait_consumed(sizeof(ring->out), 2000000000ULL);
    struct sched_shutdown s = {
        .reason = status == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash,
    };
    for (;;) {
        sched_op(SCHEDOP_shutdown, &s);
        sched_op(SCHEDOP_yield, 0);
    }
}

static void xen_report(void)
{
    if (poll_refused)
        xp_printk("xenport: idle: %lu SCHEDOP_poll, %lu SCHEDOP_yield (Xen refused "
                  "SCHEDOP_poll: %d)\n", nr_polls, nr_yields, poll_refused);
    else
        xp_printk("xenport: idle: %lu SCHEDOP_poll, %lu SCHEDOP_yield\n", nr_polls, nr_yields);
    if (ring_stalled)
        xp_printk("xenport: the console ring stalled: output was dropped\n");
}

/* --- set-up -------------------------------------------------------------------- */

static uint32_t xen_version;

void xen_platform_init_early(uint32_t base)
{
    uint32_t a, b, c, d;
    /* Early messages go to port 0xe9 (Xen's console) until the ring is up. */
    xp_platform.out = &e9_console;
    xp_platform.err = &e9_console;
    xp_platform.in = 0;
    xp_platform.exit = xen_exit;

    cpuid(base + 1, 0, &a, &b, &c, &d);
    xen_version = a;
    cpuid(base + 2, 0, &a, &b, &c, &d);     /* a: hypercall pages, b: the MSR */
    if (a < 1)
        return;
    wrmsr(b, (uint64_t)(uintptr_t)xp_hypercall_page);
    hypercalls_ready = ((volatile uint8_t *)xp_hypercall_page)[0] != 0xcc;
}

int xen_platform_init(void)
{
    if (!hypercalls_ready) {
        xp_printk("xenport: Xen did not fill the hypercall page\n");
        return -1;
    }
    long rc = map_shared_info();
    if (rc) {
        xp_printk("xenport: XENMEM_add_to_physmap(shared_info) failed: %ld\n", rc);
        return -1;
    }
    clock_init();
    xp_platform.idle = xen_idle;
    xp_platform.report = xen_report;
    if (console_init() == 0) {
        xp_platform.out = &ring_console;
        xp_platform.in = &ring_console;
        xp_platform.err = &ring_err_console;
    } else {
        xp_printk("xenport: no PV console (HVM_PARAM_CONSOLE_PFN): output on port 0xe9 only\n");
    }
    return 0;
}

const char *xen_describe(void)
{
    static char buf[48];
    unsigned major = xen_version >> 16, minor = xen_version & 0xffff;
    char *p = buf;
    memcpy(p, "pvh-xen-", 8);
    p += 8;
    /* Before anything is set up: no printf. */
    char tmp[12];
    int n = 0;
    do { tmp[n++] = (char)('0' + major % 10); major /= 10; } while (major);
    while (n) *p++ = tmp[--n];
    *p++ = '.';
    do { tmp[n++] = (char)('0' + minor % 10); minor /= 10; } while (minor);
    while (n) *p++ = tmp[--n];
    *p = 0;
    return buf;
}
