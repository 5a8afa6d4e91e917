/* xenport: xenstore messages, as bytes from the ring to checked replies. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "xen/xs_parse.h"

void xs_rx_reset(struct xs_rx *rx)
{
    rx->have = 0;
    rx->payload[0] = 0;
}

int xs_rx_feed(struct xs_rx *rx, const char *data, uint32_t n, uint32_t *used)
{
    const uint32_t hsize = sizeof(rx->hdr);
    *used = 0;
    if (rx->have < hsize) {
        uint32_t m = hsize - rx->have;
        if (m > n)
            m = n;
        memcpy((char *)&rx->hdr + rx->have, data, m);
        rx->have += m;
        *used += m;
        data += m;
        n -= m;
        if (rx->have < hsize)
            return 0;
        if (rx->hdr.len > XENSTORE_PAYLOAD_MAX || rx->hdr.type >= XS_TYPE_COUNT)
            return -EIO;
    }
    uint32_t got = rx->have - hsize;
    uint32_t m = rx->hdr.len - got;
    if (m > n)
        m = n;
    memcpy(rx->payload + got, data, m);
    rx->have += m;
    *used += m;
    got += m;
    if (got < rx->hdr.len)
        return 0;
    rx->payload[got] = 0;
    return 1;
}

int xs_error_errno(const char *payload, uint32_t len)
{
    /* The name, with or without its NUL. */
    uint32_t n = 0;
    while (n < len && payload[n])
        n++;
    for (unsigned i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
        const char *name = xsd_errors[i].errstring;
        if (strlen(name) == n && memcmp(name, payload, n) == 0)
            return xsd_errors[i].errnum;
    }
    return EIO;
}

const char *xs_errno_name(int err)
{
    for (unsigned i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (xsd_errors[i].errnum == err)
            return xsd_errors[i].errstring;
    return "EIO";
}

int xs_split(const char *payload, uint32_t len, const char **strings, int max)
{
    if (len == 0)
        return 0;
    if (payload[len - 1] != 0)
        return -EIO;
    int count = 0;
    uint32_t start = 0;
    for (uint32_t i = 0; i < len; i++) {
        if (payload[i] == 0) {
            if (count < max)
                strings[count] = payload + start;
            count++;
            start = i + 1;
        }
    }
    return count;
}

int xs_reply_status(const struct xs_rx *rx, uint32_t type)
{
    if (rx->hdr.type == XS_ERROR)
        return -xs_error_errno(rx->payload, rx->hdr.len);
    if (rx->hdr.type != type)
        return -EIO;
    return 0;
}
