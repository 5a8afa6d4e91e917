/* xenport: GDT/TSS, IDT, FPU/SSE, and the crash report for CPU exceptions;
   the CPU description of a guest that owns the CPU (xp_native_cpu). */
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "segments.h"
#include "xenport/boot.h"
#include "xenport/platform.h"
#include "xenport/x86.h"


struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct idt_entry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t zero;
} __attribute__((packed));

struct table_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

#define IST_STACK_SIZE (32 * 1024)

static struct tss64 tss __attribute__((aligned(16)));
static struct idt_entry idt[256] __attribute__((aligned(16)));
/* IST1: used by every exception, so that a fault on a broken or overflowed
   stack (a hit guard page) still reaches the report instead of triple faulting. */
static uint8_t ist1_stack[IST_STACK_SIZE] __attribute__((aligned(16)));

uint64_t xp_stack_low, xp_stack_high, xp_stack_guard;
static int in_trap;

static void set_gate(int vec, void *handler)
{
    uint64_t a = (uint64_t)handler;
    idt[vec].offset_low = a & 0xffff;
    idt[vec].selector = SEG_CODE64;
    idt[vec].ist = 1;
    idt[vec].type_attr = 0x8e;          /* present, DPL 0, 64-bit interrupt gate */
    idt[vec].offset_mid = (a >> 16) & 0xffff;
    idt[vec].offset_high = a >> 32;
    idt[vec].zero = 0;
}

void xp_cpu_set_gate(int vector, void *handler)
{
    set_gate(vector, handler);
}

static void native_init(void)
{
    /* TSS descriptor (16 bytes) in the GDT slot SEG_TSS. */
    uint64_t base = (uint64_t)&tss;
    uint64_t limit = sizeof(tss) - 1;
    memset(&tss, 0, sizeof(tss));
    tss.ist[0] = (uint64_t)(ist1_stack + IST_STACK_SIZE);
    tss.iomap_base = sizeof(tss);
    xp_gdt[SEG_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                          (0x89ULL << 40) | (((limit >> 16) & 0xf) << 48) |
                          (((base >> 24) & 0xff) << 56);
    xp_gdt[SEG_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(SEG_TSS));

    for (int v = 0; v < 32; v++)
        set_gate(v, xp_trap_stubs + 16 * v);
    for (int v = 32; v < 256; v++)
        set_gate(v, xp_trap_stub_other);
    struct table_ptr p = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(p));

    /* AVX state, when the CPU has it (QEMU -cpu max, real hardware): code that
       checks CPUID for AVX (a JIT backend may) must find it usable, which needs
       CR4.OSXSAVE and XCR0.  One thread, no context switches: nothing to save. */
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (c & (1u << 26)) {                                   /* XSAVE */
        uint64_t cr4;
        __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
        cr4 |= 1u << 18;                                    /* OSXSAVE */
        __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
        uint64_t xcr0 = 0x3;                                /* x87, SSE */
        if (c & (1u << 28))
            xcr0 |= 0x4;                                    /* AVX */
        __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
    }
    xp_cpu_init_fpu();
}

void xp_cpu_init_fpu(void)
{
    /* x87 and SSE: default control words (all exceptions masked), as a hosted
       process starts with. */
    uint32_t mxcsr = 0x1f80;
    __asm__ volatile("fninit");
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
}

static uint64_t native_fault_address(void)
{
    return read_cr2();
}

static uint64_t native_page_table_root(void)
{
    return read_cr3();
}

static void native_set_fs_base(uint64_t base)
{
    wrmsr(MSR_FS_BASE, base);
}

const struct xp_cpu_ops xp_native_cpu = {
    .name = "native",
    .init = native_init,
    .fault_address = native_fault_address,
    .page_table_root = native_page_table_root,
    .set_fs_base = native_set_fs_base,
    .map = xp_native_map,
    .unmap_4k = xp_native_unmap_4k,
    .is_mapped = xp_native_is_mapped,
};

const struct xp_cpu_ops *xp_cpu_ops = &xp_native_cpu;

void xp_cpu_select(const struct xp_cpu_ops *ops)
{
    xp_cpu_ops = ops;
}

