/* xenport: sleeping under plain QEMU: `hlt` until the local APIC's one-shot
 * timer fires, instead of spinning on the TSC.
 *
 * Set up after the TSC is calibrated: the xAPIC (MMIO, identity mapped) is
 * enabled with every local interrupt source masked but the timer, the 8259
 * PICs are masked (QEMU boots the BSP's LINT0 as ExtINT, and the PIT keeps
 * ticking after the calibration), the timer's rate is measured against the
 * TSC.  pc_idle() arms the timer for the time left (at most 10 ms), then
 * `sti; hlt; cli`: interrupts are only ever on inside that halt.  Without a
 * usable APIC (or a timer that does not count) it stays a `pause` loop.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "pc/pc.h"
#include "xenport/platform.h"
#include "xenport/x86.h"

#define MSR_APIC_BASE     0x1bu
#define APIC_BASE_ENABLE  (1u << 11)
#define APIC_BASE_X2APIC  (1u << 10)

#define LAPIC_SVR        0x0f0
#define LAPIC_EOI        0x0b0
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_LVT_THERM  0x330
#define LAPIC_LVT_PERF   0x340
#define LAPIC_LVT_LINT0  0x350
#define LAPIC_LVT_LINT1  0x360
#define LAPIC_LVT_ERROR  0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR  0x390
#define LAPIC_TIMER_DIV  0x3e0
#define LVT_MASKED       (1u << 16)

#define TIMER_VECTOR     0xf0
#define SPURIOUS_VECTOR  0xff

#define MAX_SLEEP_NS     10000000ULL     /* 10 ms per halt */
#define MIN_SLEEP_NS     20000ULL        /* shorter waits just spin */

uint64_t xp_lapic_eoi;                   /* address of the EOI register (stubs) */
uint64_t xp_lapic_ticks;                 /* timer interrupts taken */
uint64_t xp_lapic_timer_hz;              /* 0: no timer, pc_idle spins */

static volatile uint32_t *lapic;

static uint32_t lapic_read(unsigned reg)
{
    return lapic[reg / 4];
}

static void lapic_write(unsigned reg, uint32_t v)
{
    lapic[reg / 4] = v;
}

void pc_timer_init(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(d & (1u << 9)))                    /* no local APIC */
        return;
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE) || (base & APIC_BASE_X2APIC))
        return;
    uint64_t phys = base & 0xffffff000ULL;
    if (phys >= (4ULL << 30))                /* outside the boot identity map */
        return;
    lapic = (volatile uint32_t *)(uintptr_t)phys;

    /* The 8259s: all lines masked. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);

    xp_cpu_set_gate(TIMER_VECTOR, xp_lapic_timer_stub);
    xp_cpu_set_gate(SPURIOUS_VECTOR, xp_lapic_spurious_stub);
    xp_lapic_eoi = phys + LAPIC_EOI;
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
    lapic_write(LAPIC_LVT_PERF, LVT_MASKED);
    lapic_write(LAPIC_LVT_THERM, LVT_MASKED);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);     /* software enable */
    lapic_write(LAPIC_TIMER_DIV, 0xb);                    /* divide by 1 */

    /* The timer's rate against the TSC clock, over 2 ms. */
    lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
    uint64_t t0 = xp_monotonic_ns();
    uint32_t c0 = lapic_read(LAPIC_TIMER_CUR);
    uint64_t t1;
    while ((t1 = xp_monotonic_ns()) - t0 < 2000000ULL)
        cpu_relax();
    uint32_t c1 = lapic_read(LAPIC_TIMER_CUR);
    lapic_write(LAPIC_TIMER_INIT, 0);
    if (c1 >= c0 || t1 <= t0)
        return;                              /* does not count: keep spinning */
    xp_lapic_timer_hz = (uint64_t)(c0 - c1) * 1000000000ULL / (t1 - t0);
    if (!xp_lapic_timer_hz)
        return;
    lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR);           /* one-shot, unmasked */
}

void pc_idle(uint64_t until_ns)
{
    if (!xp_lapic_timer_hz || !until_ns) {
        cpu_relax();
        return;
    }
    uint64_t now = xp_monotonic_ns();
    if (until_ns <= now)
        return;
    uint64_t left = until_ns - now;
    if (left < MIN_SLEEP_NS) {
        cpu_relax();
        return;
    }
    if (left > MAX_SLEEP_NS)
        left = MAX_SLEEP_NS;
    uint64_t count = (uint64_t)(((unsigned __int128)left * xp_lapic_timer_hz) / 1000000000ULL);
    if (count == 0)
        count = 1;
    if (count > 0xffffffffULL)
        count = 0xffffffffULL;
    lapic_write(LAPIC_TIMER_INIT, (uint32_t)count);
    /* sti's one-instruction shadow: the timer cannot fire before the hlt. */
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* --xen-info, at exit. */
void pc_idle_report(void)
{
    if (xp_lapic_timer_hz)
        xp_printk("xenport: idle: hlt, LAPIC timer %lu kHz, %lu timer interrupts\n",
                  (unsigned long)(xp_lapic_timer_hz / 1000), (unsigned long)xp_lapic_ticks);
    else
        xp_printk("xenport: idle: pause loop (no usable LAPIC timer)\n");
}
