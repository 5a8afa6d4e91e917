/* xenport: PC consoles under QEMU: the 16550 UART at 0x3f8 and the debug
   console at port 0xe9 (QEMU's isa-debugcon, Bochs' port E9 hack). */
#include <stddef.h>
#include <stdint.h>

#include "pc/pc.h"
#include "xenport/platform.h"
#include "xenport/x86.h"

#define COM1 0x3f8
#define UART_DATA 0
#define UART_IER  1
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define UART_SCR  7
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

#define DEBUGCON 0xe9

static int uart_present;

static void uart_write(const char *buf, size_t len)
{
    if (!uart_present)
        return;
    for (size_t i = 0; i < len; i++) {
        /* Bounded: a wedged UART loses output rather than hanging the guest. */
        for (unsigned spin = 0; spin < 1000000; spin++) {
            if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
                break;
            cpu_relax();
        }
        outb(COM1 + UART_DATA, (uint8_t)buf[i]);
    }
}

/* Console input.  A serial line has no end: Ctrl-D (0x04) typed at the start of
   a read ends the input, as on a terminal. */
static size_t uart_read(char *buf, size_t len, int block)
{
    size_t n = 0;
    if (!uart_present || len == 0)
        return 0;
    while (n < len) {
        if (inb(COM1 + UART_LSR) & LSR_DATA_READY) {
            char c = (char)inb(COM1 + UART_DATA);
            if (c == 0x04) {
                if (n == 0)
                    return 0;
                break;
            }
            buf[n++] = c;
            if (c == '\n')
                break;
            continue;
        }
        if (n > 0 || !block)
            break;
        cpu_relax();
    }
    return n;
}

static void debugcon_write(const char *buf, size_t len)
{
    __asm__ volatile("rep outsb"
                     : "+S"(buf), "+c"(len)
                     : "d"((uint16_t)DEBUGCON)
                     : "memory");
}

static int debugcon_present;

const struct xp_console_ops pc_uart_console = {
    .name = "uart-0x3f8",
    .write = uart_write,
    .read = uart_read,
};

/* stderr: QEMU's debug console when there is one, so that a harness can tell
   the two streams apart (-device isa-debugcon); else the UART. */
static void err_write(const char *buf, size_t len)
{
    if (debugcon_present)
        debugcon_write(buf, len);
    else
        uart_write(buf, len);
}

static const char *err_where(void)
{
    return debugcon_present ? "debugcon-0xe9" : pc_uart_console.name;
}

const struct xp_console_ops pc_err_console = {
    .name = "pc-stderr",
    .write = err_write,
    .read = 0,
    .where = err_where,
};

void pc_console_init(void)
{
    /* Present when the scratch register keeps what we write. */
    outb(COM1 + UART_SCR, 0x5a);
    uart_present = inb(COM1 + UART_SCR) == 0x5a;
    if (uart_present) {
        outb(COM1 + UART_IER, 0x00);        /* no interrupts: we poll */
        outb(COM1 + UART_LCR, 0x80);        /* divisor latch */
        outb(COM1 + UART_DATA, 0x01);       /* 115200 baud */
        outb(COM1 + UART_IER, 0x00);
        outb(COM1 + UART_LCR, 0x03);        /* 8N1 */
        /* The FIFO control register is left alone: switching the FIFOs on
           clears them, and input may already be waiting (QEMU feeds the UART
           from the start).  Polled one byte at a time, nothing is lost: the
           other side waits while the receive register is full. */
        outb(COM1 + UART_MCR, 0x03);        /* DTR, RTS */
    }
    /* QEMU's debug console answers 0xe9 when read. */
    debugcon_present = inb(DEBUGCON) == DEBUGCON;
}