void xp_cpu_init(void)
{
    xp_cpu_ops->init();
}

void xp_cpu_set_fs_base(uint64_t base)
{
    xp_cpu_ops->set_fs_base(base);
}

static const char *const vector_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 floating point", "#AC alignment check",
    "#MC machine check", "#XM SIMD floating point", "#VE virtualization",
    "#CP control protection", "reserved 22", "reserved 23", "reserved 24",
    "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

static int plausible_frame(uint64_t rbp)
{
    if (rbp & 7)
        return 0;
    if (xp_stack_high && rbp >= xp_stack_low && rbp + 16 <= xp_stack_high)
        return 1;
    return 0;
}

static int text_address(uint64_t a)
{
    return a >= (uint64_t)__text_start && a < (uint64_t)__text_end;
}

void xp_trap(struct xp_trap_frame *f)
{
    uint64_t cr2 = xp_cpu_ops->fault_address();
    if (in_trap++) {
        /* A fault while reporting a fault: say the least and stop. */
        static const char msg[] = "\nxenport: fault inside the crash report\n";
        xp_write_err(msg, sizeof(msg) - 1);
        xp_exit(XP_EXIT_CRASH);
    }
    const char *name = f->vector < 32 ? vector_names[f->vector] : "unexpected interrupt";
    xp_printk("\nxenport: CPU exception %lu (%s), error code 0x%lx\n",
              (unsigned long)f->vector, name, (unsigned long)f->error);
    if (f->vector == 14) {
        const char *why;
        if (xp_stack_guard && cr2 >= xp_stack_guard && cr2 < xp_stack_guard + 4096)
            why = "stack overflow (the stack's guard page)";
        else if (cr2 < 4096)
            why = "NULL pointer dereference";
        else if (!(f->error & 1))
            why = "address not mapped";
        else
            why = "protection violation";
        xp_printk("xenport: %s of address 0x%lx: %s\n",
                  (f->error & 16) ? "instruction fetch" : (f->error & 2) ? "write" : "read",
                  (unsigned long)cr2, why);
    }
    xp_printk("  rip %016lx  rsp %016lx  rbp %016lx  rflags %08lx\n",
              f->rip, f->rsp, f->rbp, f->rflags);
    xp_printk("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n",
              f->rax, f->rbx, f->rcx, f->rdx);
    xp_printk("  rsi %016lx  rdi %016lx  r8  %016lx  r9  %016lx\n",
              f->rsi, f->rdi, f->r8, f->r9);
    xp_printk("  r10 %016lx  r11 %016lx  r12 %016lx  r13 %016lx\n",
              f->r10, f->r11, f->r12, f->r13);
    xp_printk("  r14 %016lx  r15 %016lx  cr2 %016lx  cr3 %016lx\n",
              f->r14, f->r15, cr2, xp_cpu_ops->page_table_root());
    /* Frames: the RBP chain while it is plausible (xenport keeps frame pointers,
       the generated C does not), then the code addresses found on the stack: in
       the VM's code these are mostly return addresses, its real backtrace. */
    xp_printk("  frames (addr2line -e cogxen.xen):\n    %016lx\n", f->rip);
    uint64_t rbp = f->rbp;
    for (int i = 0; i < 8 && plausible_frame(rbp); i++) {
        uint64_t ret = ((uint64_t *)rbp)[1];
        if (!text_address(ret))
            break;
        xp_printk("    %016lx\n", ret);
        uint64_t next = ((uint64_t *)rbp)[0];
        if (next <= rbp)
            break;
        rbp = next;
    }
    if (plausible_frame(f->rsp & ~7ULL)) {
        uint64_t *sp = (uint64_t *)(f->rsp & ~7ULL);
        int shown = 0;
        xp_printk("  code addresses on the stack:");
        for (int i = 0; i < 512 && shown < 12 && (uint64_t)(sp + i) < xp_stack_high; i++) {
            if (text_address(sp[i])) {
                xp_printk(" %lx", sp[i]);
                shown++;
            }
        }
        xp_printk("\n");
    }
    xp_exit(XP_EXIT_CRASH);
}

void xp_cpu_reset(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) empty = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(empty));
    for (;;)
        __asm__ volatile("cli; hlt");
}
