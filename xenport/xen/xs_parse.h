/* xenport: xenstore messages, as bytes from the ring to checked replies.
 *
 * No kernel dependencies: tests/xenport/ compiles xs_parse.c with the host's
 * gcc and fuzzes it with random and truncated replies.
 */
#ifndef XENPORT_XEN_XS_PARSE_H
#define XENPORT_XEN_XS_PARSE_H

#include <stdint.h>

#include <xen/io/xs_wire.h>

/* One message assembled from the ring's bytes. */
struct xs_rx {
    struct xsd_sockmsg hdr;
    char payload[XENSTORE_PAYLOAD_MAX + 1];    /* always NUL-terminated */
    uint32_t have;                             /* bytes of header + payload so far */
};

void xs_rx_reset(struct xs_rx *rx);
/* Take bytes from data (at most n) into rx; *used says how many.  1: a whole
   message is in rx; 0: more bytes needed; -EIO: the header is malformed (a
   payload over XENSTORE_PAYLOAD_MAX or an unknown type): the connection
   cannot be trusted any more. */
int xs_rx_feed(struct xs_rx *rx, const char *data, uint32_t n, uint32_t *used);

/* The errno an XS_ERROR payload names ("ENOENT"); EIO for one it does not. */
int xs_error_errno(const char *payload, uint32_t len);
/* The name of an errno as xenstore spells it ("ENOENT"), or "EIO". */
const char *xs_errno_name(int err);

/* Split a payload of NUL-terminated strings (a directory, a watch event):
   their number, with up to max pointers into payload in strings; -EIO when
   the last one has no NUL.  An empty payload has none. */
int xs_split(const char *payload, uint32_t len, const char **strings, int max);

/* A reply to a request of type `type`: 0, -errno for XS_ERROR, -EIO for a
   reply of another type. */
int xs_reply_status(const struct xs_rx *rx, uint32_t type);

#endif
