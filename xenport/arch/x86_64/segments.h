/* xenport: GDT selectors (shared by the assembly and cpu.c). */
#ifndef XENPORT_SEGMENTS_H
#define XENPORT_SEGMENTS_H

#define SEG_CODE64  0x08
#define SEG_DATA    0x10
#define SEG_CODE32  0x18
#define SEG_TSS     0x20

#define XP_BOOT_STACK_SIZE  (64 * 1024)

#endif
