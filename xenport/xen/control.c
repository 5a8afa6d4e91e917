/* xenport: what the toolstack asks of the guest through xenstore.
 *
 * At boot the guest says what it understands, as Linux guests do
 * (control/feature-poweroff, feature-reboot), so that `xl shutdown` and
 * `xl reboot` write control/shutdown instead of waiting, and watches
 * control/shutdown and control/sysrq.  A request is acknowledged (the key
 * cleared) with a console line; "poweroff" and "halt" become
 * XP_SHUTDOWN_POWEROFF, "reboot" XP_SHUTDOWN_REBOOT, anything else is
 * answered as not supported.  Of the sysrq keys, 't' (Linux's "show tasks")
 * becomes SIGUSR1 for a program that handles it (the VM prints its processes'
 * stacks); the others are not supported.  Idle looks after every wake-up.
 * A program with a SIGTERM handler gets SIGTERM, as a Unix program would, and
 * exits in its own time (the reason decides poweroff or reboot at exit); one
 * that took requests over (xp_shutdown_take_over) asks itself; otherwise
 * xenport stops the guest: exit(0) and SHUTDOWN_poweroff or _reboot.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "xen/guest.h"
#include "xen/xenbus.h"

#define SHUTDOWN_KEY "control/shutdown"
#define SYSRQ_KEY    "control/sysrq"

static int ready;
static int pending;                          /* XP_SHUTDOWN_* not yet taken */
static int taken_over;
unsigned xen_shutdown_reason = SHUTDOWN_poweroff;

int xen_control_init(void)
{
    if (!xs_ready())
        return -1;
    int rc;
    if ((rc = xs_write(XS_NO_TRANSACTION, "control/feature-poweroff", "1")) < 0 ||
        (rc = xs_write(XS_NO_TRANSACTION, "control/feature-reboot", "1")) < 0 ||
        (rc = xs_watch(SHUTDOWN_KEY, SHUTDOWN_KEY)) < 0 ||
        (rc = xs_watch(SYSRQ_KEY, SYSRQ_KEY)) < 0) {
        xp_printk("xenport: xenstore: cannot set up control/: %s\n", xs_strerror(rc));
        return -1;
    }
    ready = 1;
    return 0;
}

static void shutdown_changed(void)
{
    char value[64];
    int n = xs_read(XS_NO_TRANSACTION, SHUTDOWN_KEY, value, sizeof(value));
    if (n <= 0)
        return;                              /* gone or empty: nothing asked */
    /* Acknowledged, as the toolstack expects of a guest that saw it. */
    xs_write(XS_NO_TRANSACTION, SHUTDOWN_KEY, "");
    if (strcmp(value, "poweroff") == 0 || strcmp(value, "halt") == 0) {
        xp_printk("xenport: the toolstack asks for %s\n", value);
        pending = XP_SHUTDOWN_POWEROFF;
    } else if (strcmp(value, "reboot") == 0) {
        xp_printk("xenport: the toolstack asks for reboot\n");
        pending = XP_SHUTDOWN_REBOOT;
    } else {
        xp_printk("xenport: the toolstack asks for '%s': not supported, ignored\n", value);
    }
}

static void sysrq_changed(void)
{
    char value[8];
    int n = xs_read(XS_NO_TRANSACTION, SYSRQ_KEY, value, sizeof(value));
    if (n <= 0 || value[0] == 0)
        return;
    xs_write(XS_NO_TRANSACTION, SYSRQ_KEY, "");
    if (value[0] == 't' && xp_signal_deliver(SIGUSR1)) {
        xp_printk("xenport: sysrq 't' from the toolstack: SIGUSR1 delivered\n");
        return;
    }
    xp_printk("xenport: sysrq '%c' from the toolstack: not supported, ignored\n", value[0]);
}

int xp_shutdown_request(void)
{
    char path[128];
    if (!ready)
        return XP_SHUTDOWN_NONE;
    while (xs_next_watch(SHUTDOWN_KEY, path, sizeof(path), 0))
        shutdown_changed();
    while (xs_next_watch(SYSRQ_KEY, path, sizeof(path), 0))
        sysrq_changed();
    int r = pending;
    pending = XP_SHUTDOWN_NONE;
    return r;
}

void xp_shutdown_take_over(void)
{
    taken_over = 1;
}

void xen_control_poll(void)
{
    if (!ready || taken_over ||
        (!xs_watch_pending(SHUTDOWN_KEY) && !xs_watch_pending(SYSRQ_KEY)))
        return;
    int r = xp_shutdown_request();
    if (r == XP_SHUTDOWN_NONE)
        return;
    xen_shutdown_reason = r == XP_SHUTDOWN_REBOOT ? SHUTDOWN_reboot : SHUTDOWN_poweroff;
    if (xp_signal_deliver(SIGTERM)) {
        xp_printk("xenport: SIGTERM delivered: the program stops in its own time\n");
        return;
    }
    xp_printk("xenport: stopping (%s)\n", r == XP_SHUTDOWN_REBOOT ? "reboot" : "poweroff");
    exit(0);
}
