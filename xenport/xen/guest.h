/* xenport: the Xen guest's parts (the files of xen/) and what they share.
 *
 *   platform.c   detection (CPUID), the hypercall page, the platform
 *                descriptions of PVH and PV on Xen, set-up in order
 *   pv.c         the classic PV guest: start_info, page tables through Xen
 *   events.c     shared_info, event channels: the upcall and its dispatcher
 *   upcall.S     the upcall's entry stub; blocking with interrupts on
 *   clock.c      Xen system time (pvclock) and the wall clock
 *   console.c    the PV console ring, port 0xe9
 *   sched.c      idle (blocking in Xen until a timer or an event), shutdown
 *   gnttab.c     grant tables (v1) and their allocator
 *   xenstore.c   the xenstore client (xenbus.h), xs_parse.c its message parser
 *   xenbus.c     a front end's state machine (xenbus.h)
 *   control.c    the toolstack's requests: control/shutdown, control/sysrq
 *   netfront.c   the network front end (device/vif/0): xp_netfront_probe()
 *   selftest.c   --xen-selftest: the grant table and xenstore against Xen
 *
 * hypercall.h has the typed hypercalls; xen-abi.h the public headers.
 */
#ifndef XENPORT_XEN_GUEST_H
#define XENPORT_XEN_GUEST_H

#include "xen/xen-abi.h"
#include "xenport/platform.h"

/* --- platform.c --- */
/* The base CPUID leaf of Xen's leaves (0x40000000, 0x40000100, ...), or 0 when
   not running under Xen. */
uint32_t xen_cpuid_base(void);
/* First thing at boot: the hypercall page (needs nothing else; port 0xe9 is
   the console meanwhile).  0 when Xen filled the page. */
int xen_hypercall_init(uint32_t cpuid_base);
/* After the CPU set-up: shared_info, Xen's clock, the console ring.  0 on
   success; otherwise the message is out and the caller panics. */
int xen_platform_init(void);
/* Hypercalls can be made (the page is filled). */
extern int xen_hypercalls_ready;

/* --- pv.c --- */
/* A classic PV guest (entered at xp_pv_start): Xen owns the page tables, and
   the frames that Xen sees are machine frames; start_info says where things are. */
extern int xen_pv;
extern const struct start_info *xen_pv_start_info;
/* The C side of xp_pv_start (arch/x86_64/pv_entry.S). */
__attribute__((noreturn)) void xp_pv_main(struct start_info *si, uint64_t boot_rsp);
/* The frame Xen knows the page at va by (PVH: its guest frame, PV: its
   machine frame), for grants and copies. */
uint64_t xen_frame_of(const void *va);
/* PV: where a machine frame of ours is mapped (NULL: not one of ours). */
void *xen_pv_page_of_mfn(uint64_t mfn);
/* PV: put the machine frame mfn at va (a page of .bss); 0 on success. */
int xen_pv_map_frame(void *va, uint64_t mfn);
/* PV: how many page-table pages mapping the memory took (--xen-info). */
unsigned long xen_pv_table_pages(void);

/* --- events.c --- */
/* Map shared_info over a page of the kernel's .bss (XENMEM_add_to_physmap). */
int xen_shared_info_init(void);
extern volatile struct shared_info *xen_shared_info;
void xen_evtchn_notify(evtchn_port_t port);
void xen_evtchn_clear(evtchn_port_t port);
/* The upcall: on the PVH callback vector (HVM_PARAM_CALLBACK_IRQ) or, PV,
   the event callback; 0 when Xen took it. */
int xen_events_init(void);
extern int xen_upcalls_ready;
extern uint64_t xen_nr_upcalls, xen_nr_events;
/* A handler runs in the upcall (interrupts off, inside xen_block): it should
   only note what happened; the code that waits looks again after idle. */
typedef void (*xen_evtchn_handler)(evtchn_port_t port, void *arg);
/* Route port's events to handler (NULL: they only wake idle) and unmask it. */
int xen_evtchn_bind(evtchn_port_t port, xen_evtchn_handler handler, void *arg);
int xen_evtchn_bind_virq(uint32_t virq, xen_evtchn_handler handler, void *arg,
                         evtchn_port_t *port);
