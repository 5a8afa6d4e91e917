/* xenport: a front end's side of the xenbus handshake.
 *
 *   Initialising  xenbus_front_init: the back end's path and id are known
 *   Initialised   the front end has written its keys (rings, event channel)
 *   Connected     once the back end is Connected too
 *   Closing, Closed   xenbus_front_close, waiting for the back end to follow
 *
 * Waits watch the back end's state node and are bounded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen/guest.h"
#include "xen/xenbus.h"

static int front_path(const struct xenbus_front *f, const char *key, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%s", f->nodename, key);
    return n > 0 && (size_t)n < size ? 0 : -E2BIG;
}

int xenbus_front_init(struct xenbus_front *f, const char *nodename)
{
    char path[128], value[32];
    memset(f, 0, sizeof(*f));
    if (strlen(nodename) >= sizeof(f->nodename))
        return -E2BIG;
    strcpy(f->nodename, nodename);
    int rc;
    if ((rc = front_path(f, "backend", path, sizeof(path))) < 0 ||
        (rc = xs_read(XS_NO_TRANSACTION, path, f->backend, sizeof(f->backend))) < 0)
        return rc;
    if ((size_t)rc >= sizeof(f->backend))
        return -E2BIG;
    if ((rc = front_path(f, "backend-id", path, sizeof(path))) < 0 ||
        (rc = xs_read(XS_NO_TRANSACTION, path, value, sizeof(value))) < 0)
        return rc;
    f->backend_id = (uint16_t)strtoul(value, 0, 10);
    return xenbus_switch_state(f, XenbusStateInitialising);
}

int xenbus_switch_state(struct xenbus_front *f, XenbusState state)
{
    char path[128], value[8];
    int rc = front_path(f, "state", path, sizeof(path));
    if (rc < 0)
        return rc;
    snprintf(value, sizeof(value), "%d", (int)state);
    rc = xs_write(XS_NO_TRANSACTION, path, value);
    if (rc == 0)
        f->state = state;
    return rc;
}

XenbusState xenbus_backend_state(struct xenbus_front *f)
{
    char path[160], value[8];
    int n = snprintf(path, sizeof(path), "%s/state", f->backend);
    if (n <= 0 || (size_t)n >= sizeof(path))
        return XenbusStateUnknown;
    if (xs_read(XS_NO_TRANSACTION, path, value, sizeof(value)) < 0)
        return XenbusStateUnknown;
    return (XenbusState)strtoul(value, 0, 10);
}

int xenbus_wait_backend(struct xenbus_front *f, XenbusState want, uint64_t timeout_ns)
{
    char path[160], token[24], epath[256];
    snprintf(path, sizeof(path), "%s/state", f->backend);
    snprintf(token, sizeof(token), "xb%p", (void *)f);
    int rc = xs_watch(path, token);
    if (rc < 0)
        return rc;
    uint64_t deadline = xen_monotonic_ns() + timeout_ns;
    XenbusState s;
    for (;;) {
        s = xenbus_backend_state(f);
        if (s >= want)
            break;
        if (!xs_next_watch(token, epath, sizeof(epath), deadline)) {
            s = xenbus_backend_state(f);
            if (s < want) {
                xs_unwatch(path, token);
                return -ETIMEDOUT;
            }
            break;
        }
    }
    xs_unwatch(path, token);
    return (int)s;
}

int xenbus_front_connect(struct xenbus_front *f, uint64_t timeout_ns)
{
    int rc = xenbus_switch_state(f, XenbusStateInitialised);
    if (rc < 0)
        return rc;
    rc = xenbus_wait_backend(f, XenbusStateConnected, timeout_ns);
    if (rc < 0)
        return rc;
    if (rc != XenbusStateConnected)
        return -EIO;                     /* it went past Connected: closing */
    return xenbus_switch_state(f, XenbusStateConnected);
}

int xenbus_front_close(struct xenbus_front *f, uint64_t timeout_ns)
{
    int rc = xenbus_switch_state(f, XenbusStateClosing);
    if (rc < 0)
        return rc;
    rc = xenbus_wait_backend(f, XenbusStateClosing, timeout_ns);
    if (rc < 0)
        return rc;
    return xenbus_switch_state(f, XenbusStateClosed);
}
