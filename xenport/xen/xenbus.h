/* xenport: the xenstore client and the xenbus helpers front ends use.
 *
 * Requests go one at a time through the shared ring (HVM_PARAM_STORE_PFN,
 * _EVTCHN on PVH); every wait is bounded: a xenstore that does not answer
 * within XS_TIMEOUT_NS is a console message and a crash shutdown.  Results
 * are >= 0 on success, -errno (ENOENT, EACCES, EAGAIN, ... as xenstore names
 * them; xs_strerror) on failure.
 */
#ifndef XENPORT_XEN_XENBUS_H
#define XENPORT_XEN_XENBUS_H

#include <stddef.h>
#include <stdint.h>

#include <xen/io/xenbus.h>

#define XS_TIMEOUT_NS (5ULL * 1000000000ULL)

typedef uint32_t xs_transaction_t;
#define XS_NO_TRANSACTION 0

/* The ring from HVM params; 0 when there is one. */
int xs_init(void);
int xs_ready(void);
/* "ENOENT" for -ENOENT. */
const char *xs_strerror(int err);

/* The value (NUL-terminated, truncated to size) and its length. */
int xs_read(xs_transaction_t tx, const char *path, char *buf, size_t size);
int xs_write(xs_transaction_t tx, const char *path, const char *value);
int xs_rm(xs_transaction_t tx, const char *path);
/* The children's names: their number, up to max pointers into buf. */
int xs_directory(xs_transaction_t tx, const char *path, char *buf, size_t size,
                 const char **names, int max);
int xs_transaction_start(xs_transaction_t *tx);
/* Commit (abort = 0) or abort; -EAGAIN: the transaction must be retried. */
int xs_transaction_end(xs_transaction_t tx, int abort);

/* Watches: xenstore fires one at once for the path as it is.  Events are
   queued; xs_next_watch takes the first for token (its path into the
   buffer), leaving other tokens' events for their owners: 1, or 0 when none
   came by deadline_ns (monotonic; 0: do not wait). */
int xs_watch(const char *path, const char *token);
int xs_unwatch(const char *path, const char *token);
int xs_next_watch(const char *token, char *path, size_t path_size, uint64_t deadline_ns);
/* Whether an event for token is waiting (reads the ring, does not wait). */
int xs_watch_pending(const char *token);

/* --- xenbus: a front end's state (XenbusState from <xen/io/xenbus.h>) --- */
struct xenbus_front {
    char nodename[64];           /* "device/vif/0" */
    char backend[128];           /* its back end's path, from nodename/backend */
    uint16_t backend_id;         /* from nodename/backend-id */
    XenbusState state;           /* ours, as last written */
};

/* Read the back end's path and id; our state becomes Initialising. */
int xenbus_front_init(struct xenbus_front *f, const char *nodename);
int xenbus_switch_state(struct xenbus_front *f, XenbusState state);
/* The back end's state (XenbusStateUnknown when it has none). */
XenbusState xenbus_backend_state(struct xenbus_front *f);
/* Wait (bounded) until the back end's state is at least `want`; its state,
   or -ETIMEDOUT. */
int xenbus_wait_backend(struct xenbus_front *f, XenbusState want, uint64_t timeout_ns);
/* Initialised: the front end has written its keys; wait for the back end to
   be Connected, then Connected ourselves. */
int xenbus_front_connect(struct xenbus_front *f, uint64_t timeout_ns);
/* Closing, wait for the back end to close, Closed. */
int xenbus_front_close(struct xenbus_front *f, uint64_t timeout_ns);

#endif