/* The bound ports (for SCHEDOP_poll when there is no upcall); how many. */
int xen_evtchn_ports(evtchn_port_t *ports, int max);

/* --- upcall.S --- */
/* What the upcall stub saved: the caller-saved registers, then the CPU's frame. */
struct xen_upcall_frame {
    uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
    uint64_t rip, cs, rflags, rsp, ss;
};
extern char xen_upcall_stub[], xen_block_call[];
extern char xen_pv_upcall_stub[], xen_pv_failsafe_stub[];
__attribute__((noreturn)) void xen_pv_failsafe(void);
void xen_upcall(struct xen_upcall_frame *f);
/* SCHEDOP_block with interrupts on (only there); returns with them off.
   entry: the sched_op stub of the hypercall page (sched.c passes it). */
void xen_block(const void *entry, int cmd);
/* Block the vCPU until an event (PVH: xen_block; PV: SCHEDOP_block, which
   unmasks events itself, masked again after). */
void xen_block_vcpu(void);

/* --- clock.c --- */
void xen_clock_init(void);
uint64_t xen_monotonic_ns(void);
/* Xen system time of monotonic 0 (timeouts are in Xen system time). */
extern uint64_t xen_system_time_at_boot;
/* Readings whose TSC was behind vcpu_time_info's stamp (taken as the stamp). */
extern unsigned long xen_clock_tsc_behind;
extern const struct xp_clock_ops xen_clock;

/* --- console.c --- */
/* The ring from HVM_PARAM_CONSOLE_PFN/_EVTCHN (PV: start_info); 0 when
   there is one. */
int xen_console_init(void);
/* Wait (bounded) until the backend has read everything written. */
void xen_console_drain(void);
/* The ring's event channel and whether there is a ring (idle waits on it). */
int xen_console_port(evtchn_port_t *port);
void xen_console_report(void);
extern const struct xp_console_ops xen_out_console, xen_err_console, xen_in_console;

/* --- gnttab.c --- */
int xen_gnttab_init(void);
int xen_gnttab_ready(void);
unsigned xen_gnttab_nr_free(void);
/* Grant domid access to frame (read-only or not): 0 and *ref, or -1 when
   the table is full or absent. */
int xen_gnttab_grant(domid_t domid, uint64_t frame, int readonly, grant_ref_t *ref);
/* End the access: 0, or -1 while the other side still maps the page. */
int xen_gnttab_end(grant_ref_t ref);
/* Copy len bytes from a page domid granted us (GNTTABOP_copy): 0 or the error. */
int xen_gnttab_copy_from(domid_t domid, grant_ref_t ref, void *dest, uint16_t len);

/* --- control.c --- */
/* Say what the guest understands, watch control/; 0 when xenstore is there. */
int xen_control_init(void);
/* After idle: act on a request nobody else takes (never returns then). */
void xen_control_poll(void);
/* SCHEDOP_shutdown's reason for exit status 0 (reboot when asked). */
extern unsigned xen_shutdown_reason;

/* --- netfront.c --- */
/* What --xen-info and the self-test show of the front end (netdev.h has the
   probe); -1 when there is none. */
struct xen_netfront_info {
    const char *backend;            /* its back end's xenstore path */
    unsigned backend_id, backend_state, port, tx_ring_ref, rx_ring_ref;
    unsigned rx_bufs, tx_slots, tx_in_flight;
    uint64_t malformed, events, notifies, tx_errors;
};
int xen_netfront_info(struct xen_netfront_info *info);
void xen_netfront_report(void);

/* --- selftest.c --- */
/* --xen-selftest: exercise the grant table and xenstore; failures. */
int xen_selftest(void);

/* --- sched.c --- */
/* VIRQ_TIMER for the single-shot timer; 0 when idle can block. */
int xen_sched_init(void);
/* Sleep in Xen until an event arrives or Xen's clock reaches deadline_ns
   (monotonic; 0: no deadline); may return early. */
void xen_wait(uint64_t deadline_ns);
void xen_idle(uint64_t until_ns);
void xen_sched_report(void);
/* Keep an upcall from leaving the vCPU blocked with its event handled. */
void xen_block_fixup(struct xen_upcall_frame *f);
__attribute__((noreturn)) void xen_exit(int status);
__attribute__((noreturn)) void xen_shutdown(unsigned reason);

#endif
